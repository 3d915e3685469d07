"""The account form: no "Meetings 0" smart button on a new, unsaved account."""

from lxml import etree

from odoo.tools.safe_eval import safe_eval

from .common import CalendarSyncCase


class TestAccountForm(CalendarSyncCase):
    def meetings_button_hidden(self, record_id):
        arch = self.env["calendar.sync.account"].with_user(self.alice).get_view(view_type="form")["arch"]
        [button] = etree.fromstring(arch).xpath("//button[@name='action_view_events']")
        invisible = button.get("invisible")
        if not invisible:
            return False
        return bool(safe_eval(invisible, {"id": record_id, "context": {}}))

    def test_meetings_button_only_once_saved(self):
        self.assertTrue(self.meetings_button_hidden(False))
        account = self.make_account(self.alice)
        self.assertFalse(self.meetings_button_hidden(account.id))
