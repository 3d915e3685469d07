"""Typed errors every provider raises, so callers never parse provider messages.

Each error carries a stable ``code`` (a key of :data:`MESSAGES`) and the ``params`` its
sentence needs; ``message`` is that sentence in English, for use outside Odoo. The Odoo layer
shows the same sentence through Odoo's translation instead
(``calendar.sync.account._sync_error_message``). Sentences are written for the user who will
read them on the account form; they never contain a token, a password or a full request.
An error raised with a ready sentence (the Odoo layer's own, already translated) has no code.
"""

#: The sentence of each error code, in English; ``%(name)s`` is filled from the error's params.
MESSAGES = {
    # one per class: the default when nothing more precise is known
    "sync_error": "The calendar service could not be reached. The next synchronisation will try again.",
    "auth_revoked": "Access to the calendar was revoked or has expired. Subscribe the calendar again to grant access.",
    "not_subscribed": "This calendar is not subscribed yet. Subscribe it first.",
    "rate_limited": "The calendar service is busy and asked us to slow down. The next synchronisation will try again.",
    "sync_state_expired": "The calendar service asked for a full synchronisation.",
    "not_found": "The meeting no longer exists in the external calendar.",
    "conflict": "The meeting was changed in the external calendar at the same time.",
    "already_exists": "The meeting already exists in the external calendar.",
    "forbidden": "This calendar account is not allowed to change that meeting.",
    "not_invited": (
        "This calendar is not among the meeting's attendees, "
        "so Odoo could not send the answer to it. Answer in the calendar the invitation reached."
    ),
    "configuration": "The calendar connection settings are not valid.",
    "unavailable": "The calendar service could not be reached. The next synchronisation will try again.",
    "invalid_event": "The meeting in the external calendar has no valid dates and cannot be mirrored.",
    "bad_request": (
        "The calendar service refused a request as invalid, so Odoo did not send it again. "
        "If this message stays after the next synchronisation, tell your administrator."
    ),
    # Google
    "google_signin_unreachable": "Google's sign-in service could not be reached. Try again.",
    "google_client_refused": "Google refused the client ID or secret set in Settings.",
    "google_not_granted": "Google did not grant access. Subscribe again to grant it.",
    "google_no_offline_access": "Google granted no offline access. Subscribe again and accept every permission.",
    "google_access_revoked": "Google no longer grants access to this calendar. Subscribe again to grant access.",
    "google_duplicate_missing": "Google Calendar refused the new meeting as a duplicate, and has no such meeting.",
    "google_forbidden": "Google does not allow this calendar account to make that change.",
    "google_refused": (
        "Google Calendar refused a request as invalid (%(status)s %(error)s), so Odoo did not send it again. "
        "If this message stays after the next synchronisation, tell your administrator."
    ),
    # Microsoft 365
    "microsoft_signin_unusable": (
        "The Microsoft sign-in service could not be used: check the tenant and the endpoint in Settings."
    ),
    "microsoft_signin_mismatch": "The Microsoft sign-in did not match this request. Subscribe again.",
    "microsoft_signin_unreachable": "Microsoft's sign-in service could not be reached. Try again.",
    "microsoft_client_refused": "Microsoft refused the client ID or secret set in Settings.",
    "microsoft_not_granted": "Microsoft did not grant access. Subscribe again to grant it.",
    "microsoft_grant_expired": (
        "Microsoft no longer grants access to this calendar (the grant was revoked or has expired). "
        "Subscribe again to grant access."
    ),
    "microsoft_access_revoked": "Microsoft no longer grants access to this calendar. Subscribe again to grant access.",
    "microsoft_forbidden": "Microsoft 365 does not allow this account to make that change.",
    "microsoft_refused": (
        "Microsoft Graph refused a request as invalid (%(status)s %(error)s), so Odoo did not send it again. "
        "If this message stays after the next synchronisation, tell your administrator."
    ),
    # servers users choose (engine/netguard.py)
    "network_plain_http": "Odoo only connects to %(host)s over https:// (credentials are never sent unencrypted).",
    "network_private": (
        "Odoo does not connect to %(host)s: it is an address of a local or private network. "
        "If it is your company's server, an administrator can allow it in Settings "
        "(Synced calendar: Private network hosts)."
    ),
    # Exchange
    "exchange_url_missing": (
        "Enter the EWS address of the Exchange server, e.g. https://mail.example.com/EWS/Exchange.asmx."
    ),
    "exchange_url_not_https": (
        "The EWS address must start with https:// (Exchange only accepts passwords over an encrypted connection)."
    ),
    "exchange_url_no_host": (
        "The EWS address has no server name. It looks like https://mail.example.com/EWS/Exchange.asmx."
    ),
    "exchange_url_path": (
        "The EWS address must end with /EWS/Exchange.asmx (for example https://%(host)s/EWS/Exchange.asmx); "
        "this one ends with '%(path)s'."
    ),
    "exchange_url_query": "The EWS address must not contain '?' or '#'.",
    "exchange_password_refused": (
        "The Exchange server refused the e-mail address or password of %(email)s. "
        "If the password was changed, enter the new one and subscribe again."
    ),
    "exchange_busy": "The Exchange server is busy and asked us to slow down. The next synchronisation will try again.",
    "exchange_no_mailbox": "The Exchange server at %(host)s has no mailbox for %(email)s.",
    "exchange_forbidden": "The Exchange server does not allow this account to make that change.",
    "exchange_certificate": (
        "The TLS certificate of %(host)s could not be verified. Ask the Exchange administrator for a "
        "certificate issued for this address (or install the company's certificate authority)."
    ),
    "exchange_unreachable": "The Exchange server at %(host)s does not answer. The next synchronisation will try again.",
    "exchange_not_ews": "The server at %(host)s answers, but not as an Exchange server (EWS). Check the EWS address.",
    "exchange_refused": "The Exchange server refused the request (%(error)s).",
    "exchange_bad_request": (
        "The Exchange server at %(host)s refused a request as invalid (%(error)s), so Odoo did not send it "
        "again. If this message stays after the next synchronisation, tell your administrator."
    ),
}


