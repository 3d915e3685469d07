/** @odoo-module **/

import { Component, onMounted, onWillUnmount, useState } from "@odoo/owl";
import { _t } from "@web/core/l10n/translation";
import { deserializeDateTime } from "@web/core/l10n/dates";
import { useService } from "@web/core/utils/hooks";

const { DateTime } = luxon;

/** How often the mark asks the server again while a sync is queued or running (ms). */
export const SYNC_POLL_DELAY = 2000;

/**
 * The synced calendar's mark in the calendar's header (C1-C3): "Synced 3 min ago",
 * "Syncing…" or the account's error with a link to it, and a refresh button.
 * On mount it asks the server to queue a sync when the last one is too old; while a
 * sync is queued or running it polls, and calls ``onNewData`` when a sync finished.
 */
export class CalendarSyncStatus extends Component {
    static template = "webcrm_calendar_sync.CalendarSyncStatus";
    static props = {
        onNewData: { type: Function, optional: true },
        onStatus: { type: Function, optional: true },
    };

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.state = useState({ status: null, now: DateTime.now() });
        onMounted(() => {
            this.fetch("auto");
            this.clock = setInterval(() => (this.state.now = DateTime.now()), 15000);
        });
        onWillUnmount(() => {
            this.gone = true;
            clearTimeout(this.timer);
            clearInterval(this.clock);
        });
    }

    async fetch(refresh = false) {
        clearTimeout(this.timer);
        let status;
        try {
            status = await this.orm.silent.call("calendar.sync.account", "get_sync_status", [], {
                refresh,
            });
        } catch {
            status = null;
        }
        if (this.gone) {
            return;
        }
        const before = this.state.status;
        this.state.status = status;
        this.state.now = DateTime.now();
        this.props.onStatus?.(status);
        if (!status || !status.enabled) {
            return;
        }
        if (before && before.enabled && this.syncKey(before) !== this.syncKey(status)) {
            await this.props.onNewData?.();
        }
        if (status.syncing) {
            this.timer = setTimeout(() => this.fetch(false), SYNC_POLL_DELAY);
        }
    }

    /** Changes when any of the user's calendars finished a sync. */
    syncKey(status) {
        return (status.accounts || []).map((a) => `${a.id}:${a.last_sync}`).join(",");
    }

    get status() {
        return this.state.status;
    }

    get errorAccount() {
        return (this.status?.accounts || []).find((a) => a.error);
    }

    get syncedText() {
        const last = this.status?.last_sync;
        if (!last) {
            return _t("Not synced yet");
        }
        const when = deserializeDateTime(last);
        if (this.state.now.diff(when, "seconds").seconds < 60) {
            return _t("Synced just now");
        }
        return _t("Synced %s", when.toRelative({ base: this.state.now, style: "short" }));
    }

    get syncedTitle() {
        const last = this.status?.last_sync;
        const names = (this.status?.accounts || []).map((a) => a.provider_name).join(", ");
        if (!last) {
            return names;
        }
        return _t("%(calendars)s, last synced %(date)s", {
            calendars: names,
            date: deserializeDateTime(last).toLocaleString(DateTime.DATETIME_MED),
        });
    }

    async onRefresh() {
        await this.fetch("now");
    }

    openAccount(accountId) {
        this.action.doAction({
            type: "ir.actions.act_window",
            res_model: "calendar.sync.account",
            res_id: accountId,
            views: [[false, "form"]],
            target: "current",
        });
    }

    openNewAccount(provider) {
        this.action.doAction({
            type: "ir.actions.act_window",
            name: _t("Synced calendar"),
            res_model: "calendar.sync.account",
            views: [[false, "form"]],
            target: "current",
            context: { default_provider: provider, default_email: this.status.user_email },
        });
    }
}
