/** @odoo-module **/

import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { serializeDateTime } from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useRecordObserver } from "@web/model/relational_model/utils";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

const { DateTime } = luxon;

/** The booking panel shows this part of the chosen day, in half hours. */
export const DAY_START_HOUR = 8;
export const DAY_END_HOUR = 18;
const SLOT_MINUTES = 30;

/**
 * Busy times of the colleagues invited to a meeting, from their external calendars
 * (``calendar.event.get_synced_busy_intervals``: the providers' free/busy, meetings that
 * exist only outside Odoo included), for the meeting's day (N5, N7). A free slot - free
 * for everyone for the meeting's duration - is a button: it sets the meeting's start.
 */
export class CalendarSyncBusyTimes extends Component {
    static template = "webcrm_calendar_sync.CalendarSyncBusyTimes";
    static props = { ...standardWidgetProps };

    setup() {
        this.orm = useService("orm");
        this.state = useState({ loading: false, people: [], day: null, error: false });
        this.lastKey = null;
        useRecordObserver((record) => this.load(record));
    }

    dayOf(record) {
        const start = record.data.allday ? record.data.start_date : record.data.start;
        return start ? start.startOf("day") : DateTime.now().startOf("day");
    }

    async load(record) {
        const partnerIds = [...(record.data.partner_ids?.currentIds || [])];
        const day = this.dayOf(record);
        const key = JSON.stringify([partnerIds.sort(), day.toISODate()]);
        if (key === this.lastKey) {
            return;
        }
        this.lastKey = key;
        this.state.day = day;
        if (!partnerIds.length) {
            this.state.people = [];
            return;
        }
        this.state.loading = true;
        try {
            const users = await this.orm.searchRead(
                "res.users",
                [["partner_id", "in", partnerIds], ["share", "=", false]],
                ["name", "partner_id"]
            );
            let busy = {};
            if (users.length) {
                busy = await this.orm.silent.call("calendar.event", "get_synced_busy_intervals", [
                    users.map((u) => u.id),
                    serializeDateTime(day),
                    serializeDateTime(day.plus({ days: 1 })),
                ]);
            }
            if (key !== this.lastKey) {
                return; // a newer choice is being loaded
            }
            this.state.people = users
                .filter((u) => `${u.id}` in busy)
                .map((u) => ({
                    id: u.id,
                    name: u.name,
                    intervals: busy[`${u.id}`].map((i) => ({
                        start: DateTime.fromSQL(i.start, { zone: "utc" }).setZone("default"),
                        stop: DateTime.fromSQL(i.stop, { zone: "utc" }).setZone("default"),
                    })),
                }));
            this.state.error = false;
        } catch {
            this.state.error = true;
            this.state.people = [];
        } finally {
            this.state.loading = false;
        }
    }

    get durationMinutes() {
        const hours = this.props.record.data.duration || 1;
        return Math.max(Math.round(hours * 60), SLOT_MINUTES);
    }

    isBusy(person, from, to) {
        return person.intervals.some((i) => i.start < to && i.stop > from);
    }

    /** Half hours of the shown part of the day, with who is busy in each. */
    get slots() {
        const day = this.state.day;
        if (!day) {
            return [];
        }
        const slots = [];
        const duration = this.durationMinutes;
        for (let t = day.set({ hour: DAY_START_HOUR }); t < day.set({ hour: DAY_END_HOUR }); t = t.plus({ minutes: SLOT_MINUTES })) {
            const end = t.plus({ minutes: SLOT_MINUTES });
            const busy = this.state.people.filter((p) => this.isBusy(p, t, end));
            const freeForMeeting = !this.state.people.some((p) => this.isBusy(p, t, t.plus({ minutes: duration })));
            slots.push({
                key: t.toISO(),
                start: t,
                label: t.toFormat("HH:mm"),
                busy: busy.map((p) => p.name),
                free: freeForMeeting,
            });
        }
        return slots;
    }

    cellClass(person, slot) {
        return this.isBusy(person, slot.start, slot.start.plus({ minutes: SLOT_MINUTES }))
            ? "o_calendar_sync_busy bg-danger"
            : "o_calendar_sync_free bg-success-subtle";
    }

    get readonly() {
        return this.props.readonly || !this.props.record.data.user_can_edit && !this.props.record.isNew;
    }

    async pick(slot) {
        if (!slot.free || this.readonly) {
            return;
        }
        const record = this.props.record;
        const duration = this.durationMinutes;
        if (record.data.allday) {
            await record.update({ allday: false });
        }
        await record.update({ start: slot.start, stop: slot.start.plus({ minutes: duration }) });
    }

    get title() {
        return this.state.day ? _t("Busy times on %s", this.state.day.toLocaleString(DateTime.DATE_MED_WITH_WEEKDAY)) : "";
    }
}

registry.category("view_widgets").add("calendar_sync_busy_times", {
    component: CalendarSyncBusyTimes,
    fieldDependencies: [
        { name: "partner_ids", type: "many2many" },
        { name: "start", type: "datetime" },
        { name: "stop", type: "datetime" },
        { name: "start_date", type: "date" },
        { name: "allday", type: "boolean" },
        { name: "duration", type: "float" },
        { name: "user_can_edit", type: "boolean" },
    ],
});
