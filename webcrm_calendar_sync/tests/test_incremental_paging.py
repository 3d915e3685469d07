"""Incremental listings page by page (Google syncToken pages, Graph delta pages, EWS
SyncFolderItems batches), and the first sync's total, against the local fake servers."""

import datetime as dt
import itertools
import json
from unittest.mock import patch

from ..models import calendar_sync_account_paging as paging
from .common import ALICE, NOW, UTC, FakeEWSCase, FakeGoogleCase, FakeGraphCase
from .test_first_sync_paging import WorkerKilled

PAGING = "odoo.addons.webcrm_calendar_sync.models.calendar_sync_account_paging.monotonic"
SCHEDULE = "odoo.addons.webcrm_calendar_sync.models.calendar_sync_account_schedule.monotonic"


class IncrementalPagingCases:
    """The same story for each provider; a provider's class says how its calendar is changed.

    ``add(title, day)`` returns a handle; ``change(handle, title)``; ``remove(handle)``;
    ``remote_titles()``: the titles of the calendar on the server, sorted."""

    def small_pages(self):
        Account = type(self.env["calendar.sync.account"])
        build = Account._get_provider

        def small(account):
            provider = build(account)
            provider.page_size = 3
            return provider

        patcher = patch.object(Account, "_get_provider", small)
        patcher.start()
        self.addCleanup(patcher.stop)

    def bindings(self):
        return self.env["calendar.sync.binding"].search(
            [("account_id", "=", self.account.id), ("external_id", "!=", False)]
        )

    def mirror(self):
        """The titles of the account's mirrored meetings (active), sorted."""
        return sorted(b.event_id.name for b in self.bindings() if b.event_id.active)

    def assert_mirrors_the_calendar(self):
        self.env.invalidate_all()
        bindings = self.bindings()
        self.assertEqual(len(bindings), len(set(bindings.mapped("external_id"))), "a meeting bound twice")
        self.assertEqual(self.mirror(), self.remote_titles())
        names = [b.event_id.name for b in bindings if b.event_id.active]
        self.assertEqual(len(names), len(set(names)), "a meeting mirrored twice")

    def first_sync(self):
        handles = [self.add(f"M{i:02d}", i + 1) for i in range(4)]
        self.account._sync()
        self.assertEqual(self.account.state, "synced", self.account.last_error)
        self.assertTrue(self.account.sudo().sync_state)
        self.assert_mirrors_the_calendar()
        return handles

    def test_incremental_pages_survive_a_crash_and_changes_meanwhile(self):
        old = self.first_sync()
        state = self.account.sudo().sync_state
        new = [self.add(f"N{i:02d}", 10 + i) for i in range(9)]
        self.change(old[0], "M00 moved")
        self.remove(old[1])
        # eleven changes, pages of three: this run applies the first page only
        summary = self.account.with_context(calendar_sync_max_pages=1)._sync()
        self.assertTrue(summary["partial"])
        self.assertEqual(self.account.sudo().sync_state, state)  # the new state comes with the last page
        resume = json.loads(self.account.sudo().sync_resume)
        self.assertEqual(resume["state"], state)
        self.assertTrue(resume["page"])
        self.assertFalse(self.account.full_sync_running)  # not a full listing
        self.assertFalse(self.account._needs_full_listing())
        kept, mirrored = self.account.sudo().sync_resume, self.mirror()
        self.assertNotEqual(mirrored, sorted(["M00", "M01", "M02", "M03"]))  # the first page was applied
        # the next worker dies in the middle of the second page: that page is undone, nothing else
        Account = type(self.env["calendar.sync.account"])
        apply = Account._apply_changes

        def dies(account, *args, **kwargs):
            apply(account, *args, **kwargs)
            raise WorkerKilled()

        with patch.object(Account, "_apply_changes", dies), self.assertRaises(WorkerKilled):
            self.account._sync()
        self.env.invalidate_all()
        self.assertEqual(self.mirror(), mirrored)
        self.assertEqual(self.account.sudo().sync_resume, kept)
        # meanwhile in the calendar: a new meeting, a listed one changed again, an unlisted one removed
        self.add("N99", 40)
        self.change(new[0], "N00 renamed")
        self.remove(new[8])
        # the next run resumes at the second page and finishes
        summary = self.account._sync()
        self.assertFalse(summary.get("partial"))
        self.assertFalse(self.account.sudo().sync_resume)
        self.assertNotEqual(self.account.sudo().sync_state, state)
        self.assertEqual(self.account.state, "synced")
        bindings = self.bindings()
        self.assertEqual(len(bindings), len(set(bindings.mapped("external_id"))))
        for title in [f"N{i:02d}" for i in range(1, 8)] + ["M00 moved", "M02", "M03"]:
            self.assertIn(title, self.mirror())
        self.assertNotIn("M01", self.mirror())
        # what changed during the listing comes with the next one: the mirror is the calendar
        self.account._sync()
        self.assert_mirrors_the_calendar()
        self.assertIn("N00 renamed", self.mirror())
        self.assertNotIn("N08", self.mirror())

    def test_scheduled_sync_pauses_an_incremental_listing_at_the_budget(self):
        self.first_sync()
        state = self.account.sudo().sync_state
        for i in range(8):
            self.add(f"B{i:02d}", 20 + i)
        self.env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.request_timeout", "1")
        self.account.sudo().next_sync_date = dt.datetime.now() - dt.timedelta(minutes=1)
        Account = self.env["calendar.sync.account"]
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
        self.assertEqual(self.account.sudo().sync_state, state)
        self.assertTrue(self.account._resume_point("changes"))
        self.assertLessEqual(self.account.next_sync_date, dt.datetime.now())  # due again at once
        self.assertEqual(len([t for t in self.mirror() if t.startswith("B")]), 3)
        for _run in range(3):
            Account._cron_sync()
        self.assertFalse(self.account.sudo().sync_resume)
        self.assertNotEqual(self.account.sudo().sync_state, state)
        self.assertGreater(self.account.next_sync_date, dt.datetime.now() - dt.timedelta(seconds=1))
        self.assert_mirrors_the_calendar()


