"""get_sync_status: what the calendar's mark shows, and the sync it queues (never runs)."""

from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import new_test_user

from .common import CalendarSyncCase


class TestSyncStatus(CalendarSyncCase):
    def setUp(self):
        super().setUp()
        self.Account = self.env["calendar.sync.account"]
        self.cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync_requested")
        self.env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.refresh_threshold", "60")

    def status(self, user, refresh=False):
        return self.Account.with_user(user).get_sync_status(refresh=refresh)

    def triggers(self):
        return self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", self.cron.id)])

    def test_page_load_queues_a_sync_only_when_the_last_is_old(self):
        account = self.make_account(self.alice)
        account.last_sync_date = fields.Datetime.now() - timedelta(seconds=20)
        with self.memory_providers():
            status = self.status(self.alice, "auto")
            self.assertFalse(account.sync_requested_date, "synced 20 s ago: nothing queued")
            self.assertFalse(status["syncing"])
            self.assertEqual(self.triggers(), 0)

            account.last_sync_date = fields.Datetime.now() - timedelta(minutes=5)
            status = self.status(self.alice, "auto")
            self.assertTrue(account.sync_requested_date)
            self.assertTrue(status["syncing"])
            self.assertEqual(self.triggers(), 1, "the sync cron is woken")
            self.assertEqual(self.providers, [], "nothing is synced inside the page's request")

            requested = account.sync_requested_date
            self.status(self.alice, "auto")  # another tab, a reload
            self.assertEqual(account.sync_requested_date, requested, "the request is kept, not duplicated")

    def test_threshold_comes_from_settings(self):
        self.env["res.config.settings"].create({"calendar_sync_refresh_threshold": 600}).execute()
        account = self.make_account(self.alice)
        account.last_sync_date = fields.Datetime.now() - timedelta(minutes=5)
        self.status(self.alice, "auto")
        self.assertFalse(account.sync_requested_date, "5 min is under the 10 min threshold")
        self.status(self.alice, "now")
        self.assertTrue(account.sync_requested_date, "the refresh button queues whatever the age")

    def test_paused_draft_and_revoked_accounts_are_not_queued(self):
        paused = self.make_account(self.alice, state="paused")
        draft = self.make_account(self.alice, provider="microsoft", state="draft")
        revoked = self.make_account(self.alice, provider="exchange", state="error")
        revoked.write({"needs_reauth": True, "last_error": "Access to the calendar was revoked."})
        status = self.status(self.alice, "now")
        self.assertFalse((paused | draft | revoked).filtered("sync_requested_date"))
        self.assertEqual([a["id"] for a in status["accounts"]], [revoked.id])
        self.assertEqual(status["accounts"][0]["error"], "Access to the calendar was revoked.")
        self.assertTrue(status["has_draft"])

    def test_only_own_accounts_and_only_internal_users_with_the_feature(self):
        mine = self.make_account(self.alice)
        theirs = self.make_account(self.bob)
        theirs.write({"last_sync_date": fields.Datetime.now() - timedelta(hours=1)})
        status = self.status(self.alice, "now")
        self.assertEqual([a["id"] for a in status["accounts"]], [mine.id])
        self.assertFalse(theirs.sync_requested_date, "a colleague's calendar is never queued by someone else")
        portal = new_test_user(self.env, "pat", groups="base.group_portal", email="pat@example.com")
        self.assertEqual(self.status(portal, "now"), {"enabled": False})
        self.env["res.config.settings"].create({"group_calendar_sync": False}).execute()
        self.assertEqual(self.status(self.alice, "now"), {"enabled": False})

    def test_not_subscribed_user_is_invited(self):
        status = self.status(self.carol, "auto")
        self.assertTrue(status["enabled"])
        self.assertFalse(status["subscribed"])
        self.assertEqual(status["user_email"], "carol@example.com")

    def test_cron_syncs_requested_accounts_oldest_first_and_clears_the_request(self):
        first = self.make_account(self.alice)
        second = self.make_account(self.bob)
        untouched = self.make_account(self.carol)
        now = fields.Datetime.now()
        second.sync_requested_date = now - timedelta(seconds=30)
        first.sync_requested_date = now - timedelta(seconds=10)
        self.calendars[first.id].put(self.remote("Alice's meeting"))
        order = []
        original = type(self.Account)._sync

        def record(account, **kw):
            order.append(account.id)
            return original(account, **kw)

        with self.freeze_window(), self.memory_providers(), patch.object(type(self.Account), "_sync", record):
            self.Account._cron_sync_requested()
        self.assertEqual(order, [second.id, first.id])
        self.assertFalse((first | second).filtered("sync_requested_date"))
        self.assertTrue(
            all(a.next_sync_date and a.next_sync_date > now for a in first | second),
            "the regular scheduled sync does not take them again at once",
        )
        self.assertFalse(untouched.last_sync_date, "an account nobody asked for waits for the regular cron")
        self.assertTrue(self.env["calendar.event"].search([("name", "=", "Alice's meeting")]))
