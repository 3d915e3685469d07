"""Issue 11, point 4: colleagues' busy times only for internal users, only colleagues, rate-limited."""

import xmlrpc.client
from datetime import datetime
from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user

from ..engine.testing.memory import MemoryProvider
from .common import UTC, CalendarSyncCase

DAY = ("2026-12-03 00:00:00", "2026-12-04 00:00:00")


class TestBusyAccess(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acc_bob = cls.make_account(cls.bob)
        cls.portal = new_test_user(cls.env, "portaluser", email="portal@client.test", groups="base.group_portal")

    def setUp(self):
        super().setUp()
        self.calendars[self.acc_bob.id].put(self.remote("Busy", datetime(2026, 12, 3, 13, 0, tzinfo=UTC)))

    def busy(self, as_user, user_ids=None, span=DAY):
        return self.env["calendar.event"].with_user(as_user).get_synced_busy_intervals(user_ids or [self.bob.id], *span)

    def test_portal_user_gets_access_error(self):
        with self.memory_providers(), self.assertRaises(AccessError):
            self.busy(self.portal)
        self.assertEqual(self.providers, [])  # no provider was even built

    def test_internal_user_without_the_synced_calendar_gets_access_error(self):
        self.env["res.config.settings"].create({"group_calendar_sync": False}).execute()
        self.assertFalse(self.alice.has_group("webcrm_calendar_sync.group_calendar_sync"))
        with self.memory_providers(), self.assertRaises(AccessError):
            self.busy(self.alice)

    def test_result_has_string_keys_and_goes_over_xmlrpc(self):
        with self.memory_providers():
            busy = self.busy(self.alice)
        self.assertEqual(busy, {str(self.bob.id): [{"start": "2026-12-03 13:00:00", "stop": "2026-12-03 14:00:00"}]})
        # what Odoo's XML-RPC endpoint does with the answer (int keys raise "dictionary key must be string")
        xmlrpc.client.dumps((busy,), methodresponse=True, allow_none=False)

    def test_only_colleagues_of_the_callers_companies(self):
        other = self.env["res.company"].create({"name": "Elsewhere Ltd"})
        stranger = new_test_user(
            self.env, "stranger", email="stranger@else.test", company_id=other.id, company_ids=[(6, 0, [other.id])]
        )
        acc = self.env["calendar.sync.account"].create(
            {
                "user_id": stranger.id,
                "provider": "google",
                "email": stranger.email,
                "state": "synced",
                "company_id": other.id,
            }
        )
        self.calendars[acc.id].put(self.remote("Secret", datetime(2026, 12, 3, 8, 0, tzinfo=UTC)))
        with self.memory_providers():
            busy = self.busy(self.alice, [self.bob.id, stranger.id])
        self.assertEqual(set(busy), {str(self.bob.id)})
        # a portal user's account (if any) is no colleague either
        portal_acc = self.env["calendar.sync.account"].create(
            {"user_id": self.portal.id, "provider": "google", "email": self.portal.email, "state": "synced"}
        )
        self.calendars[portal_acc.id].put(self.remote("P", datetime(2026, 12, 3, 8, 0, tzinfo=UTC)))
        with self.memory_providers():
            self.assertNotIn(str(self.portal.id), self.busy(self.alice, [self.portal.id]))

    def test_answers_are_cached_briefly_and_provider_calls_are_limited_per_user(self):
        self.env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.busy_calls_per_minute", "2")
        calls = []
        original = MemoryProvider.free_busy

        def counting(provider, emails, start, end):
            calls.append((tuple(emails), start, end))
            return original(provider, emails, start, end)

        with self.memory_providers(), patch.object(MemoryProvider, "free_busy", counting):
            first = self.busy(self.alice)
            for _i in range(5):
                self.assertEqual(self.busy(self.alice), first)
            self.assertEqual(len(calls), 1)  # one provider call for six lookups of the same range
            self.busy(self.alice, span=("2026-12-04 00:00:00", "2026-12-05 00:00:00"))
            self.assertEqual(len(calls), 2)
            with self.assertRaisesRegex(UserError, "Too many"):
                self.busy(self.alice, span=("2026-12-05 00:00:00", "2026-12-06 00:00:00"))
            self.assertEqual(len(calls), 2)
            # the budget is per user: Carol still gets her answer
            self.busy(self.carol, span=("2026-12-05 00:00:00", "2026-12-06 00:00:00"))
            self.assertEqual(len(calls), 3)

    def test_bad_arguments_are_refused(self):
        with self.memory_providers():
            with self.assertRaises(UserError):
                self.busy(self.alice, list(range(1, 60)))
            with self.assertRaises(UserError):
                self.busy(self.alice, span=("2026-12-01 00:00:00", "2027-03-01 00:00:00"))