class TestGoogleIncrementalPaging(IncrementalPagingCases, FakeGoogleCase):
    def setUp(self):
        super().setUp()
        self.small_pages()
        self.server.add_user(ALICE)
        self.account = self.make_account(self.alice, state="subscribed")
        self.account._set_credentials(token_data=self.server.issue_tokens(ALICE))

    def add(self, title, day):
        start = NOW + dt.timedelta(days=day)
        iso = lambda d: d.astimezone(UTC).isoformat().replace("+00:00", "Z")  # noqa: E731
        body = {
            "summary": title,
            "start": {"dateTime": iso(start), "timeZone": "UTC"},
            "end": {"dateTime": iso(start + dt.timedelta(hours=1)), "timeZone": "UTC"},
        }
        return self.server.add_event(ALICE, body)["id"]

    def change(self, handle, title):
        event = self.server.calendars[ALICE][handle]
        event["summary"] = title
        self.server._stamp(event)

    def remove(self, handle):
        event = self.server.calendars[ALICE][handle]
        event["status"] = "cancelled"
        self.server._stamp(event)

    def remote_titles(self):
        return sorted(e["summary"] for e in self.server.calendars[ALICE].values() if e.get("status") != "cancelled")

    def test_an_expired_page_starts_the_listing_again_from_the_stored_state(self):
        self.first_sync()
        state = self.account.sudo().sync_state
        for i in range(7):
            self.add(f"X{i:02d}", 20 + i)
        self.account.with_context(calendar_sync_max_pages=1)._sync()
        self.assertTrue(self.account._resume_point("changes"))
        before = self.server.requests
        self.server.fail_next(
            count=1, status=410, reason="fullSyncRequired", on="list"
        )  # the next page's token is refused
        summary = self.account._sync()
        self.assertFalse(summary.get("partial"))
        # the refused page, then the whole listing again from the stored state (three pages)
        self.assertEqual(self.server.requests - before, 4)
        self.assertNotEqual(self.account.sudo().sync_state, state)
        self.assertFalse(self.account.full_sync_running)
        self.assert_mirrors_the_calendar()

    def test_a_button_sync_applies_what_fits_and_leaves_the_rest_to_the_background(self):
        self.first_sync()
        for i in range(7):
            self.add(f"Y{i:02d}", 20 + i)
        self.env["ir.cron.trigger"].search([]).unlink()
        with patch.object(paging, "FOREGROUND_BUDGET", 0):
            action = self.account.with_user(self.alice).action_synchronize()
        self.assertEqual(action["params"]["type"], "info")
        self.assertEqual(
            action["params"]["message"],
            "3 added, 0 updated, 0 removed. Many more changes are being read in the background; "
            "they appear within minutes.",
        )
        cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        self.assertFalse(self.account.full_sync_running)
        self.env["calendar.sync.account"]._cron_sync()
        self.assertFalse(self.account.sudo().sync_resume)
        self.assert_mirrors_the_calendar()

    def test_a_requested_sync_that_stops_between_pages_is_handed_to_the_scheduled_sync(self):
        self.first_sync()
        for i in range(7):
            self.add(f"R{i:02d}", 20 + i)
        self.account._request_sync()  # as the calendar view or a push notification asks
        self.env["ir.cron.trigger"].search([]).unlink()
        Account = self.env["calendar.sync.account"]
        Account.with_context(calendar_sync_max_pages=1)._cron_sync_requested()
        self.assertFalse(self.account.sync_requested_date)
        self.assertTrue(self.account._resume_point("changes"))
        self.assertFalse(self.account.full_sync_running)  # still an incremental listing, not a full one
        self.assertFalse(self.account.next_sync_date)  # due at once for the scheduled sync, which is woken
        cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync")
        self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]))
        Account._cron_sync()
        self.assertFalse(self.account.sudo().sync_resume)
        self.assert_mirrors_the_calendar()

    def test_the_last_page_clears_its_resume_point_and_writes_the_outcome_in_one_flush(self):
        # the end of a paged listing in a later transaction than its pages: an ORM write (the
        # resume point cleared, with a new write_date), then the sync's bookkeeping in one
        # plain UPDATE; what the ORM still holds must reach the database
        self.first_sync()
        self.account.sudo().write({"sync_resume": '{"state": "x", "page": "p", "window": [], "pages": 1}'})
        self.env.flush_all()
        # as after the commit of the previous page: the stored write_date is of an earlier transaction
        self.env.cr.execute(
            "UPDATE calendar_sync_account SET write_date = write_date - interval '1 minute' WHERE id = %s",
            [self.account.id],
        )
        self.env.invalidate_all()
        self.assertTrue(self.account.write_date)
        self.account.sudo().write({"sync_resume": False})
        self.account.sudo()._write_plain({"next_sync_date": dt.datetime.now()})
        self.env.flush_all()
        self.env.invalidate_all()
        self.assertFalse(self.account.sudo().sync_resume)

    def test_first_sync_progress_has_no_total_on_google(self):
        for i in range(7):
            self.add(f"G{i:02d}", 1 + i)
        before = self.server.requests
        self.account.with_context(calendar_sync_max_pages=2)._sync()
        self.assertEqual(self.server.requests - before, 2)  # no count asked: Google has none
        self.assertEqual(self.account.sync_progress_text, "6 meetings so far, page 2")


