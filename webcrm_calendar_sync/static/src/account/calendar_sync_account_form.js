/** @odoo-module **/

import { registry } from "@web/core/registry";
import { formView } from "@web/views/form/form_view";
import { FormController } from "@web/views/form/form_controller";

/**
 * The synced-calendar account form. For an Exchange server, "Save and subscribe" does not
 * save the record first (Odoo's usual button flow), which would leave a new account with a
 * refused password behind: the form's values go to ``subscribe_exchange``, which saves and
 * checks them in one transaction. When the server refuses, the error is shown in a dialog and
 * nothing was saved; the form keeps what the user typed, to correct it.
 */
export class CalendarSyncAccountFormController extends FormController {
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
