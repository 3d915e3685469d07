"""Error sentences in the user's language.

The engine's typed errors carry a stable code and the data of their sentence
(``engine/errors.py``, with the English sentences); here each code gets the same sentence
through Odoo's translation, so the sentences appear in the module's .pot file and are shown
in the reader's language. A test checks that both lists hold the same codes and sentences.
"""

import logging

from odoo import models
from odoo.tools.translate import LazyTranslate

from ..engine import errors as sync_errors

_logger = logging.getLogger(__name__)
_lt = LazyTranslate(__name__)

SYNC_ERROR_MESSAGES = {
    "sync_error": _lt("The calendar service could not be reached. The next synchronisation will try again."),
    "auth_revoked": _lt(
        "Access to the calendar was revoked or has expired. Subscribe the calendar again to grant access."
    ),
    "not_subscribed": _lt("This calendar is not subscribed yet. Subscribe it first."),
    "rate_limited": _lt(
        "The calendar service is busy and asked us to slow down. The next synchronisation will try again."
    ),
    "sync_state_expired": _lt("The calendar service asked for a full synchronisation."),
    "not_found": _lt("The meeting no longer exists in the external calendar."),
    "conflict": _lt("The meeting was changed in the external calendar at the same time."),
    "already_exists": _lt("The meeting already exists in the external calendar."),
    "forbidden": _lt("This calendar account is not allowed to change that meeting."),
    "not_invited": _lt(
        "This calendar is not among the meeting's attendees, "
        "so Odoo could not send the answer to it. Answer in the calendar the invitation reached."
    ),
    "configuration": _lt("The calendar connection settings are not valid."),
    "unavailable": _lt("The calendar service could not be reached. The next synchronisation will try again."),
    "invalid_event": _lt("The meeting in the external calendar has no valid dates and cannot be mirrored."),
    "bad_request": _lt(
        "The calendar service refused a request as invalid, so Odoo did not send it again. "
        "If this message stays after the next synchronisation, tell your administrator."
    ),
    "google_signin_unreachable": _lt("Google's sign-in service could not be reached. Try again."),
    "google_client_refused": _lt("Google refused the client ID or secret set in Settings."),
    "google_not_granted": _lt("Google did not grant access. Subscribe again to grant it."),
    "google_no_offline_access": _lt("Google granted no offline access. Subscribe again and accept every permission."),
    "google_access_revoked": _lt("Google no longer grants access to this calendar. Subscribe again to grant access."),
    "google_duplicate_missing": _lt("Google Calendar refused the new meeting as a duplicate, and has no such meeting."),
    "google_forbidden": _lt("Google does not allow this calendar account to make that change."),
    "google_refused": _lt(
        "Google Calendar refused a request as invalid (%(status)s %(error)s), so Odoo did not send it again. "
        "If this message stays after the next synchronisation, tell your administrator."
    ),
    "microsoft_signin_unusable": _lt(
        "The Microsoft sign-in service could not be used: check the tenant and the endpoint in Settings."
    ),
    "microsoft_signin_mismatch": _lt("The Microsoft sign-in did not match this request. Subscribe again."),
    "microsoft_signin_unreachable": _lt("Microsoft's sign-in service could not be reached. Try again."),
    "microsoft_client_refused": _lt("Microsoft refused the client ID or secret set in Settings."),
    "microsoft_not_granted": _lt("Microsoft did not grant access. Subscribe again to grant it."),
    "microsoft_grant_expired": _lt(
        "Microsoft no longer grants access to this calendar (the grant was revoked or has "
        "expired). Subscribe again to grant access."
    ),
    "microsoft_access_revoked": _lt(
        "Microsoft no longer grants access to this calendar. Subscribe again to grant access."
    ),
    "microsoft_forbidden": _lt("Microsoft 365 does not allow this account to make that change."),
    "microsoft_refused": _lt(
        "Microsoft Graph refused a request as invalid (%(status)s %(error)s), so Odoo did not send it again. "
        "If this message stays after the next synchronisation, tell your administrator."
    ),
    "network_plain_http": _lt("Odoo only connects to %(host)s over https:// (credentials are never sent unencrypted)."),
    "network_private": _lt(
        "Odoo does not connect to %(host)s: it is an address of a local or private network. "
        "If it is your company's server, an administrator can allow it in Settings "
        "(Synced calendar: Private network hosts)."
    ),
    "exchange_url_missing": _lt(
        "Enter the EWS address of the Exchange server, e.g. https://mail.example.com/EWS/Exchange.asmx."
    ),
    "exchange_url_not_https": _lt(
        "The EWS address must start with https:// (Exchange only accepts passwords over an encrypted connection)."
    ),
    "exchange_url_no_host": _lt(
        "The EWS address has no server name. It looks like https://mail.example.com/EWS/Exchange.asmx."
    ),
    "exchange_url_path": _lt(
        "The EWS address must end with /EWS/Exchange.asmx (for example "
        "https://%(host)s/EWS/Exchange.asmx); this one ends with '%(path)s'."
    ),
    "exchange_url_query": _lt("The EWS address must not contain '?' or '#'."),
    "exchange_password_refused": _lt(
        "The Exchange server refused the e-mail address or password of %(email)s. If the password "
        "was changed, enter the new one and subscribe again."
    ),
    "exchange_busy": _lt(
        "The Exchange server is busy and asked us to slow down. The next synchronisation will try again."
    ),
    "exchange_no_mailbox": _lt("The Exchange server at %(host)s has no mailbox for %(email)s."),
    "exchange_forbidden": _lt("The Exchange server does not allow this account to make that change."),
    "exchange_certificate": _lt(
        "The TLS certificate of %(host)s could not be verified. Ask the Exchange administrator for "
        "a certificate issued for this address (or install the company's certificate authority)."
    ),
    "exchange_unreachable": _lt(
        "The Exchange server at %(host)s does not answer. The next synchronisation will try again."
    ),
    "exchange_not_ews": _lt(
        "The server at %(host)s answers, but not as an Exchange server (EWS). Check the EWS address."
    ),
    "exchange_refused": _lt("The Exchange server refused the request (%(error)s)."),
    "exchange_bad_request": _lt(
        "The Exchange server at %(host)s refused a request as invalid (%(error)s), so Odoo did not send it "
        "again. If this message stays after the next synchronisation, tell your administrator."
    ),
}


class CalendarSyncAccount(models.Model):
    _inherit = "calendar.sync.account"

    def _sync_error_message(self, exc):
        """The sentence users read for a sync error, in this environment's language.

        A typed error is translated by its code and filled with its data; an error raised with
        a ready sentence (the Odoo layer's own, already translated) is shown as it is.
        """
        if not isinstance(exc, sync_errors.SyncError):
            return str(exc)
        template = SYNC_ERROR_MESSAGES.get(exc.code) if exc.code else None
        if template is None:
            if exc.code:
                _logger.warning("Calendar sync error code %s has no translatable sentence", exc.code)
            return exc.message
        text = self.env._(template)
        return text % exc.params if exc.params else text

    @staticmethod
    def _sync_error_label(exc):
        """What the logs say of an error: its class and its code."""
        code = getattr(exc, "code", None)
        return f"{type(exc).__name__}[{code}]" if code else type(exc).__name__
