"""Full listings page by page: a first sync (or a full resync) of any size.

A full listing is read one provider page at a time (Google ``pageToken``, Graph
``@odata.nextLink``, an EWS ``SyncFolderItems`` batch). Each page is converted,
reconciled and applied under its own savepoint, and where the listing stands (the
page to read next, the window, how far it got) is kept on the account with it. In the
background (the scheduled actions) each page is committed: a worker killed between
pages loses nothing, and the next run resumes at the next page. A call stops between
pages before the cron time budget runs out and leaves the account due at once.

An incremental listing (the changes since the stored sync state: a Google ``syncToken``
listing, a Graph delta, ``SyncFolderItems`` from a sync state) is read the same way: each
page applied under a savepoint with where the listing stands (the sync state it continues
and its next page), committed in the background, paused at the budget. Its deletions are
explicit, so each page stands alone; the new sync state is stored with the last page only.

What a full listing left out cannot be known before its last page: each page marks the
bindings it names (``calendar.sync.binding.listed_run``), and after the last page the
bindings left unmarked are judged together (:func:`engine.reconcile.plan_sweep`), with
the same guard against collapsed listings as a listing read at once.
"""

import json
import logging
import secrets
import threading
from contextlib import nullcontext
from time import monotonic

from odoo import _, api, fields, models
from odoo.tools import SQL
from odoo.tools.misc import formatLang

from ..engine import errors as sync_errors
from ..engine.events import Window, normalize_ical_uid, utc
from ..engine.reconcile import plan_sweep

_logger = logging.getLogger(__name__)

# a page must fit in what is left of the budget: the slowest page so far, with this margin
PAGE_MARGIN = 1.5
# seconds a sync run in a request (a button) spends on the pages of an incremental listing;
# what is left is read by the scheduled sync
FOREGROUND_BUDGET = 20.0


