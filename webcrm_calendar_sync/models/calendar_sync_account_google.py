"""Google Calendar accounts: OAuth subscription and provider construction."""

from odoo import _, models

from ..engine import errors as sync_errors
from ..engine.provider import DEFAULT_ENDPOINTS

DEFAULT_AUTH_URI = DEFAULT_ENDPOINTS["google"]["auth_uri"]
DEFAULT_TOKEN_URI = DEFAULT_ENDPOINTS["google"]["token_uri"]
DEFAULT_API_ENDPOINT = DEFAULT_ENDPOINTS["google"]["api_endpoint"]


class CalendarSyncAccount(models.Model):
    _inherit = "calendar.sync.account"

    def _google_settings(self):
        client_id = self._param("google_client_id")
        client_secret = self._param("google_client_secret")
        if not client_id or not client_secret:
            raise sync_errors.ConfigurationError(_("Set the Google client ID and secret in Settings first."))
        return {
            "client_id": client_id,
            "client_secret": client_secret,
            "auth_uri": self._param("google_auth_uri") or DEFAULT_AUTH_URI,
            "token_uri": self._param("google_token_uri") or DEFAULT_TOKEN_URI,
            "api_endpoint": self._param("google_api_endpoint") or DEFAULT_API_ENDPOINT,
        }

    def _subscribe_google(self, session=None):
        """'Authenticate and subscribe': send the browser to Google's consent page."""
        from ..engine.providers import google

        self.ensure_one()
        conf = self._google_settings()
        session = session if session is not None else self._oauth_request_session()
        verifier, challenge = google.make_pkce_pair()
        state = self._oauth_remember(session, {"verifier": verifier})
        url = google.authorization_url(
            conf["client_id"],
            self._redirect_uri("google"),
            state,
            challenge,
            auth_uri=conf["auth_uri"],
            login_hint=self.email or self.user_id.email or None,
        )
        return {"type": "ir.actions.act_url", "url": url, "target": "self"}

    def _oauth_finish_google(self, flow, params):
        from ..engine.providers import google

        conf = self._google_settings()
        if not params.get("code"):
            raise sync_errors.AuthRevoked(_("Google did not grant access. Subscribe again."))
        token = google.exchange_code(
            params["code"],
            flow["verifier"],
            conf["client_id"],
            conf["client_secret"],
            self._redirect_uri("google"),
            token_uri=conf["token_uri"],
        )
        self._set_credentials(token_data=token)
        if not self.email:
            provider = self._build_google_provider()
            email = provider.primary_calendar_email()
            if email:
                self.email = email

    def _build_google_provider(self, credentials=None, on_credentials_changed=None):
        """``credentials`` / ``on_credentials_changed``: given by code that closes a push channel
        of a deleted or reconnected account (``calendar.sync.push.close``); else the account's own."""
        from ..engine.providers import google

        self.ensure_one()
        conf = self._google_settings()
        token = credentials if credentials is not None else self._get_credentials()[0]
        if not token:
            raise sync_errors.NotSubscribed(_("This Google calendar is not subscribed yet. Subscribe it first."))
        return google.GoogleProvider(
            token,
            client_id=conf["client_id"],
            client_secret=conf["client_secret"],
            token_uri=conf["token_uri"],
            api_endpoint=conf["api_endpoint"],
            timeout=self._http_timeouts()[1],  # httplib2 has one socket timeout
            on_credentials_changed=on_credentials_changed or self._store_refreshed_credentials,
            label=f"#{self.id} {self.email or ''}",
        )
