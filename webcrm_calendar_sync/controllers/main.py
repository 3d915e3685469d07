import logging

from werkzeug.exceptions import BadRequest

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)


class CalendarSyncOAuth(http.Controller):
    """Where Google and Microsoft send the browser back after the consent page."""

    @http.route(
        ["/webcrm_calendar_sync/oauth/google", "/webcrm_calendar_sync/oauth/microsoft"],
        type="http",
        auth="user",
        methods=["GET"],
    )
    def oauth_return(self, **params):
        provider = request.httprequest.path.rsplit("/", 1)[-1]
        Account = request.env["calendar.sync.account"]
        try:
            account = Account._oauth_finish(provider, params, request.session)
        except ValueError as exc:
            # a state that is not ours (forged, replayed, other session): refuse, saying what to
            # do in the user's language; the log keeps the precise reason
            _logger.warning("Calendar OAuth return refused: %s", exc)
            raise BadRequest(
                request.env._(
                    "This sign-in answer cannot be used: it was already used, it has expired or it belongs to "
                    "another session. Open your synced calendar in Odoo and subscribe again."
                )
            ) from None
        return request.redirect(account._form_url())
