/** @odoo-module **/

import { registry } from "@web/core/registry";

// steps that wait on the server (and on the external calendars behind it) get a longer, bounded wait
const SERVER_WAIT = 30000;

/** A pointer event at ``x`` (px in the viewport) on ``element``'s middle line, as a mouse sends it. */
function pointer(type, element, x = null) {
    const rect = element.getBoundingClientRect();
    element.dispatchEvent(
        new PointerEvent(type, {
            bubbles: true,
            cancelable: true,
            pointerType: "mouse",
            button: 0,
            buttons: type === "pointerup" ? 0 : 1,
            clientX: x === null ? rect.left + rect.width / 2 : x,
            clientY: rect.top + rect.height / 2,
        })
    );
}

function track(person) {
    return document.querySelector(`.o_calendar_sync_schedule_track[data-person=${person}]`);
}

/** Where ``hour:minute`` is in a day row: the middle of its half hour. */
function xOf(person, hour, minute = 0) {
    const labels = [...document.querySelectorAll(".o_calendar_sync_schedule_hour")];
    const first = Number(labels[0].textContent.trim().slice(0, 2));
    const slots = labels.length * 2;
    const slot = (hour - first) * 2 + minute / 30;
    const rect = track(person).getBoundingClientRect();
    return rect.left + ((slot + 0.5) * rect.width) / slots;
}

function key(element, name, shiftKey = false) {
    element.dispatchEvent(new KeyboardEvent("keydown", { key: name, shiftKey, bubbles: true, cancelable: true }));
}

function saveAs(name) {
    return [
        {
            content: `Name the meeting "${name}"`,
            trigger: ".o_form_view .o_field_widget[name=name] input, .o_form_view .o_field_widget[name=name] textarea",
            timeout: SERVER_WAIT,
            run: `edit ${name}`,
        },
        {
            content: "Save it",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_form_saved",
            timeout: SERVER_WAIT,
        },
        {
            content: "Back to the schedule",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Schedule)",
            run: "click",
        },
    ];
}

/**
 * Booking from the schedule (issue 23): by week, dragging across Bob's days opens an all-day
 * meeting with Bob and the user; by day, dragging from Alice's row at 13:00 to Bob's row at 14:30
 * opens 13:00-15:00 with both (Carol, shown but not dragged over, stays out); a click on Carol's
 * 10:00 opens an hour with her; Enter, Shift+arrows and Enter on Bob's row book 09:00-10:30.
 */
