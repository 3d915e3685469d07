"""The addon ships Swedish: menus, views and the messages of the Python code translate."""

from odoo.exceptions import UserError

from .common import CalendarSyncCase


class TestSwedish(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("sv_SE")
        cls.env["ir.module.module"].search([("name", "=", "webcrm_calendar_sync")])._update_translations(
            filter_lang=["sv_SE"]
        )

    def test_menu_and_messages_in_swedish(self):
        menu = self.env.ref("webcrm_calendar_sync.menu_calendar_sync_accounts").with_context(lang="sv_SE")
        self.assertEqual(menu.name, "Synkroniserade kalendrar")
        self.env["res.config.settings"].create({"group_calendar_sync": False}).execute()
        Account = self.env["calendar.sync.account"].with_context(lang="sv_SE")
        with self.assertRaisesRegex(UserError, "Den synkroniserade kalendern är avstängd i Inställningar"):
            Account._check_enabled()
