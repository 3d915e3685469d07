/** @odoo-module **/

import { Component } from "@odoo/owl";

/**
 * The side panel's "Synced colleagues" section (C7): colleagues whose calendar is synced.
 * Choosing one adds (or switches on) Odoo's own attendee filter for them, so the calendar
 * shows their meetings as Odoo shows any attendee's (private ones as "Busy").
 */
export class CalendarSyncColleagues extends Component {
    static template = "webcrm_calendar_sync.CalendarSyncColleagues";
    static props = { model: Object, colleagues: Array };

    attendeeFilter(partnerId) {
        const section = this.props.model.data.filterSections.partner_ids;
        return section?.filters.find((f) => f.type !== "all" && f.value === partnerId);
    }

    get items() {
        return this.props.colleagues.map((colleague) => {
            const filter = this.attendeeFilter(colleague.partner_id);
            return { ...colleague, active: Boolean(filter && filter.active) };
        });
    }

    async toggle(colleague) {
        const filter = this.attendeeFilter(colleague.partner_id);
        if (filter) {
            await this.props.model.updateFilters("partner_ids", {
                [colleague.partner_id]: !filter.active,
            });
        } else {
            await this.props.model.createFilter("partner_ids", colleague.partner_id);
        }
    }
}
