/** @odoo-module **/

import { Component, onWillStart, useExternalListener, useRef, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import {
    deserializeDate,
    deserializeDateTime,
    getStartOfLocalWeek,
    serializeDateTime,
} from "@web/core/l10n/dates";
import { registry } from "@web/core/registry";
import { user } from "@web/core/user";
import { useService } from "@web/core/utils/hooks";
import { Layout } from "@web/search/layout";
import { useSetupAction } from "@web/search/action_hook";
import { standardActionServiceProps } from "@web/webclient/actions/action_service";

const { DateTime } = luxon;

/** The day view shows at least these hours; it widens when a meeting is earlier or later. */
export const SCHEDULE_DAY_START = 7;
export const SCHEDULE_DAY_END = 19;
/** Booking from the day view: a dragged span snaps to these steps; a single click books this long. */
export const SCHEDULE_SLOT_MINUTES = 30;
export const SCHEDULE_DEFAULT_MINUTES = 60;
/** Where the keyboard's selection starts in the day view (then the arrow keys move it). */
const SCHEDULE_KEYBOARD_HOUR = 9;

/**
 * The schedule (C7): the user and the colleagues chosen in the calendar's "Synced colleagues"
 * filter side by side, a row per person, by day (hours as columns) or by week (days as
 * columns). Meetings come from ``calendar.event.get_synced_schedule`` (Odoo's rules: a
 * colleague's private meeting is "Busy"); once they are shown, the busy times that exist only
 * in the colleagues' external calendars are asked for and added.
 *
 * The chosen colleagues are the calendar's own attendee filters (``calendar.filters``): what is
 * chosen here is chosen in the calendar too, and the other way round.
 */
export class CalendarSyncSchedule extends Component {
    static template = "webcrm_calendar_sync.Schedule";
    static components = { Layout };
    static props = { ...standardActionServiceProps };

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        const context = this.props.action.context || {};
        const saved = this.props.state || {};
        const date = saved.date || context.schedule_date;
        this.state = useState({
            date: (date ? DateTime.fromISO(date) : DateTime.now()).startOf("day"),
            scale: saved.scale || context.schedule_scale || "day",
            colleagues: [],
            chosen: [],
            rows: [],
            enabled: true,
            loading: true,
            outsideLoading: false,
            outsideError: false,
            // the time being chosen to book: rows (people) and columns (half hours or days)
            selection: null,
        });
        this.loadSeq = 0;
        this.gridRef = useRef("grid");
        useExternalListener(window, "pointerup", () => this.onPointerUp());
        useExternalListener(window, "pointercancel", () => {
            if (this.state.selection && this.state.selection.dragging) {
                this.state.selection = null; // the browser took the pointer (a scroll, a gesture)
            }
        });
        useSetupAction({
            getLocalState: () => ({ date: this.state.date.toISODate(), scale: this.state.scale }),
        });
        onWillStart(async () => {
            await this.loadColleagues();
            await this.load();
        });
    }

    // ----- colleagues -------------------------------------------------------------------------

    async loadColleagues() {
        const status = await this.orm.call("calendar.sync.account", "get_sync_status", []);
        this.state.enabled = Boolean(status && status.enabled);
        this.state.colleagues = (status && status.colleagues) || [];
        if (!this.state.colleagues.length) {
            return;
        }
        const filters = await this.orm.searchRead(
            "calendar.filters",
            [
                ["user_id", "=", user.userId],
                ["partner_checked", "=", true],
                ["partner_id", "in", this.state.colleagues.map((c) => c.partner_id)],
            ],
            ["partner_id"]
        );
        const checked = new Set(filters.map((f) => f.partner_id[0]));
        this.state.chosen = this.state.colleagues.filter((c) => checked.has(c.partner_id)).map((c) => c.id);
    }

    isChosen(colleague) {
        return this.state.chosen.includes(colleague.id);
    }

    async toggleColleague(colleague) {
        const checked = !this.isChosen(colleague);
        this.state.selection = null; // the rows change under it
        this.state.chosen = checked
            ? [...this.state.chosen, colleague.id]
            : this.state.chosen.filter((id) => id !== colleague.id);
        // the calendar's own attendee filter: the calendar shows the same colleagues
        const [existing] = await this.orm.search("calendar.filters", [
            ["user_id", "=", user.userId],
            ["partner_id", "=", colleague.partner_id],
        ]);
        if (existing) {
            await this.orm.write("calendar.filters", [existing], { partner_checked: checked });
        } else if (checked) {
            await this.orm.create("calendar.filters", [
                { user_id: user.userId, partner_id: colleague.partner_id, partner_checked: true },
            ]);
        }
        await this.load();
    }

    // ----- range and navigation ---------------------------------------------------------------

    get rangeStart() {
        return this.state.scale === "week" ? getStartOfLocalWeek(this.state.date) : this.state.date.startOf("day");
    }

    get rangeStop() {
        return this.rangeStart.plus({ days: this.state.scale === "week" ? 7 : 1 });
    }

    async move(step) {
        this.state.selection = null;
        this.state.date = this.state.date.plus(this.state.scale === "week" ? { weeks: step } : { days: step });
        await this.load();
    }

    async goToday() {
        this.state.selection = null;
        this.state.date = DateTime.now().startOf("day");
        await this.load();
    }

    async setScale(scale) {
        if (scale !== this.state.scale) {
            this.state.selection = null;
            this.state.scale = scale;
            await this.load();
        }
    }

    get title() {
        if (this.state.scale === "day") {
            return this.state.date.toLocaleString(DateTime.DATE_HUGE);
        }
        const last = this.rangeStop.minus({ days: 1 });
        return `${this.rangeStart.toLocaleString(DateTime.DATE_MED)} – ${last.toLocaleString(DateTime.DATE_MED)}`;
    }

    get weekNumber() {
        return this.rangeStart.plus({ days: 3 }).weekNumber;
    }

    // ----- data -------------------------------------------------------------------------------

    async load() {
        const seq = ++this.loadSeq;
        this.state.loading = true;
        this.state.outsideError = false;
        const args = [this.state.chosen, serializeDateTime(this.rangeStart), serializeDateTime(this.rangeStop)];
        try {
            const result = await this.orm.call("calendar.event", "get_synced_schedule", args);
            if (seq !== this.loadSeq) {
                return; // a newer range or choice is being loaded
            }
            this.state.rows = result.rows;
        } finally {
            if (seq === this.loadSeq) {
                this.state.loading = false;
            }
        }
        // then the busy times known only to the external calendars (asks the providers)
        this.loadOutside(seq, args);
    }

    async loadOutside(seq, args) {
        if (!this.state.enabled) {
            return;
        }
        this.state.outsideLoading = true;
        let result;
        try {
            result = await this.orm.silent.call("calendar.event", "get_synced_schedule", args, { outside: true });
        } catch {
            result = null;
        }
        if (seq !== this.loadSeq) {
            return;
        }
        this.state.outsideLoading = false;
        if (!result) {
            this.state.outsideError = _t("The external calendars' busy times could not be read. Reload to try again.");
            return;
        }
        this.state.rows = result.rows;
        this.state.outsideError = result.outside_error || false;
    }

    // ----- layout -----------------------------------------------------------------------------

    /** Meetings and outside-only busy times of a row, as luxon intervals in the user's zone. */
    itemsOf(row) {
        const items = row.events.map((event) => {
            let start, stop;
            if (event.allday) {
                start = deserializeDate(event.start_date).startOf("day");
                stop = deserializeDate(event.stop_date).plus({ days: 1 }).startOf("day");
            } else {
                start = deserializeDateTime(event.start);
                stop = deserializeDateTime(event.stop);
            }
            return {
                key: `e${event.id}`,
                kind: "event",
                event,
                start,
                stop,
                allday: event.allday,
                title: event.name,
                private: event.private,
                tentative: event.state === "tentative" || event.state === "needsAction",
                free: event.show_as === "free",
            };
        });
        for (const [index, busy] of row.outside.entries()) {
            items.push({
                key: `o${index}`,
                kind: "outside",
                start: deserializeDateTime(busy.start),
                stop: deserializeDateTime(busy.stop),
                allday: false,
                title: _t("Busy (outside Odoo)"),
                private: true,
            });
        }
        return items.sort((a, b) => a.start - b.start || b.stop - a.stop);
    }

    /** The hours the day view shows: at least 07:00-19:00, widened to the day's meetings. */
    get dayHours() {
        const day = this.rangeStart;
        const next = this.rangeStop;
        let first = SCHEDULE_DAY_START;
        let last = SCHEDULE_DAY_END;
        for (const row of this.state.rows) {
            for (const item of this.itemsOf(row)) {
                if (item.allday || item.stop <= day || item.start >= next) {
                    continue;
                }
                first = Math.min(first, item.start <= day ? 0 : item.start.hour);
                last = Math.max(last, item.stop >= next ? 24 : item.stop.hour + (item.stop.minute ? 1 : 0));
            }
        }
        return { first, last };
    }

    get hourColumns() {
        const { first, last } = this.dayHours;
        const columns = [];
        for (let hour = first; hour < last; hour++) {
            columns.push({ hour, label: this.rangeStart.set({ hour }).toFormat("HH:mm") });
        }
        return columns;
    }

    /** Blocks of a row in the day view: position in % of the shown hours, one lane per overlap. */
    dayBlocks(row) {
        const { first, last } = this.dayHours;
        const from = this.rangeStart.plus({ hours: first });
        const to = this.rangeStart.plus({ hours: last });
        const span = to.diff(from).as("minutes");
        const lanes = [];
        const blocks = [];
        for (const item of this.itemsOf(row)) {
            if (item.stop <= from || item.start >= to) {
                continue;
            }
            const start = item.start < from ? from : item.start;
            const stop = item.stop > to ? to : item.stop;
            let lane = lanes.findIndex((end) => end <= start);
            if (lane === -1) {
                lane = lanes.length;
                lanes.push(stop);
            } else {
                lanes[lane] = stop;
            }
            blocks.push({
                ...item,
                lane,
                style: `left: ${(start.diff(from).as("minutes") / span) * 100}%; width: ${
                    (stop.diff(start).as("minutes") / span) * 100
                }%; top: ${lane * 1.9 + 0.2}rem;`,
                time: this.timeLabel(item),
            });
        }
        return { blocks, height: `${Math.max(lanes.length, 1) * 1.9 + 0.4}rem` };
    }

    get weekDays() {
        const today = DateTime.now().toISODate();
        const days = [];
        for (let i = 0; i < 7; i++) {
            const day = this.rangeStart.plus({ days: i });
            days.push({
                key: day.toISODate(),
                date: day,
                label: day.toFormat("ccc d"),
                today: day.toISODate() === today,
            });
        }
        return days;
    }

    /** The items of a row on ``day`` in the week view. */
    weekItems(row, day) {
        const from = day.date;
        const to = from.plus({ days: 1 });
        return this.itemsOf(row)
            .filter((item) => item.start < to && item.stop > from)
            .map((item) => ({ ...item, time: this.timeLabel(item, from, to) }));
    }

    timeLabel(item, from = null, to = null) {
        if (item.allday) {
            return _t("All day");
        }
        const fmt = (d) => d.toFormat("HH:mm");
        if (from && item.start < from && item.stop > to) {
            return _t("All day");
        }
        if (from && item.start < from) {
            return `→ ${fmt(item.stop)}`;
        }
        if (to && item.stop > to) {
            return `${fmt(item.start)} →`;
        }
        return `${fmt(item.start)}–${fmt(item.stop)}`;
    }

    blockClass(item) {
        const classes = ["o_calendar_sync_schedule_item"];
        if (item.kind === "outside") {
            classes.push("o_calendar_sync_schedule_outside");
        } else if (item.private) {
            classes.push("o_calendar_sync_schedule_private");
        } else {
            classes.push("o_calendar_sync_schedule_event");
        }
        if (item.tentative) {
            classes.push("o_calendar_sync_schedule_tentative");
        }
        if (item.free) {
            classes.push("o_calendar_sync_schedule_free");
        }
        return classes.join(" ");
    }

    openItem(item) {
        if (item.kind !== "event" || item.private) {
            return;
        }
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "calendar.event",
            res_id: item.event.id,
            views: [[false, "form"]],
            target: "current",
        });
    }

    // ----- booking: a selection of people and time ---------------------------------------------
    //
    // Dragging across the rows (press on free time, move, release) or the arrow keys on a focused
    // row choose people (the rows) and time (half hours by day, whole days by week); releasing the
    // mouse or pressing Enter opens a new meeting's form with those people and that time.

    get columnCount() {
        if (this.state.scale === "week") {
            return 7;
        }
        const { first, last } = this.dayHours;
        return ((last - first) * 60) / SCHEDULE_SLOT_MINUTES;
    }

    /** The start of the day view's column ``col`` (a half hour). */
    slotStart(col) {
        return this.rangeStart.plus({ hours: this.dayHours.first, minutes: col * SCHEDULE_SLOT_MINUTES });
    }

    /** The row and column under a pointer event, or null outside the rows. */
    cellAt(ev) {
        const element = ev.target.closest && ev.target.closest("[data-row-index]");
        if (!element || !this.state.rows[Number(element.dataset.rowIndex)]) {
            return null;
        }
        const row = Number(element.dataset.rowIndex);
        if (this.state.scale === "week") {
            return { row, col: Number(element.dataset.col) };
        }
        const rect = element.getBoundingClientRect();
        const col = Math.floor(((ev.clientX - rect.left) / rect.width) * this.columnCount);
        return { row, col: Math.min(this.columnCount - 1, Math.max(0, col)) };
    }

    onPointerDown(ev) {
        // a meeting opens on click; only free space starts a selection
        if (ev.button !== 0 || ev.target.closest(".o_calendar_sync_schedule_item")) {
            return;
        }
        const cell = this.cellAt(ev);
        if (!cell) {
            return;
        }
        ev.preventDefault(); // no text selection while dragging
        this.state.selection = { anchorRow: cell.row, anchorCol: cell.col, ...cell, dragging: true };
    }

    onPointerMove(ev) {
        const selection = this.state.selection;
        if (!selection || !selection.dragging) {
            return;
        }
        const cell = this.cellAt(ev);
        if (cell && (cell.row !== selection.row || cell.col !== selection.col)) {
            Object.assign(selection, cell);
        }
    }

    onPointerUp() {
        const selection = this.state.selection;
        if (selection && selection.dragging) {
            selection.dragging = false;
            this.book();
        }
    }

    onKeydown(ev) {
        const element = ev.target.closest && ev.target.closest("[data-row-index]");
        if (!element) {
            return;
        }
        const selection = this.state.selection;
        if (ev.key === "Escape") {
            if (selection) {
                ev.preventDefault();
                this.state.selection = null;
            }
            return;
        }
        if (ev.key === "Enter" || ev.key === " ") {
            ev.preventDefault();
            if (selection) {
                this.book();
            } else {
                this.startKeyboardSelection(element);
            }
            return;
        }
        const moves = { ArrowLeft: [0, -1], ArrowRight: [0, 1], ArrowUp: [-1, 0], ArrowDown: [1, 0] };
        if (!(ev.key in moves)) {
            return;
        }
        ev.preventDefault();
        if (!selection) {
            this.startKeyboardSelection(element);
            return;
        }
        const [rowStep, colStep] = moves[ev.key];
        const row = Math.min(this.state.rows.length - 1, Math.max(0, selection.row + rowStep));
        const col = Math.min(this.columnCount - 1, Math.max(0, selection.col + colStep));
        if (ev.shiftKey) {
            Object.assign(selection, { row, col }); // Shift widens the selection
        } else {
            this.state.selection = { anchorRow: row, anchorCol: col, row, col, dragging: false };
        }
        this.focusCell(row, col);
    }

    startKeyboardSelection(element) {
        const row = Number(element.dataset.rowIndex);
        let col;
        if (this.state.scale === "week") {
            col = Number(element.dataset.col);
        } else {
            const fromFirst = ((SCHEDULE_KEYBOARD_HOUR - this.dayHours.first) * 60) / SCHEDULE_SLOT_MINUTES;
            col = Math.min(this.columnCount - 1, Math.max(0, fromFirst));
        }
        this.state.selection = { anchorRow: row, anchorCol: col, row, col, dragging: false };
    }

    focusCell(row, col) {
        const grid = this.gridRef.el;
        const selector =
            this.state.scale === "week" ? `[data-row-index="${row}"][data-col="${col}"]` : `[data-row-index="${row}"]`;
        const target = grid && grid.querySelector(selector);
        if (target && target !== document.activeElement) {
            target.focus();
        }
    }

    get selectionRange() {
        const selection = this.state.selection;
        if (!selection) {
            return null;
        }
        return {
            rowFrom: Math.min(selection.anchorRow, selection.row),
            rowTo: Math.max(selection.anchorRow, selection.row),
            colFrom: Math.min(selection.anchorCol, selection.col),
            colTo: Math.max(selection.anchorCol, selection.col),
        };
    }

    /**
     * The chosen time: by day, the dragged half hours (a single one: a meeting of the default
     * length from there); by week, whole days, booked as an all-day meeting.
     */
    get selectionSpan() {
        const range = this.selectionRange;
        if (!range) {
            return null;
        }
        if (this.state.scale === "week") {
            const first = this.rangeStart.plus({ days: range.colFrom });
            const last = this.rangeStart.plus({ days: range.colTo });
            return { allday: true, start: first, stop: last };
        }
        const start = this.slotStart(range.colFrom);
        const stop =
            range.colFrom === range.colTo
                ? start.plus({ minutes: SCHEDULE_DEFAULT_MINUTES })
                : this.slotStart(range.colTo + 1);
        return { allday: false, start, stop };
    }

    get selectionLabel() {
        const span = this.selectionSpan;
        if (!span) {
            return "";
        }
        if (span.allday) {
            const first = span.start.toFormat("ccc d");
            return span.stop.equals(span.start) ? first : `${first} – ${span.stop.toFormat("ccc d")}`;
        }
        return `${span.start.toFormat("HH:mm")}–${span.stop.toFormat("HH:mm")}`;
    }

    isRowSelected(index) {
        const range = this.selectionRange;
        return Boolean(range && index >= range.rowFrom && index <= range.rowTo);
    }

    isCellSelected(index, col) {
        const range = this.selectionRange;
        return this.isRowSelected(index) && col >= range.colFrom && col <= range.colTo;
    }

    /** The highlighted span in a day row (the time to book), in % of the shown hours. */
    get daySelectionStyle() {
        const span = this.selectionSpan;
        const { first, last } = this.dayHours;
        const from = this.rangeStart.plus({ hours: first });
        const total = (last - first) * 60;
        const stop = Math.min(span.stop.diff(from).as("minutes"), total);
        const start = span.start.diff(from).as("minutes");
        return `left: ${(start / total) * 100}%; width: ${((stop - start) / total) * 100}%;`;
    }

    rowLabel(row) {
        return _t("%(name)s: drag across free time, or use the arrow keys and Enter, to book a meeting", {
            name: row.name,
        });
    }

    /** Opens a new meeting's form with the chosen people (and the user) at the chosen time. */
    async book() {
        const span = this.selectionSpan;
        const range = this.selectionRange;
        if (!span) {
            return;
        }
        const partnerIds = [user.partnerId];
        for (const row of this.state.rows.slice(range.rowFrom, range.rowTo + 1)) {
            if (!partnerIds.includes(row.partner_id)) {
                partnerIds.push(row.partner_id);
            }
        }
        const context = { default_partner_ids: partnerIds };
        if (span.allday) {
            // Odoo's all-day meetings keep their days in start / stop (08:00 / 18:00, not a zone)
            Object.assign(context, {
                default_allday: true,
                default_start: `${span.start.toISODate()} 08:00:00`,
                default_stop: `${span.stop.toISODate()} 18:00:00`,
            });
        } else {
            Object.assign(context, {
                default_allday: false,
                default_start: serializeDateTime(span.start),
                default_stop: serializeDateTime(span.stop),
            });
        }
        this.state.selection = null;
        await this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("New meeting"),
            res_model: "calendar.event",
            views: [[false, "form"]],
            target: "current",
            context,
        });
    }

    providerIcon(provider) {
        return { google: "fa-google", microsoft: "fa-windows", exchange: "fa-server" }[provider] || "";
    }
}

registry.category("actions").add("webcrm_calendar_sync.schedule", CalendarSyncSchedule);
