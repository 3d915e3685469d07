/** @odoo-module **/

import { AttendeeCalendarCommonPopover } from "@calendar/views/attendee_calendar/common/attendee_calendar_common_popover";
import { patch } from "@web/core/utils/patch";

patch(AttendeeCalendarCommonPopover.prototype, {
    /**
     * A meeting owned by a calendar Odoo cannot write is not editable (user_can_edit is
     * False) but its attendees still answer it: Odoo's popover loads the answers' labels
     * only for editable meetings, so load them here too.
     */
    async onWillStart() {
        await super.onWillStart(...arguments);
        if (!this.statusInfo && this.props.record.rawRecord.synced_readonly) {
            const selections = await this.env.services.orm.call(
                this.props.model.resModel,
                "get_state_selections"
            );
            const colors = {
                accepted: "text-success",
                declined: "text-danger",
                tentative: "text-muted",
                needsAction: "false",
            };
            this.statusInfo = {};
            for (const [value, label] of selections) {
                this.statusInfo[value] = { text: label, color: colors[value] };
            }
            this.selectedStatusInfo = this.statusInfo[this.props.record.attendeeStatus];
        }
    },
});
