"""The scheduled sync: a fair, resumable pass that any number of cron workers share.

Each call of ``_cron_sync`` takes the accounts that are due, the longest-waiting
first, one at a time under a row lock (``FOR NO KEY UPDATE SKIP LOCKED``): an account
another worker (or a user's *Synchronise*) holds is skipped, never synced twice at
once. Every account is synced in its own transaction, committed on its own, within a
time budget below the cron's time limit; the call then reports
``ir.cron._notify_progress`` so Odoo's cron runner calls again while accounts remain.
An account that fails backs off exponentially (``next_sync_date``), so a dead server
costs its timeout once per back-off period and never delays the others.
"""

import json
import logging
import threading
import time
from datetime import timedelta
from time import monotonic

from psycopg2.errors import SerializationFailure

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL, config, create_index

from .calendar_sync_binding import SYNCABLE_STATES

_logger = logging.getLogger(__name__)

DEFAULT_INTERVAL_MINUTES = 10
DEFAULT_BACKOFF_MAX_MINUTES = 60
DEFAULT_CRON_LIMIT = 120  # seconds: Odoo's default limit_time_real
BUDGET_SHARE = 0.6  # of the cron time limit
DEFAULT_BATCH_SIZE = 1000  # accounts per call at most
# an account synced at t is due again at t + SPACING x the scheduled action's interval:
# a little less than the interval, so that the next run takes it even when this one
# reached it late in its pass
SPACING = 0.8
DEFAULT_REQUEST_TIMEOUT = 20  # seconds
# the cron runner calls again at once while work remains: a call within RUN_GAP seconds of
# the previous one of the same thread is part of the same run (and of its time limit)
RUN_GAP = 5
_RUNS = {}  # (thread id, database) -> (time the run started, time its last call ended)
_INTERVALS = {}  # database -> (time.time() until which it holds, the scheduled action's interval in seconds)
# what the current call of _cron_sync took once for all its accounts (settings), and with
# each account's lock (its credentials): see _cron_sync and _cron_lock_next_due
_PASS = threading.local()
# the sync's own bookkeeping columns: no tracking and no business logic in the ORM's write,
# so the scheduled pass writes them with one plain UPDATE (see _write_plain)
PLAIN_BOOKKEEPING = frozenset(
    {"last_sync_date", "last_full_sync_date", "next_sync_date", "sync_failures", "sync_state"}
)
DUE_ORDER = "COALESCE(a.next_sync_date, '-infinity'::timestamp)"  # never synced first, then the longest waiting