registry.category("web_tour.tours").add("webcrm_calendar_sync_schedule_booking_tour", {
    steps: () => [
        {
            content: "Open the schedule from the calendar's control panel",
            trigger: ".o_control_panel .o_calendar_sync_open_schedule",
            timeout: SERVER_WAIT,
            run: "click",
        },
        {
            content: "The week: a row for Alice, Bob and Carol",
            trigger: ".o_calendar_sync_schedule_week:has(.o_calendar_sync_schedule_person[data-person=Bob]) .o_calendar_sync_schedule_person[data-person=Carol]",
            timeout: SERVER_WAIT,
        },
        {
            content: "Press on Bob's second day and drag to his third",
            trigger: ".o_calendar_sync_schedule_cell[data-person=Bob][data-col='1']",
            run() {
                pointer("pointerdown", this.anchor);
                pointer("pointermove", document.querySelector(".o_calendar_sync_schedule_cell[data-person=Bob][data-col='2']"));
            },
        },
        {
            content: "Both days are highlighted while dragging, not Alice's",
            trigger: ".o_calendar_sync_schedule_cell.o_calendar_sync_schedule_selected[data-person=Bob][data-col='2']",
        },
        {
            trigger: ".o_calendar_sync_schedule_week:not(:has(.o_calendar_sync_schedule_selected[data-person=Alice]))",
            run() {
                pointer("pointerup", document.querySelector(".o_calendar_sync_schedule_cell[data-person=Bob][data-col='2']"));
            },
        },
        {
            content: "The booking form opens: all day, with Bob",
            trigger: ".o_form_view .o_field_widget[name=allday] input:checked",
            timeout: SERVER_WAIT,
        },
        {
            trigger: ".o_form_view .o_field_widget[name=partner_ids]:contains(Bob):not(:contains(Carol))",
        },
        ...saveAs("Two days with Bob"),
        {
            content: "Switch to the day",
            trigger: ".o_calendar_sync_schedule_scales button[data-scale=day]",
            timeout: SERVER_WAIT,
            run: "click",
        },
        {
            content: "Press on Alice's row at 13:00 and drag down to Bob's at 14:30",
            trigger: ".o_calendar_sync_schedule_day .o_calendar_sync_schedule_track[data-person=Carol]",
            timeout: SERVER_WAIT,
            run() {
                pointer("pointerdown", track("Alice"), xOf("Alice", 13));
                pointer("pointermove", track("Bob"), xOf("Bob", 14, 30));
            },
        },
        {
            content: "The chosen time is highlighted in both rows while dragging",
            trigger: ".o_calendar_sync_schedule_track[data-person=Bob] .o_calendar_sync_schedule_selection:contains(13:00–15:00)",
        },
        {
            trigger: ".o_calendar_sync_schedule_track[data-person=Alice] .o_calendar_sync_schedule_selection",
        },
        {
            trigger: ".o_calendar_sync_schedule_track[data-person=Carol]:not(:has(.o_calendar_sync_schedule_selection))",
            run() {
                console.log("webcrm_calendar_sync: screenshot");
            },
        },
        {
            trigger: "body[data-webcrm-screenshot=taken]",
            timeout: SERVER_WAIT,
            run() {
                pointer("pointerup", track("Bob"), xOf("Bob", 14, 30));
            },
        },
        {
            content: "The booking form opens at 13:00-15:00 with Alice and Bob",
            trigger: ".o_form_view .o_field_widget[name=partner_ids]:contains(Bob):not(:contains(Carol))",
            timeout: SERVER_WAIT,
        },
        ...saveAs("Planning with Bob"),
        {
            content: "A single click on Carol's 10:00",
            trigger: ".o_calendar_sync_schedule_day .o_calendar_sync_schedule_track[data-person=Carol]",
            timeout: SERVER_WAIT,
            run() {
                pointer("pointerdown", track("Carol"), xOf("Carol", 10));
                pointer("pointerup", track("Carol"), xOf("Carol", 10));
            },
        },
        {
            content: "The booking form opens with Carol",
            trigger: ".o_form_view .o_field_widget[name=partner_ids]:contains(Carol):not(:contains(Bob))",
            timeout: SERVER_WAIT,
        },
        ...saveAs("An hour with Carol"),
        {
            content: "On Bob's row: Enter starts at 09:00, Shift+Right twice widens to 10:30",
            trigger: ".o_calendar_sync_schedule_day .o_calendar_sync_schedule_track[data-person=Bob]",
            timeout: SERVER_WAIT,
            run() {
                this.anchor.focus();
                key(this.anchor, "Enter");
            },
        },
        {
            trigger: ".o_calendar_sync_schedule_track[data-person=Bob] .o_calendar_sync_schedule_selection:contains(09:00–10:00)",
            run() {
                const bob = track("Bob");
                key(bob, "ArrowRight", true);
                key(bob, "ArrowRight", true);
            },
        },
        {
            trigger: ".o_calendar_sync_schedule_track[data-person=Bob] .o_calendar_sync_schedule_selection:contains(09:00–10:30)",
            run() {
                key(track("Bob"), "Enter");
            },
        },
        {
            content: "The booking form opens with Bob",
            trigger: ".o_form_view .o_field_widget[name=partner_ids]:contains(Bob)",
            timeout: SERVER_WAIT,
        },
        ...saveAs("Keyed with Bob"),
        {
            trigger: ".o_calendar_sync_schedule_day .o_calendar_sync_schedule_track[data-person=Bob]",
            timeout: SERVER_WAIT,
        },
    ],
});
