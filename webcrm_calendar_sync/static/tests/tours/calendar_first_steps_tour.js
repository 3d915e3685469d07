/** @odoo-module **/

import { registry } from "@web/core/registry";

/** Logged to have the test go on in the background (see test_ui_first_steps.py). */
const GO_ON_SIGNAL = "webcrm_calendar_sync: go on";

/** Booking on behalf of a colleague: the organiser is Bob, an attendee is added, it saves. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_book_for_colleague_tour", {
    steps: () => [
        {
            trigger: ".o-calendar-button-new",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: "edit Demo for Bob",
        },
        {
            content: "Book it for Bob: he organises it",
            trigger: ".o_form_view .o_field_widget[name=user_id] input",
            run: "edit Bob",
        },
        {
            trigger: ".ui-autocomplete .dropdown-item:contains(Bob)",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=user_id] input:value(Bob)",
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
            content: "The form stays editable: the subject, the time and the attendees",
            trigger: ".o_form_view .o_field_widget[name=name] input:value(Demo for Bob)",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=start] input",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=partner_ids] input",
            run: () => console.log("webcrm_calendar_sync: screenshot"),
        },
        {
            trigger: "body[data-webcrm-screenshot=taken]",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Saved, no error",
            trigger: ".o_form_view .o_form_saved",
        },
        {
            trigger: "body:not(:has(.o_error_dialog, .o_notification.border-danger))",
        },
    ],
});

/** The account form of a calendar just subscribed follows its first sync without a reload. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_account_follows_sync_tour", {
    steps: () => [
        {
            content: "Subscribed: the first sync waits for the background job",
            trigger: ".o_form_view .alert-info:contains(Waiting for the background sync to start)",
            run: () => console.log(GO_ON_SIGNAL),
        },
        {
            content: "The sync ran meanwhile: the banner is gone without a reload",
            trigger: ".o_form_view:not(:has(.alert-info:contains(Waiting for the background sync)))",
            timeout: 30000,
        },
        {
            content: "The form shows the calendar synced and its meeting",
            trigger: ".o_form_view .o_statusbar_status .o_arrow_button_current:contains(Synced)",
        },
        {
            trigger: ".o_form_view .oe_stat_button .o_stat_value:contains(1)",
        },
    ],
});

/** A calendar whose access was revoked offers to subscribe again, nothing that cannot work. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_revoked_account_tour", {
    steps: () => [
        {
            content: "The error says access was revoked",
            trigger: ".o_form_view .alert-danger:contains(revoked)",
        },
        {
            content: "Subscribe again is offered",
            trigger: ".o_form_view .o_form_statusbar button[name=action_subscribe]:contains(Subscribe again)",
        },
        {
            content: "No Synchronise, no other subscribe button",
            trigger: ".o_form_view:not(:has(button[name=action_synchronize])):not(:has(button:contains(Authenticate and subscribe)))",
        },
        {
            content: "No next try: none will come until the user subscribes again",
            trigger: ".o_form_view:not(:has(.o_field_widget[name=next_sync_date]))",
        },
        {
            content: "When it last synced is still shown",
            trigger: ".o_form_view .o_field_widget[name=last_sync_date]",
        },
    ],
});

/** The calendar mark shows a calendar's error and when it last synced, both. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_error_and_last_sync_tour", {
    steps: () => [
        {
            trigger: ".o_calendar_sync_status .o_calendar_sync_error:contains(revoked)",
        },
        {
            content: "The last sync is still told beside the error",
            trigger: ".o_calendar_sync_status .o_calendar_sync_mark:contains(Synced)",
        },
    ],
});

/** Agenda's Upcoming: what is still to come or running, not what already finished today. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_agenda_upcoming_tour", {
    steps: () => [
        {
            trigger: ".o_list_view .o_data_row:contains(Next review)",
        },
        {
            trigger: ".o_list_view .o_data_row:contains(Running workshop)",
        },
        {
            content: "Today's all-day meeting is still upcoming until the day ends",
            trigger: ".o_list_view .o_data_row:contains(Company day)",
        },
        {
            content: "The meeting that finished this morning is not listed",
            trigger: ".o_list_view:not(:has(.o_data_row:contains(Finished standup)))",
        },
    ],
});

/** Settings: our Google client's fields say they are the synced calendar's; the redirect URI shows whole. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_settings_tour", {
    steps: () => [
        {
            content: "Open the calendar's settings",
            trigger: ".settings_tab .tab:contains(Calendar)",
            run: "click",
            // the settings of every app load at once: slow on a busy machine
            timeout: 30000,
        },
        {
            content: "Our Google application is named as the synced calendar's",
            trigger: "#calendar_sync_google:contains(for synced calendars)",
        },
        {
            content: "The redirect URI is shown whole, not cut off",
            trigger: "#calendar_sync_google .o_field_widget[name=calendar_sync_google_redirect_uri]:contains(crm.customer-domain.example.com/webcrm_calendar_sync/oauth/google)",
            run() {
                const field = this.anchor;
                const box = field.getBoundingClientRect();
                const setting = field.closest(".o_setting_box, .o_setting_right_pane, .o_setting_container");
                const text = [...field.querySelectorAll("span, input")].find((el) =>
                    (el.value || el.textContent).includes("/webcrm_calendar_sync/oauth/google")
                );
                if (!text || text.scrollWidth > text.clientWidth + 1) {
                    throw new Error("the redirect URI is cut off");
                }
                if (setting && box.right > setting.getBoundingClientRect().right + 1) {
                    throw new Error("the redirect URI runs out of its setting");
                }
                console.log("webcrm_calendar_sync: screenshot");
            },
        },
        {
            trigger: "body[data-webcrm-screenshot=taken]",
        },
    ],
});
