/** @odoo-module **/

import { registry } from "@web/core/registry";

/** The side panel's synced colleagues: choosing one shows their meetings, private ones as "Busy". */
registry.category("web_tour.tours").add("webcrm_calendar_sync_colleagues_tour", {
    steps: () => [
        {
            content: "The side panel lists the colleagues whose calendar is synced",
            trigger: ".o_calendar_sync_colleagues .o_calendar_sync_colleague:contains(Bob)",
        },
        {
            content: "Bob's meetings are not shown yet",
            trigger: ".o_calendar_renderer:not(:has(.fc-event:contains(Bob's demo)))",
        },
        {
            content: "Choose Bob",
            trigger: ".o_calendar_sync_colleague:contains(Bob) input",
            run: "click",
        },
        {
            content: "Bob's meeting appears",
            trigger: ".o_calendar_renderer .fc-event:contains(Bob's demo)",
        },
        {
            content: "His private meeting shows as Busy, without its title",
            trigger: ".o_calendar_renderer .fc-event:contains(Busy)",
        },
        {
            trigger: ".o_calendar_renderer:not(:has(.fc-event:contains(Salary talk)))",
        },
        {
            content: "Synced meetings carry their provider's icon",
            trigger: ".o_calendar_renderer .fc-event:contains(Bob's demo) .o_calendar_sync_provider[data-provider=google]",
        },
    ],
});

/** Booking: the invited colleague's busy times beside the form; a free slot sets the time. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_busy_times_tour", {
    steps: () => [
        {
            trigger: ".o-calendar-button-new",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: "edit Planning",
        },
        {
            content: "Invite Bob",
            trigger: ".o_form_view .o_field_widget[name=partner_ids] input",
            run: "edit Bob",
        },
        {
            trigger: ".ui-autocomplete .dropdown-item:contains(Bob)",
            run: "click",
        },
        {
            content: "Bob's busy times from his calendar: busy 09:00-11:00 every working day",
            trigger: ".o_calendar_sync_busy_times .o_calendar_sync_person:contains(Bob) .o_calendar_sync_busy",
        },
        {
            content: "The organiser is shown too",
            trigger: ".o_calendar_sync_person:contains(Alice) .o_calendar_sync_organizer",
        },
        {
            content: "Everyone's calendar could be read: the slots are free for everyone",
            trigger: ".o_calendar_sync_free_label:contains(Free for everyone)",
        },
        {
            trigger: ".o_calendar_sync_busy_times:not(:has(.o_calendar_sync_unknown_people))",
        },
        {
            content: "Several working days are shown",
            trigger: ".o_calendar_sync_busy_times:has(.o_calendar_sync_day:eq(4))",
        },
        {
            content: "On the first day that offers 11:00, 09:00 is not offered: choose 11:00",
            trigger:
                ".o_calendar_sync_free_slots:has(.o_calendar_sync_slot[data-time='11:00']):not(:has(.o_calendar_sync_slot[data-time='09:00'])) .o_calendar_sync_slot[data-time='11:00']",
            run: "click",
        },
        {
            content: "Save (the test checks the saved meeting starts at 11:00 on the first day it was free)",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_status_indicator_buttons.invisible:not(:visible)",
        },
    ],
});

/** Find a time: a colleague whose calendar cannot be read is named, and nothing is called free
 * for everyone; no slot that has begun is offered; later and earlier days. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_find_a_time_tour", {
    steps: () => [
        {
            trigger: ".o-calendar-button-new",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: "edit Demo for Ready Mat",
        },
        {
            content: "Invite Bob",
            trigger: ".o_form_view .o_field_widget[name=partner_ids] input",
            run: "edit Bob",
        },
        {
            trigger: ".ui-autocomplete .dropdown-item:contains(Bob)",
            run: "click",
        },
        {
            content: "Invite Carol",
            trigger: ".o_form_view .o_field_widget[name=partner_ids] input",
            run: "edit Carol",
        },
        {
            trigger: ".ui-autocomplete .dropdown-item:contains(Carol)",
            run: "click",
        },
        {
            content: "Carol's busy times from her calendar",
            trigger: ".o_calendar_sync_person:contains(Carol) .o_calendar_sync_busy",
        },
        {
            content: "Bob's calendar could not be read: said in words",
            trigger:
                ".o_calendar_sync_unknown_people:contains(Bob's calendar could not be read (access to it was revoked; they must subscribe again))",
        },
        {
            content: "His row is marked, his hours unknown",
            trigger: ".o_calendar_sync_person[data-unknown=yes]:contains(Bob) .o_calendar_sync_unknown",
        },
        {
            content: "No slot is called free for everyone",
            trigger: ".o_calendar_sync_free_label:contains(Free for those whose calendars could be read)",
        },
        {
            trigger: ".o_calendar_sync_busy_times:not(:has(.o_calendar_sync_free_label:contains(Free for everyone)))",
        },
        {
            content: "The days are shown (the test checks that the slot booked below had not begun)",
            trigger: ".o_calendar_sync_busy_times:not(:has(.fa-spin)) .o_calendar_sync_day .o_calendar_sync_slot",
            run: () => {
                document.querySelector(".o_calendar_sync_busy_times").scrollIntoView({ block: "start" });
                console.log("webcrm_calendar_sync: screenshot");
            },
        },
        {
            trigger: "body[data-webcrm-screenshot=taken]",
        },
        {
            content: "Later days",
            trigger: ".o_calendar_sync_next_days:enabled",
            run: "click",
        },
        {
            trigger: ".o_calendar_sync_previous_days:enabled",
        },
        {
            content: "Back to the first days",
            trigger: ".o_calendar_sync_previous_days:enabled",
            run: "click",
        },
        {
            trigger: ".o_calendar_sync_previous_days:disabled",
        },
        {
            content: "Book the first slot offered",
            trigger: ".o_calendar_sync_slot:enabled",
            run: "click",
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_status_indicator_buttons.invisible:not(:visible)",
        },
    ],
});
