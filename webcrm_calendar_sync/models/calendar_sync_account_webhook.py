"""Push notifications: Google watch channels, Microsoft Graph change subscriptions, and the
shorter Exchange poll. Polling stays the safety net.

An account of Google or Microsoft 365 opens a channel (Google ``events.watch``) or a
subscription (Graph ``POST /subscriptions``) when it is subscribed, or at its first
successful sync when it has none; the scheduled sync renews it a day before it ends
(Google: a new channel, then the old one is stopped; Graph: ``PATCH``), and
unsubscribing closes it. The service then calls ``/webcrm_calendar_sync/notify/<provider>/<db>``
(``controllers/webhook.py``) on each change: ``_push_receive`` checks the channel's
secret and id against the account and makes the account due for the scheduled sync,
which it wakes (``ir.cron._trigger``). Nothing is synced inside the notification's request.

While an account's channel is open (not ended, not refused), its scheduled sync is only the
safety net and runs at a longer interval (Settings, ``push_poll_minutes``, 60 minutes by
default); a notification still makes it due at once. When the channel fails, ends or is
closed, the account is due again at the regular interval.

This module is loaded after ``calendar_sync_account_schedule`` and overrides some of its
methods (``_next_regular_sync_date`` for the push and Exchange intervals, ``_lag_limit`` and
``_lagging_domain`` to match, ``_cron_sync`` to wake the Exchange poll).
"""

import hmac
import ipaddress
import logging
import secrets
import urllib.parse
import uuid
from datetime import timedelta

from psycopg2.errors import LockNotAvailable

import odoo
from odoo import _, api, fields, http, models
from odoo.osv import expression
from odoo.tools import SQL

from ..engine import errors as sync_errors
from ..engine.events import UTC
from .calendar_sync_account_schedule import SPACING
from .calendar_sync_binding import SYNCABLE_STATES

_logger = logging.getLogger(__name__)

