"""The scheduled pass: fair order, bounded batches, progress, back-off, row locks shared by workers."""

import threading
import time
from datetime import datetime, timedelta
from time import monotonic
from unittest.mock import patch

from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError
from odoo.tests import new_test_user
from odoo.tools import config

from ..engine import errors
from ..engine.testing.memory import MemoryCalendar, MemoryProvider
from .common import UTC, CalendarSyncCase

CLOCK = "odoo.addons.webcrm_calendar_sync.models.calendar_sync_account_schedule.monotonic"
CRON = "webcrm_calendar_sync.ir_cron_calendar_sync"


class TestCronSchedule(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Account = cls.env["calendar.sync.account"]
        # accounts of other tests' data are not due in these tests
        Account.search([]).write({"next_sync_date": datetime(2999, 1, 1)})
        cls.users = [
            new_test_user(cls.env, f"cron{i}", email=f"cron{i}@example.com", name=f"Cron {i}") for i in range(4)
        ]
        cls.accounts = Account.browse([cls.make_account(user).id for user in cls.users])

    def setUp(self):
        super().setUp()
        for account in self.accounts:
            self.calendars[account.id].put(self.remote(f"Meeting of {account.email}"))
        self.patch_window(self._window())
        self.progress = []
        patcher = patch.object(
            type(self.env["ir.cron"]),
            "_notify_progress",
            lambda cron, done, remaining, deactivate=False: self.progress.append((done, remaining)),
        )
        patcher.start()
        self.addCleanup(patcher.stop)

    @staticmethod
    def _window():
        from ..engine.events import Window

        return Window.around(datetime(2026, 12, 1, tzinfo=UTC), 60, 365)

    def cron(self, limit=None):
        with self.memory_providers():
            done = self.env["calendar.sync.account"]._cron_sync(limit=limit)
        synced = [self.calendars_by_provider(p) for p in self.providers]
        return done, synced

    def calendars_by_provider(self, provider):
        return next(a for a in self.accounts if self.calendars.get(a.id) is provider.calendar)

    def test_longest_waiting_first_in_bounded_batches_with_progress(self):
        now = fields.Datetime.now()
        a0, a1, a2, a3 = self.accounts
        a0.next_sync_date = now - timedelta(minutes=1)
        a1.next_sync_date = False  # never synced: first of all
        a2.next_sync_date = now - timedelta(minutes=30)
        a3.next_sync_date = now + timedelta(minutes=5)  # not due
        done, synced = self.cron(limit=2)
        self.assertEqual(done, 2)
        self.assertEqual(synced, [a1, a2])
        self.assertEqual(self.progress, [(2, 1)])  # one more is due: Odoo's runner calls again
        done, synced = self.cron(limit=2)
        self.assertEqual(synced, [a0])
        self.assertEqual(self.progress[-1], (1, 0))
        # synced accounts wait for the next run: a new call finds nothing to do
        done, synced = self.cron()
        self.assertEqual((done, synced), (0, []))
        self.assertEqual(self.progress[-1], (0, 0))
        for account in (a0, a1, a2):
            self.assertEqual(account.state, "synced")
            self.assertGreater(account.next_sync_date, now + timedelta(minutes=5))
            self.assertLessEqual(account.next_sync_date, now + timedelta(minutes=11))
        self.assertEqual(len(self.env["calendar.event"].search([("name", "like", "Meeting of cron")])), 3)

    def test_failing_account_backs_off_and_never_delays_the_others(self):
        a0, a1, a2, a3 = self.accounts
        real = MemoryProvider.list_changes
        dead = self.calendars[a0.id]
        calls = []

        def list_changes(provider, state, window):
            if provider.calendar is dead:
                calls.append(1)
                raise errors.Unavailable()
            return real(provider, state, window)

        waits = []
        with patch.object(MemoryProvider, "list_changes", list_changes):
            for attempt in range(8):
                start = fields.Datetime.now()
                done, synced = self.cron()
                if attempt == 0:
                    self.assertEqual(done, 4)  # the failing one did not stop the others
                    self.assertEqual(set(synced), set(self.accounts))
                self.assertEqual(a0.state, "error")
                self.assertEqual(a0.sync_failures, attempt + 1)
                waits.append(round((a0.next_sync_date - start).total_seconds() / 60))
                # a new run before the back-off ends does not try it again
                before = len(calls)
                self.cron()
                self.assertEqual(len(calls), before)
                # let the back-off (and the others' interval) pass
                self.accounts.write({"next_sync_date": fields.Datetime.now() - timedelta(seconds=1)})
        self.assertEqual(waits, [1, 2, 4, 8, 16, 32, 60, 60])
        self.assertTrue(all(a.state == "synced" for a in (a1, a2, a3)))
        # the server answers again: the next run syncs it and the back-off is forgotten
        self.cron()
        self.assertEqual(a0.state, "synced")
        self.assertEqual(a0.sync_failures, 0)
        self.assertFalse(a0.last_error)

    def test_revoked_access_is_not_retried_until_subscribed_again(self):
        a0 = self.accounts[0]
        real = MemoryProvider.list_changes

        def list_changes(provider, state, window):
            if provider.calendar is self.calendars[a0.id]:
                raise errors.AuthRevoked()
            return real(provider, state, window)

        with patch.object(MemoryProvider, "list_changes", list_changes):
            self.cron()
            self.assertTrue(a0.needs_reauth)
            self.accounts.write({"next_sync_date": fields.Datetime.now() - timedelta(seconds=1)})
            done, synced = self.cron()
        self.assertNotIn(a0, synced)
        self.assertEqual(done, 3)

    def test_bug_in_one_account_is_logged_and_backs_off(self):
        a0 = self.accounts[0]
        real = MemoryProvider.list_changes

        def list_changes(provider, state, window):
            if provider.calendar is self.calendars[a0.id]:
                raise ZeroDivisionError
            return real(provider, state, window)

        with (
            patch.object(MemoryProvider, "list_changes", list_changes),
            self.assertLogs("odoo.addons.webcrm_calendar_sync", "ERROR"),
        ):
            done, _synced = self.cron()
        self.assertEqual(done, 4)
        self.assertEqual(a0.state, "error")
        self.assertEqual(a0.sync_failures, 1)
        self.assertIn("server log", a0.last_error)

    def test_deadline_follows_the_cron_time_limit(self):
        from ..models import calendar_sync_account_schedule as schedule

        Account = self.env["calendar.sync.account"]
        runs = patch.dict(schedule._RUNS, clear=True)  # no earlier call of this thread counts
        runs.start()
        self.addCleanup(runs.stop)
        limits = {"limit_time_real_cron": 50, "limit_time_real": 120}
        # both clocks stand still (the wall clock only inside the schedule module): a loaded
        # machine pausing this thread between two readings cannot move the figures
        wall = patch.object(schedule, "time", wraps=time)
        wall_clock = wall.start()
        self.addCleanup(wall.stop)
        wall_clock.time.return_value = 5000.0
        with patch.dict(config.options, limits), patch(CLOCK, return_value=1000.0):
            # 60 % of the cron limit, counted from the start of the run
            self.assertEqual(Account._cron_deadline(), 1000.0 + 30.0)
        schedule._RUNS.clear()
        limits = {"limit_time_real_cron": -1, "limit_time_real": 200}
        with patch.dict(config.options, limits), patch(CLOCK, return_value=1000.0):
            self.assertEqual(Account._cron_deadline(), 1000.0 + 120.0)
        self.env["ir.config_parameter"].set_param("webcrm_calendar_sync.cron_time_budget", "30")
        # the threaded server records when the run started: what is spent is spent
        thread = threading.current_thread()
        with patch.object(thread, "start_time", 5000.0 - 25, create=True), patch(CLOCK, return_value=1000.0):
            self.assertEqual(Account._cron_deadline(), 1000.0 + 5.0)

    def test_time_budget_stops_the_call_before_an_account_could_overrun_it(self):
        self.env["ir.config_parameter"].set_param("webcrm_calendar_sync.request_timeout", "6")
        clock = iter(range(0, 1000, 10))
        Account = type(self.env["calendar.sync.account"])
        with patch.object(Account, "_cron_deadline", lambda self: 25), patch(CLOCK, lambda: next(clock)):
            done, _synced = self.cron()
        # at 0 and 10 an account fits (25 - t > 6); at 20 one could end past the deadline: stop
        self.assertEqual(done, 2)
        self.assertEqual(self.progress[-1], (2, 2))
        trigger = self.env["ir.cron.trigger"].search([("cron_id", "=", self.env.ref(CRON).id)])
        self.assertFalse(trigger)  # progress was made: Odoo's runner calls again by itself

    def test_spent_run_asks_for_a_new_run(self):
        Account = type(self.env["calendar.sync.account"])
        with patch.object(Account, "_cron_deadline", lambda self: monotonic() + 1):
            done, _synced = self.cron()
        self.assertEqual(done, 0)
        self.assertEqual(self.progress[-1], (0, 4))
        trigger = self.env["ir.cron.trigger"].search([("cron_id", "=", self.env.ref(CRON).id)])
        self.assertTrue(trigger)

    def test_health_columns_filters_and_retry_now(self):
        a0, a1, a2, a3 = self.accounts
        Account = self.env["calendar.sync.account"]
        self.cron()
        now = fields.Datetime.now()
        a1.last_sync_date = now - timedelta(hours=2)  # three intervals (30 minutes) ago and more
        a2.write({"state": "error", "sync_failures": 3, "next_sync_date": now + timedelta(minutes=4)})
        binding = self.env["calendar.sync.binding"].search([("account_id", "=", a3.id)], limit=1)
        binding.state = "to_push"
        self.assertEqual(Account.search([("id", "in", self.accounts.ids), ("is_lagging", "=", True)]), a1)
        self.assertEqual(Account.search([("id", "in", self.accounts.ids), ("backlog_count", ">", 0)]), a3)
        self.assertEqual((a3.backlog_count, a0.backlog_count), (1, 0))
        self.assertGreaterEqual(a1.sync_lag_minutes, 120)
        # "Retry now" on failing and waiting accounts: due at once, the scheduled action woken
        (a1 | a2).action_retry_now()
        self.assertFalse(a2.next_sync_date)
        trigger = self.env["ir.cron.trigger"].search([("cron_id", "=", self.env.ref(CRON).id)])
        self.assertTrue(trigger)
        done, synced = self.cron()
        self.assertEqual(set(synced), {a1, a2})
        self.assertEqual((a2.state, a2.sync_failures), ("synced", 0))
        # users retry only what they may change
        with self.assertRaises(AccessError):
            a2.with_user(self.alice).action_retry_now()


class TestCronWorkers(CalendarSyncCase):
    """Two cron workers on their own cursors share a pass: each account is taken by one only."""

    def test_workers_share_the_due_accounts_through_row_locks(self):
        registry = self.registry
        ctx = {"tracking_disable": True, "mail_create_nolog": True}
        # committed accounts (other cursors only see committed rows); removed at the end
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, ctx)
            admin = env.ref("base.user_admin")
            ids = (
                env["calendar.sync.account"]
                .create([{"user_id": admin.id, "email": f"worker{i}@example.com", "state": "synced"} for i in range(5)])
                .ids
            )
        self.addCleanup(self._drop_accounts, ids)
        synced_by = {}

        def build(account):
            synced_by.setdefault(account.env.cr, []).append(account.id)
            return MemoryProvider(MemoryCalendar(account.email))

        Account = type(self.env["calendar.sync.account"])
        with (
            patch.object(Account, "_get_provider", build),
            patch.object(Account, "_sync_enabled", lambda self: True),
            registry.cursor() as holder,
            registry.cursor() as first,
            registry.cursor() as second,
        ):
            for cr in (first, second):
                cr.execute("SET lock_timeout = '5s'")  # a wait on a row lock fails the test, never hangs it
            # a user's manual sync (or a third worker) holds the longest-waiting account
            holder.execute("SELECT id FROM calendar_sync_account WHERE id = %s FOR NO KEY UPDATE", [ids[0]])
            # worker 1 takes two accounts and keeps them locked (tests do not commit)
            done_first = api.Environment(first, SUPERUSER_ID, {})["calendar.sync.account"]._cron_sync(limit=2)
            # worker 2, meanwhile, takes what nobody holds
            done_second = api.Environment(second, SUPERUSER_ID, {})["calendar.sync.account"]._cron_sync()
            first.rollback()
            second.rollback()
            holder.rollback()
        self.assertEqual((done_first, done_second), (2, 2))
        self.assertEqual(synced_by[first], ids[1:3])
        self.assertEqual(synced_by[second], ids[3:5])

    def _drop_accounts(self, ids):
        with self.registry.cursor() as cr:
            api.Environment(cr, SUPERUSER_ID, {})["calendar.sync.account"].browse(ids).unlink()
