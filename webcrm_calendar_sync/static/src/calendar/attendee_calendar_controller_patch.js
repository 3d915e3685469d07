/** @odoo-module **/

import { useState } from "@odoo/owl";
import { AttendeeCalendarController } from "@calendar/views/attendee_calendar/attendee_calendar_controller";
import { patch } from "@web/core/utils/patch";
import { CalendarSyncColleagues } from "./calendar_sync_colleagues";
import { CalendarSyncStatus } from "./calendar_sync_status";

AttendeeCalendarController.components = {
    ...AttendeeCalendarController.components,
    CalendarSyncColleagues,
    CalendarSyncStatus,
};

patch(AttendeeCalendarController.prototype, {
    setup() {
        super.setup(...arguments);
        this.calendarSync = useState({ colleagues: [] });
    },

    /** A sync of the user's calendar finished: show what it brought. */
    async onCalendarSyncData() {
        await this.model.load();
    },

    onCalendarSyncStatus(status) {
        this.calendarSync.colleagues = status?.colleagues || [];
    },
});
