/** @odoo-module **/

import { registry } from "@web/core/registry";

// steps that wait on the server (and on the Exchange server behind it) get a longer, bounded wait
const SERVER_WAIT = 30000;
// logged to have the page captured at that step (tests/test_ui.py: CalendarUiCase.start_tour)
const SCREENSHOT_SIGNAL = "webcrm_calendar_sync: screenshot";

function openNewExchangeAccount() {
    return [
        {
            content: "A user without a synced calendar chooses Exchange",
            trigger: ".o_calendar_sync_subscribe[data-provider=exchange]",
            timeout: SERVER_WAIT,
            run: "click",
        },
        {
            content: "A new Exchange account, with the user's e-mail",
            trigger: ".o_form_view .o_field_widget[name=provider] input[data-value=exchange]:checked",
            timeout: SERVER_WAIT,
        },
        {
            trigger: ".o_form_view .o_field_widget[name=email] input:value(dora@example.com)",
        },
    ];
}

/**
 * "Save and subscribe" refused twice - an EWS address of the wrong form, then a wrong
 * password: each time the error is shown in a dialog and the form stays a new, unsaved record.
 */
registry.category("web_tour.tours").add("webcrm_calendar_sync_exchange_errors_tour", {
    steps: () => {
        let goodUrl = "";
        const stillNew = {
            content: "Nothing was saved: still a new record, with the values typed",
            trigger: "body:not(:has(.modal)) .o_form_view .o_form_dirty .o_field_widget[name=email] input",
            run() {
                if (!window.location.pathname.endsWith("/new")) {
                    throw new Error(`The refused account was saved: ${window.location.pathname}`);
                }
            },
        };
        return [
            ...openNewExchangeAccount(),
            {
                content: "An address that is not an EWS endpoint",
                trigger: ".o_form_view .o_field_widget[name=ews_url] input",
                async run(helpers) {
                    goodUrl = this.anchor.value;
                    if (!goodUrl.endsWith("/EWS/Exchange.asmx")) {
                        throw new Error(`The company's EWS address was not filled in: '${goodUrl}'`);
                    }
                    await helpers.edit(goodUrl.replace("/EWS/Exchange.asmx", "/owa"));
                },
            },
            {
                content: "The password",
                trigger: ".o_form_view .o_field_widget[name=password] input",
                run: "edit dora-pw",
            },
            {
                content: "Save and subscribe",
                trigger: ".o_form_view .o_form_statusbar button[name=action_subscribe]:contains(Save and subscribe)",
                run: "click",
            },
            {
                content: "The dialog says what is wrong with the address",
                trigger: ".modal .o_error_dialog:contains(must end with /EWS/Exchange.asmx)",
                timeout: SERVER_WAIT,
            },
            {
                trigger: ".modal .o_error_dialog .btn-primary",
                run: "click",
            },
            stillNew,
            {
                content: "The right address",
                trigger: ".o_form_view .o_field_widget[name=ews_url] input",
                async run(helpers) {
                    await helpers.edit(goodUrl);
                },
            },
            {
                content: "A wrong password",
                trigger: ".o_form_view .o_field_widget[name=password] input",
                run: "edit not-the-password",
            },
            {
                trigger: ".o_form_view .o_form_statusbar button[name=action_subscribe]:contains(Save and subscribe)",
                run: "click",
            },
            {
                content: "The dialog says the server refused the password",
                trigger: ".modal .o_error_dialog:contains(refused the e-mail address or password of dora@example.com)",
                timeout: SERVER_WAIT,
                run() {
                    console.log(SCREENSHOT_SIGNAL); // the README's picture of this step
                },
            },
            {
                trigger: "body[data-webcrm-screenshot=taken]",
                timeout: SERVER_WAIT,
            },
            {
                trigger: ".modal .o_error_dialog .btn-primary",
                run: "click",
            },
            stillNew,
            {
                content: "Discard the form",
                trigger: ".o_form_view .o_form_button_cancel",
                run: "click",
            },
            {
                content: "Back to the calendar",
                trigger: ".o_calendar_container .o_calendar_sync_invite",
                timeout: SERVER_WAIT,
            },
        ];
    },
});

/** "Save and subscribe" with the right password: subscribed, and the record saved. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_exchange_subscribe_tour", {
    steps: () => [
        ...openNewExchangeAccount(),
        {
            content: "The company's EWS address is filled in",
            trigger: ".o_form_view .o_field_widget[name=ews_url] input:value(EWS/Exchange.asmx)",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=password] input",
            run: "edit dora-pw",
        },
        {
            trigger: ".o_form_view .o_form_statusbar button[name=action_subscribe]:contains(Save and subscribe)",
            run: "click",
        },
        {
            content: "Subscribed, the first sync queued",
            trigger: ".o_notification:contains(Your meetings are being copied in the background)",
            timeout: SERVER_WAIT,
        },
        {
            content: "The account is saved and subscribed",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current:contains(Subscribed)",
            timeout: SERVER_WAIT,
        },
        {
            content: "The form says the meetings are being copied (no Synchronise to press)",
            trigger: ".o_form_view .alert-info:contains(Your meetings are being copied in the background)",
        },
        {
            trigger: ".o_form_view .o_form_saved",
            run() {
                if (window.location.pathname.endsWith("/new")) {
                    throw new Error("The subscribed account is not shown as a saved record");
                }
            },
        },
    ],
});
