/** @odoo-module **/

import { Component, useRef, xml } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { standardWidgetProps } from "@web/views/widgets/standard_widget_props";

/**
 * The meeting form's text buttons ("Edit template", "Merge again", "Keep my text"). They work in
 * the form, without saving the meeting: a click sets ``text_template_action``, whose onchange does
 * the work on the server (the template merged for the meeting as the form holds it). A button of
 * type object would save the meeting, and queue it for the organiser's calendar, first.
 */
export class CalendarSyncTextTemplateButton extends Component {
    static template = xml`
        <button type="button" t-ref="button" class="btn o_calendar_sync_text_button" t-att-class="props.btnClass"
                t-att-data-action="props.action" t-on-click="onClick" t-esc="props.string"/>`;
    static props = {
        ...standardWidgetProps,
        action: { type: String },
        string: { type: String },
        btnClass: { type: String, optional: true },
    };

    setup() {
        this.button = useRef("button");
    }

    async onClick() {
        await this.props.record.update({ text_template_action: this.props.action });
        if (this.props.action !== "keep") {
            // the user edits the merged text next
            const form = this.button.el?.closest(".o_form_view");
            form?.querySelector(".o_field_widget[name=description] .odoo-editor-editable")?.focus();
        }
    }
}

registry.category("view_widgets").add("calendar_sync_text_template_button", {
    component: CalendarSyncTextTemplateButton,
    extractProps: ({ attrs }) => ({
        action: attrs.action,
        string: attrs.string,
        btnClass: attrs.btn_class || "",
    }),
});
