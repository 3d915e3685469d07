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
            content: "Bob's busy times from his calendar: busy 09:00-11:00",
            trigger: ".o_calendar_sync_busy_times .o_calendar_sync_person:contains(Bob) .o_calendar_sync_busy",
        },
        {
            content: "09:00 is not offered, 11:00 is",
            trigger: ".o_calendar_sync_free_slots:not(:has(.o_calendar_sync_slot[data-time='09:00'])) .o_calendar_sync_slot[data-time='11:00']",
            run: "click",
        },
        {
            content: "Save (the test checks the saved meeting starts at 11:00)",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_status_indicator_buttons.invisible:not(:visible)",
        },
    ],
});
