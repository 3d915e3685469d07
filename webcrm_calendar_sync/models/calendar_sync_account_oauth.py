"""The OAuth 2.0 round trip shared by Google and Microsoft 365.

The flow's secret parts (PKCE verifier, msal flow) are kept in the user's session
under a random ``state``; the return route only accepts a state found in the same
session, for the same user, once.
"""

import secrets
import time
from urllib.parse import urlencode

from odoo import _, api, models
from odoo.exceptions import UserError

from ..engine import errors as sync_errors

SESSION_KEY = "webcrm_calendar_sync_oauth"
FLOW_TTL = 15 * 60


class CalendarSyncAccount(models.Model):
    _inherit = "calendar.sync.account"

    def _redirect_uri(self, provider):
        base = self.env["ir.config_parameter"].sudo().get_param("web.base.url")
        return f"{base.rstrip('/')}/webcrm_calendar_sync/oauth/{provider}"

    def _form_url(self):
        """The account's form in the web client, at the address every Odoo 18 build serves."""
        action = self.env.ref("webcrm_calendar_sync.calendar_sync_account_action")
        query = urlencode({"action": action.id, "id": self.id, "model": self._name, "view_type": "form"})
        return f"/web#{query}"

    def _oauth_remember(self, session, flow):
        """Keep ``flow`` (a dict) in ``session`` under a fresh random state; return the state."""
        self.ensure_one()
        state = flow.get("state") or secrets.token_urlsafe(32)
        flows = dict(session.get(SESSION_KEY) or {})
        now = time.time()
        flows = {k: v for k, v in flows.items() if now - v.get("at", 0) < FLOW_TTL}
        flows[state] = dict(flow, account_id=self.id, uid=self.env.uid, at=now, state=state)
        session[SESSION_KEY] = flows
        return state

    @api.model
    def _oauth_pop(self, session, state):
        flows = dict(session.get(SESSION_KEY) or {})
        flow = flows.pop(state, None) if state else None
        session[SESSION_KEY] = flows
        if not flow:
            raise ValueError("unknown or already used OAuth state")
        if flow.get("uid") != self.env.uid:
            raise ValueError("OAuth state of another user")
        if time.time() - flow.get("at", 0) > FLOW_TTL:
            raise ValueError("expired OAuth state")
        return flow

    @api.model
    def _oauth_finish(self, provider, params, session):
        """Complete the flow for the account that started it; returns the account."""
        flow = self._oauth_pop(session, params.get("state"))
        account = self.browse(flow["account_id"]).exists()
        if not account or account.provider != provider:
            raise ValueError("OAuth state does not match the account")
        if params.get("error"):
            account._record_error(
                sync_errors.AuthRevoked(
                    _("Access was not granted (%s). Subscribe again to grant it.", _bounded(params["error"], 200))
                )
            )
            return account
        try:
            getattr(account, f"_oauth_finish_{provider}")(flow, params)
        except sync_errors.SyncError as exc:
            account._record_error(exc)
            return account
        account.write({"state": "subscribed", "last_error": False, "needs_reauth": False})
        # the first sync runs in the background, never in this request (the browser waits on it)
        account._queue_after_subscribe()
        return account

    def _oauth_request_session(self):
        from odoo.http import request

        if not request:
            raise UserError(_("Subscribing needs a browser session."))
        return request.session


def _bounded(text, size):
    """A provider's free text as we keep it: printable characters only, at most ``size`` of them."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(text or ""))
    return text if len(text) <= size else text[: size - 1] + "…"