class TestMicrosoftIncrementalPaging(IncrementalPagingCases, FakeGraphCase):
    def setUp(self):
        super().setUp()
        self.small_pages()
        self.server.add_user(ALICE)
        self.account = self.subscribe(self.alice)

    def add(self, title, day):
        start = NOW + dt.timedelta(days=day)
        fmt = "%Y-%m-%dT%H:%M:%S"
        body = {
            "subject": title,
            "start": {"dateTime": start.strftime(fmt), "timeZone": "UTC"},
            "end": {"dateTime": (start + dt.timedelta(hours=1)).strftime(fmt), "timeZone": "UTC"},
        }
        return self.server.add_event(ALICE, body)["id"]

    def change(self, handle, title):
        event = self.server.mailboxes[ALICE][handle]
        event["subject"] = title
        self.server._stamp(event)

    def remove(self, handle):
        self.server._remove(ALICE, handle)

    def remote_titles(self):
        return self.subjects(self.alice)

    def test_first_sync_shows_the_total_graph_counts(self):
        for i in range(7):
            self.add(f"T{i:02d}", 1 + i)
        self.add("Long ago", -400)  # outside the window: neither listed nor counted
        self.server.log.clear()
        self.account.with_context(calendar_sync_max_pages=1)._sync()
        counted = [entry for entry in self.server.log if entry[1].endswith("/me/calendarView")]
        self.assertEqual(len(counted), 1)
        self.assertEqual(counted[0][2]["$count"], "true")
        self.assertEqual(self.account.sync_progress_total, 7)
        self.assertEqual(self.account.sync_progress_text, "3 of about 7 meetings")
        # asked once per listing, not per page
        self.account._sync()
        self.assertEqual(len([e for e in self.server.log if e[1].endswith("/me/calendarView")]), 1)
        self.assertEqual(self.account.sync_progress_count, 7)
        self.assertFalse(self.account.full_sync_running)

    def test_a_failed_count_never_fails_the_first_sync(self):
        for i in range(4):
            self.add(f"F{i:02d}", 1 + i)
        self.server.fail_next(count=20, status=500, on="count")
        self.account.with_context(calendar_sync_max_pages=1)._sync()
        self.assertEqual(self.account.sync_progress_total, 0)
        self.assertEqual(self.account.sync_progress_text, "3 meetings so far, page 1")
        self.server.clear_faults()
        self.account._sync()
        self.assertEqual(self.account.state, "synced", self.account.last_error)
        self.assert_mirrors_the_calendar()


