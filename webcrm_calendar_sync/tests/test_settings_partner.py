from datetime import datetime

from .common import UTC, CalendarSyncCase


class TestSettingsAndPartner(CalendarSyncCase):
    def _visible_menus(self, user):
        return self.env["ir.ui.menu"].with_user(user)._visible_menu_ids()

    def test_switch_hides_and_shows_menu(self):
        menu = self.env.ref("webcrm_calendar_sync.menu_calendar_sync_accounts")
        self.env.registry.clear_cache()
        self.assertIn(menu.id, self._visible_menus(self.alice))
        self.assertTrue(self.env["calendar.sync.account"]._sync_enabled())
        self.env["res.config.settings"].create({"group_calendar_sync": False}).execute()
        self.env.registry.clear_cache()
        self.assertFalse(self.env["calendar.sync.account"]._sync_enabled())
        self.assertNotIn(menu.id, self._visible_menus(self.alice))
        self.env["res.config.settings"].create({"group_calendar_sync": True}).execute()
        self.env.registry.clear_cache()
        self.assertIn(menu.id, self._visible_menus(self.alice))

    def test_switch_off_stops_the_scheduled_sync(self):
        account = self.make_account(self.alice)
        self.env["res.config.settings"].create({"group_calendar_sync": False}).execute()
        with self.memory_providers():
            self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(self.providers, [])
        self.assertFalse(account.last_sync_date)

    def test_settings_keep_provider_endpoints(self):
        settings = self.env["res.config.settings"].create(
            {
                "calendar_sync_google_api_endpoint": "http://127.0.0.1:1234/",
                "calendar_sync_microsoft_tenant": "contoso.onmicrosoft.com",
            }
        )
        settings.execute()
        param = self.env["ir.config_parameter"].sudo().get_param
        self.assertEqual(param("webcrm_calendar_sync.google_api_endpoint"), "http://127.0.0.1:1234/")
        self.assertEqual(param("webcrm_calendar_sync.microsoft_tenant"), "contoso.onmicrosoft.com")

    def test_partner_smart_button_counts_person_and_company(self):
        company = self.env["res.partner"].create({"name": "Acme", "is_company": True})
        ann = self.env["res.partner"].create({"name": "Ann", "email": "ann@acme.test", "parent_id": company.id})
        ben = self.env["res.partner"].create({"name": "Ben", "email": "ben@acme.test", "parent_id": company.id})
        account = self.make_account(self.alice)
        cal = self.calendars[account.id]
        start = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
        cal.put(
            self.remote(
                "With Ann", start, attendees=[self.attendee("ann@acme.test"), self.attendee("alice@example.com")]
            )
        )
        cal.put(self.remote("With Ben", start, attendees=[self.attendee("ben@acme.test")]))
        cal.put(
            self.remote("With both", start, attendees=[self.attendee("ann@acme.test"), self.attendee("ben@acme.test")])
        )
        # a meeting made only in Odoo is not a synced one
        self.env["calendar.event"].create(
            {
                "name": "Local",
                "start": "2026-12-05 10:00:00",
                "stop": "2026-12-05 11:00:00",
                "partner_ids": [(4, ann.id)],
            }
        )
        with self.memory_providers(), self.freeze_window():
            account._sync()
        self.assertEqual(ann.synced_meeting_count, 2)
        self.assertEqual(ben.synced_meeting_count, 2)
        self.assertEqual(company.synced_meeting_count, 3)

        # a list of partners is counted with as many queries as one partner
        def queries(partners):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            counts = partners.mapped("synced_meeting_count")
            return counts, self.env.cr.sql_log_count - before

        one, one_queries = queries(company)
        three, three_queries = queries(company | ann | ben)
        self.assertEqual((one, three), ([3], [3, 2, 2]))
        self.assertLessEqual(three_queries, one_queries)
        action = company.action_view_synced_meetings()
        self.assertEqual(self.env["calendar.event"].search_count(action["domain"]), 3)