class CalendarSyncAccount(models.Model):
    _inherit = "calendar.sync.account"

    sync_resume = fields.Text(
        "Full listing resume point",
        groups="base.group_system",
        copy=False,
        help="Where a full listing read page by page stands (run, next page, window): the next sync resumes there.",
    )
    full_sync_running = fields.Boolean(
        "Full sync under way",
        readonly=True,
        copy=False,
        help="A first sync or a full resync runs in the background, page by page.",
    )
    sync_progress_count = fields.Integer("Meetings listed so far", readonly=True, copy=False)
    sync_progress_total = fields.Integer(
        "Meetings expected",
        readonly=True,
        copy=False,
        help="About how many meetings the full listing holds (the provider's count, or the meetings already "
        "mirrored for a resync); 0 when unknown.",
    )
    sync_progress_pages = fields.Integer("Pages done", readonly=True, copy=False)
    sync_progress_text = fields.Char("Progress", compute="_compute_sync_progress_text")

    @api.depends("full_sync_running", "sync_progress_count", "sync_progress_total", "sync_progress_pages")
    @api.depends_context("lang")
    def _compute_sync_progress_text(self):
        for account in self:
            if not account.full_sync_running:
                account.sync_progress_text = False
                continue
            done = account.sync_progress_count
            total = account.sync_progress_total
            if not account.sync_progress_pages:
                account.sync_progress_text = _("Waiting for the background sync to start")
            elif total and total >= done:
                account.sync_progress_text = _(
                    "%(done)s of about %(total)s meetings",
                    done=formatLang(self.env, done, digits=0),
                    total=formatLang(self.env, total, digits=0),
                )
            else:
                account.sync_progress_text = _(
                    "%(done)s meetings so far, page %(pages)s",
                    done=formatLang(self.env, done, digits=0),
                    pages=account.sync_progress_pages,
                )

    # ------------------------------------------------------------------
    # queueing
    # ------------------------------------------------------------------
    def _needs_full_listing(self):
        """Whether the next sync of this account lists the whole calendar (first sync, or one under way)."""
        self.ensure_one()
        return not self.sudo().sync_state or bool(self._resume_point("full")) or self.full_sync_running

    def _resume_point(self, kind):
        """Where a paged listing of ``kind`` ("full" or "changes") stands, or None.

        An incremental listing's resume point names the sync state it continues (``state``)."""
        resume = json.loads(self.sudo().sync_resume or "null")
        if not resume or ("state" in resume) != (kind == "changes"):
            return None
        return resume

    def _queue_rest(self):
        """A paged listing stopped between pages (time budget): the scheduled sync goes on with it."""
        if self._resume_point("changes") and not self.full_sync_running:
            self.sudo().write({"next_sync_date": False})
            cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger()  # sudo: users may not read scheduled actions; this only wakes it
        else:
            self._queue_full_sync()

    def _queue_after_subscribe(self):
        """A calendar was just subscribed: its first sync starts in the background at once.

        Never synced (or a full listing under way): a full listing is queued, read page by
        page by the scheduled sync (``_queue_full_sync``). Subscribed again with a sync state
        kept (access granted anew after a revocation): the account is due at once and the
        scheduled sync woken. Nothing is read from the provider here: this runs in the
        request that subscribed (the OAuth return, "Save and subscribe"), whose answer must
        not wait for a whole calendar.

        :returns: the sentence telling the user so, in their language
        """
        full = self.filtered(lambda a: a._needs_full_listing())
        full._queue_full_sync()
        due = self - full
        if due:
            # sudo: the schedule is not writable by users (the caller subscribed the account)
            due.sudo().write({"next_sync_date": False})
            cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger()  # sudo: users may not read scheduled actions; this only wakes it
        # writes refused while the grant was missing waited for this one: they go out now
        self.env["calendar.sync.binding"]._wake_waiting_writes(self)
        return _(
            "Subscribed. Your meetings are being copied in the background; they appear in Odoo's calendar "
            "within a few minutes. Nothing more to do."
        )

    def _queue_full_sync(self, restart=False):
        """Have the scheduled sync run a full listing of these accounts at once, in the background.

        ``restart``: start the listing over (a full resync) rather than resume one under way.
        """
        for account in self:
            vals = {"full_sync_running": True, "next_sync_date": False}
            if restart or not account.full_sync_running:
                vals.update(sync_progress_count=0, sync_progress_pages=0, sync_progress_total=0)
            if restart:
                vals.update(sync_state=False, sync_resume=False)
            # sudo: the sync state and the schedule are not writable by users (the caller checked access)
            account.sudo().write(vals)
        cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync", raise_if_not_found=False)
        if cron and self:
            cron.sudo()._trigger()  # sudo: users may not read scheduled actions; this only wakes it

    # ------------------------------------------------------------------
    # the paged listing
    # ------------------------------------------------------------------
    def _sync_in_background(self):
        """Called by a scheduled action (or told so): commit each page, and mind the time budget."""
        return bool(self.env.context.get("cron_id") or self.env.context.get("calendar_sync_background"))

    def _sync_pages(self, provider):
        """List the whole window page by page, from where a previous call stopped.

        Returns the summary of the pages applied by this call; ``partial`` is True when it
        stopped before the last page (time budget, ``calendar_sync_max_pages`` in the context,
        or the account taken by another worker between two pages): the account is then left
        due, and the listing resumes at the next page.
        """
        self.ensure_one()
        background = self._sync_in_background()
        testing = getattr(threading.current_thread(), "testing", False)
        commit = background and not testing
        deadline = self._cron_deadline() if background else None
        reserve = self._request_timeout()
        resume = self._resume_point("full") or self._start_listing(provider)
        window = Window(*(utc(fields.Datetime.to_datetime(d)) for d in resume["window"]))
        totals, pages, slowest = {}, 0, 0.0
        while True:
            started = monotonic()
            with self.env.cr.savepoint():
                try:
                    changes = provider.list_page(None, window, resume["page"])
                except sync_errors.SyncStateExpired:
                    if not resume["page"]:
                        raise
                    # the provider no longer knows where the listing stood: it starts over
                    _logger.info("Calendar account %s: the listing's page expired; listing again", self.id)
                    resume = self._start_listing(provider)
                    window = Window(*(utc(fields.Datetime.to_datetime(d)) for d in resume["window"]))
                    continue
                summary = self._apply_page(changes, window, resume)
                if changes.next_page:
                    self._keep_resume(resume, changes)
                else:
                    summary = _add(summary, self._sweep_unlisted(resume["run"], window))
                    self._finish_listing(summary, changes)
            totals = _add(totals, summary)
            pages += 1
            slowest = max(slowest, monotonic() - started)
            if not changes.next_page:
                return totals
            if self._stop_between_pages(commit, pages, deadline, reserve + slowest * PAGE_MARGIN, resume):
                return dict(totals, partial=True)

    def _stop_between_pages(self, commit, pages, deadline, needed, resume):
        """After a page that more pages follow: commit it (in the background), and say whether
        this call stops here (``calendar_sync_max_pages`` reached, less than ``needed`` seconds
        left before ``deadline``, or the account taken by another worker after the commit)."""
        if commit:
            self.env.cr.commit()  # pylint: disable=invalid-commit
            memo = self._cron_pass()
            if memo is not None:
                memo["locked"] = None  # the commit released the lock taken with the account
            if not self._try_lock():  # taken between two pages: the other worker goes on
                return True
        else:
            # what is applied stays in this transaction; the cache need not hold it
            self.env.invalidate_all()
        max_pages = self.env.context.get("calendar_sync_max_pages") or 0
        if max_pages and pages >= max_pages:
            return True
        if deadline is not None and deadline - monotonic() < needed:
            _logger.info(
                "Calendar account %s: %s listing paused after page %s (time budget); it resumes next run",
                self.id,
                "incremental" if "state" in resume else "full",
                resume["pages"],
            )
            return True
        return False

    # ------------------------------------------------------------------
    # the paged incremental listing
    # ------------------------------------------------------------------
    def _sync_changes(self, provider, state):
        """The changes since ``state``, page by page, from where a previous call stopped.

        Each page is applied under its own savepoint with the resume point (the sync state it
        continues and the page to read next); in the background each page is committed, and
        the call stops between pages at the time budget (in a request, after
        ``FOREGROUND_BUDGET`` seconds), leaving the rest to the scheduled sync. The new sync
        state is stored with the last page only: until then a resumed or restarted listing
        continues from ``state``. Returns the summary of the pages applied by this call
        (``partial`` when it stopped before the last page)."""
        self.ensure_one()
        background = self._sync_in_background()
        commit = background and not getattr(threading.current_thread(), "testing", False)
        deadline = self._cron_deadline() if background else monotonic() + FOREGROUND_BUDGET
        reserve = self._request_timeout() if background else 0.0
        resume = self._resume_point("changes")
        if not resume or resume["state"] != state:
            resume = self._start_changes(state)
        window = Window(*(utc(fields.Datetime.to_datetime(d)) for d in resume["window"]))
        totals, pages, slowest, restarted = {}, 0, 0.0, False
        while True:
            started = monotonic()
            try:
                changes = provider.list_page(state, window, resume["page"])
            except sync_errors.SyncStateExpired:
                if not resume["page"] or restarted:
                    raise
                # the page expired, not the sync state: the listing starts again from it
                # (the pages applied before come again, unchanged or newer: applied alike)
                _logger.info("Calendar account %s: the change listing's page expired; listing again", self.id)
                restarted = True
                resume = self._start_changes(state)
                window = Window(*(utc(fields.Datetime.to_datetime(d)) for d in resume["window"]))
                continue
            # the page and where the listing stands, together or not at all; nothing new (the
            # common case) needs no savepoint: it writes only the account's bookkeeping
            empty = not (changes.next_page or changes.events or changes.deleted_ids or changes.invalid)
            with nullcontext() if empty and not changes.complete_series else self.env.cr.savepoint():
                summary = self._apply_changes(changes, window, page=resume["pages"])
                resume["pages"] += 1
                totals = _add(totals, summary)
                if changes.next_page:
                    resume["page"] = changes.next_page
                    self.sudo().write({"sync_resume": json.dumps(resume), "next_sync_date": fields.Datetime.now()})
                else:
                    if self.sudo().sync_resume:
                        self.sudo().write({"sync_resume": False})
                    self._sync_succeeded(totals, changes, state)
            pages += 1
            slowest = max(slowest, monotonic() - started)
            if not changes.next_page:
                return totals
            if self._stop_between_pages(commit, pages, deadline, reserve + slowest * PAGE_MARGIN, resume):
                return dict(totals, partial=True)

    def _start_changes(self, state):
        """A new incremental listing from ``state``: the window it is applied to, and no page yet."""
        window = self._window()
        return {
            "state": state,
            "page": None,
            "window": [fields.Datetime.to_string(window.start), fields.Datetime.to_string(window.end)],
            "pages": 0,
        }

    def _start_listing(self, provider=None):
        """A new full listing: its run number (marks the bindings it names) and its window.

        How many meetings to expect is asked of the provider once, here (Microsoft 365 and
        Exchange can say in one small request; Google cannot); else, for a resync, the
        meetings already mirrored. A count that fails only leaves the total unknown."""
        window = self._window()
        estimate = self._count_remote(provider, window)
        if estimate is None:
            estimate = (
                self.env["calendar.sync.binding"]
                .sudo()
                .search_count([("account_id", "=", self.id), ("external_id", "!=", False)])
            )
        self.write(
            {
                "full_sync_running": True,
                "sync_progress_count": 0,
                "sync_progress_pages": 0,
                "sync_progress_total": estimate,
            }
        )
        return {
            "run": secrets.randbelow(2**31 - 1) + 1,
            "page": None,
            "window": [fields.Datetime.to_string(window.start), fields.Datetime.to_string(window.end)],
            "pages": 0,
        }

    def _count_remote(self, provider, window):
        """The provider's count of the meetings a full listing of ``window`` reads, or None."""
        if provider is None:
            return None
        try:
            count = provider.count_events(window)
        except Exception as exc:  # noqa: BLE001 - a count is a nicety: whatever fails, the sync goes on
            _logger.info("Calendar account %s: the meetings could not be counted (%s)", self.id, type(exc).__name__)
            return None
        return count if isinstance(count, int) and count >= 0 else None

    def _apply_page(self, changes, window, resume):
        """Apply one page and mark the bindings it named as listed by this run."""
        summary = self._apply_changes(changes, window, page=resume["pages"])
        named = {r.external_id for r in changes.events if r.external_id}
        named.update(changes.deleted_ids)
        named.update(external_id for external_id, _reason in changes.invalid if external_id)
        if named:
            Binding = self.env["calendar.sync.binding"]
            Binding.flush_model(["account_id", "external_id"])
            self.env.cr.execute(
                SQL(
                    "UPDATE calendar_sync_binding SET listed_run = %s WHERE account_id = %s AND external_id = ANY(%s)",
                    resume["run"],
                    self.id,
                    sorted(named),
                )
            )
            Binding.invalidate_model(["listed_run"])
        resume["pages"] += 1
        listed = changes.listed if changes.listed is not None else len(changes.events) + len(changes.invalid)
        vals = {"sync_progress_pages": resume["pages"], "sync_progress_count": self.sync_progress_count + listed}
        if changes.estimated_total:
            vals["sync_progress_total"] = changes.estimated_total
        self.write(vals)
        return summary

    def _keep_resume(self, resume, changes):
        """Where the listing resumes, kept with the page just applied, and the account due now:
        after the accounts that were already waiting (a long first sync never holds them up)."""
        resume["page"] = changes.next_page
        self.sudo().write({"sync_resume": json.dumps(resume), "next_sync_date": fields.Datetime.now()})

    def _finish_listing(self, summary, changes):
        self.sudo().write({"sync_resume": False, "full_sync_running": False})
        self._sync_succeeded(summary, changes, None)

    def _page_binding_domain(self, changes):
        """The bindings one page may concern: those it names, those sharing its UIDs (second
        copies), and the occurrences of the series it deletes or lists completely."""
        ids = [r.external_id for r in changes.events if r.external_id]
        ids += [external_id for external_id, _reason in changes.invalid if external_id]
        keys = sorted({normalize_ical_uid(r.ical_uid) for r in changes.events if r.ical_uid} - {None})
        series = list(changes.deleted_ids) + list(changes.complete_series)
        return [
            "|",
            "|",
            ("external_id", "in", ids + list(changes.deleted_ids)),
            ("ical_uid_key", "in", keys),
            ("series_id", "in", series),
        ]

    def _sweep_unlisted(self, run, window):
        """After the last page: the bindings no page named are judged (removed, or held when the
        listing collapsed), as one full listing read at once would judge them."""
        Binding = self.env["calendar.sync.binding"].sudo()
        Binding.flush_model()
        self.env["calendar.event"].flush_model(["start"])
        unlisted = Binding.search(
            [
                ("account_id", "=", self.id),
                ("external_id", "!=", False),
                "|",
                ("listed_run", "=", False),
                ("listed_run", "!=", run),
            ]
        )
        self.env.cr.execute(
            SQL(
                """SELECT count(*) FROM calendar_sync_binding b
                     LEFT JOIN calendar_event e ON e.id = b.event_id
                    WHERE b.account_id = %s AND b.external_id IS NOT NULL
                      AND (e.start IS NULL OR (e.start >= %s AND e.start < %s))""",
                self.id,
                window.start.replace(tzinfo=None),
                window.end.replace(tzinfo=None),
            )
        )
        in_window = self.env.cr.fetchone()[0]
        held = json.loads(self.sudo().sync_held_ids or "null")
        plan = plan_sweep([b._to_state() for b in unlisted], in_window, window=window, held_ids=held)
        if plan.delete:
            Binding._apply_plan(self, plan)
        held_ids = json.dumps(plan.held_ids) if plan.hold_sync_state else False
        if held_ids != (self.sudo().sync_held_ids or False):
            self.sudo().sync_held_ids = held_ids
        return plan.summary()


def _add(totals, summary):
    """Sum two plan summaries (counts add up; a held listing stays held)."""
    result = dict(totals)
    for key, value in (summary or {}).items():
        if isinstance(value, bool):
            result[key] = result.get(key, False) or value
        elif isinstance(value, int):
            result[key] = result.get(key, 0) + value
    return result
