/** @odoo-module **/

import { AttendeeCalendarController } from "@calendar/views/attendee_calendar/attendee_calendar_controller";
import { patch } from "@web/core/utils/patch";

/**
 * "Save and send invitation" in the quick-create dialog saves the meeting and closes the dialog
 * (the button has close="1") without going through the dialog's own save, which is what reloads
 * the calendar: reload it when the dialog closes, unless its save already did.
 */
patch(AttendeeCalendarController.prototype, {
    getQuickCreateFormViewProps(record) {
        const props = super.getQuickCreateFormViewProps(...arguments);
        const onRecordSaved = props.onRecordSaved;
        this.calendarSyncQuickCreateReloaded = false;
        return {
            ...props,
            onRecordSaved: async (...args) => {
                this.calendarSyncQuickCreateReloaded = true;
                return onRecordSaved?.(...args);
            },
        };
    },

    async createRecord(record) {
        const result = await super.createRecord(...arguments);
        const dialog = this.model.hasQuickCreate && this.model.quickCreateFormViewId;
        if (dialog && !this.calendarSyncQuickCreateReloaded) {
            await this.model.load();
        }
        return result;
    },
});
