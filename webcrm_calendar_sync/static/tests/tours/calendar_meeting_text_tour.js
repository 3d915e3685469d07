/** @odoo-module **/

import { registry } from "@web/core/registry";

const SCREENSHOT_SIGNAL = "webcrm_calendar_sync: screenshot";

/** For the README's pictures: the form scrolled to the text template, its warning and the description. */
function showTextTemplate() {
    document.querySelector(".o_form_view .o_field_widget[name=user_id]").scrollIntoView({ block: "start" });
}

/**
 * N8: a meeting text template chosen on the form is merged into the description at once (the
 * editable preview), edited by hand, then sent; the test checks what was stored and written.
 */
registry.category("web_tour.tours").add("webcrm_calendar_sync_meeting_text_tour", {
    steps: () => [
        {
            trigger: ".o-calendar-button-new",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: "edit Quarterly review",
        },
        {
            content: "Invite Ann (of Acme AB)",
            trigger: ".o_form_view .o_field_widget[name=partner_ids] input",
            run: "edit Ann",
        },
        {
            trigger: ".ui-autocomplete .dropdown-item:contains(Ann Andersson)",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=partner_ids] .o_tag:contains(Ann Andersson)",
        },
        {
            content: "Look for templates about meetings (Odoo's calendar e-mails have 'Meeting' in their names too)",
            trigger: ".o_form_view .o_field_widget[name=text_template_id] input",
            run: "edit meeting",
        },
        {
            content: "Meeting texts are offered: this addon's and one a user added",
            trigger:
                ".o_field_widget[name=text_template_id] .ui-autocomplete:contains(Synced meeting: invitation text):contains(Partner meeting text)",
        },
        {
            content: "Odoo's e-mail layouts and the overview e-mail are not",
            trigger:
                ".o_field_widget[name=text_template_id] .ui-autocomplete:not(:contains(Calendar:)):not(:contains(Synced meeting: overview))",
        },
        {
            trigger: ".o_field_widget[name=text_template_id] .dropdown-item:contains(Synced meeting: invitation text)",
            run: "click",
        },
        {
            content: "The merged text shows in the description, before anything is saved",
            trigger:
                ".o_field_widget[name=description] .odoo-editor-editable:contains(You are invited to Quarterly review):contains(Acme AB):contains(Ann Andersson)",
            timeout: 30000, // a server round trip on a loaded machine
        },
        {
            content: "Edit template works in the form: the meeting is not saved",
            trigger: ".o_form_view .o_calendar_sync_text_button[data-action=edit]:contains(Edit template)",
            run: "click",
        },
        {
            trigger: "body:has(.o_form_editable):not(:has(.o_calendar_sync_text_stale)) .o_form_status_indicator .o_form_button_save:visible",
        },
        {
            content: "No raw placeholder in the preview",
            trigger: ".o_field_widget[name=description] .odoo-editor-editable:not(:contains(object.)):not(:contains({{))",
        },
        {
            content: "Edit the greeting by hand",
            trigger: ".o_field_widget[name=description] .odoo-editor-editable p:contains(Hello)",
            run: "editor Hi Ann, here is the plan:",
        },
        {
            trigger: ".o_field_widget[name=description] .odoo-editor-editable:contains(Hi Ann, here is the plan:)",
        },
        {
            content: "Save and send invitation",
            trigger: ".o_form_view button[name=action_save_and_send_invitation]",
            run: "click",
        },
        {
            content: "It says from which calendar, to one attendee (singular)",
            trigger: ".o_notification:contains(from Alice's Google Calendar to 1 attendee):not(:contains(1 attendees))",
            timeout: 30000, // a server round trip on a loaded machine
        },
        {
            content: "The meeting is saved, with nothing left unsaved in the form",
            trigger: "body:not(:has(.o_form_dirty)) .o_breadcrumb:contains(Quarterly review)",
            timeout: 30000, // a server round trip on a loaded machine
        },
    ],
});

/**
 * Issue 23: the merged text follows the meeting until the user edits it; then the user is told it
 * no longer matches and chooses. Nothing is saved before "Save and send invitation".
 */
