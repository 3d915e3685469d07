"""Microsoft 365 accounts: msal OAuth subscription and provider construction."""

from odoo import _, models

from ..engine import errors as sync_errors
from ..engine.provider import DEFAULT_ENDPOINTS

DEFAULT_AUTHORITY_HOST = DEFAULT_ENDPOINTS["microsoft"]["authority_host"]
DEFAULT_GRAPH_ENDPOINT = DEFAULT_ENDPOINTS["microsoft"]["graph_endpoint"]


class CalendarSyncAccount(models.Model):
    _inherit = "calendar.sync.account"

    def _microsoft_settings(self):
        client_id = self._param("microsoft_client_id")
        client_secret = self._param("microsoft_client_secret")
        if not client_id or not client_secret:
            raise sync_errors.ConfigurationError(_("Set the Microsoft client ID and secret in Settings first."))
        host = (self._param("microsoft_authority_host") or DEFAULT_AUTHORITY_HOST).rstrip("/")
        tenant = self._param("microsoft_tenant") or "organizations"
        return {
            "client_id": client_id,
            "client_secret": client_secret,
            "authority": f"{host}/{tenant}",
            "graph_endpoint": self._param("microsoft_graph_endpoint") or DEFAULT_GRAPH_ENDPOINT,
            # a private CA bundle for a test or on-premise endpoint; True checks against the system's
            "verify": self._param("microsoft_ca_bundle") or True,
        }

    def _subscribe_microsoft(self, session=None):
        """'Save and subscribe': send the browser to Microsoft's sign-in with the e-mail as login hint."""
        from ..engine.providers import microsoft

        self.ensure_one()
        if not self.email:
            raise sync_errors.ConfigurationError(_("Enter the e-mail address of the Microsoft 365 calendar."))
        conf = self._microsoft_settings()
        session = session if session is not None else self._oauth_request_session()
        flow = microsoft.build_auth_flow(
            conf["client_id"],
            conf["client_secret"],
            conf["authority"],
            self._redirect_uri("microsoft"),
            self.email,
            verify=conf["verify"],
        )
        self._oauth_remember(session, {"flow": flow, "state": flow["state"]})
        return {"type": "ir.actions.act_url", "url": flow["auth_uri"], "target": "self"}

    def _oauth_finish_microsoft(self, flow, params):
        from ..engine.providers import microsoft

        conf = self._microsoft_settings()
        cache, email = microsoft.complete_auth_flow(
            flow["flow"], params, conf["client_id"], conf["client_secret"], conf["authority"], verify=conf["verify"]
        )
        if email and self.email and email != self.email.lower():
            raise sync_errors.AuthRevoked(
                _(
                    "You signed in as %(who)s, not %(email)s. Subscribe again with the right account.",
                    who=email,
                    email=self.email,
                )
            )
        self._set_credentials(token_data=cache)

    def _build_microsoft_provider(self, credentials=None, on_credentials_changed=None):
        """``credentials`` / ``on_credentials_changed``: given by code that closes a push channel
        of a deleted or reconnected account (``calendar.sync.push.close``); else the account's own."""
        from ..engine.providers import microsoft

        self.ensure_one()
        conf = self._microsoft_settings()
        cache = credentials if credentials is not None else self._get_credentials()[0]
        if not cache:
            raise sync_errors.NotSubscribed(_("This Microsoft 365 calendar is not subscribed yet. Subscribe it first."))
        return microsoft.MicrosoftProvider(
            cache,
            client_id=conf["client_id"],
            client_secret=conf["client_secret"],
            email=self.email,
            authority=conf["authority"],
            graph_endpoint=conf["graph_endpoint"],
            verify=conf["verify"],
            timeout=self._http_timeouts(),
            on_credentials_changed=on_credentials_changed or self._store_refreshed_credentials,
            label=f"#{self.id} {self.email or ''}",
        )
