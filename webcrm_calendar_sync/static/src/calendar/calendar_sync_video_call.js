/** @odoo-module **/

import { Component, xml } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

/**
 * "Add video call" from the organiser's calendar (Google Meet, Teams meeting). Like Odoo's own
 * "Odoo meeting" button, it works in the form without saving: it sets ``synced_video_call``, and the
 * organiser's calendar is asked for the online meeting when the meeting is saved (after commit,
 * through the outbox); the link then appears in the video call field.
 */
export class CalendarSyncVideoCallButton extends Component {
    static template = xml`
        <button type="button" class="btn btn-link ps-0 o_calendar_sync_video_call" t-on-click="onClick">
            <span class="fa fa-plus"/><span t-esc="' ' + props.string"/>
        </button>`;
    static props = {
        ...standardWidgetProps,
        string: { type: String },
    };

    async onClick() {
        await this.props.record.update({ synced_video_call: true });
    }
}

registry.category("view_widgets").add("calendar_sync_video_call_button", {
    component: CalendarSyncVideoCallButton,
    extractProps: ({ attrs }) => ({ string: attrs.string }),
});
