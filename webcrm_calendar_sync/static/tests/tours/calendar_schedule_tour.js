/** @odoo-module **/

import { registry } from "@web/core/registry";

// steps that wait on the server (and on the external calendars behind it) get a longer, bounded wait
const SERVER_WAIT = 30000;

/**
 * The colleague filter and the schedule view (C7): Bob is chosen in the calendar's side
 * panel, the schedule shows Alice and Bob a row each - Bob's meeting, his private one as
 * "Busy", and a busy time that exists only in his external calendar - by week and by day,
 * with previous / next / today; a colleague unchosen in the schedule leaves it.
 */
registry.category("web_tour.tours").add("webcrm_calendar_sync_schedule_tour", {
    steps: () => [
        {
            content: "Choose Bob among the synced colleagues",
            trigger: ".o_calendar_sync_colleague:contains(Bob) input",
            timeout: SERVER_WAIT,
            run: "click",
        },
        {
            content: "The calendar shows Bob's meeting",
            trigger: ".o_calendar_renderer .fc-event:contains(Bob's demo)",
            timeout: SERVER_WAIT,
        },
        {
            content: "Open the schedule from the calendar's control panel",
            trigger: ".o_control_panel .o_calendar_sync_open_schedule",
            run: "click",
        },
        {
            content: "A row for Alice (the user) and one for Bob, the week by days",
            trigger:
                ".o_calendar_sync_schedule_week:has(.o_calendar_sync_schedule_person[data-person=Alice]) .o_calendar_sync_schedule_person[data-person=Bob]",
            timeout: SERVER_WAIT,
        },
        {
            content: "Bob's meeting in his row",
            trigger: ".o_calendar_sync_schedule_cell[data-person=Bob] .o_calendar_sync_schedule_event:contains(Bob's demo)",
        },
        {
            content: "His private meeting shows as Busy, without its title",
            trigger: ".o_calendar_sync_schedule_cell[data-person=Bob] .o_calendar_sync_schedule_private:contains(Busy)",
        },
        {
            trigger: ".o_calendar_sync_schedule:not(:contains(Salary talk))",
        },
        {
            content: "A busy time known only to Bob's external calendar is added, untitled",
            trigger: ".o_calendar_sync_schedule_cell[data-person=Bob] .o_calendar_sync_schedule_outside",
            timeout: SERVER_WAIT,
        },
        {
            trigger: ".o_calendar_sync_schedule:not(:contains(Dentist))",
        },
        {
            content: "Switch to the day",
            trigger: ".o_calendar_sync_schedule_scales button[data-scale=day]",
            run: "click",
        },
        {
            content: "By day: hours as columns, Bob's meeting as a block in his row",
            trigger: ".o_calendar_sync_schedule_day .o_calendar_sync_schedule_track[data-person=Bob] .o_calendar_sync_schedule_event:contains(Bob's demo)",
            timeout: SERVER_WAIT,
        },
        {
            content: "Next day",
            trigger: ".o_calendar_sync_schedule_next",
            run: "click",
        },
        {
            content: "Nothing for Bob the next day",
            trigger:
                ".o_calendar_sync_schedule_day .o_calendar_sync_schedule_track[data-person=Bob]:not(:has(.o_calendar_sync_schedule_item))",
            timeout: SERVER_WAIT,
        },
        {
            content: "Back to today",
            trigger: ".o_calendar_sync_schedule_today",
            run: "click",
        },
        {
            trigger: ".o_calendar_sync_schedule_track[data-person=Bob] .o_calendar_sync_schedule_event:contains(Bob's demo)",
            timeout: SERVER_WAIT,
        },
        {
            content: "Unchoose Bob in the schedule",
            trigger: ".o_calendar_sync_schedule_colleague:contains(Bob) input:checked",
            run: "click",
        },
        {
            content: "His row leaves",
            trigger: ".o_calendar_sync_schedule_day:not(:has(.o_calendar_sync_schedule_person[data-person=Bob]))",
            timeout: SERVER_WAIT,
        },
        {
            content: "Choose him again",
            trigger: ".o_calendar_sync_schedule_colleague:contains(Bob) input:not(:checked)",
            run: "click",
        },
        {
            content: "Open Bob's meeting from the schedule",
            trigger: ".o_calendar_sync_schedule_track[data-person=Bob] .o_calendar_sync_schedule_event:contains(Bob's demo)",
            timeout: SERVER_WAIT,
            run: "click",
        },
        {
            content: "Its form opens",
            trigger: ".o_breadcrumb .active:contains(Bob's demo)",
            timeout: SERVER_WAIT,
        },
        {
            content: "Back to the schedule through the breadcrumbs",
            trigger: ".o_breadcrumb .breadcrumb-item a:contains(Schedule)",
            run: "click",
        },
        {
            content: "The schedule comes back by day, with the outside busy time",
            trigger: ".o_calendar_sync_schedule_day .o_calendar_sync_schedule_track[data-person=Bob] .o_calendar_sync_schedule_outside",
            timeout: SERVER_WAIT,
        },
    ],
});
