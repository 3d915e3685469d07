/** @odoo-module **/

import { registry } from "@web/core/registry";

/** Save and send invitation from the meeting form of a subscribed organiser (N9). */
registry.category("web_tour.tours").add("webcrm_calendar_sync_send_invitation_tour", {
    steps: () => [
        {
            content: "New meeting",
            trigger: ".o-calendar-button-new",
            run: "click",
        },
        {
            content: "The organiser's calendar is subscribed: the button is offered",
            trigger: ".o_form_view button[name=action_save_and_send_invitation]",
        },
        {
            content: "Name the meeting",
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: "edit Project kick-off",
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
            trigger: ".o_form_view .o_field_widget[name=partner_ids] .o_tag:contains(Carol)",
        },
        {
            content: "Save and send invitation",
            trigger: ".o_form_view button[name=action_save_and_send_invitation]",
            run: "click",
        },
        {
            content: "The notification says from which calendar and to how many attendees",
            trigger: ".o_notification:contains(from Alice's Google Calendar to 2 attendees)",
        },
        {
            // the form reloads the saved meeting after the notification: the tour ends on it,
            // not on a form still being reloaded (which Odoo's tour runner takes for unsaved)
            content: "The form shows the saved meeting",
            trigger: ".o_last_breadcrumb_item:contains(Project kick-off)",
        },
        {
            trigger: ".o_form_view .o_form_saved",
        },
    ],
});

/** An organiser without a synced calendar: no such button (Odoo's own invitations apply). */
registry.category("web_tour.tours").add("webcrm_calendar_sync_no_send_invitation_tour", {
    steps: () => [
        {
            trigger: ".o-calendar-button-new",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: "edit Coffee",
        },
        {
            content: "Not offered",
            trigger: "body:not(:has(button[name=action_save_and_send_invitation]))",
        },
        {
            trigger: ".o_form_button_cancel",
            run: "click",
        },
        {
            content: "Discarded: back on the calendar",
            trigger: ".o_calendar_renderer",
        },
    ],
});

/** A meeting organised outside Odoo's synced calendars opens read-only, saying whose it is. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_readonly_tour", {
    steps: () => [
        {
            content: "Open the meeting from the calendar",
            trigger: ".o_calendar_renderer .fc-event:contains(Partner pitch)",
            run: "click",
        },
        {
            trigger: ".o_cw_popover .o_cw_popover_edit",
            run: "click",
        },
        {
            content: "The form says who owns the meeting",
            trigger: ".o_calendar_sync_readonly:contains(Olga Owner)",
        },
        {
            content: "Its fields cannot be edited",
            trigger: ".o_form_view .o_field_widget[name=name].o_readonly_modifier",
        },
        {
            trigger: "body:not(:has(button[name=action_save_and_send_invitation]))",
        },
    ],
});
