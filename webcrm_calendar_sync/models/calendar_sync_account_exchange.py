"""Exchange server accounts: the checked "Save and subscribe" and provider construction."""

from odoo import _, fields, models

from ..engine import errors as sync_errors


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
        found = provider.check_connection()
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
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success",
                "message": _("Connected to the Exchange server. Click Synchronise to bring the meetings in."),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _build_exchange_provider(self):
        """The provider a sync uses (see ``_get_provider``): only for a subscribed account."""
        self.ensure_one()
        _token, password = self._get_credentials()
        if not password or self.state == "draft":
            raise sync_errors.NotSubscribed(_("This Exchange calendar is not subscribed yet. Subscribe it first."))
        return self._exchange_provider_with(password)
