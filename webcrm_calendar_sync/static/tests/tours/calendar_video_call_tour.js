/** @odoo-module **/

import { registry } from "@web/core/registry";

const SCREENSHOT_SIGNAL = "webcrm_calendar_sync: screenshot";

/** "Add video call" on a meeting whose organiser's calendar is Google (issue 23). */
registry.category("web_tour.tours").add("webcrm_calendar_sync_video_call_tour", {
    steps: () => [
        {
            content: "The meeting's form offers a Google Meet from the organiser's calendar",
            trigger: ".o_form_view div[name=videocall_location_div] .o_calendar_sync_video_call:contains(Google Meet)",
            run: "click",
        },
        {
            content: "Nothing saved yet: the form says when the link comes",
            trigger: ".o_form_view .o_calendar_sync_video_call_note:contains(Google makes the Meet link once the meeting is saved)",
        },
        {
            trigger: ".o_form_view .o_form_status_indicator_dirty, .o_form_view .o_form_button_save",
        },
        {
            content: "Save",
            trigger: ".o_form_view .o_form_button_save",
            run: "click",
        },
        {
            trigger: ".o_form_view .o_form_saved",
        },
        {
            content: "The button is gone (asked once)",
            trigger: ".o_form_view div[name=videocall_location_div]:not(:has(.o_calendar_sync_video_call))",
        },
    ],
});

/** The meeting once Google answered: its Meet link in the video call field and in the text. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_video_call_link_tour", {
    steps: () => [
        {
            content: "The video call field holds the Meet link Google made",
            trigger: ".o_form_view .o_field_widget[name=videocall_location] input",
            run() {
                const value = document.querySelector(
                    ".o_form_view .o_field_widget[name=videocall_location] input"
                ).value;
                if (!value.startsWith("https://meet.google.com/")) {
                    throw new Error(`no Meet link in the video call field: ${value}`);
                }
            },
        },
        {
            content: "The meeting text shows it too",
            trigger: ".o_form_view .o_field_widget[name=description]:contains(https://meet.google.com/)",
            run() {
                console.log(SCREENSHOT_SIGNAL); // the README's picture of this step
            },
        },
        {
            trigger: "body[data-webcrm-screenshot=taken]",
        },
    ],
});

/** "Add video call" in the calendar's quick-create dialog: a Google Meet asked for as the meeting is booked. */
registry.category("web_tour.tours").add("webcrm_calendar_sync_video_call_quick_create_tour", {
    steps: () => [
        {
            content: "Click a time in the calendar",
            trigger: ".o_calendar_renderer .fc-timegrid-slot-lane[data-time='10:00:00']",
            run: "click",
        },
        {
            trigger: ".modal .o_form_view .o_field_widget[name=name] input",
            timeout: 30000, // a server round trip on a loaded machine
            run: "edit Kick-off with Meet",
        },
        {
            content: "The dialog offers a Google Meet from the organiser's calendar",
            trigger: ".modal .o_form_view .o_calendar_sync_video_call:contains(Google Meet)",
            run: "click",
        },
        {
            content: "Nothing saved yet: the dialog says when the link comes",
            trigger: ".modal .o_calendar_sync_video_call_note:contains(Google makes the Meet link once the meeting is saved)",
        },
        {
            content: "Save",
            trigger: ".modal .o_form_button_save",
            run: "click",
        },
        {
            content: "The meeting is in the calendar",
            trigger: ".o_calendar_renderer .fc-event:contains(Kick-off with Meet)",
            timeout: 30000,
        },
    ],
});
