/** @odoo-module **/

import { registry } from "@web/core/registry";

/**
 * The calendar opens at once, its mark says a sync was queued (the last one is older than
 * the threshold), the view shows the meeting the sync brought without a reload by hand,
 * and the refresh button queues another sync.
 */
registry.category("web_tour.tours").add("webcrm_calendar_sync_status_tour", {
    steps: () => [
        {
            content: "The calendar opens and shows the queued sync",
            trigger: ".o_calendar_container .o_calendar_sync_syncing:contains(Syncing)",
        },
        {
            content: "The refresh button waits while a sync is queued",
            trigger: ".o_calendar_sync_refresh[disabled]",
        },
        {
            content: "The meeting added to the external calendar appears by itself",
            trigger: ".o_calendar_renderer .fc-event:contains(Board review)",
        },
        {
            content: "The mark says the calendar was just synced",
            trigger: ".o_calendar_sync_mark:contains(Synced just now)",
        },
        {
            content: "Synchronize now",
            trigger: ".o_calendar_sync_refresh:not([disabled])",
            run: "click",
        },
        {
            content: "The second meeting, added meanwhile, appears after the refresh",
            trigger: ".o_calendar_renderer .fc-event:contains(Budget follow-up)",
        },
        {
            content: "And the mark is back to synced",
            trigger: ".o_calendar_sync_mark:contains(Synced just now)",
        },
    ],
});

registry.category("web_tour.tours").add("webcrm_calendar_sync_error_tour", {
    steps: () => [
        {
            content: "The account's error is shown in words",
            trigger: ".o_calendar_sync_error:contains(Access to the calendar was revoked)",
            run: "click",
        },
        {
            content: "The link opens the account",
            trigger: ".o_form_view .o_field_widget[name=provider]",
        },
    ],
});

registry.category("web_tour.tours").add("webcrm_calendar_sync_invite_tour", {
    steps: () => [
        {
            content: "A user without a synced calendar is invited to subscribe",
            trigger: ".o_calendar_sync_invite",
        },
        {
            content: "Choose Outlook",
            trigger: ".o_calendar_sync_subscribe[data-provider=microsoft]",
            run: "click",
        },
        {
            content: "The form of a new Microsoft 365 account with the user's e-mail",
            trigger: ".o_form_view .o_field_widget[name=email] input:value(dora@example.com)",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=provider] input[data-value=microsoft]:checked",
        },
    ],
});
