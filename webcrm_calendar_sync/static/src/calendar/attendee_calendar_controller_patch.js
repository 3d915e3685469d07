/** @odoo-module **/

import { useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
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
        this.calendarSync = useState({ colleagues: [], enabled: false });
    },

    /** A sync of the user's calendar finished: show what it brought. */
    async onCalendarSyncData() {
        await this.model.load();
    },

    onCalendarSyncStatus(status) {
        this.calendarSync.colleagues = status?.colleagues || [];
        this.calendarSync.enabled = Boolean(status?.enabled);
    },

    /** The schedule view (a row per person) for the shown date and the chosen colleagues. */
    openCalendarSyncSchedule() {
        this.actionService.doAction({
            type: "ir.actions.client",
            tag: "webcrm_calendar_sync.schedule",
            name: _t("Schedule"),
            context: {
                schedule_date: this.model.date.toISODate(),
                schedule_scale: this.model.scale === "day" ? "day" : "week",
            },
        });
    },
});
