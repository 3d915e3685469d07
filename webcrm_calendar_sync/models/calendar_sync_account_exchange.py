"""Exchange server accounts: the checked "Save and subscribe" and provider construction."""

from urllib.parse import urlsplit

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..engine import errors as sync_errors

# what a failed check at "Save and subscribe" means: the account is not subscribed, so no
# scheduled synchronisation will try again (the sync's own sentences would say it will).
# Every failure before an HTTP answer (nothing listens, refused, reset, no TLS or a TLS failure,
# a timeout) gets the same sentence: on a host an administrator allowed, the user chooses the
# port, and distinct sentences would tell an open port from a closed one.
_SUBSCRIBE_RETRY_CODES = {"exchange_unreachable", "exchange_certificate", "unavailable", "sync_error"}
_SUBSCRIBE_BUSY_CODES = {"exchange_busy", "rate_limited"}


class CalendarSyncAccount(models.Model):
    _inherit = "calendar.sync.account"

    ews_server_build = fields.Char(
        "Exchange version",
        readonly=True,
        copy=False,
        help="Build of the Exchange server, learnt when subscribing (later syncs skip asking for it).",
    )

    def _exchange_provider_with(self, password=None):
        """An Exchange provider for this account with ``password`` (default: the stored one), unchecked."""
        from ..engine.providers import exchange

        self.ensure_one()
        if password is None:
            _token, password = self._get_credentials()
        return exchange.ExchangeProvider(
            service_endpoint=self.ews_url or "",
            email=self.email or "",
            password=password or "",
            auth_type=self.ews_auth_type or None,
            server_build=self.ews_server_build or None,
            # a private CA bundle for a server whose certificate a company CA issued
            verify=self._param("exchange_ca_bundle") or True,
            # short and configurable (Settings): connect, then read (a whole request at most)
            timeout=self._http_timeouts(),
            max_wait=self._request_timeout(),
            label=f"#{self.id} {self.email or ''}",
            # the URL is the user's choice: no local or private address unless allowed in Settings
            guard=self._network_guard(),
        )

    @api.model
    def subscribe_exchange(self, account_id, values):
        """The account form's "Save and subscribe" for an Exchange server.

        The form's unsaved ``values`` are saved (a new account created when ``account_id`` is
        False) and the server is checked in the same transaction: when the check fails, the
        error is raised and the whole transaction rolled back, so a refusal leaves nothing
        behind - no new account, no password stored, no change to an existing account.

        :returns: ``{"id": account id, "action": the notification to show}``
        """
        values = dict(values or {})
        if account_id:
            account = self.browse(account_id)
            if values:
                account.write(values)
        else:
            values.setdefault("provider", "exchange")
            account = self.create(values)
        if account.provider != "exchange":
            raise UserError(_("Only an Exchange server's calendar is subscribed this way."))
        return {"id": account.id, "action": account.action_subscribe()}

    def _subscribe_exchange(self):
        """'Save and subscribe': check the URL's form, then connect; subscribed only when both pass."""
        from ..engine.providers import exchange

        self.ensure_one()
        error = exchange.url_error(self.ews_url)
        if error:
            raise error
        if not self.email:
            raise sync_errors.ConfigurationError(_("Enter the e-mail address of the Exchange mailbox."))
        _token, password = self._get_credentials()
        if not password:
            raise sync_errors.ConfigurationError(_("Enter the password of the Exchange mailbox."))
        provider = self._exchange_provider_with(password)
        provider.server_build = None  # ask the server again: it may have been upgraded
        # someone waits on the form: one attempt, bounded by the timeouts in Settings (no retry
        # that would run past them)
        provider.max_wait = 0
        try:
            found = provider.check_connection()
        except sync_errors.SyncError as exc:
            raise self._exchange_subscribe_error(exc) from None
        # sudo: what the server told us is not a change of connection (write() would drop the password)
        self.sudo().write(
            {
                "ews_auth_type": found.get("auth_type") or self.ews_auth_type,
                "ews_server_build": found.get("server_build") or False,
                "state": "subscribed",
                "needs_reauth": False,
                "last_error": False,
            }
        )
        # the first sync runs in the background: "Save and subscribe" answers at once
        message = self._queue_after_subscribe()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": message,
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _exchange_subscribe_error(self, exc):
        """The error to show when the check at "Save and subscribe" failed.

        The sync's sentences for passing trouble end with "the next synchronisation will try
        again", which is not true here: the account is not subscribed and nothing retries.
        """
        host = urlsplit(self.ews_url or "").hostname or self.ews_url or ""
        if exc.code in _SUBSCRIBE_BUSY_CODES:
            return sync_errors.RateLimited(
                _(
                    "The Exchange server at %(host)s is busy and asked us to slow down, so the calendar was "
                    "not subscribed. Click Save and subscribe again in a few minutes.",
                    host=host,
                )
            )
        failure = exc.params.get("failure") if exc.code in _SUBSCRIBE_RETRY_CODES else None
        if failure == "name":
            return sync_errors.Unavailable(
                _(
                    "The name %(host)s could not be found (no DNS entry for it, or no DNS server answered Odoo's "
                    "server), so the calendar was not subscribed. Check the EWS address for typing mistakes, "
                    "then click Save and subscribe again.",
                    host=host,
                )
            )
        # a refused connection, a silent server, a TLS failure: the one sentence below (told apart,
        # they would tell an open port of an allowed host from a closed one)
        if exc.code in _SUBSCRIBE_RETRY_CODES:
            return sync_errors.Unavailable(
                _(
                    "The Exchange server at %(host)s could not be reached or did not answer in time (Odoo "
                    "waits up to %(seconds)s seconds), so the calendar was not subscribed: nothing answered "
                    "at this address and port, the connection was refused or cut, or the server's TLS "
                    "certificate could not be verified. Check the EWS address, that the server is running "
                    "and that its certificate is issued for this address (or that the company's certificate "
                    "authority is set in Settings), then click Save and subscribe again.",
                    host=host,
                    seconds=int(self._http_timeouts()[1]),
                )
            )
        if isinstance(exc, sync_errors.BadRequest):
            # the sync's sentence speaks of "the next synchronisation": none comes here
            return sync_errors.BadRequest(
                _(
                    "The Exchange server at %(host)s refused Odoo's connection check as invalid (%(error)s), so "
                    "the calendar was not subscribed. Check the EWS address; if it is right, show this message "
                    "to your Exchange administrator.",
                    host=host,
                    error=exc.params.get("error") or "",
                )
            )
        return exc

    def _build_exchange_provider(self):
        """The provider a sync uses (see ``_get_provider``): only for a subscribed account."""
        self.ensure_one()
        _token, password = self._get_credentials()
        if not password or self.state == "draft":
            raise sync_errors.NotSubscribed(_("This Exchange calendar is not subscribed yet. Subscribe it first."))
        return self._exchange_provider_with(password)