class TestExchangeIncrementalPaging(IncrementalPagingCases, FakeEWSCase):
    def setUp(self):
        super().setUp()
        self.small_pages()
        self.account = self.subscribe(self.alice)

    def add(self, title, day):
        start = NOW + dt.timedelta(days=day)
        return self.server.add_item(ALICE, subject=title, start=start, end=start + dt.timedelta(hours=1))

    def change(self, handle, title):
        self.server.update_item(ALICE, handle, subject=title)

    def remove(self, handle):
        self.server.remove_item(ALICE, handle)

    def remote_titles(self):
        return self.subjects(self.alice)

    def test_first_sync_shows_the_total_exchange_counts(self):
        for i in range(7):
            self.add(f"T{i:02d}", 1 + i)
        self.server.log.clear()
        self.account.with_context(calendar_sync_max_pages=1)._sync()
        self.assertEqual([op for op, _ in self.server.log].count("FindItem"), 1)
        self.assertEqual(self.account.sync_progress_total, 7)
        self.assertEqual(self.account.sync_progress_text, "3 of about 7 meetings")
        self.account._sync()
        self.assertEqual(self.account.sync_progress_count, 7)
        self.assertEqual(self.account.state, "synced", self.account.last_error)

    def test_a_failed_count_never_fails_the_first_sync(self):
        for i in range(4):
            self.add(f"F{i:02d}", 1 + i)
        Provider = type(self.account._get_provider())
        with patch.object(Provider, "count_events", side_effect=RuntimeError("no count")):
            self.account._sync()
        self.assertEqual(self.account.state, "synced", self.account.last_error)
        self.assertEqual(self.account.sync_progress_total, 0)
        self.assert_mirrors_the_calendar()
