"""Colleagues are only those of a company the user works in now (env.companies), everywhere:
the "Synced colleagues" list, the schedule's rows and the busy times."""

from datetime import datetime

from odoo import fields
from odoo.tests import new_test_user

from .common import UTC, CalendarSyncCase

DAY = ("2026-12-03 00:00:00", "2026-12-04 00:00:00")


class TestColleagueCompanies(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main = cls.env.company
        cls.second = cls.env["res.company"].create({"name": "Second Ltd"})
        cls.elsewhere = cls.env["res.company"].create({"name": "Elsewhere Ltd"})
        cls.alice.write({"company_ids": [(4, cls.second.id)]})
        cls.dave = new_test_user(
            cls.env,
            "dave",
            email="dave@second.test",
            name="Dave",
            company_id=cls.second.id,
            company_ids=[(6, 0, [cls.second.id])],
        )
        cls.stranger = new_test_user(
            cls.env,
            "stranger",
            email="stranger@else.test",
            name="Stranger",
            company_id=cls.elsewhere.id,
            company_ids=[(6, 0, [cls.elsewhere.id])],
        )
        cls.accounts = {}
        for user, company in ((cls.bob, cls.main), (cls.dave, cls.second), (cls.stranger, cls.elsewhere)):
            cls.accounts[user] = cls.env["calendar.sync.account"].create(
                {
                    "user_id": user.id,
                    "provider": "google",
                    "email": user.email,
                    "state": "synced",
                    "company_id": company.id,
                    "last_sync_date": fields.Datetime.now(),
                }
            )

    def setUp(self):
        super().setUp()
        for user, account in self.accounts.items():
            self.calendars[account.id].put(self.remote(f"Busy {user.name}", datetime(2026, 12, 3, 9, 0, tzinfo=UTC)))

    def as_alice(self, model, companies=None):
        env = self.env[model].with_user(self.alice)
        if companies:
            env = env.with_context(allowed_company_ids=companies.ids)
        return env

    def colleague_names(self, companies=None):
        status = self.as_alice("calendar.sync.account", companies).get_sync_status()
        return {c["name"] for c in status["colleagues"]}

    def test_synced_colleagues_only_of_the_current_companies(self):
        self.assertEqual(self.colleague_names(), {"Bob", "Dave"})
        self.assertEqual(self.colleague_names(self.second), {"Dave"})
        self.assertEqual(self.colleague_names(self.main), {"Bob"})

    def test_schedule_leaves_out_users_of_other_companies(self):
        ids = [self.bob.id, self.dave.id, self.stranger.id]
        events = self.as_alice("calendar.event", self.second).with_context(tz="UTC")
        rows = events.get_synced_schedule(ids, *DAY)["rows"]
        self.assertEqual([r["user_id"] for r in rows], [self.alice.id, self.dave.id])
        rows = self.as_alice("calendar.event").with_context(tz="UTC").get_synced_schedule(ids, *DAY)["rows"]
        self.assertEqual([r["user_id"] for r in rows], [self.alice.id, self.bob.id, self.dave.id])

    def test_busy_times_only_of_the_current_companies(self):
        ids = [self.bob.id, self.dave.id, self.stranger.id]
        with self.memory_providers():
            busy = self.as_alice("calendar.event", self.second).get_synced_busy_intervals(ids, *DAY)
            self.assertEqual(set(busy), {str(self.dave.id)})
            busy = self.as_alice("calendar.event").get_synced_busy_intervals(ids, *DAY)
            self.assertEqual(set(busy), {str(self.bob.id), str(self.dave.id)})