registry.category("web_tour.tours").add("webcrm_calendar_sync_live_text_tour", {
    steps: () => [
        {
            trigger: ".o-calendar-button-new",
            run: "click",
        },
        {
            content: "The template first (the form's default time, no subject yet)",
            trigger: ".o_form_view .o_field_widget[name=text_template_id] input",
            run: "edit invitation",
        },
        {
            trigger: ".o_field_widget[name=text_template_id] .dropdown-item:contains(Synced meeting: invitation text)",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=description] .odoo-editor-editable:contains(You are invited to a meeting)",
            timeout: 30000, // a server round trip on a loaded machine
        },
        {
            content: "Invite Ann (of Acme AB)",
            trigger: ".o_form_view .o_field_widget[name=partner_ids] input",
            run: "edit Ann",
        },
        {
            trigger: ".ui-autocomplete .dropdown-item:contains(Ann Andersson)",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=name] input",
            run: "edit Quarterly review with Acme AB",
        },
        {
            content: "Two hours instead of one",
            trigger: ".o_form_view .o_field_widget[name=duration] input",
            run: "edit 02:00 && click .o_form_view .o_field_widget[name=name] input",
        },
        {
            content: "A free slot of Find a time: 10:00 on the first day that has it (two hours still)",
            trigger: ".o_calendar_sync_busy_times:not(:has(.fa-spin)) .o_calendar_sync_slot[data-time='10:00']:enabled",
            run: "click",
        },
        {
            content: "The text follows: the subject, Ann, the slot's time (the test checks the end), no 'with Acme AB' twice",
            trigger:
                ".o_field_widget[name=description] .odoo-editor-editable:contains(You are invited to Quarterly review with Acme AB.):contains(Hello Ann Andersson,):contains(10:00 AM)",
            timeout: 30000,
        },
        {
            trigger: "body:not(:has(.o_calendar_sync_text_stale))",
            run() {
                showTextTemplate();
                console.log(SCREENSHOT_SIGNAL); // the README's picture of the live text
            },
        },
        {
            trigger: "body[data-webcrm-screenshot=taken]",
            run() {
                delete document.body.dataset.webcrmScreenshot; // the next picture waits for its own
            },
        },
        {
            content: "Edit the greeting by hand",
            trigger: ".o_field_widget[name=description] .odoo-editor-editable p:contains(Hello)",
            run: "editor Hi Ann, here is the plan:",
        },
        {
            content: "Leave the description: its edit is taken, as when the user clicks elsewhere",
            trigger: ".o_field_widget[name=description] .odoo-editor-editable:contains(Hi Ann, here is the plan:)",
            run() {
                // headless Chromium's page has no focus, so leaving the editor dispatches no blur
                this.anchor.dispatchEvent(new FocusEvent("blur"));
            },
        },
        {
            content: "The meeting changes: an hour and a half",
            trigger: ".o_form_view .o_field_widget[name=duration] input",
            run: "edit 01:30 && click .o_form_view .o_field_widget[name=name] input",
        },
        {
            content: "The hand-made text is kept, and the user is told it no longer matches",
            trigger: ".o_calendar_sync_text_stale:contains(no longer matches the meeting) .o_calendar_sync_text_button[data-action=merge]:contains(Merge again)",
            timeout: 30000,
        },
        {
            trigger: ".o_field_widget[name=description] .odoo-editor-editable:contains(Hi Ann, here is the plan:)",
            run() {
                showTextTemplate();
                console.log(SCREENSHOT_SIGNAL); // the README's picture of the warning
            },
        },
        {
            trigger: "body[data-webcrm-screenshot=taken]",
        },
        {
            content: "Nothing was saved: the meeting is still new",
            trigger: ".o_form_status_indicator .o_form_button_save:visible",
        },
        {
            content: "Merge again",
            trigger: ".o_calendar_sync_text_stale .o_calendar_sync_text_button[data-action=merge]",
            run: "click",
        },
        {
            trigger:
                "body:not(:has(.o_calendar_sync_text_stale)) .o_field_widget[name=description] .odoo-editor-editable:contains(Hello Ann Andersson,):not(:contains(Hi Ann))",
            timeout: 30000,
        },
        {
            content: "Save and send invitation",
            trigger: ".o_form_view button[name=action_save_and_send_invitation]",
            run: "click",
        },
        {
            trigger: ".o_notification:contains(to 1 attendee)",
            timeout: 30000,
        },
        {
            trigger: "body:not(:has(.o_form_dirty)) .o_breadcrumb:contains(Quarterly review)",
            timeout: 30000,
        },
    ],
});

/** N9 in the calendar's quick-create dialog (a click on a time), for a subscribed organiser. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_quick_create_send_tour", {
    steps: () => [
        {
            content: "Click a time in the calendar",
            trigger: ".o_calendar_renderer .fc-timegrid-slot-lane[data-time='10:00:00']",
            run: "click",
        },
        {
            content: "The quick-create dialog offers Save and send invitation",
            trigger: ".modal .o_form_view button[name=action_save_and_send_invitation]",
            timeout: 30000, // a server round trip on a loaded machine
        },
        {
            trigger: ".modal .o_form_view .o_field_widget[name=name] input",
            run: "edit Steering group",
        },
        ...["Bob", "Carol", "Ann Andersson"].flatMap((name) => [
            {
                content: `Invite ${name}`,
                trigger: ".modal .o_field_widget[name=partner_ids] input",
                run: `edit ${name}`,
            },
            {
                trigger: `.ui-autocomplete .dropdown-item:contains(${name})`,
                run: "click",
            },
            {
                trigger: `.modal .o_field_widget[name=partner_ids] :contains(${name})`,
            },
        ]),
        {
            content: "Save and send invitation",
            trigger: ".modal .o_form_view button[name=action_save_and_send_invitation]",
            run: "click",
        },
        {
            content: "It says what it did: from which calendar, to how many attendees",
            trigger: ".o_notification:contains(from Alice's Google Calendar to 3 attendees)",
            timeout: 30000, // a server round trip on a loaded machine
        },
        {
            content: "The dialog closed and the meeting is in the calendar",
            trigger: "body:not(:has(.modal .o_form_view)) .o_calendar_renderer .fc-event:contains(Steering group)",
            timeout: 30000, // a server round trip on a loaded machine
        },
    ],
});

/** Without a synced calendar the quick-create dialog does not offer it (Odoo's own invitations). */
registry.category("web_tour.tours").add("webcrm_calendar_sync_quick_create_no_send_tour", {
    steps: () => [
        {
            trigger: ".o_calendar_renderer .fc-timegrid-slot-lane[data-time='10:00:00']",
            run: "click",
        },
        {
            trigger: ".modal .o_form_view .o_field_widget[name=name] input",
            run: "edit Coffee",
        },
        {
            content: "Not offered",
            trigger: ".modal .o_form_view:not(:has(button[name=action_save_and_send_invitation]))",
        },
        {
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            trigger: "body:not(:has(.modal .o_form_view)) .o_calendar_renderer .fc-event:contains(Coffee)",
        },
    ],
});
