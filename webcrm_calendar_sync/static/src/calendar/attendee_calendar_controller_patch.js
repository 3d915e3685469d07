/** @odoo-module **/

import { AttendeeCalendarController } from "@calendar/views/attendee_calendar/attendee_calendar_controller";
import { patch } from "@web/core/utils/patch";
import { CalendarSyncStatus } from "./calendar_sync_status";

AttendeeCalendarController.components = { ...AttendeeCalendarController.components, CalendarSyncStatus };

patch(AttendeeCalendarController.prototype, {
    /** A sync of the user's calendar finished: show what it brought. */
    async onCalendarSyncData() {
        await this.model.load();
    },
});
