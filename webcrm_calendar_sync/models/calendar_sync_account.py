import json
import logging
import threading
from datetime import datetime, timedelta

import psycopg2.errors

from odoo import _, _lt, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..engine import errors as sync_errors
from ..engine.events import BAD_DATE, END_BEFORE_START, MASTER, NO_ID, NO_START, UNREADABLE, UTC, Window
from ..engine.providers.google import google_event_id
from ..engine.providers.microsoft import transaction_id
from ..engine.reconcile import plan_changes, uid_key
from .calendar_sync_binding import SYNCABLE_STATES, ConcurrentUidSync

_logger = logging.getLogger(__name__)

PROVIDERS = [
    ("google", "Google Calendar"),
    ("microsoft", "Microsoft 365"),
    ("exchange", "Exchange server"),
]
PARAM_PREFIX = "webcrm_calendar_sync."
# why the engine could not mirror an event (engine.events.INVALID_REASONS), in words
INVALID_REASONS = {
    NO_ID: _lt("the calendar gave it no id"),
    NO_START: _lt("it has no start"),
    END_BEFORE_START: _lt("it ends before it starts"),
    BAD_DATE: _lt("its dates cannot be read"),
    UNREADABLE: _lt("the calendar sent it in a form that cannot be read"),
}
DEFAULT_DAYS_BACK = 90
DEFAULT_DAYS_AHEAD = 365
DEFAULT_REFRESH_THRESHOLD = 60
DEFAULT_CONNECT_TIMEOUT = 5
LAST_ERROR_MAX = 1000  # characters of an error kept on the account
# Who owns an account: fixed for ordinary users, moved only by calendar-sync administrators.
OWNER_FIELDS = ("user_id", "company_id")
# Where an account's secret is sent: changing any of them drops the secret (see write()).
CONNECTION_FIELDS = {
    "exchange": ("ews_url", "email", "ews_auth_type"),
    "microsoft": ("email",),
    "google": (),
}


class RetryTransaction(psycopg2.errors.SerializationFailure):
    """Raised to have Odoo run the whole request again in a new transaction (its usual answer
    to a serialization failure, see odoo.service.model.retrying), never shown to the user."""

    pgcode = "40001"


