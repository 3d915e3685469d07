/** @odoo-module **/

import { registry } from "@web/core/registry";

/** Open the form's Delete: the question says what is about to happen. */
function deleteFromForm(title) {
    return [
        {
            content: "The meeting's form",
            trigger: ".o_last_breadcrumb_item:contains(Offer review)",
        },
        {
            content: "Actions",
            trigger: ".o_form_view .o_cp_action_menus i.fa-cog",
            run: "click",
        },
        {
            content: "Delete",
            trigger: ".o-dropdown--menu span:contains(Delete)",
            run: "click",
        },
        {
            content: "The question says which of the two is about to happen",
            trigger: `.modal .modal-title:contains(${title})`,
        },
    ];
}

/** A guest's delete: a decline for the guest only, and the question says so. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_guest_removal_tour", {
    steps: () => [
        ...deleteFromForm("Decline and remove from your calendar?"),
        {
            trigger: ".modal .modal-body:contains(organised by Alice)",
        },
        {
            trigger: ".modal .modal-body:contains(The meeting stays for the other attendees)",
        },
        {
            content: "Decline",
            trigger: ".modal .modal-footer button:contains(Decline)",
            run: "click",
        },
        {
            content: "The meeting stays, shown as it is now",
            trigger: "body:not(:has(.modal)) .o_last_breadcrumb_item:contains(Offer review)",
        },
    ],
});

/** The organiser's delete: a cancel for everyone, and the question says so; kept here. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_organiser_removal_tour", {
    steps: () => [
        ...deleteFromForm("Cancel the meeting for everyone?"),
        {
            trigger: ".modal .modal-body:contains(sends the attendees a cancellation)",
        },
        {
            content: "Keep it",
            trigger: ".modal .modal-footer button:contains(Keep it)",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal)) .o_last_breadcrumb_item:contains(Offer review)",
        },
    ],
});

/** The same from the calendar view: the pop-over's Delete asks, and a guest's is a decline. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_guest_removal_calendar_tour", {
    steps: () => [
        {
            content: "Open the meeting's pop-over",
            trigger: ".o_calendar_renderer .fc-event:contains(Offer review)",
            run: "click",
        },
        {
            trigger: ".o_cw_popover .o_cw_popover_delete",
            run: "click",
        },
        {
            content: "The question says it is a decline for the guest only",
            trigger: ".modal .modal-title:contains(Decline and remove from your calendar?)",
        },
        {
            trigger: ".modal .modal-footer button:contains(Decline)",
            run: "click",
        },
        {
            content: "The meeting stays in the calendar (declined)",
            trigger: "body:not(:has(.modal)) .o_calendar_renderer .fc-event:contains(Offer review)",
        },
    ],
});
