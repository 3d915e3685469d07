from unittest.mock import patch

from .common import CalendarSyncCase


class TestOAuthState(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.make_account(cls.alice, state="draft")

    def test_state_is_bound_to_session_and_user_and_used_once(self):
        session = {}
        Account = self.env["calendar.sync.account"]
        state = self.account.with_user(self.alice)._oauth_remember(session, {"verifier": "v"})
        # another user presenting alice's state is refused
        with self.assertRaises(ValueError):
            Account.with_user(self.bob)._oauth_pop(dict(session), state)
        # a forged state is refused
        with self.assertRaises(ValueError):
            Account.with_user(self.alice)._oauth_pop(dict(session), "forged")
        flow = Account.with_user(self.alice)._oauth_pop(session, state)
        self.assertEqual(flow["verifier"], "v")
        # replay is refused
        with self.assertRaises(ValueError):
            Account.with_user(self.alice)._oauth_pop(session, state)

    def test_finish_marks_subscribed_and_error_says_what_to_do(self):
        session = {}
        account = self.account.with_user(self.alice)
        state = account._oauth_remember(session, {"verifier": "v"})
        triggers = self.cron_triggers()
        with patch.object(type(account), "_oauth_finish_google", lambda self, flow, params: None, create=True):
            result = account._oauth_finish("google", {"state": state, "code": "c"}, session)
        self.assertEqual(result, self.account)
        # subscribed, and the first sync queued to the scheduled sync (never run in the OAuth request)
        self.assert_first_sync_queued(self.account, triggers)
        self.account.sudo().write({"full_sync_running": False, "next_sync_date": "2999-01-01 00:00:00"})
        triggers = self.cron_triggers()
        state = account._oauth_remember(session, {"verifier": "v"})
        account._oauth_finish("google", {"state": state, "error": "access_denied"}, session)
        self.assertEqual(self.account.state, "error")
        self.assertFalse(self.account.full_sync_running, "a refused grant queues nothing")
        self.assertFalse(self.cron_triggers() - triggers)
        self.assertIn("Subscribe again", self.account.last_error)
        self.assertTrue(self.account.needs_reauth)

    def test_subscribed_again_with_a_sync_state_is_due_at_once(self):
        """Access granted anew (after a revocation) to an account that synced before: no full
        listing, the changes since its sync state are read at the next scheduled run."""
        self.account.sudo().write(
            {"state": "error", "needs_reauth": True, "sync_state": "token-1", "next_sync_date": "2999-01-01 00:00:00"}
        )
        session = {}
        account = self.account.with_user(self.alice)
        state = account._oauth_remember(session, {"verifier": "v"})
        triggers = self.cron_triggers()
        with patch.object(type(account), "_oauth_finish_google", lambda self, flow, params: None, create=True):
            account._oauth_finish("google", {"state": state, "code": "c"}, session)
        self.assertEqual(self.account.state, "subscribed")
        self.assertFalse(self.account.next_sync_date)
        self.assertFalse(self.account.full_sync_running)
        self.assertEqual(self.account.sudo().sync_state, "token-1")
        self.assertTrue(self.cron_triggers() - triggers)

    def test_state_for_another_provider_is_refused(self):
        session = {}
        state = self.account.with_user(self.alice)._oauth_remember(session, {})
        with self.assertRaises(ValueError):
            self.env["calendar.sync.account"].with_user(self.alice)._oauth_finish(
                "microsoft", {"state": state}, session
            )