class CalendarSyncAccount(models.Model):
    """One external calendar subscription of one user (the connector's *backend*)."""

    _name = "calendar.sync.account"
    _description = "Synced Calendar Account"
    _inherit = ["mail.thread"]
    _order = "user_id, id"

    name = fields.Char(compute="_compute_name", store=True)
    active = fields.Boolean(default=True)
    user_id = fields.Many2one(
        "res.users",
        required=True,
        default=lambda self: self.env.user,
        ondelete="cascade",
        index=True,
        tracking=True,
    )
    partner_id = fields.Many2one(related="user_id.partner_id")
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    provider = fields.Selection(PROVIDERS, required=True, default="google", tracking=True)
    email = fields.Char(
        string="E-mail address",
        default=lambda self: self.env.user.email,
        help="The address of the external calendar (Microsoft 365 login, Exchange mailbox). A new account "
        "starts with the user's own.",
    )
    ews_url = fields.Char(
        string="EWS URL",
        help="Address of the Exchange Web Services, e.g. https://yourdomain.com/EWS/Exchange.asmx",
    )
    ews_auth_type = fields.Selection(
        [("basic", "Basic"), ("ntlm", "NTLM")],
        string="Authentication",
        help="Leave empty to let the server say which one it accepts (learnt at 'Save and subscribe').",
    )
    password = fields.Char(
        compute="_compute_password",
        inverse="_inverse_password",
        help="Stored encrypted from users: it is never shown again once saved.",
    )
    has_credentials = fields.Boolean(compute="_compute_has_credentials")
    state = fields.Selection(
        [
            ("draft", "Not subscribed"),
            ("subscribed", "Subscribed"),
            ("synced", "Synced"),
            ("error", "Error"),
            ("paused", "Paused"),
        ],
        default="draft",
        required=True,
        tracking=True,
        copy=False,
    )
    last_sync_date = fields.Datetime("Last synced", readonly=True, copy=False)
    sync_requested_date = fields.Datetime(
        "Sync requested",
        readonly=True,
        copy=False,
        index=True,
        help="Set when the calendar view asked for a sync (page load or refresh button); the scheduled "
        "action 'sync requested calendars' takes these accounts, oldest request first, and clears it.",
    )
    last_full_sync_date = fields.Datetime("Last full sync", readonly=True, copy=False)
    last_error = fields.Text(readonly=True, copy=False)
    needs_reauth = fields.Boolean(
        "Access must be granted again",
        readonly=True,
        copy=False,
        help="Access was revoked or the password changed: the scheduled sync waits for a new subscription.",
    )
    sync_state = fields.Char(
        groups="base.group_system",
        copy=False,
        help="The provider's sync token, delta link or sync state.",
    )
    sync_warning = fields.Text(
        readonly=True,
        copy=False,
        help="Set when the last full listing looked collapsed: nothing was removed and it was not kept.",
    )
    sync_held_ids = fields.Text(
        groups="base.group_system",
        copy=False,
        help="External ids a collapsed full listing left out, for the next listing to decide on.",
    )
    skipped_events = fields.Text(
        readonly=True, copy=False, help="JSON {external id: reason} of events that could not be mirrored."
    )
    skipped_event_count = fields.Integer("Events not mirrored", readonly=True, copy=False)
    skipped_event_text = fields.Text("Events not mirrored (reasons)", compute="_compute_skipped_event_text")
    binding_ids = fields.One2many("calendar.sync.binding", "account_id")
    event_count = fields.Integer(compute="_compute_event_count")

    _sql_constraints = [
        (
            "user_provider_email_unique",
            "unique(user_id, provider, email)",
            "This user already has this calendar subscribed.",
        ),
    ]

    # ------------------------------------------------------------------
    # computes
    # ------------------------------------------------------------------
    @api.depends("user_id.name", "provider", "email")
    def _compute_name(self):
        labels = dict(PROVIDERS)
        for account in self:
            parts = [account.user_id.name or "", labels.get(account.provider, "")]
            if account.email:
                parts.append(account.email)
            account.name = " - ".join(p for p in parts if p)

    @api.depends("skipped_events")
    def _compute_skipped_event_text(self):
        for account in self:
            skipped = json.loads(account.skipped_events or "{}")
            if not skipped:
                account.skipped_event_text = False
                continue
            lines = [
                _(
                    "%s events could not be mirrored; everything else is synced. Fix them in the external "
                    "calendar (the next sync takes the corrected version):",
                    len(skipped),
                )
            ]
            lines += [f"- {external_id}: {reason}" for external_id, reason in sorted(skipped.items())[:50]]
            account.skipped_event_text = "\n".join(lines)

    def _compute_password(self):
        for account in self:
            account.password = False

    def _inverse_password(self):
        for account in self:
            if account.password:
                account._set_credentials(password=account.password)

    def _compute_has_credentials(self):
        creds = self.env["calendar.sync.credential"].sudo().search([("account_id", "in", self.ids)])
        with_creds = {c.account_id.id for c in creds if c.token_data or c.password}
        for account in self:
            account.has_credentials = account.id in with_creds

    def _compute_event_count(self):
        data = self.env["calendar.sync.binding"]._read_group(
            [("account_id", "in", self.ids), ("event_id", "!=", False)], ["account_id"], ["__count"]
        )
        counts = {account.id: count for account, count in data}
        for account in self:
            account.event_count = counts.get(account.id, 0)

    # ------------------------------------------------------------------
    # ownership and connection guards
    # ------------------------------------------------------------------
    @api.model
    def _is_sync_manager(self):
        return self.env.su or self.env.user.has_group("webcrm_calendar_sync.group_calendar_sync_manager")

    @api.model_create_multi
    def create(self, vals_list):
        if not self._is_sync_manager():
            companies = self.env.user.company_ids.ids
            for vals in vals_list:
                if vals.get("user_id", self.env.uid) != self.env.uid:
                    raise AccessError(
                        _("You can only subscribe your own calendar. Ask a synced calendar administrator for others.")
                    )
                if "company_id" in vals and vals["company_id"] not in companies:
                    raise AccessError(_("You can only subscribe a calendar in one of your companies."))
        return super().create(vals_list)

    def write(self, vals):
        moved = self.browse()
        for name in OWNER_FIELDS:
            if name in vals:
                moved |= self.filtered(lambda a, n=name: a[n].id != (vals[n] or False))
        if moved and not self._is_sync_manager():
            # the own-records rule is checked on the record before the write, not after: without
            # this, a user could hand their account (and the meetings it mirrors) to someone else
            raise AccessError(
                _(
                    "The owner and company of a synced calendar cannot be changed. "
                    "Ask a synced calendar administrator to move it."
                )
            )
        reconnect = self.browse()
        if not self.env.su:
            # our own code writes what it learnt from the server under sudo (see _subscribe_exchange)
            reconnect = self.filtered(lambda a: a._changes_connection(vals))
        reset = moved | reconnect
        if reset:
            # before the write: a new password given with the change is stored by it
            reset._clear_credentials()
        result = super().write(vals)
        if reset:
            reset._reset_subscription()
        return result

    def _changes_connection(self, vals):
        """Whether ``vals`` sends this account's secret somewhere else (another server, mailbox,
        authentication or provider)."""
        self.ensure_one()
        if "provider" in vals and vals["provider"] != self.provider:
            return True
        for name in CONNECTION_FIELDS.get(vals.get("provider") or self.provider, ()):
            if name in vals and (vals[name] or "").strip().lower() != (self[name] or "").strip().lower():
                return True
        return False

    def _reset_subscription(self):
        """Back to not subscribed: no sync state, no binding to the former calendar (the secret
        was dropped before the write that called this)."""
        # sudo: bindings and the sync state are not writable by users
        self.env["calendar.sync.binding"].sudo().search([("account_id", "in", self.ids)]).unlink()
        vals = {"state": "draft", "needs_reauth": False, "last_error": False, "sync_state": False}
        if "ews_server_build" in self._fields:
            vals["ews_server_build"] = False
        self.sudo().write(vals)

    # ------------------------------------------------------------------
    # credentials (sudo only)
    # ------------------------------------------------------------------
    def _credential_record(self):
        self.ensure_one()
        Credential = self.env["calendar.sync.credential"].sudo()
        cred = Credential.search([("account_id", "=", self.id)], limit=1)
        return cred or Credential.create({"account_id": self.id})

    def _set_credentials(self, token_data=None, password=None):
        self.ensure_one()
        vals = {}
        if token_data is not None:
            vals["token_data"] = json.dumps(token_data) if not isinstance(token_data, str) else token_data
        if password is not None:
            vals["password"] = password
        if vals:
            self._credential_record().write(vals)

    def _get_credentials(self):
        """(token_data as dict or None, password) — for provider construction only."""
        self.ensure_one()
        # one query (search and read together); a missing record reads as no credentials
        cred = (
            self.env["calendar.sync.credential"]
            .sudo()
            .search_fetch([("account_id", "=", self.id)], ["token_data", "password"], limit=1)
        )
        token = json.loads(cred.token_data) if cred.token_data else None
        return token, cred.password or False

    def _clear_credentials(self):
        self.env["calendar.sync.credential"].sudo().search([("account_id", "in", self.ids)]).unlink()

    # ------------------------------------------------------------------
    # settings
    # ------------------------------------------------------------------
    @api.model
    def _param(self, key, default=None):
        return self.env["ir.config_parameter"].sudo().get_param(PARAM_PREFIX + key, default)

    @api.model
    def _sync_enabled(self):
        group = self.env.ref("webcrm_calendar_sync.group_calendar_sync", raise_if_not_found=False)
        return bool(group) and group in self.env.ref("base.group_user").sudo().implied_ids

    def _network_guard(self):
        """Which private hosts/networks an administrator allowed (Settings); the rest of the
        local and private address space is refused for user-chosen servers (Exchange)."""
        from ..engine import netguard

        return netguard.NetGuard.from_setting(self._param("allowed_private_hosts"))

    def _http_timeouts(self):
        """(connect, read) seconds from Settings (``connect_timeout``, ``request_timeout``), bounded."""
        try:
            connect = float(self._param("connect_timeout", DEFAULT_CONNECT_TIMEOUT) or DEFAULT_CONNECT_TIMEOUT)
        except ValueError:
            connect = DEFAULT_CONNECT_TIMEOUT
        return (min(max(connect, 1.0), 60.0), min(max(self._request_timeout(), 1.0), 300.0))

    def _window(self, now=None):
        days_back = int(self._param("sync_days_back", DEFAULT_DAYS_BACK) or DEFAULT_DAYS_BACK)
        days_ahead = int(self._param("sync_days_ahead", DEFAULT_DAYS_AHEAD) or DEFAULT_DAYS_AHEAD)
        return Window.around(now or datetime.utcnow(), days_back, days_ahead)

    # ------------------------------------------------------------------
    # provider
    # ------------------------------------------------------------------
    def _get_provider(self):
        """The engine object that talks to this account's calendar."""
        self.ensure_one()
        builder = getattr(self, f"_build_{self.provider}_provider", None)
        if builder is None:
            raise UserError(_("The provider %s is not available.", self.provider))
        return builder()

    def _store_refreshed_credentials(self, data):
        """Callback handed to providers: keep what they refreshed, protected."""
        self.ensure_one()
        self._set_credentials(token_data=data)

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_subscribe(self):
        """'Authenticate and subscribe' / 'Save and subscribe', per provider."""
        self.check_access("write")  # callable over RPC: on the caller's own accounts only (or an admin)
        self.ensure_one()
        self._check_enabled()
        subscribe = getattr(self, f"_subscribe_{self.provider}", None)
        if subscribe is None:
            raise UserError(_("Subscribing to %s is not available yet.", self.provider))
        try:
            return subscribe()
        except sync_errors.SyncError as exc:
            raise UserError(self._sync_error_message(exc)) from None

    def action_synchronize(self):
        """'Synchronize' button: the changes since the last sync, now, and a notification saying
        what happened. A first sync (the whole calendar) is queued to the scheduled sync instead,
        which runs it in the background page by page."""
        self.check_access("write")  # callable over RPC: on the caller's own accounts only (or an admin)
        self._check_enabled()
        lines, kind, many = [], "success", len(self) > 1
        for account in self:
            if account.state == "draft":
                raise UserError(_("Subscribe the calendar before synchronising it."))
            account._check_can_queue()
            if account._needs_full_listing():
                account._lock_or_busy()
                account._queue_full_sync()
                lines.append(account._notify_line(account._queued_text(), many))
                kind = "info" if kind == "success" else kind
                continue
            summary = account._sync(raise_errors=False, when_busy="raise")
            if summary is None and account.state == "error":
                lines.append(account._notify_line(account.last_error, many))
                kind = "danger"
            elif summary is None:
                lines.append(
                    account._notify_line(_("Another sync was under way; this one runs within a minute."), many)
                )
                kind = "warning" if kind != "danger" else kind
            elif summary.get("partial"):
                # many changes: those read in this request are applied, the rest in the background
                account._queue_rest()
                text = _(
                    "%(done)s Many more changes are being read in the background; they appear within minutes.",
                    done=account._summary_text(summary),
                )
                lines.append(account._notify_line(text, many))
                kind = "info" if kind == "success" else kind
            else:
                lines.append(account._notify_line(account._summary_text(summary), many))
        return self._notification(_("Synchronize"), lines, kind)

    def action_full_resync(self):
        """'Full resync' button: the whole calendar is listed again, in the background, page by page."""
        self.check_access("write")  # callable over RPC: on the caller's own accounts only (or an admin)
        self._check_enabled()
        lines, many = [], len(self) > 1
        for account in self:
            if account.state == "draft":
                raise UserError(_("Subscribe the calendar before synchronising it."))
            account._check_can_queue()
            account._lock_or_busy()
            account._queue_full_sync(restart=True)
            lines.append(account._notify_line(account._queued_text(), many))
        return self._notification(_("Full resync"), lines, "info")

    def _check_can_queue(self):
        self.ensure_one()
        if self.needs_reauth:
            raise UserError(
                _("Access to this calendar must be granted again before it can be synchronised: subscribe it again.")
            )

    def _lock_or_busy(self):
        if not self._try_lock():
            raise UserError(_("This calendar is already being synchronised. Wait a moment, then look again."))

    def _queued_text(self):
        return _(
            "The whole calendar is being read in the background, page by page: meetings appear as each page is "
            "done, and the account shows how far it got. Nothing more to do."
        )

    def _summary_text(self, summary):
        """'12 added, 3 updated, 1 removed', from a plan summary."""
        added = summary.get("create", 0) + summary.get("link", 0)
        updated = summary.get("update", 0) + summary.get("conflicts", 0)
        removed = summary.get("delete", 0)
        if not (added or updated or removed):
            text = _("Up to date: nothing changed since the last sync.")
        else:
            text = _(
                "%(added)s added, %(updated)s updated, %(removed)s removed.",
                added=added,
                updated=updated,
                removed=removed,
            )
        if summary.get("skipped_invalid"):
            text += " " + _("%s events could not be mirrored (listed on the account).", summary["skipped_invalid"])
        if summary.get("hold_sync_state"):
            text += " " + _("The listing looked incomplete, so nothing was removed (see the warning on the account).")
        return text

    def _notify_line(self, text, many):
        """One account's line of a notification: named when several accounts are reported."""
        return f"{self.name}: {text}" if many else text

    def _notification(self, title, lines, kind):
        """Odoo's display_notification client action; the form (or list) reloads to show the new state."""
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": "\n".join(lines),
                "type": kind,
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

    def action_pause(self):
        self.write({"state": "paused"})

    def action_resume(self):
        self.check_access("write")  # callable over RPC: on the caller's own accounts only (or an admin)
        for account in self:
            account.state = "subscribed" if account.has_credentials else "draft"

    def action_unsubscribe(self):
        self.check_access("write")  # callable over RPC: on the caller's own accounts only (or an admin)
        self._clear_credentials()
        self.sudo().write({"sync_state": False})
        self.write({"state": "draft", "last_error": False})

    def action_view_events(self):
        self.check_access("read")  # callable over RPC: on the caller's own accounts only (or an admin)
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Synced meetings"),
            "res_model": "calendar.event",
            "view_mode": "list,form,calendar",
            "domain": [("sync_binding_ids.account_id", "=", self.id)],
        }

    @api.model
    def get_sync_status(self, refresh=False):
        """What the calendar view shows in its control panel (C1-C3, C7).

        ``refresh``: ``"auto"`` (page load) queues a sync of the caller's calendars whose last
        sync is older than the threshold in Settings; ``"now"`` (the refresh button) queues it
        whatever the age. Nothing is synced inside this request: the sync runs in the scheduled
        action ``ir_cron_calendar_sync_requested``, woken at once, one account at a time (several
        tabs or reloads only set the same request again). Only the caller's own accounts are
        read, and only for an internal user of the synced calendar.
        """
        user = self.env.user
        if (
            not self._sync_enabled()
            or not user._is_internal()
            or not user.has_group("webcrm_calendar_sync.group_calendar_sync")
        ):
            return {"enabled": False}
        mine = self.search([("user_id", "=", user.id)])
        active = mine.filtered(lambda a: a.state not in ("draft", "paused"))
        if refresh:
            due = active.filtered(lambda a: not a.needs_reauth and not a.sync_requested_date)
            if refresh == "auto":
                threshold = timedelta(seconds=self._refresh_threshold())
                now = fields.Datetime.now()
                due = due.filtered(lambda a: not a.last_sync_date or now - a.last_sync_date >= threshold)
            due._request_sync()
        labels = dict(self._fields["provider"]._description_selection(self.env))
        accounts = [
            {
                "id": a.id,
                "provider": a.provider,
                "provider_name": labels.get(a.provider, a.provider),
                "email": a.email or "",
                "state": a.state,
                "last_sync": fields.Datetime.to_string(a.last_sync_date) if a.last_sync_date else False,
                "syncing": bool(a.sync_requested_date) or (a.full_sync_running and a.state != "error"),
                "progress": a.full_sync_running and a.sync_progress_text,
                "error": a.last_error if a.state == "error" or a.needs_reauth else False,
                "needs_reauth": a.needs_reauth,
            }
            for a in active
        ]
        dates = [a.last_sync_date for a in active if a.last_sync_date]
        colleagues = self._synced_colleagues()
        return {
            "enabled": True,
            "subscribed": bool(active),
            "has_draft": bool(mine - active),
            "accounts": accounts,
            "last_sync": fields.Datetime.to_string(min(dates)) if dates else False,
            "syncing": any(a["syncing"] for a in accounts),
            "progress": next((a["progress"] for a in accounts if a["syncing"] and a["progress"]), False),
            "errors": [a["error"] for a in accounts if a["error"]],
            "user_email": user.email or "",
            "colleagues": [{"id": u.id, "partner_id": u.partner_id.id, "name": u.name} for u in colleagues],
        }

    @api.model
    def _synced_colleagues(self):
        """Internal users, other than the caller, whose calendar is synced in a company the caller
        works in now (``env.companies``): a colleague of another company is never offered."""
        companies = self.env.companies
        # sudo: the names of colleagues whose calendar is synced (no account detail leaves here)
        accounts = self.sudo().search(
            [
                ("state", "in", ("synced", "error")),
                ("last_sync_date", "!=", False),
                ("user_id", "!=", self.env.uid),
                ("company_id", "in", companies.ids),
            ]
        )
        return accounts.user_id.filtered(lambda u: u.active and not u.share and u.company_ids & companies)

    @api.model
    def _refresh_threshold(self):
        """Seconds after which opening the calendar queues a sync (Settings, default 60)."""
        try:
            return max(int(self._param("refresh_threshold", DEFAULT_REFRESH_THRESHOLD)), 0)
        except (TypeError, ValueError):
            return DEFAULT_REFRESH_THRESHOLD

    def _request_sync(self):
        """Queue a sync of these accounts and wake the scheduled action that runs it."""
        todo = self.filtered(lambda a: not a.sync_requested_date)
        if todo:
            todo.write({"sync_requested_date": fields.Datetime.now()})
        if self:
            # sudo: users may not read scheduled actions; this only asks Odoo's cron runner to run it now
            self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync_requested").sudo()._trigger()

    def _try_lock(self):
        """Lock this account's row for this transaction; False when another one holds it."""
        self.ensure_one()
        self.env.cr.execute(
            "SELECT id FROM calendar_sync_account WHERE id = %s FOR NO KEY UPDATE SKIP LOCKED", (self.id,)
        )
        return bool(self.env.cr.fetchone())

    @api.model
    def _cron_sync_requested(self, limit=10):
        """Scheduled action: sync the accounts the calendar view asked for, oldest request first.

        Each account is locked (``SKIP LOCKED``): one being synced by another worker is left for
        it, so two syncs of one account never run at once. The request is cleared when done.
        """
        from . import calendar_sync_account_schedule as schedule  # loaded after this module

        if not self._sync_enabled():
            return
        accounts = self.search([("sync_requested_date", "!=", False)], order="sync_requested_date, id", limit=limit)
        testing = getattr(threading.current_thread(), "testing", False)
        for account in accounts:
            try:
                with self.env.cr.savepoint():
                    if not account._try_lock():
                        continue
                    if account.state not in ("draft", "paused") and not account.needs_reauth:
                        summary = account.with_context(calendar_sync_background=True)._sync(raise_errors=False)
                        if summary and summary.get("partial"):
                            # a listing stopped between pages: the scheduled sync goes on with it
                            account._queue_rest()
                        elif account.state != "error":
                            # just synced: the regular scheduled sync need not take it again at once
                            account.next_sync_date = fields.Datetime.now() + timedelta(
                                seconds=account._cron_interval_seconds() * schedule.SPACING
                            )
                    account.sync_requested_date = False
            except Exception:
                # a bug must not stop the other accounts; it is logged with its traceback
                _logger.exception("Calendar account %s failed to sync", account.id)
                account.write(
                    {
                        "state": "error",
                        "sync_requested_date": False,
                        "last_error": _("The synchronisation failed unexpectedly; see the server log."),
                    }
                )
            if not testing:
                # each requested sync is its own unit of work (a job run by the cron runner)
                self.env.cr.commit()  # pylint: disable=invalid-commit
        remaining = self.search_count([("sync_requested_date", "!=", False)])
        if remaining:
            self.env["ir.cron"]._notify_progress(done=len(accounts), remaining=remaining)

    def _check_enabled(self):
        if not self._sync_enabled():
            raise UserError(_("The synced calendar is turned off in Settings."))

    # ------------------------------------------------------------------
    # sync: remote -> Odoo
    # ------------------------------------------------------------------
    def _sync(self, raise_errors=True, full=False, when_busy="skip"):
        """Sync this account; returns the plan summary (or None on error or when skipped).

        The account's row is locked first: a second sync of the same account at the same
        moment is skipped (``when_busy="skip"``, the scheduled syncs) or told "already
        synchronising" (``"raise"``, the buttons).
        """
        self.ensure_one()
        if not self._try_lock():
            if when_busy == "raise":
                raise UserError(_("This calendar is already being synchronised. Wait a moment, then look again."))
            _logger.info("Calendar account %s is already being synchronised: skipped", self.id)
            return None
        provider = None
        try:
            # writes into Odoo happen in a savepoint of their own (_apply_changes): a sync with
            # nothing new, the common case, takes none
            provider = self._get_provider()
            summary = self._sync_with(provider, full=full)
        except ConcurrentUidSync:
            # a colleague's sync bound some of the same new meetings after this transaction
            # began: nothing was applied; start over in a new transaction, which sees them
            _logger.info("Calendar account %s: shared meetings bound meanwhile by a colleague's sync", self.id)
            if when_busy == "raise":
                raise RetryTransaction("shared meetings bound meanwhile; the request is run again") from None
            self._request_sync()
            return None
        except sync_errors.SyncError as exc:
            self._record_error(exc)
            if raise_errors:
                raise UserError(self._sync_error_message(exc)) from None
            return None
        return summary

    def _record_error(self, exc):
        # in the language of the account's user, who reads it (a scheduled sync has none of its own)
        message = self.with_context(lang=self.user_id.lang or self.env.lang)._sync_error_message(exc)
        vals = {"last_error": message[:LAST_ERROR_MAX], "state": "error"}
        if isinstance(exc, (sync_errors.AuthRevoked, sync_errors.NotSubscribed)):
            vals["needs_reauth"] = True
        # passing trouble (outage, throttling) keeps the sync state: the account shows the
        # error and the next run resumes from where the last good sync stopped
        self.write(vals)
        _logger.info("Calendar account %s: %s", self.id, self._sync_error_label(exc))

    def _sync_with(self, provider, full=False):
        """Sync with ``provider``: the changes since the stored sync state at once (an incremental
        sync, cheap), or else a full listing page by page (a first sync, a full resync, an expired
        sync state, or a paged listing under way: see ``_sync_pages``)."""
        self.ensure_one()
        state = False if full else self.sudo().sync_state
        if state and not self._resume_point("full"):
            try:
                # nothing is written before the listing came (each page takes its own savepoint)
                return self._sync_changes(provider, state)
            except sync_errors.SyncStateExpired:
                _logger.info("Calendar account %s: the sync state expired; the calendar is listed again", self.id)
        if self._resume_point("changes"):
            self.sudo().write({"sync_resume": False})  # an incremental listing under way gives way to a full one
        return self._sync_pages(provider)

    def _sync_succeeded(self, summary, changes, state):
        """Bookkeeping of a finished listing (``changes``: its last page, for a paged one)."""
        vals = {
            "last_sync_date": fields.Datetime.now(),
            "state": "synced",
            "last_error": False,
            "needs_reauth": False,
        }
        if changes.full:
            vals["last_full_sync_date"] = vals["last_sync_date"]
        # write only what changed: a sync with nothing new is one small UPDATE
        if summary.get("hold_sync_state"):
            # a collapsed listing: nothing was removed, and it is not taken as the new starting
            # point (the next sync lists again and decides); explicit deletions were applied
            vals["sync_warning"] = _(
                "The last full listing of this calendar left out %(count)s meetings Odoo has. Nothing was removed "
                "and the listing was not kept: the next sync lists the calendar again and removes them "
                "only if they are really gone. If this stays, check the calendar in %(provider)s.",
                count=summary.get("mass_delete_blocked") or _("many"),
                provider=dict(PROVIDERS).get(self.provider, ""),
            )
            _logger.warning(
                "Calendar account %s: a full listing left out %s meetings; nothing removed, sync state not stored",
                self.id,
                summary.get("mass_delete_blocked"),
            )
        elif changes.full:
            vals["sync_warning"] = False
        vals = {k: v for k, v in vals.items() if k.endswith("_date") or self[k] != v}
        if changes.next_state and changes.next_state != state and not summary.get("hold_sync_state"):
            vals["sync_state"] = changes.next_state
        self._write_sync_outcome(vals)
        return summary

    def _write_sync_outcome(self, vals):
        """The sync's result on the account, in one UPDATE (the sync state is the administrators' field)."""
        vals = dict(vals)
        private = {name: vals.pop(name) for name in ("sync_state",) if name in vals}
        if vals:
            self.write(vals)
        if private:
            self.sudo().write(private)

    def _apply_changes(self, changes, window, page=None):
        """Reconcile ``changes`` with this account's bindings and write the result in batches.

        ``page``: the number (0, 1 ...) of this page in a full listing applied page by page;
        only the bindings the page names are read, and what the listing left out is decided
        after its last page (``_sweep_unlisted``)."""
        self.ensure_one()
        if not changes.events and not changes.deleted_ids and not changes.full and not changes.complete_series:
            return {}
        # a failure part-way (a colleague's sync bound the same meetings meanwhile) leaves nothing half-written
        with self.env.cr.savepoint():
            return self._apply_changes_now(changes, window, page)

    def _apply_changes_now(self, changes, window, page=None):
        Binding = self.env["calendar.sync.binding"].sudo()
        self._link_pending_creates(changes)
        domain = [("account_id", "=", self.id), ("external_id", "!=", False)]
        if page is not None:
            domain += self._page_binding_domain(changes)
        bindings = Binding.search(domain)
        # meetings new to this account may be created or linked: one transaction at a time per UID
        own = set(bindings.mapped("external_id"))
        keys = Binding._lock_uids({r.ical_uid for r in changes.events if r.ical_uid and r.external_id not in own})
        Binding._check_uids_not_taken_meanwhile(keys, self)
        if Binding._merge_uid_duplicates({r.ical_uid for r in changes.events if r.ical_uid}):
            bindings = Binding.search(domain)
        states = [b._to_state() for b in bindings]
        uids = {r.ical_uid for r in changes.events if r.ical_uid}
        uid_index = Binding._uid_index(uids, exclude_account=self)
        legacy = self.env["calendar.event"]._calendar_sync_legacy_index(self, changes.events)
        held = json.loads(self.sudo().sync_held_ids or "null") if changes.full and page is None else None
        plan = plan_changes(
            changes, states, uid_index, window=window, legacy_index=legacy, held_ids=held, sweep=page is None
        )
        skipped = Binding._apply_plan(self, plan)
        for external_id, reason in plan.invalid:
            skipped.setdefault(
                external_id or "?", self.env._(INVALID_REASONS[reason]) if reason in INVALID_REASONS else reason
            )
            _logger.warning("Calendar account %s: event %s not mirrored: %s", self.id, external_id, reason)
        self._record_skipped(changes, skipped, fresh=changes.full and not page)
        if changes.full and page is None:
            # what a collapsed listing would have removed: the next full listing decides
            held_ids = json.dumps(plan.held_ids) if plan.hold_sync_state else False
            if held_ids != (self.sudo().sync_held_ids or False):
                self.sudo().sync_held_ids = held_ids
        summary = plan.summary()
        summary["skipped_invalid"] = len(skipped)
        return summary

    def _record_skipped(self, changes, skipped, fresh=None):
        """Keep the list of events that could not be mirrored: a full listing starts it over (on
        its first page), an incremental one forgets the events it lists again (mirrored now, or
        still skipped)."""
        fresh = changes.full if fresh is None else fresh
        known = {} if fresh else json.loads(self.skipped_events or "{}")
        for external_id in [r.external_id for r in changes.events] + list(changes.deleted_ids):
            known.pop(external_id, None)
        known.update({str(k): str(v) for k, v in skipped.items()})
        data = json.dumps(known, sort_keys=True) if known else False
        if data != (self.skipped_events or False):
            self.write({"skipped_events": data, "skipped_event_count": len(known)})

    def _link_pending_creates(self, changes):
        """A meeting Odoo is creating in this calendar may already be there (the answer to the
        create was lost): the listed copy, known by the key or UID chosen before the create, is
        linked to the waiting binding, never imported as a second meeting. The push job then
        writes the Odoo version over it (an update, not a second create)."""
        pending = (
            self.env["calendar.sync.binding"]
            .sudo()
            .search(
                [
                    ("account_id", "=", self.id),
                    ("external_id", "=", False),
                    ("state", "in", ("to_push", "error")),
                    ("event_id", "!=", False),
                ]
            )
        )
        if not pending or not changes.events:
            return
        by_key = {}
        for binding in pending:
            if binding.push_key:
                # what the providers derive from the create key: Google's event id, Graph's transactionId
                by_key[("id", google_event_id(binding.push_key))] = binding
                by_key[("tx", transaction_id(binding.push_key))] = binding
            key = uid_key(binding.ical_uid, None)
            if key:
                by_key[("uid", key)] = binding
        bound = set(
            self.env["calendar.sync.binding"]
            .sudo()
            .search([("account_id", "=", self.id), ("external_id", "in", [r.external_id for r in changes.events])])
            .mapped("external_id")
        )
        linked = False
        for remote in changes.events:
            if remote.cancelled or remote.kind == MASTER or remote.external_id in bound or remote.original_start:
                continue
            binding = (
                by_key.get(("id", remote.external_id))
                or by_key.get(("tx", (remote.raw or {}).get("transactionId")))
                or by_key.get(("uid", uid_key(remote.ical_uid, None)))
            )
            if not binding or binding.external_id:
                continue
            binding.write(
                {
                    "external_id": remote.external_id,
                    "ical_uid": remote.ical_uid or binding.ical_uid,
                    "etag": remote.etag or False,
                    "remote_updated": remote.updated and remote.updated.astimezone(UTC).replace(tzinfo=None),
                    "state": "to_push",
                }
            )
            bound.add(remote.external_id)
            linked = True
            _logger.info(
                "Calendar account %s: event %s is a copy of a meeting Odoo created; linked",
                self.id,
                remote.external_id,
            )
        if linked:
            self.env["calendar.sync.binding"]._wake_push()

    # ------------------------------------------------------------------
    # helpers for the Odoo -> remote direction
    # ------------------------------------------------------------------
    @api.model
    def _account_for_user(self, user):
        """The account through which meetings organised by ``user`` are written."""
        if not user:
            return self.browse()
        return self.sudo().search(
            [("user_id", "=", user.id), ("state", "in", SYNCABLE_STATES)],
            limit=1,
        )

    def _may_write_for(self, user):
        """Whether ``user`` may have these calendars create, change, cancel or invite: a calendar acts
        for its owner, or for a colleague booking on the owner's behalf (N3) who works in the company
        the calendar is synced for, never for a user of another company. Code running as superuser
        (``sudo()``, the system's jobs) answers for its own caller."""
        return self.env.su or not self._refused_writers(user)

    def _refused_writers(self, user):
        # sudo: the accounts' owner and company only
        return self.sudo().filtered(
            lambda a: a.user_id != user and not (user._is_internal() and a.company_id in user.company_ids)
        )

    def _check_may_write_for(self, user):
        """Raise AccessError, in words, unless ``user`` may write through these calendars (see
        ``_may_write_for``): called where a write enters the outbox, whichever door it came by."""
        if self.env.su:
            return
        for account in self._refused_writers(user)[:1]:
            raise AccessError(
                _(
                    "%(organizer)s's calendar is synced for a company you do not work in: Odoo does not "
                    "book, change, cancel or send invitations in it for you, and nothing was sent. Choose "
                    "an organiser of your own company, or ask %(organizer)s.",
                    organizer=account.user_id.name,
                )
            )
