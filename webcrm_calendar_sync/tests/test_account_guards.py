"""Issue 11, points 1 and 2 and the public methods: nobody reaches an account that is not theirs."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from .common import CalendarSyncCase

EWS_URL = "https://mail.example.com/EWS/Exchange.asmx"


class TestAccountOwnership(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(
            cls.env,
            "calmanager",
            email="manager@example.com",
            groups="base.group_user,webcrm_calendar_sync.group_calendar_sync_manager",
        )
        cls.account = cls.make_account(cls.alice)
        cls.account._set_credentials(token_data={"access_token": "TOKEN-A", "refresh_token": "REFRESH-A"})
        cls.account.sudo().sync_state = "sync-token-a"

    def bind_one(self, account):
        event = (
            self.env["calendar.event"]
            .with_context(calendar_sync_from_remote=True)
            .create({"name": "Private board", "start": "2026-12-01 10:00:00", "stop": "2026-12-01 11:00:00"})
        )
        self.env["calendar.sync.binding"].create({"account_id": account.id, "event_id": event.id, "external_id": "x1"})
        return event

    def test_owner_cannot_hand_the_account_to_someone_else(self):
        with self.assertRaises(AccessError):
            self.account.with_user(self.alice).write({"user_id": self.bob.id})
        self.assertEqual(self.account.user_id, self.alice)
        self.assertEqual(self.account._get_credentials()[0]["refresh_token"], "REFRESH-A")

    def test_owner_cannot_move_the_account_to_another_company(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        self.alice.write({"company_ids": [(4, other.id)]})
        with self.assertRaises(AccessError):
            self.account.with_user(self.alice).write({"company_id": other.id})
        self.assertEqual(self.account.company_id, self.env.company)

    def test_rewriting_the_same_owner_is_harmless(self):
        self.account.with_user(self.alice).write({"user_id": self.alice.id, "company_id": self.env.company.id})
        self.assertEqual(self.account.state, "synced")
        self.assertTrue(self.account.has_credentials)

    def test_nobody_creates_an_account_for_someone_else(self):
        Account = self.env["calendar.sync.account"].with_user(self.alice)
        with self.assertRaises(AccessError):
            Account.create({"user_id": self.bob.id, "provider": "google", "email": "bob@example.com"})
        other = self.env["res.company"].create({"name": "Not Alice's"})
        with self.assertRaises(AccessError):
            Account.create({"provider": "google", "email": "x@example.com", "company_id": other.id})
        own = Account.create({"provider": "microsoft", "email": "alice@example.com"})
        self.assertEqual(own.user_id, self.alice)

    def test_an_administrator_moves_an_account_and_it_starts_over(self):
        event = self.bind_one(self.account)
        self.account.with_user(self.manager).write({"user_id": self.bob.id})
        self.assertEqual(self.account.user_id, self.bob)
        self.assertEqual(self.account.state, "draft")
        self.assertFalse(self.account.has_credentials)
        self.assertEqual(self.account._get_credentials(), (None, False))
        self.assertFalse(self.account.sudo().sync_state)
        # the former owner's meetings are no longer tied to it (they stay in Odoo)
        self.assertFalse(self.env["calendar.sync.binding"].search([("account_id", "=", self.account.id)]))
        self.assertTrue(event.exists() and event.active)

    def test_actions_only_on_own_accounts(self):
        for method in (
            "action_subscribe",
            "action_synchronize",
            "action_full_resync",
            "action_pause",
            "action_resume",
            "action_unsubscribe",
            "action_view_events",
        ):
            with self.subTest(method=method), self.assertRaises(AccessError):
                getattr(self.account.with_user(self.bob), method)()
        self.assertTrue(self.account.has_credentials)
        self.assertEqual(self.account.sudo().sync_state, "sync-token-a")
        self.assertEqual(self.account.state, "synced")

    def test_full_resync_of_own_account_and_of_others_by_an_administrator(self):
        with self.memory_providers():
            for user in (self.alice, self.manager):
                action = self.account.with_user(user).action_full_resync()
                self.assertEqual(action["tag"], "display_notification")
                # queued: the scheduled sync lists the calendar again from the start
                self.assertFalse(self.account.sudo().sync_state)
                self.assertTrue(self.account.full_sync_running)
                self.env["calendar.sync.account"]._cron_sync()
                self.assertEqual(self.account.state, "synced")
                self.assertFalse(self.account.full_sync_running)

    def test_save_and_send_invitation_only_on_meetings_one_may_change(self):
        event = (
            self.env["calendar.event"]
            .with_user(self.alice)
            .create(
                {
                    "name": "Alice's private meeting",
                    "start": "2026-12-01 10:00:00",
                    "stop": "2026-12-01 11:00:00",
                    "privacy": "private",
                    "partner_ids": [(6, 0, [self.alice.partner_id.id, self.carol.partner_id.id])],
                }
            )
        )
        with self.memory_providers():
            with self.assertRaises(AccessError):
                event.with_user(self.bob).action_save_and_send_invitation()
            self.assertEqual(self.calendars[self.account.id].invitations, [])
            self.push()  # the push job: nothing was queued by the refused call
            self.assertEqual(self.calendars[self.account.id].invitations, [])
            event.with_user(self.alice).action_save_and_send_invitation()
            self.push()
            self.assertEqual(len(self.calendars[self.account.id].invitations), 1)


class TestExchangeConnectionChanges(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account = cls.make_account(cls.bob, provider="exchange")
        cls.account.write({"ews_url": EWS_URL, "password": "hunter2", "ews_auth_type": "ntlm"})
        cls.account.sudo().sync_state = '{"sync_state": "s"}'

    def test_each_connection_change_drops_the_password_and_unsubscribes(self):
        for vals in (
            {"ews_url": "https://attacker.example.net/EWS/Exchange.asmx"},
            {"ews_url": "https://mail.example.com:8443/EWS/Exchange.asmx"},
            {"email": "someone.else@example.com"},
            {"ews_auth_type": "basic"},
            {"provider": "google"},
        ):
            with self.subTest(vals=vals):
                self.account.write(
                    {"ews_url": EWS_URL, "email": "bob@example.com", "ews_auth_type": "ntlm", "provider": "exchange"}
                )
                self.account._set_credentials(password="hunter2")
                self.account.sudo().write({"state": "synced", "sync_state": "s"})
                self.account.with_user(self.bob).write(vals)
                self.assertFalse(self.account._get_credentials()[1], vals)
                self.assertEqual(self.account.state, "draft")
                self.assertFalse(self.account.sudo().sync_state)

    def test_a_new_password_given_with_the_change_is_kept(self):
        self.account.with_user(self.bob).write(
            {"ews_url": "https://mail2.example.com/EWS/Exchange.asmx", "password": "new-secret"}
        )
        self.assertEqual(self.account._get_credentials()[1], "new-secret")
        self.assertEqual(self.account.state, "draft")

    def test_other_changes_keep_the_subscription(self):
        self.account.with_user(self.bob).write({"ews_url": EWS_URL.upper().replace("HTTPS", "https"), "active": True})
        self.assertEqual(self.account._get_credentials()[1], "hunter2")
        self.assertEqual(self.account.state, "synced")
