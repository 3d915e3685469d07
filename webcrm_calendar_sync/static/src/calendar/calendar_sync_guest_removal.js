/** @odoo-module **/

import { _t } from "@web/core/l10n/translation";
import { ConfirmationDialog } from "@web/core/confirmation_dialog/confirmation_dialog";
import { patch } from "@web/core/utils/patch";
import { AttendeeCalendarController } from "@calendar/views/attendee_calendar/attendee_calendar_controller";
import { CalendarFormController } from "@calendar/views/calendar_form/calendar_form_controller";

/**
 * Deleting a synced meeting asks first, in words, which of the two is about to happen: the
 * organiser cancels it for every attendee (their calendar sends the cancellations), a guest
 * declines it for themself only (their calendar tells the organiser). The server decides and
 * words it (calendar.event.calendar_sync_removal_question); false: Odoo's own question fits.
 */
function askRemoval(orm, resId) {
    if (!resId) {
        return Promise.resolve(false);
    }
    return orm.call("calendar.event", "calendar_sync_removal_question", [[resId]]);
}

function questionProps(question, confirm) {
    if (!question.confirm) {
        // refused: said in words, nothing to confirm
        return { title: question.title, body: question.body, confirmLabel: _t("Close"), confirm: () => {} };
    }
    return {
        title: question.title,
        body: question.body,
        confirmLabel: question.confirm,
        confirm,
        cancelLabel: _t("Keep it"),
        cancel: () => {},
    };
}

patch(AttendeeCalendarController.prototype, {
    async deleteRecord(record) {
        // a recurring meeting keeps Odoo's own choice of which occurrences
        const question = record.rawRecord.recurrency ? false : await askRemoval(this.orm, record.id);
        if (!question) {
            return super.deleteRecord(...arguments);
        }
        // a guest's delete is a decline on the server too: the same call either way
        this.displayDialog(
            ConfirmationDialog,
            questionProps(question, () => this.model.unlinkRecord(record.id))
        );
    },
});

patch(CalendarFormController.prototype, {
    async deleteRecord() {
        const question = await askRemoval(this.orm, this.model.root.resId);
        if (!question) {
            return super.deleteRecord(...arguments);
        }
        const odoo = this.deleteConfirmationDialogProps;
        const confirm =
            question.kind === "decline"
                ? async () => {
                      // the meeting stays (declined): show it as it is now
                      await this.orm.unlink("calendar.event", [this.model.root.resId]);
                      await this.model.root.load();
                  }
                : odoo.confirm;
        this.dialogService.add(ConfirmationDialog, questionProps(question, confirm));
    },
});