PUSH_PROVIDERS = ("google", "microsoft")
NOTIFY_PATH = "/webcrm_calendar_sync/notify/"
GOOGLE_CHANNEL_TTL = 7 * 24 * 3600  # seconds asked; Google may give less
# Graph allows up to 10,080 minutes for Outlook events (4,230 before 2023): stay under both
GRAPH_SUBSCRIPTION_LIFETIME = timedelta(minutes=4200)
RENEW_MARGIN = timedelta(days=1)  # renewed by the first sync in the last day of its life
RETRY_AFTER_FAILURE = timedelta(hours=1)  # a refused channel is asked again this much later
# a notification waits at most a second for an account being synced right now
SAVEPOINT_WITH_TIMEOUT = "SAVEPOINT calendar_sync_push; SET LOCAL lock_timeout = '1s'"
MAX_ID_LENGTH = 256
LIFECYCLE_PATH = "/lifecycle"  # Graph's lifecycle notifications: next to the change notifications' route
# what a Graph lifecycle notification changes on its account, besides making it due
LIFECYCLE_SET = {
    # renew the subscription at the account's next sync (_push_keep)
    "reauthorizationRequired": SQL(", push_renew_required = TRUE"),
    # Graph removed it: forgotten, the next sync subscribes again
    "subscriptionRemoved": SQL(
        """, push_channel_id = NULL, push_address = NULL, push_expiration_date = NULL,
             push_retry_date = NULL, push_renew_required = FALSE"""
    ),
    # some notifications were lost: the sync reads the changes
    "missed": SQL(),
}
LIFECYCLE_FIELDS = (
    "push_renew_required",
    "push_channel_id",
    "push_address",
    "push_expiration_date",
    "push_retry_date",
)
DEFAULT_PUSH_POLL_MINUTES = 60  # the safety-net sync of an account whose channel is open


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CalendarSyncAccount(models.Model):
    _inherit = "calendar.sync.account"

    push_channel_id = fields.Char(
        "Notification channel",
        readonly=True,
        copy=False,
        index="btree_not_null",
        groups="base.group_system",
        help="Google: our watch channel's id. Microsoft 365: the change subscription's id.",
    )
    push_resource_id = fields.Char(
        "Watched resource", readonly=True, copy=False, groups="base.group_system", help="Google's resourceId."
    )
    push_address = fields.Char(
        "Notification address", readonly=True, copy=False, groups="base.group_system", help="Where it calls."
    )
    push_message_number = fields.Integer(
        "Last notification number",
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="Google numbers its messages per channel: one not above the last seen is a replay, ignored.",
    )
    push_expiration_date = fields.Datetime(
        "Changes pushed until",
        readonly=True,
        copy=False,
        help="Until when Google or Microsoft 365 tells Odoo of each change as it happens (renewed a day "
        "before). Empty: changes arrive by the scheduled sync only.",
    )
    push_error = fields.Char(
        "Push notifications unavailable",
        readonly=True,
        copy=False,
        help="Why the calendar service does not push changes to Odoo; the scheduled sync still brings them.",
    )
    push_retry_date = fields.Datetime(readonly=True, copy=False)
    push_renew_required = fields.Boolean(
        "Notifications to renew",
        readonly=True,
        copy=False,
        groups="base.group_system",
        help="Microsoft 365 asked for the subscription to be authorised again: the next sync renews it.",
    )

    # ------------------------------------------------------------------
    # the public URL
    # ------------------------------------------------------------------
    @api.model
    def _push_url_status(self, own=None):
        """(base URL, problem): the URL the services call, or "" and a sentence saying why none.

        The URL is the setting ``webcrm_calendar_sync.push_base_url`` (or ``own``), else
        ``web.base.url``. Google and Microsoft only call https addresses: ``web.base.url``
        counts only when it is https; the setting may also be http on this machine
        (127.0.0.1, localhost), for the local test servers, which no real service can reach.
        """
        url, problem = self._push_url_check(own)
        if problem == "none":
            return "", _("No public URL is set.")
        if problem == "not_https":
            return "", _("%s is not an https:// address, and Google and Microsoft only call https addresses.", url)
        return url, False

    @api.model
    def _push_url_check(self, own=None):
        """(URL, None) when the services can be given it, else (URL, "none" or "not_https")."""
        own = ((self._param("push_base_url") if own is None else own) or "").strip()
        url = own or (self.env["ir.config_parameter"].sudo().get_param("web.base.url") or "").strip()
        if not url:
            return "", "none"
        parts = urllib.parse.urlsplit(url)
        if parts.scheme == "https" and parts.hostname:
            return url.rstrip("/"), None
        if own and parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
            return url.rstrip("/"), None
        return url, "not_https"

    @api.model
    def _push_base_url(self):
        # no sentence built here: called after every sync, where only the URL matters; the
        # scheduled pass works it out once per call (see _cron_pass)
        memo = self._cron_pass()
        if memo is not None and "push_base_url" in memo:
            return memo["push_base_url"]
        url, problem = self._push_url_check()
        url = "" if problem else url
        if memo is not None:
            memo["push_base_url"] = url
        return url

    @api.model
    def _push_route_problem(self, url):
        """A sentence when the services' calls at ``url`` cannot reach this database, else False.

        Odoo chooses no database for a request without a session when the server serves several
        and no ``dbfilter`` (or ``--database``) leaves this one alone for that host; it then
        serves only the routes of server-wide modules. Settings only (it lists the databases).
        """
        if "webcrm_calendar_sync" in odoo.conf.server_wide_modules:
            return False
        host = urllib.parse.urlsplit(url).hostname or ""
        if http.db_list(force=True, host=host) == [self.env.cr.dbname]:
            return False
        return _(
            "This Odoo server serves several databases and does not choose this one for calls to %(host)s: "
            "add webcrm_calendar_sync to its server-wide modules (server_wide_modules = base,web,"
            "webcrm_calendar_sync, or --load) so that the notifications, whose address names the database, "
            "reach it; until then the scheduled sync alone brings the changes.",
            host=host,
        )

    def _push_address(self, base=None):
        """Where the service calls: the route of the provider, with this database's name (the
        server may serve several databases; see controllers/webhook.py)."""
        base = base if base is not None else self._push_base_url()
        return f"{base}{NOTIFY_PATH}{self.provider}/{self.env.cr.dbname}" if base else ""

    # ------------------------------------------------------------------
    # opening, renewing, closing
    # ------------------------------------------------------------------
    def _push_start(self, provider=None):
        """Open (or renew) this account's channel or subscription; False when push is off.

        Raises the provider's ``SyncError`` when the service refuses.
        """
        self.ensure_one()
        account = self.sudo()  # sudo: the channel's fields and secret are for this code only
        if account.provider not in PUSH_PROVIDERS:
            return False
        address = account._push_address()
        if not address:
            return False
        provider = provider or account._get_provider()
        now = fields.Datetime.now()
        if account.provider == "microsoft":
            return account._push_start_microsoft(provider, address, now)
        return account._push_start_google(provider, address)

    def _push_start_google(self, provider, address):
        token = secrets.token_urlsafe(32)
        channel = provider.watch(str(uuid.uuid4()), address, token, ttl=GOOGLE_CHANNEL_TTL)
        old = self._push_close_vals()
        self._push_store(channel["channel_id"], channel["resource_id"], address, channel["expiration"], token)
        if old:
            # the new channel is open: the old one may go (a channel cannot be extended)
            try:
                provider.stop_watch(old[0]["channel_id"], old[0]["resource_id"] or "")
            except sync_errors.SyncError as exc:
                _logger.info("Calendar account %s: old channel not stopped (%s), later", self.id, type(exc).__name__)
                self.env["calendar.sync.push.close"]._queue(old)
        return True

    def _push_start_microsoft(self, provider, address, now):
        end = (now + GRAPH_SUBSCRIPTION_LIFETIME).replace(tzinfo=UTC)
        if self.push_channel_id and self.push_address == address:
            try:
                renewed = provider.renew_subscription(self.push_channel_id, end)
            except sync_errors.NotFound:
                # Graph dropped it (expired, or removed): make a new one
                _logger.info("Calendar account %s: the change subscription was gone; subscribing again", self.id)
            else:
                self.write(
                    {
                        "push_expiration_date": _naive(renewed["expiration"]),
                        "push_error": False,
                        "push_renew_required": False,
                    }
                )
                return True
        elif self.push_channel_id:
            self._push_stop(provider)  # calling an address we no longer use
        token = secrets.token_urlsafe(32)
        subscription = provider.subscribe_changes(address, token, end, lifecycle_address=address + LIFECYCLE_PATH)
        self._push_store(subscription["subscription_id"], False, address, subscription["expiration"], token)
        return True

    def _push_store(self, channel_id, resource_id, address, expiration, token):
        self.write(
            {
                "push_channel_id": channel_id,
                "push_resource_id": resource_id,
                "push_address": address,
                "push_expiration_date": _naive(expiration),
                "push_message_number": 0,
                "push_error": False,
                "push_retry_date": False,
                "push_renew_required": False,
            }
        )
        self._credential_record().write({"push_token": token})

    def _push_stop(self, provider=None):
        """Close this account's channel or subscription now and forget it; when the service
        cannot be reached, its close is queued for the scheduled sync (``_push_close_later``)."""
        self.ensure_one()
        account = self.sudo()  # sudo: the channel's fields and secret are for this code only
        if account.push_channel_id and account.provider in PUSH_PROVIDERS:
            try:
                provider = provider or account._get_provider()
                if account.provider == "google":
                    provider.stop_watch(account.push_channel_id, account.push_resource_id or "")
                else:
                    provider.delete_subscription(account.push_channel_id)
            except sync_errors.SyncError as exc:
                # its notifications are ignored from now on (forgotten below); closed later
                _logger.info("Calendar account %s: push channel not closed (%s), later", account.id, type(exc).__name__)
                account._push_close_later()
        account._push_forget()

    def _push_close_vals(self):
        """What closing these accounts' open channels needs, credentials included (sudo code only)."""
        accounts = self.sudo().filtered(lambda a: a.push_channel_id and a.provider in PUSH_PROVIDERS)
        if not accounts:
            return []
        creds = self.env["calendar.sync.credential"].sudo().search([("account_id", "in", accounts.ids)])
        tokens = {cred.account_id.id: cred.token_data for cred in creds}
        return [
            {
                "provider": account.provider,
                "channel_id": account.push_channel_id,
                "resource_id": account.push_resource_id,
                "email": account.email,
                "token_data": tokens.get(account.id),
                "expiration_date": account.push_expiration_date,
            }
            for account in accounts
            if tokens.get(account.id)  # without credentials nobody can close it: it ends by itself
        ]

    def _push_close_later(self):
        """Queue the close of these accounts' channels for after the commit (no call to the
        service here: this runs inside unlink and write) and forget them: from now on their
        notifications are ignored."""
        vals_list = self._push_close_vals()
        if vals_list:
            self.env["calendar.sync.push.close"]._queue(vals_list)
        self._push_forget()

    def _push_forget(self):
        vals = {
            "push_channel_id": False,
            "push_resource_id": False,
            "push_address": False,
            "push_expiration_date": False,
            "push_message_number": 0,
            "push_renew_required": False,
        }
        accounts = self.sudo().filtered(lambda a: a.push_channel_id or a.push_expiration_date)
        if accounts:
            accounts.write(vals)
            creds = self.env["calendar.sync.credential"].sudo().search([("account_id", "in", accounts.ids)])
            creds.write({"push_token": False})
            accounts._push_poll_regular()

    def _push_keep(self, provider):
        """After a successful sync: open the channel if missing, renew it if it ends within a day.

        Costs nothing (no query, no request) while the channel is fresh or push is off.
        """
        if self.provider not in PUSH_PROVIDERS:
            return
        account = self.sudo()  # sudo: the channel's fields are for this code only
        address = account._push_address()
        if not address:
            return
        now = fields.Datetime.now()
        fresh = (
            account.push_channel_id
            and account.push_address == address
            and account.push_expiration_date
            and account.push_expiration_date - now > RENEW_MARGIN
            and not account.push_renew_required  # Graph asked for a renewal (lifecycle notification)
        )
        if fresh or (account.push_retry_date and account.push_retry_date > now):
            return
        try:
            account._push_start(provider)
        except sync_errors.SyncError as exc:
            account._push_failed(exc)

    def _push_failed(self, exc):
        message = self.with_context(lang=self.user_id.lang or self.env.lang)._sync_error_message(exc)
        self.sudo().write({"push_error": message[:250], "push_retry_date": fields.Datetime.now() + RETRY_AFTER_FAILURE})
        _logger.info("Calendar account %s: push notifications refused: %s", self.id, self._sync_error_label(exc))
        self._push_poll_regular()

    # ------------------------------------------------------------------
    # the safety-net poll: longer while the channel is open
    # ------------------------------------------------------------------
    @api.model
    def _push_poll_seconds(self):
        """Seconds between two scheduled syncs of an account whose channel is open (Settings,
        ``push_poll_minutes``); 0 when that is not longer than the scheduled action's interval."""
        try:
            minutes = int(self._param("push_poll_minutes", DEFAULT_PUSH_POLL_MINUTES) or 0)
        except (TypeError, ValueError):
            minutes = DEFAULT_PUSH_POLL_MINUTES
        seconds = max(minutes, 0) * 60
        return seconds if seconds > self._cron_interval_seconds() else 0

    def _push_healthy(self):
        """Whether this account's channel brings its changes: open at the current address, not
        ended, not refused. Reads the account's own fields only (no query in a sync)."""
        self.ensure_one()
        account = self.sudo()  # sudo: the channel's fields are for this code only
        return bool(
            account.provider in PUSH_PROVIDERS
            and account.push_channel_id
            and not account.push_error
            and account.push_expiration_date
            and account.push_expiration_date > fields.Datetime.now()
            and account.push_address
            and account.push_address == account._push_address()
        )

    def _push_poll_regular(self):
        """The channel failed, ended or was closed: an account that waits for its longer
        safety-net sync is due at the regular interval instead (its back-off, if failing, stands)."""
        for account in self.sudo():  # sudo: the schedule's own fields
            if account.sync_failures or not account.next_sync_date:
                continue
            regular = account._next_regular_sync_date()
            if account.next_sync_date > regular:
                account.write({"next_sync_date": regular})

    def _lag_limit(self):
        seconds = self._push_poll_seconds() if len(self) == 1 else 0
        if seconds and self._push_healthy():
            # changes come by notification: it is lagging after three of its safety-net intervals
            return fields.Datetime.now() - timedelta(seconds=3 * seconds)
        return super()._lag_limit()

    @api.model
    def _lagging_domain(self):
        seconds = self._push_poll_seconds()
        if not seconds:
            return super()._lagging_domain()
        now = fields.Datetime.now()
        # the channel open (as _push_healthy, but for its address), and not (written out: a
        # negated comparison with an empty date would match nothing in SQL)
        pushed = [
            ("provider", "in", PUSH_PROVIDERS),
            ("push_error", "=", False),
            ("push_expiration_date", ">", now),
        ]
        not_pushed = expression.OR(
            [
                [("provider", "not in", PUSH_PROVIDERS)],
                [("push_error", "!=", False)],
                [("push_expiration_date", "=", False)],
                [("push_expiration_date", "<=", now)],
            ]
        )
        return expression.OR(
            [
                expression.AND([pushed, [("last_sync_date", "<", now - timedelta(seconds=3 * seconds))]]),
                expression.AND([not_pushed, super()._lagging_domain()]),
            ]
        )

    # ------------------------------------------------------------------
    # hooks into the account's life
    # ------------------------------------------------------------------
    def _sync_with(self, provider, full=False):
        summary = super()._sync_with(provider, full=full)
        self._push_keep(provider)
        return summary

    @api.model
    def _oauth_finish(self, provider, params, session):
        account = super()._oauth_finish(provider, params, session)
        if account.state == "subscribed":
            try:
                account._push_start()
            except sync_errors.SyncError as exc:
                account._push_failed(exc)
        return account

    def action_unsubscribe(self):
        self.check_access("write")  # callable over RPC: on the caller's own accounts only (or an admin)
        for account in self:
            account._push_stop()  # while its credentials are there
        return super().action_unsubscribe()

    def _reset_subscription(self):
        # the channel's close was queued with the credentials (_clear_credentials)
        self._push_forget()
        return super()._reset_subscription()

    def _clear_credentials(self):
        # the connection changes (address, provider, owner) or the account is unsubscribed:
        # the channel opened with these credentials is closed after the commit
        self._push_close_later()
        return super()._clear_credentials()

    def write(self, vals):
        if "provider" in vals:
            # a provider changed by server code (sudo, which keeps the credentials): its channel goes too
            self.filtered(lambda a: a.provider != vals["provider"])._push_close_later()
        return super().write(vals)

    def unlink(self):
        # never a call to the service inside unlink: the channel is closed after the commit
        self.env["calendar.sync.push.close"]._queue(self._push_close_vals())
        return super().unlink()

    def _oauth_finish_google(self, flow, params):
        old = self._push_close_vals()
        result = super()._oauth_finish_google(flow, params)
        self._push_replaced_credentials(old)
        return result

    def _oauth_finish_microsoft(self, flow, params):
        old = self._push_close_vals()
        result = super()._oauth_finish_microsoft(flow, params)
        self._push_replaced_credentials(old)
        return result

    def _push_replaced_credentials(self, old):
        """Subscribed again with new credentials (perhaps of another user of the service): the
        channel the former ones opened is closed with them, after the commit; a new one is opened."""
        if old:
            self.env["calendar.sync.push.close"]._queue(old)
            self._push_forget()

    # ------------------------------------------------------------------
    # a notification arrives (controllers/webhook.py)
    # ------------------------------------------------------------------
    @api.model
    def _push_receive(
        self, provider, channel_id, secret, resource_id=None, message_number=None, queue=True, lifecycle=None
    ):
        """Check one notification and queue a sync of its account: "queued", "ignored" or "busy".

        Forged, replayed or unknown notifications are "ignored" after one SELECT, never
        calling a service. ``message_number`` (Google) must be above the last one seen.
        ``queue=False`` (Google's first "sync" message) only records the number.
        ``lifecycle``: a Graph lifecycle notification's ``lifecycleEvent`` (see LIFECYCLE_SET).
        """
        if provider not in PUSH_PROVIDERS or not channel_id or not secret:
            return "ignored"
        if lifecycle is not None and (provider != "microsoft" or lifecycle not in LIFECYCLE_SET):
            return "ignored"
        if len(channel_id) > MAX_ID_LENGTH or len(secret) > MAX_ID_LENGTH or len(resource_id or "") > MAX_ID_LENGTH:
            return "ignored"
        cr = self.env.cr
        cr.execute(
            SQL(
                """SELECT a.id, a.push_resource_id, a.push_message_number, c.push_token
                     FROM calendar_sync_account a
                     JOIN calendar_sync_credential c ON c.account_id = a.id
                    WHERE a.push_channel_id = %s AND a.provider = %s
                    LIMIT 1""",
                channel_id,
                provider,
            )
        )
        row = cr.fetchone()
        if not row:
            return "ignored"
        account_id, stored_resource, last_number, token = row
        valid = hmac.compare_digest((token or "").encode(), secret.encode()) and bool(token)
        if provider == "google":
            valid = valid and hmac.compare_digest((stored_resource or "").encode(), (resource_id or "").encode())
        if not valid:
            _logger.info("Calendar account %s: a %s notification with a wrong secret was ignored", account_id, provider)
            return "ignored"
        if provider == "google" and (message_number is None or message_number <= (last_number or 0)):
            return "ignored"  # a replay (or a message without its number)
        # one round trip each: the savepoint with the lock timeout, and their end
        cr.execute(SAVEPOINT_WITH_TIMEOUT)
        try:
            # the account is due now (unless it is backing off after failures: its next try stands)
            cr.execute(
                SQL(
                    """UPDATE calendar_sync_account a
                          SET push_message_number = GREATEST(COALESCE(a.push_message_number, 0), %(number)s)
                              %(lifecycle)s,
                              next_sync_date = CASE
                                  WHEN %(queue)s AND COALESCE(a.sync_failures, 0) = 0
                                   AND (a.next_sync_date IS NULL OR a.next_sync_date > %(now)s) THEN %(now)s
                                  ELSE a.next_sync_date END
                        WHERE a.id = %(id)s
                    RETURNING %(queue)s AND a.active AND a.state IN %(states)s AND a.needs_reauth IS NOT TRUE
                              AND a.next_sync_date <= %(now)s""",
                    number=message_number or 0,
                    lifecycle=LIFECYCLE_SET.get(lifecycle) or SQL(),
                    queue=bool(queue),
                    now=fields.Datetime.now(),
                    id=account_id,
                    states=SYNCABLE_STATES,
                ),
                # a lock timeout is an expected answer here, not a "bad query" for the error log
                log_exceptions=False,
            )
            due = cr.fetchone()[0]
            cr.execute("SET LOCAL lock_timeout = DEFAULT; RELEASE SAVEPOINT calendar_sync_push")
        except LockNotAvailable:
            # being synced right now: the service sends it again later (it retries a refused message)
            cr.execute("ROLLBACK TO SAVEPOINT calendar_sync_push")
            return "busy"
        self.invalidate_model(["next_sync_date", "push_message_number", *LIFECYCLE_FIELDS])
        if not due:
            return "ignored"
        cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()  # sudo: wakes the scheduled sync, nothing else
        return "queued"

    # ------------------------------------------------------------------
    # Exchange: a shorter poll (SyncFolderItems costs one request when nothing changed)
    # ------------------------------------------------------------------
    @api.model
    def _exchange_poll_seconds(self):
        """Seconds between two syncs of an Exchange account (Settings), 0: the scheduled action's interval."""
        try:
            minutes = int(self._param("exchange_poll_minutes", 0) or 0)
        except (TypeError, ValueError):
            minutes = 0
        seconds = max(minutes, 0) * 60
        return seconds if 0 < seconds < self._cron_interval_seconds() else 0

    def _next_regular_sync_date(self):
        account = self[:1]
        seconds = self._exchange_poll_seconds() if account.provider == "exchange" else 0
        if seconds:
            return fields.Datetime.now() + timedelta(seconds=seconds)
        regular = super()._next_regular_sync_date()
        seconds = self._push_poll_seconds() if account.provider in PUSH_PROVIDERS else 0
        if not seconds or not account._push_healthy():
            return regular
        # the channel brings the changes: the scheduled sync is the safety net, due a little
        # before the interval (as the regular one) so that the run around that time takes it,
        # and never after the channel's end (that sync renews it, or polls as usual without it)
        interval = self._cron_interval_seconds()
        longer = fields.Datetime.now() + timedelta(seconds=seconds - interval * (1 - SPACING))
        return max(regular, min(longer, account.sudo().push_expiration_date))

    @api.model
    def _cron_sync(self, limit=None):
        done = super()._cron_sync(limit=limit)
        if self._exchange_poll_seconds():
            self._exchange_poll_wake()
        # then the channels of deleted or reconnected accounts, within what is left of the budget
        Close = self.env["calendar.sync.push.close"]
        Close._cron_close(deadline=self._cron_deadline(), reserve=self._request_timeout())
        return done

    @api.model
    def _exchange_poll_wake(self):
        """Have the scheduled action run when the next Exchange account is due, if that comes before
        its next regular run (one trigger, made only when none is waiting for that moment)."""
        cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync", raise_if_not_found=False)
        if not cron:
            return
        self.env.cr.execute(
            SQL(
                """SELECT min(a.next_sync_date) FROM calendar_sync_account a
                    WHERE a.provider = 'exchange' AND a.active AND a.state IN %s AND a.needs_reauth IS NOT TRUE""",
                SYNCABLE_STATES,
            )
        )
        at = self.env.cr.fetchone()[0]
        if not at:
            return
        at = max(at, fields.Datetime.now())
        cron = cron.sudo()  # sudo: users may not read scheduled actions; this only wakes it
        if cron.nextcall and cron.nextcall <= at:
            return
        self.env.cr.execute("SELECT 1 FROM ir_cron_trigger WHERE cron_id = %s AND call_at <= %s LIMIT 1", (cron.id, at))
        if not self.env.cr.fetchone():
            cron._trigger(at)


def _naive(value):
    """An aware datetime as Odoo stores it (naive UTC)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value
