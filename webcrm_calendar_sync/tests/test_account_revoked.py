"""A calendar whose access was revoked: 'Retry now' promises nothing for it."""

from datetime import timedelta

from odoo import fields

from ..engine import errors as sync_errors
from .common import CalendarSyncCase


class TestRetryRevoked(CalendarSyncCase):
    def test_retry_now_counts_only_the_calendars_it_will_sync(self):
        working = self.make_account(self.alice)
        revoked = self.make_account(self.bob, state="error")
        later = fields.Datetime.now() + timedelta(minutes=30)
        revoked.write(
            {"needs_reauth": True, "last_error": sync_errors.AuthRevoked.user_message, "next_sync_date": later}
        )
        result = (working | revoked).action_retry_now()
        message = result["params"]["message"]
        self.assertIn("1 calendar will be synchronised within a minute.", message)
        self.assertNotIn("2 calendars", message)
        self.assertIn("1 calendar lost its access: it is synchronised again once its user subscribes it", message)
        self.assertEqual(result["params"]["type"], "warning", "one calendar will not sync: not just information")
        self.assertEqual(revoked.next_sync_date, later, "left alone: the scheduled sync skips it anyway")

    def test_retry_now_on_revoked_calendars_only_says_none_will_sync(self):
        revoked = self.make_account(self.bob, state="error") | self.make_account(self.carol, state="error")
        revoked.write({"needs_reauth": True})
        triggers = self.cron_triggers()
        message = revoked.action_retry_now()["params"]["message"]
        self.assertNotIn("will be synchronised within a minute", message)
        self.assertIn("2 calendars lost their access", message)
        self.assertFalse(self.cron_triggers() - triggers, "nothing to wake the scheduled sync for")