class CalendarSyncAccount(models.Model):
    _inherit = "calendar.sync.account"

    next_sync_date = fields.Datetime(
        "Next try at",
        readonly=True,
        copy=False,
        index=True,
        help="When the scheduled action syncs this calendar again (empty: at its next run). After failures "
        "it waits longer each time (1, 2, 4 ... minutes, up to an hour).",
    )
    sync_failures = fields.Integer(
        "Failed attempts in a row", readonly=True, copy=False, help="Reset by the next successful sync."
    )

    backlog_count = fields.Integer(
        "Writes waiting",
        compute="_compute_backlog_count",
        search="_search_backlog_count",
        help="Meetings changed in Odoo that wait to be written to this calendar.",
    )
    sync_lag_minutes = fields.Integer(
        "Lag (minutes)",
        compute="_compute_sync_lag",
        help="Minutes since this calendar was last mirrored completely.",
    )
    is_lagging = fields.Boolean(
        "Lagging",
        compute="_compute_sync_lag",
        search="_search_is_lagging",
        help="Subscribed, and not mirrored for more than three intervals of the scheduled action.",
    )

    def init(self):
        result = super().init()
        # the next due account is found at the head of this index (no scan and sort of all
        # accounts per account taken): the condition and the order of _cron_lock_next_due
        create_index(
            self.env.cr,
            "calendar_sync_account_due_index",
            self._table,
            [DUE_ORDER.replace("a.", ""), "id"],
            where="active AND needs_reauth IS NOT TRUE AND state IN (%s)"
            % ", ".join(f"'{s}'" for s in SYNCABLE_STATES),
        )
        return result

    # ------------------------------------------------------------------
    # health
    # ------------------------------------------------------------------
    def _compute_backlog_count(self):
        data = (
            self.env["calendar.sync.binding"]
            .sudo()
            ._read_group(
                [("account_id", "in", self.ids), ("state", "in", ("to_push", "to_delete"))], ["account_id"], ["__count"]
            )
        )
        counts = {account.id: count for account, count in data}
        for account in self:
            account.backlog_count = counts.get(account.id, 0)

    def _search_backlog_count(self, operator, value):
        if operator not in (">", "!=") or value not in (0, False):
            raise UserError(_("Writes waiting can only be searched as 'more than 0'."))
        # sudo: bindings of accounts the user may see; the account rules still apply to the result
        pending = (
            self.env["calendar.sync.binding"]
            .sudo()
            ._read_group([("state", "in", ("to_push", "to_delete"))], ["account_id"])
        )
        return [("id", "in", [account.id for (account,) in pending])]

    def _lag_limit(self):
        """Last sync before which this account is lagging: three intervals of its regular sync."""
        return fields.Datetime.now() - timedelta(seconds=3 * self._cron_interval_seconds())

    @api.model
    def _lagging_domain(self):
        """The accounts whose last sync is older than their _lag_limit()."""
        return [("last_sync_date", "<", self._lag_limit())]

    @api.depends("last_sync_date", "state")
    def _compute_sync_lag(self):
        now = fields.Datetime.now()
        for account in self:
            active = account.state not in ("draft", "paused") and account.active
            account.sync_lag_minutes = (
                int((now - account.last_sync_date).total_seconds() // 60) if account.last_sync_date else 0
            )
            account.is_lagging = active and (
                not account.last_sync_date or account.last_sync_date < account._lag_limit()
            )

    def _search_is_lagging(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("Lagging can only be searched as set or not set."))
        lagging = [
            ("state", "not in", ("draft", "paused")),
            "|",
            ("last_sync_date", "=", False),
            *self._lagging_domain(),
        ]
        # "!" before the whole domain (normalized: one expression), not before its first term
        return lagging if (operator == "=") == value else ["!", *expression.normalize_domain(lagging)]

    def action_retry_now(self):
        """'Retry now' (list, several accounts): due at once for the scheduled sync, which is woken."""
        self.check_access("write")
        subscribed = self.filtered(lambda a: a.state not in ("draft", "paused"))
        # a revoked grant is never retried by the scheduled sync: only subscribing again helps
        revoked = subscribed.filtered("needs_reauth")
        accounts = subscribed - revoked
        # sudo: the schedule's own fields; who may retry was checked above
        accounts.sudo().write({"next_sync_date": False})
        cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync", raise_if_not_found=False)
        if cron and accounts:
            cron.sudo()._trigger()  # sudo: users may not read scheduled actions; this only wakes it
        if len(accounts) == 1:
            lines = [_("1 calendar will be synchronised within a minute.")]
        elif accounts:
            lines = [_("%s calendars will be synchronised within a minute.", len(accounts))]
        else:
            lines = [_("No calendar will be synchronised.")]
        if len(revoked) == 1:
            lines.append(_("1 calendar lost its access: it is synchronised again once its user subscribes it again."))
        elif revoked:
            lines.append(
                _(
                    "%s calendars lost their access: each is synchronised again once its user subscribes it again.",
                    len(revoked),
                )
            )
        skipped = len(self) - len(subscribed)
        if skipped:
            lines.append(_("%s not subscribed or paused were left alone.", skipped))
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "warning" if revoked else "info",
                "message": " ".join(lines),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    # ------------------------------------------------------------------
    # the scheduled action
    # ------------------------------------------------------------------
    @api.model
    def _cron_sync(self, limit=None):
        """Scheduled action: sync the due accounts, one transaction each, within a time budget.

        Returns the number of accounts synced by this call. Progress goes to
        ``ir.cron._notify_progress``; Odoo's runner calls again while some remain.
        """
        if not self._sync_enabled():
            return 0
        testing = getattr(threading.current_thread(), "testing", False)
        deadline = self._cron_deadline()
        limit = limit or int(self._param("cron_batch_size", DEFAULT_BATCH_SIZE) or DEFAULT_BATCH_SIZE)
        reserve = self._request_timeout()  # the most one account may take (its requests' timeout)
        done, seen = 0, set()
        # settings are read once per call; each account's row and credentials come with its lock
        _PASS.memo = {
            "db": self.env.cr.dbname,
            "params": {},
            "credentials": {},
            "locked": None,
            "lock_count": None,
            "quiet_at": None,
        }
        try:
            while done < limit and deadline - monotonic() > reserve:
                row = self._cron_lock_next_due()
                if not row:
                    break
                account_id = row[0]
                if account_id in seen:  # its next date did not move: never loop on it
                    if self.browse(account_id).sudo().sync_resume:
                        # a paged listing paused between pages is due again at once: expected
                        _logger.debug("Calendar account %s: its listing continues in the next run.", account_id)
                    else:
                        _logger.warning("Calendar account %s came back in the same run; stopping this run.", account_id)
                    break
                seen.add(account_id)
                # a record of its own: reading it never prefetches the other accounts' data
                self.browse(account_id)._cron_sync_one()
                done += 1
                self._cron_keep_durable()
                _PASS.memo.update(locked=None, credentials={}, quiet_at=None)
                if testing:
                    self.env.invalidate_all()  # tests never commit: drop the cache as a commit does
                else:
                    # the account, its bookkeeping and its lock end here
                    self.env.cr.commit()  # pylint: disable=invalid-commit
        finally:
            _PASS.memo = None
        _RUNS[self._cron_run_key()] = (self._cron_run_started(), time.time())
        remaining = self._cron_count_due()
        if remaining and not done:
            # the run's time is spent: Odoo's runner takes a call without progress for "all
            # done", so ask for a new run now (a fresh time limit) rather than in an interval
            cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger()
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        return done

    def _cron_sync_one(self):
        """Sync this (locked) account; the result schedules its next sync. Waiting writes are the push job's."""
        self.ensure_one()
        try:
            # its own savepoints: a failed sync leaves nothing half-written; a full listing
            # commits page by page within the time budget (calendar_sync_account_paging.py)
            self.with_context(calendar_sync_background=True)._sync(raise_errors=False)
        except Exception:
            # a bug must not stop the other accounts; it is logged with its traceback
            _logger.exception("Calendar account %s failed to sync", self.id)
            if not getattr(threading.current_thread(), "testing", False):
                memo = self._cron_pass()
                if memo is not None:
                    memo["locked"] = None  # the rollback releases the lock taken with the account
                self.env.cr.rollback()  # this account's transaction only
                if not self._try_lock():  # another worker took it meanwhile: its result stands
                    return
            self.write(
                {"state": "error", "last_error": _("The synchronisation failed unexpectedly; see the server log.")}
            )
            self._schedule_retry()

    def _cron_due_sql(self):
        # what the ORM still holds in memory goes to the database first (nothing, after a commit)
        self.flush_model(["active", "state", "needs_reauth", "next_sync_date"])
        return SQL(
            """a.active AND a.state IN %s AND a.needs_reauth IS NOT TRUE AND %s <= %s""",
            SYNCABLE_STATES,
            SQL(DUE_ORDER),
            fields.Datetime.now(),
        )

    def _cron_lock_next_due(self):
        """(id,) of the longest-waiting due account nobody holds, now locked; or None.

        The same query reads the account's row into the cache and its credentials (kept for
        this account's sync): one statement per account instead of a lock, a read and a
        credentials read. Called at the start of a transaction. When another worker synced
        and committed an account after this transaction's snapshot, PostgreSQL refuses to
        lock it (serialisation failure): start a new transaction, which sees it done, and
        look again.
        """
        columns = self._cron_row_fields()
        self.env["calendar.sync.credential"].flush_model(["account_id", "token_data", "password"])
        query = SQL(
            """SELECT a.id, c.token_data, c.password, %s
                 FROM calendar_sync_account a
            LEFT JOIN calendar_sync_credential c ON c.account_id = a.id
                WHERE %s
             ORDER BY %s, a.id
                LIMIT 1
                  FOR NO KEY UPDATE OF a SKIP LOCKED""",
            type(self)._cron_row_select,
            self._cron_due_sql(),
            SQL(DUE_ORDER),
        )
        for _attempt in range(5):
            try:
                self.env.cr.execute(query, log_exceptions=False)
            except SerializationFailure:
                if getattr(threading.current_thread(), "testing", False):
                    raise
                self.env.cr.rollback()  # nothing of ours is lost: this transaction only read so far
                continue
            row = self.env.cr.fetchone()
            if not row:
                return None
            account = self.browse(row[0])
            for field, value in zip(columns, row[3:], strict=True):
                # as the ORM's own read does: what the cache holds (a pending write) stays
                self.env.cache.insert_missing(account, field, [value])
            memo = self._cron_pass()
            if memo is not None:
                memo["locked"] = account.id
                memo["credentials"][account.id] = (row[1], row[2])
                memo["lock_count"] = self.env.cr.sql_log_count  # statements run so far (see _write_plain)
            return row[:1]
        return None

    def _cron_row_fields(self):
        """The account's plain columns, read with its lock."""
        cls = type(self)
        if "_cron_row_columns" not in cls.__dict__:
            cls._cron_row_columns = tuple(
                field
                for name, field in self._fields.items()
                if field.store
                and field.column_type
                and name != "id"
                and not field.translate
                and not field.company_dependent
                and field.type != "binary"
            )
            # composed once: the statement runs once per account
            cls._cron_row_select = SQL(
                ", ".join(SQL.identifier("a", field.name).code for field in cls._cron_row_columns)
            )
        return cls._cron_row_columns

    @api.model
    def _cron_pass(self):
        """What the current call of _cron_sync in this thread took once (None outside of one)."""
        memo = getattr(_PASS, "memo", None)
        return memo if memo is not None and memo["db"] == self.env.cr.dbname else None

    @api.model
    def _param(self, key, default=None):
        memo = self._cron_pass()
        if memo is None:
            return super()._param(key, default)
        # read once per call of the scheduled action, not once per account
        if (key, default) not in memo["params"]:
            memo["params"][key, default] = super()._param(key, default)
        return memo["params"][key, default]

    def _get_credentials(self):
        memo = self._cron_pass()
        if memo is None or self.id not in memo["credentials"]:
            return super()._get_credentials()
        # read with the account's lock, in this transaction; used once (a refresh writes new ones)
        token_data, password = memo["credentials"].pop(self.id)
        return (json.loads(token_data) if token_data else None), password or False

    def _try_lock(self):
        memo = self._cron_pass()
        if memo is not None and memo["locked"] == self.id:
            return True  # locked by this transaction's _cron_lock_next_due
        return super()._try_lock()

    def _cron_quiet_write(self):
        """Whether this bookkeeping UPDATE is the first statement after the account's lock.

        A scheduled sync that found nothing new writes only the account's bookkeeping (when
        it synced, when it is due again, maybe the service's new sync token): its commit
        need not wait for the disk (``synchronous_commit`` off, for this transaction only).
        Should the database server crash in the following split second, that bookkeeping is
        lost and the account is simply synced again from the previous token: nothing was
        written to Odoo or to the service. On a busy disk this is most of a no-change sync's
        cost (a flushed commit took 3.7 ms here, 0.9 ms without the wait).
        """
        memo = self._cron_pass()
        return (
            memo is not None
            and memo["locked"] == self.id
            and memo["lock_count"] is not None
            and self.env.cr.sql_log_count == memo["lock_count"]
        )

    def _cron_keep_durable(self):
        """Anything written after a quiet bookkeeping UPDATE makes the commit wait for the disk again."""
        memo = self._cron_pass()
        if memo is None or memo["quiet_at"] is None:
            return
        self.env.flush_all()  # what the ORM still holds is written now (the commit would do it)
        if self.env.cr.sql_log_count != memo["quiet_at"]:
            self.env.cr.execute("SET LOCAL synchronous_commit TO on")

    def _cron_count_due(self):
        self.env.cr.execute(SQL("SELECT count(*) FROM calendar_sync_account a WHERE %s", self._cron_due_sql()))
        return self.env.cr.fetchone()[0]

    @api.model
    def _cron_deadline(self):
        """monotonic() past which a call takes no further account.

        The budget is ``webcrm_calendar_sync.cron_time_budget`` seconds, or 60 % of the
        cron time limit (``limit_time_real_cron``, else ``limit_time_real``, else 120 s).
        Odoo's limit covers the whole run of a cron worker, in which the runner calls this
        method up to ten times in a row: the budget counts from the start of that run.
        """
        budget = float(self._param("cron_time_budget", 0) or 0)
        if budget <= 0:
            limit = config.get("limit_time_real_cron")
            if limit is None or limit < 0:
                limit = config.get("limit_time_real")
            budget = (limit if limit and limit > 0 else DEFAULT_CRON_LIMIT) * BUDGET_SHARE
        return monotonic() + (self._cron_run_started() + budget - time.time())

    def _cron_run_key(self):
        return (threading.get_ident(), self.env.cr.dbname)

    def _cron_run_started(self):
        """time.time() at which the current run of the cron worker started.

        The threaded server records it on the thread; otherwise (prefork workers) a call
        that follows this thread's previous call within seconds belongs to the same run.
        """
        started = getattr(threading.current_thread(), "start_time", None)
        if started:
            return started
        now = time.time()
        started, last_end = _RUNS.get(self._cron_run_key(), (None, 0))
        if started is None or now - last_end > RUN_GAP:
            started = now
            _RUNS[self._cron_run_key()] = (started, now)
        return started

    @api.model
    def _request_timeout(self):
        """Seconds a calendar service may take to answer one request (``webcrm_calendar_sync.request_timeout``)."""
        return float(self._param("request_timeout", DEFAULT_REQUEST_TIMEOUT) or DEFAULT_REQUEST_TIMEOUT)

    @api.model
    def _cron_interval_seconds(self):
        """The scheduled action's interval in seconds (read at most once a minute per database)."""
        now = time.time()
        expires, seconds = _INTERVALS.get(self.env.cr.dbname, (0, None))
        if now < expires:
            return seconds
        cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync", raise_if_not_found=False)
        seconds = DEFAULT_INTERVAL_MINUTES * 60
        if cron:
            unit = {"minutes": 60, "hours": 3600, "days": 86400, "weeks": 604800, "months": 2592000}
            seconds = max(cron.sudo().interval_number, 1) * unit.get(cron.sudo().interval_type, 60)
        _INTERVALS[self.env.cr.dbname] = (now + 60, seconds)
        return seconds

    def _next_regular_sync_date(self):
        return fields.Datetime.now() + timedelta(seconds=self._cron_interval_seconds() * SPACING)

    # ------------------------------------------------------------------
    # back-off
    # ------------------------------------------------------------------
    def _schedule_retry(self):
        """After a failure: wait 1, 2, 4 ... minutes (up to the configured maximum) before the next try."""
        cap = int(self._param("backoff_max_minutes", DEFAULT_BACKOFF_MAX_MINUTES) or DEFAULT_BACKOFF_MAX_MINUTES)
        now = fields.Datetime.now()
        for account in self:
            failures = account.sync_failures + 1
            delay = min(2 ** min(failures - 1, 20), cap)
            account.write({"sync_failures": failures, "next_sync_date": now + timedelta(minutes=delay)})

    def _record_error(self, exc):
        result = super()._record_error(exc)
        self._schedule_retry()
        return result

    def _write_sync_outcome(self, vals):
        # synced: the next regular sync comes an interval later (written with the sync's own UPDATE)
        vals = dict(vals, next_sync_date=self._next_regular_sync_date())
        if self.sync_failures:
            vals["sync_failures"] = 0
        if self.env.su and vals.keys() <= PLAIN_BOOKKEEPING:
            return self._write_plain(vals)
        return super()._write_sync_outcome(vals)

    def _write_plain(self, vals):
        """Write bookkeeping columns (PLAIN_BOOKKEEPING) with one UPDATE, the cache kept in step.

        What the ORM's write adds costs more than the write itself here (a clock read for
        ``write_date``, mail tracking, access checks): none of it applies to these columns.
        """
        self.ensure_one()
        names = sorted(vals)
        assert set(names) <= PLAIN_BOOKKEEPING, names
        # a pending write of these columns would come after ours; a pending ORM write of others
        # goes first too (its write_date, of this transaction, is dropped from the cache below)
        self.flush_recordset([*names, "write_uid", "write_date"])
        fields_ = [self._fields[name] for name in names]
        values = [field.convert_to_cache(vals[field.name], self) for field in fields_]
        quiet = self._cron_quiet_write()
        self.env.cr.execute(
            SQL(
                "%sUPDATE calendar_sync_account SET %s, write_uid = %s, write_date = (now() AT TIME ZONE 'UTC') "
                "WHERE id = %s",
                SQL("SET LOCAL synchronous_commit TO off; ") if quiet else SQL(),
                SQL(", ").join(
                    SQL("%s = %s", SQL.identifier(name), value) for name, value in zip(names, values, strict=True)
                ),
                self.env.uid,
                self.id,
            )
        )
        if quiet:
            self._cron_pass()["quiet_at"] = self.env.cr.sql_log_count
        for field, value in zip(fields_, values, strict=True):
            self.env.cache.update(self, field, [value])
        self.invalidate_recordset(["write_uid", "write_date"], flush=False)
        self.modified(names)
