/** @odoo-module **/

import { onMounted, onWillUnmount } from "@odoo/owl";
import { registry } from "@web/core/registry";
import { formView } from "@web/views/form/form_view";
import { FormController } from "@web/views/form/form_controller";
import { SYNC_POLL_DELAY } from "../calendar/calendar_sync_status";

/** What the form shows of a sync running in the background: a change reloads the form. */
const FOLLOWED_FIELDS = ["full_sync_running", "sync_progress_text", "state", "last_error"];

/**
 * The synced-calendar account form. For an Exchange server, "Save and subscribe" does not
 * save the record first (Odoo's usual button flow), which would leave a new account with a
 * refused password behind: the form's values go to ``subscribe_exchange``, which saves and
 * checks them in one transaction. When the server refuses, the error is shown in a dialog and
 * nothing was saved; the form keeps what the user typed, to correct it.
 *
 * While the calendar is read in the background (a first sync, a full resync), the form follows
 * it as the calendar's mark does: it asks the server every few seconds and reloads the record
 * when the sync moved on (its progress, its end, an error), unless the user is editing it.
 */
export class CalendarSyncAccountFormController extends FormController {
    setup() {
        super.setup();
        onMounted(() => this.followSync());
        onWillUnmount(() => {
            this.followGone = true;
            clearTimeout(this.followTimer);
        });
    }

    followSync() {
        clearTimeout(this.followTimer);
        if (!this.followGone) {
            this.followTimer = setTimeout(() => this.checkSync(), SYNC_POLL_DELAY);
        }
    }

    async checkSync() {
        const record = this.model.root;
        try {
            if (record.resId && record.data.full_sync_running && !record.dirty) {
                const [row] = await this.orm.silent.read("calendar.sync.account", [record.resId], FOLLOWED_FIELDS);
                const moved = row && FOLLOWED_FIELDS.some((name) => (row[name] || false) !== (record.data[name] || false));
                if (moved && !this.followGone && this.model.root === record && !record.dirty) {
                    await record.load();
                }
            }
        } catch {
            // the server did not answer this time: ask again at the next turn
        }
        this.followSync();
    }
    async beforeExecuteActionButton(clickParams) {
        const record = this.model.root;
        if (
            clickParams.type === "object" &&
            clickParams.name === "action_subscribe" &&
            record.data.provider === "exchange"
        ) {
            await this.subscribeExchange(record);
            return false;
        }
        return super.beforeExecuteActionButton(...arguments);
    }

    async subscribeExchange(record) {
        if (!(await record.checkValidity({ displayNotification: true }))) {
            return;
        }
        // the form's unsaved values, as a save would send them
        const values = record._getChanges();
        // raises (and the error dialog shows) when the server refuses: nothing is saved then
        const result = await this.orm.call(
            "calendar.sync.account",
            "subscribe_exchange",
            [record.resId || false, values],
            { context: record.context }
        );
        await this.model.load({ resId: result.id });
        if (result.action) {
            await this.env.services.action.doAction(result.action);
        }
    }
}

registry.category("views").add("calendar_sync_account_form", {
    ...formView,
    Controller: CalendarSyncAccountFormController,
});
