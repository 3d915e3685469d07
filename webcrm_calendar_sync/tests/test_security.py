import json

from psycopg2 import IntegrityError

from odoo.exceptions import AccessError
from odoo.tools import mute_logger

from .common import CalendarSyncCase


class TestSecurity(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.account_a = cls.make_account(cls.alice)
        cls.account_a._set_credentials(token_data={"access_token": "SECRET-A", "refresh_token": "R-A"})
        cls.account_b = cls.make_account(cls.bob, provider="exchange")
        cls.account_b.write({"ews_url": "https://mail.example.com/EWS/Exchange.asmx", "password": "hunter2"})

    def test_secrets_are_stored_for_the_system(self):
        token, password = self.account_a._get_credentials()
        self.assertEqual(token["access_token"], "SECRET-A")
        self.assertEqual(self.account_b._get_credentials()[1], "hunter2")
        self.assertTrue(self.account_b.has_credentials)

    def test_user_cannot_read_credentials_of_anyone(self):
        Credential = self.env["calendar.sync.credential"]
        for user in (self.alice, self.bob):
            with self.assertRaises(AccessError):
                Credential.with_user(user).search([])
            with self.assertRaises(AccessError):
                Credential.with_user(user).browse(self.account_a._credential_record().id).read(["token_data"])

    def test_even_an_admin_cannot_read_credentials_by_rpc(self):
        admin = self.env.ref("base.user_admin")
        with self.assertRaises(AccessError):
            self.env["calendar.sync.credential"].with_user(admin).search_read([], ["token_data", "password"])

    def test_password_is_never_read_back(self):
        data = self.account_b.with_user(self.bob).read(["password", "ews_url"])[0]
        self.assertFalse(data["password"])
        self.assertNotIn("hunter2", json.dumps(data, default=str))

    def test_user_sees_only_own_accounts(self):
        Account = self.env["calendar.sync.account"].with_user(self.alice)
        self.assertEqual(Account.search([]), self.account_a)
        with self.assertRaises(AccessError):
            self.account_b.with_user(self.alice).read(["email"])

    def test_sync_state_is_not_readable_by_users(self):
        self.account_a.sudo().sync_state = "token-123"
        with self.assertRaises(AccessError):
            self.account_a.with_user(self.alice).read(["sync_state"])

    def test_calendar_admin_manages_everyone(self):
        admin = self.env.ref("base.user_admin")
        self.assertTrue(admin.has_group("webcrm_calendar_sync.group_calendar_sync_manager"))
        accounts = self.env["calendar.sync.account"].with_user(admin).search([])
        self.assertIn(self.account_a, accounts)
        self.assertIn(self.account_b, accounts)

    def test_other_company_accounts_are_hidden(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        self.account_b.sudo().company_id = other
        admin = self.env.ref("base.user_admin")
        visible = (
            self.env["calendar.sync.account"]
            .with_user(admin)
            .with_context(allowed_company_ids=[self.env.company.id])
            .search([])
        )
        self.assertNotIn(self.account_b, visible)

    def test_binding_is_unique_per_account_and_external_id(self):
        event = (
            self.env["calendar.event"]
            .with_context(calendar_sync_from_remote=True)
            .create({"name": "x", "start": "2026-12-01 10:00:00", "stop": "2026-12-01 11:00:00"})
        )
        Binding = self.env["calendar.sync.binding"]
        Binding.create({"account_id": self.account_a.id, "event_id": event.id, "external_id": "abc"})
        # the same external id in another account is fine
        Binding.create({"account_id": self.account_b.id, "event_id": event.id, "external_id": "abc"})
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.env.cr.savepoint():
            Binding.create({"account_id": self.account_a.id, "event_id": event.id, "external_id": "abc"})
