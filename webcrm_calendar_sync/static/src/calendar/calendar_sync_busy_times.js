/** @odoo-module **/

import { Component, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";
import { useRecordObserver } from "@web/model/relational_model/utils";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

const { DateTime } = luxon;

/** Working days shown at once. */
export const SHOWN_DAYS = 5;
const SLOT_MINUTES = 30;

/**
 * Find a time (N5, N7, issue 23 point 4): the organiser and the invited colleagues, their busy
 * times over the next working days (``calendar.event.get_synced_find_a_time``: their meetings in
 * Odoo, private ones as busy time only, and what exists only in their external calendars), and
 * the slots that have not begun and fall within everyone's working hours with nobody busy. A
 * colleague whose calendar could not be read is named, and no slot is then called free for
 * everyone. A free slot is a button: it sets the meeting's start.
 */
export class CalendarSyncBusyTimes extends Component {
    static template = "webcrm_calendar_sync.CalendarSyncBusyTimes";
    static props = { ...standardWidgetProps };

    setup() {
        this.orm = useService("orm");
        this.state = useState({ loading: false, answer: null, error: false, firstDay: null, earlier: [] });
        this.lastKey = null;
        useRecordObserver((record) => this.load(record));
    }

    dayOf(record) {
        const start = record.data.allday ? record.data.start_date : record.data.start;
        return (start || DateTime.now()).toISODate();
    }

    get durationMinutes() {
        const hours = this.props.record.data.duration || 1;
        return Math.max(Math.round(hours * 60), SLOT_MINUTES);
    }

    organizerOf(record) {
        const organizer = record.data.user_id;
        return (Array.isArray(organizer) ? organizer[0] : organizer?.id) || false;
    }

    async load(record) {
        const partnerIds = [...(record.data.partner_ids?.currentIds || [])].sort();
        const organizerId = this.organizerOf(record);
        const key = JSON.stringify([partnerIds, organizerId, this.dayOf(record), this.durationMinutes]);
        if (key === this.lastKey) {
            return;
        }
        this.lastKey = key;
        this.state.firstDay = this.dayOf(record);
        this.state.earlier = [];
        await this.fetch();
    }

    async fetch() {
        const record = this.props.record;
        const partnerIds = [...(record.data.partner_ids?.currentIds || [])];
        const organizerId = this.organizerOf(record);
        if (!partnerIds.length && !organizerId) {
            this.state.answer = null;
            return;
        }
        const asked = JSON.stringify([this.lastKey, this.state.firstDay]);
        this.asked = asked;
        this.state.loading = true;
        try {
            const answer = await this.orm.silent.call(
                "calendar.event",
                "get_synced_find_a_time",
                [partnerIds, organizerId, this.state.firstDay, SHOWN_DAYS, this.durationMinutes],
                { event_id: record.resId || false, tz: DateTime.local().zoneName }
            );
            if (asked !== this.asked) {
                return; // a newer choice is being loaded
            }
            this.state.answer = answer;
            this.state.error = false;
        } catch {
            if (asked === this.asked) {
                this.state.error = true;
                this.state.answer = null;
            }
        } finally {
            if (asked === this.asked) {
                this.state.loading = false;
            }
        }
    }

    async nextDays() {
        if (!this.state.answer) {
            return;
        }
        this.state.earlier.push(this.state.firstDay);
        this.state.firstDay = this.state.answer.next_day;
        await this.fetch();
    }

    async previousDays() {
        if (!this.state.earlier.length) {
            return;
        }
        this.state.firstDay = this.state.earlier.pop();
        await this.fetch();
    }

    get people() {
        return this.state.answer?.people || [];
    }

    /** The shown days, each with its half hours (times in the browser's zone) and its free slots. */
    get days() {
        return (this.state.answer?.days || []).map((day) => {
            const slots = day.slots.map((slot) => {
                const start = DateTime.fromSQL(slot.start, { zone: "utc" }).setZone("default");
                return { ...slot, key: slot.start, start, label: start.toFormat("HH:mm") };
            });
            return {
                date: day.date,
                label: DateTime.fromISO(day.date).toLocaleString(DateTime.DATE_MED_WITH_WEEKDAY),
                slots,
                free: slots.filter((s) => s.free),
            };
        });
    }

    cellClass(slot, index) {
        const state = slot.cells[index];
        const classes = {
            busy: "o_calendar_sync_busy bg-danger",
            off: "o_calendar_sync_off bg-secondary-subtle",
            unknown: "o_calendar_sync_unknown bg-warning-subtle",
            free: "o_calendar_sync_free bg-success-subtle",
        }[state];
        return slot.past ? `${classes} opacity-25 o_calendar_sync_past` : classes;
    }

    cellTitle(slot, index) {
        const words = {
            busy: _t("busy"),
            off: _t("outside working hours"),
            unknown: _t("unknown: the calendar could not be read"),
            free: _t("free"),
        };
        return `${slot.label}: ${words[slot.cells[index]]}`;
    }

    get freeLabel() {
        return this.state.answer?.all_known
            ? _t("Free for everyone:")
            : _t("Free for those whose calendars could be read:");
    }

    get readonly() {
        return this.props.readonly || (!this.props.record.data.user_can_edit && !this.props.record.isNew);
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
        return _t("Find a time");
    }
}

registry.category("view_widgets").add("calendar_sync_busy_times", {
    component: CalendarSyncBusyTimes,
    fieldDependencies: [
        { name: "partner_ids", type: "many2many" },
        { name: "user_id", type: "many2one", relation: "res.users" },
        { name: "start", type: "datetime" },
        { name: "stop", type: "datetime" },
        { name: "start_date", type: "date" },
        { name: "allday", type: "boolean" },
        { name: "duration", type: "float" },
        { name: "user_can_edit", type: "boolean" },
    ],
});