def english(code, params=None):
    """The English sentence of ``code`` with ``params`` filled in."""
    text = MESSAGES[code]
    return text % params if params else text


def _bounded(value, limit):
    """``value`` cut to ``limit`` characters when it is a text."""
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


class SyncError(Exception):
    """Base class. ``retryable`` says whether trying again later may succeed.

    The base is retryable: an error nothing more is known of (an unexpected answer of a
    client library) may pass. A refusal the provider states clearly is typed instead: an
    HTTP 4xx other than throttling, authentication or not-found is :class:`BadRequest`,
    never retried.

    ``SyncError(code="google_refused", status=400)`` fills the sentence's ``%(status)s``;
    ``SyncError("a ready sentence")`` carries no code (``code`` is None).
    """

    retryable = True
    code = "sync_error"

    #: a message is shown and stored: never let a provider's text make it unbounded
    max_length = 500

    def __init__(self, message=None, *, code=None, status=None, retry_after=None, **params):
        self.code = code or (None if message else type(self).code)
        self.status = status
        self.retry_after = retry_after
        params = {k: _bounded(v, self.max_length // 2) for k, v in params.items()}
        self.params = dict(params, status=status) if status is not None else params
        super().__init__(_bounded(message or english(self.code, self.params), self.max_length))

    def __init_subclass__(cls, **kwargs):
        cls.user_message = MESSAGES[cls.code]
        return super().__init_subclass__(**kwargs)

    @property
    def message(self):
        return str(self)


SyncError.user_message = MESSAGES[SyncError.code]


class AuthRevoked(SyncError):
    """The grant or password no longer works: a person must act."""

    code = "auth_revoked"
    retryable = False


class NotSubscribed(SyncError):
    """The account has no grant or password yet: its user has to subscribe it first."""

    code = "not_subscribed"
    retryable = False


class RateLimited(SyncError):
    """The provider asks us to slow down (429, 403 rateLimitExceeded, ErrorServerBusy)."""

    code = "rate_limited"


class SyncStateExpired(SyncError):
    """The sync token / delta link / sync state was rejected: a full resync is needed."""

    code = "sync_state_expired"


class NotFound(SyncError):
    """The event (or calendar) does not exist on the provider side."""

    code = "not_found"
    retryable = False


class Conflict(SyncError):
    """The event changed on the provider side since we last read it (etag / change key)."""

    code = "conflict"


class AlreadyExists(SyncError):
    """A create named an id (or UID) the calendar already has (Google's 409 ``duplicate``)."""

    code = "already_exists"
    retryable = False


class Forbidden(SyncError):
    """The account may not make this change (e.g. it does not organise the meeting)."""

    code = "forbidden"
    retryable = False


class ConfigurationError(SyncError):
    """Wrong URL, not a calendar server, TLS problem...: fixed by changing settings."""

    code = "configuration"
    retryable = False


class BadRequest(SyncError):
    """The provider refused this request as invalid (an HTTP 400, 422..., an EWS ``ErrorInvalid*``
    or schema error): the same request fails the same way, so it is not retried.

    Not throttling (:class:`RateLimited`), authentication (:class:`AuthRevoked`), permission
    (:class:`Forbidden`) or a missing item (:class:`NotFound`). A write refused so is kept as
    failed for that meeting; a listing refused so fails the sync, which the scheduled sync
    tries again after its back-off (a new request, made from the state of that time).
    """

    code = "bad_request"
    retryable = False


class Unavailable(SyncError):
    """Network error, timeout or 5xx: try again later."""

    code = "unavailable"


class InvalidEvent(SyncError):
    """A provider's item that cannot be turned into a meeting (no start, unreadable dates...).

    ``reason`` is one of :data:`events.INVALID_REASONS`.
    """

    code = "invalid_event"
    retryable = False

    def __init__(self, reason, external_id=None):
        super().__init__()
        self.reason, self.external_id = reason, external_id
