"""Full listings page by page (first sync, full resync) against the local fake Google server."""

import datetime as dt
import itertools
import json
from unittest.mock import patch

from odoo.exceptions import UserError

from .common import NOW, FakeGoogleCase

UTC = dt.timezone.utc
PAGING = "odoo.addons.webcrm_calendar_sync.models.calendar_sync_account_paging.monotonic"
SCHEDULE = "odoo.addons.webcrm_calendar_sync.models.calendar_sync_account_schedule.monotonic"
EMAIL = "alice@example.com"


def gbody(summary, start, hours=1):
    iso = lambda d: d.astimezone(UTC).isoformat().replace("+00:00", "Z")  # noqa: E731
    return {
        "summary": summary,
        "start": {"dateTime": iso(start), "timeZone": "UTC"},
        "end": {"dateTime": iso(start + dt.timedelta(hours=hours)), "timeZone": "UTC"},
    }


class WorkerKilled(Exception):
    """The worker's process ends in the middle of a page."""


class TestFirstSyncPaging(FakeGoogleCase):
    def setUp(self):
        super().setUp()
        Account = type(self.env["calendar.sync.account"])
        build = Account._get_provider

        def small_pages(account):
            provider = build(account)
            provider.page_size = 3  # Google's listing in pages of 3 events
            return provider

        patcher = patch.object(Account, "_get_provider", small_pages)
        patcher.start()
        self.addCleanup(patcher.stop)
        self.server.add_user(EMAIL)
        self.stored = [
            self.server.add_event(EMAIL, gbody(f"P{i:02d}", NOW + dt.timedelta(days=1 + i))) for i in range(10)
        ]
        self.account = self.make_account(self.alice, state="subscribed")
        self.account._set_credentials(token_data=self.server.issue_tokens(EMAIL))

    def meetings(self):
        return self.env["calendar.event"].search([("name", "=like", "P%"), ("sync_binding_ids", "!=", False)])

    def cancel(self, stored):
        event = self.server.calendars[EMAIL][stored["id"]]
        event["status"] = "cancelled"
        self.server._stamp(event)

    def test_first_sync_reads_every_page(self):
        before = self.server.requests
        summary = self.account._sync()
        self.assertEqual(self.server.requests - before, 4)  # 3 + 3 + 3 + 1 events
        self.assertEqual(summary["create"], 10)
        self.assertFalse(summary.get("partial"))
        self.assertEqual(sorted(self.meetings().mapped("name")), [f"P{i:02d}" for i in range(10)])
        self.assertEqual(self.account.state, "synced")
        self.assertTrue(self.account.sudo().sync_state)
        self.assertFalse(self.account.sudo().sync_resume)
        self.assertFalse(self.account.full_sync_running)
        self.assertTrue(self.account.last_full_sync_date)
        # the next sync is incremental: one request, nothing new
        before = self.server.requests
        self.account._sync()
        self.assertEqual(self.server.requests - before, 1)

    def test_resume_after_a_worker_killed_between_pages(self):
        # one page, then the worker stops (its transaction up to the page is what was committed)
        summary = self.account.with_context(calendar_sync_max_pages=1)._sync()
        self.assertTrue(summary["partial"])
        self.assertEqual(len(self.meetings()), 3)
        self.assertTrue(self.account.full_sync_running)
        self.assertTrue(self.account.sudo().sync_resume)
        self.assertFalse(self.account.sudo().sync_state)
        self.assertEqual(self.account.sync_progress_count, 3)
        self.assertEqual(self.account.sync_progress_pages, 1)
        self.assertEqual(self.account.sync_progress_text, "3 meetings so far, page 1")
        resume = self.account.sudo().sync_resume
        # the next worker dies in the middle of page 2: that page is rolled back, nothing else
        Account = type(self.env["calendar.sync.account"])
        apply_page = Account._apply_page

        def dies(account, *args):
            apply_page(account, *args)
            raise WorkerKilled()

        with patch.object(Account, "_apply_page", dies), self.assertRaises(WorkerKilled):
            self.account._sync()
        self.env.invalidate_all()
        self.assertEqual(len(self.meetings()), 3)
        self.assertEqual(self.account.sudo().sync_resume, resume)
        # the next run resumes at page 2: three pages more, no duplicate, nothing lost
        before = self.server.requests
        self.account._sync()
        self.assertEqual(self.server.requests - before, 3)
        self.assertEqual(sorted(self.meetings().mapped("name")), [f"P{i:02d}" for i in range(10)])
        bindings = self.env["calendar.sync.binding"].search([("account_id", "=", self.account.id)])
        self.assertEqual(len(bindings), 10)
        self.assertEqual(len(set(bindings.mapped("external_id"))), 10)
        self.assertFalse(self.account.full_sync_running)
        self.assertEqual(self.account.state, "synced")

    def test_full_resync_in_pages_removes_what_is_gone_after_the_last_page(self):
        self.account._sync()
        gone = self.meetings().filtered(lambda e: e.name in ("P01", "P08"))
        self.cancel(self.stored[1])
        self.cancel(self.stored[8])
        action = self.account.with_user(self.alice).action_full_resync()
        self.assertEqual(action["tag"], "display_notification")
        self.assertFalse(self.account.sudo().sync_state)
        self.assertTrue(self.account.full_sync_running)
        self.assertEqual(self.account.sync_progress_text, "Waiting for the background sync to start")
        # the first pages remove nothing: what is missing is only known after the last one
        self.account.with_context(calendar_sync_max_pages=2)._sync()
        self.assertTrue(all(gone.mapped("active")))
        self.assertEqual(self.account.sync_progress_text, "6 of about 10 meetings")
        self.account._sync()
        self.assertFalse(any(gone.mapped("active")))
        self.assertEqual(len(self.meetings().filtered("active")), 8)
        self.assertFalse(self.account.sync_warning)
        self.assertTrue(self.account.sudo().sync_state)

    def test_a_collapsed_paged_listing_removes_nothing_until_confirmed(self):
        self.account._sync()
        state = self.account.sudo().sync_state
        for stored in self.stored[2:]:
            self.cancel(stored)  # 8 of 10 missing: not believable at once
        self.account._sync(full=True)
        self.assertEqual(len(self.meetings().filtered("active")), 10)
        self.assertTrue(self.account.sync_warning)
        self.assertEqual(self.account.sudo().sync_state, state)  # the listing's state is not kept
        held = json.loads(self.account.sudo().sync_held_ids)
        self.assertEqual(sorted(held), sorted(s["id"] for s in self.stored[2:]))
        # the next full listing misses the same meetings: now they are believed gone
        self.account._sync(full=True)
        self.assertEqual(sorted(self.meetings().filtered("active").mapped("name")), ["P00", "P01"])
        self.assertFalse(self.account.sync_warning)
        self.assertNotEqual(self.account.sudo().sync_state, state)

    def test_scheduled_sync_stops_between_pages_at_the_budget_and_resumes(self):
        self.env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.request_timeout", "1")
        Account = self.env["calendar.sync.account"]
        self.account.with_user(self.alice).action_synchronize()  # a first sync: queued
        clock = itertools.count(0, 10)
        tick = lambda: next(clock)  # noqa: E731 - every reading of either clock is 10 s later
        with (
            patch.object(type(Account), "_cron_deadline", lambda self: 25),
            patch(PAGING, tick),
            patch(SCHEDULE, tick),
            patch.object(type(self.env["ir.cron"]), "_notify_progress") as progress,
        ):
            self.assertEqual(Account._cron_sync(), 1)
        progress.assert_called_once_with(done=1, remaining=1)
        self.assertEqual(len(self.meetings()), 3)
        self.assertTrue(self.account.full_sync_running)
        # due at once (the runner calls again), after the accounts that were already waiting
        self.assertLessEqual(self.account.next_sync_date, dt.datetime.now())
        # the next runs finish it
        for _run in range(3):
            Account._cron_sync()
        self.assertEqual(len(self.meetings()), 10)
        self.assertFalse(self.account.full_sync_running)
        self.assertEqual(self.account.state, "synced")
        self.assertGreater(self.account.next_sync_date, dt.datetime.now() - dt.timedelta(seconds=1))

    def test_progress_text(self):
        self.account.write(
            {
                "full_sync_running": True,
                "sync_progress_count": 2400,
                "sync_progress_total": 9000,
                "sync_progress_pages": 3,
            }
        )
        self.assertEqual(self.account.sync_progress_text, "2,400 of about 9,000 meetings")
        self.account.sync_progress_total = 0
        self.assertEqual(self.account.sync_progress_text, "2,400 meetings so far, page 3")
        self.account.full_sync_running = False
        self.assertFalse(self.account.sync_progress_text)

    def test_synchronize_button_queues_a_first_sync_and_reports_an_incremental_one(self):
        self.env["ir.cron.trigger"].search([]).unlink()
        action = self.account.with_user(self.alice).action_synchronize()
        self.assertEqual(action["type"], "ir.actions.client")
        self.assertEqual(action["tag"], "display_notification")
        self.assertEqual(action["params"]["type"], "info")
        self.assertFalse(action["params"]["sticky"])
        self.assertIn("background", action["params"]["message"])
        self.assertFalse(self.meetings())  # nothing synced in the request
        cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(len(self.meetings()), 10)
        # then: two added, one changed, one removed, reported in words
        self.server.add_event(EMAIL, gbody("P10", NOW + dt.timedelta(days=20)))
        self.server.add_event(EMAIL, gbody("P11", NOW + dt.timedelta(days=21)))
        changed = self.server.calendars[EMAIL][self.stored[0]["id"]]
        changed["summary"] = "P00 moved"
        self.server._stamp(changed)
        self.cancel(self.stored[5])
        action = self.account.with_user(self.alice).action_synchronize()
        self.assertEqual(action["params"]["message"], "2 added, 1 updated, 1 removed.")
        self.assertEqual(action["params"]["type"], "success")
        action = self.account.with_user(self.alice).action_synchronize()
        self.assertEqual(action["params"]["message"], "Up to date: nothing changed since the last sync.")
        # an error is said in words
        self.server.fail_next(count=20, status=500)
        action = self.account.with_user(self.alice).action_synchronize()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertEqual(action["params"]["message"], self.account.last_error)
        self.assertTrue(action["params"]["message"])

    def test_full_resync_button_is_queued_not_run(self):
        self.account._sync()
        before = self.server.requests
        action = self.account.action_full_resync()
        self.assertEqual(self.server.requests, before)  # nothing read in the request
        self.assertEqual(action["params"]["type"], "info")
        self.assertEqual(self.account.sync_progress_total, 0)
        self.assertTrue(self.account.full_sync_running)
        self.env["calendar.sync.account"]._cron_sync()
        self.assertFalse(self.account.full_sync_running)
        self.assertEqual(len(self.meetings()), 10)

    def test_needs_reauth_is_not_queued(self):
        self.account.needs_reauth = True
        with self.assertRaises(UserError):
            self.account.action_full_resync()
