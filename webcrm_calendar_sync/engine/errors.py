"""Typed errors every provider raises, so callers never parse provider messages.

Messages are written for the user who will read them on the account form; they
never contain a token, a password or a full request.
"""


class SyncError(Exception):
    """Base class. ``retryable`` says whether trying again later may succeed."""

    retryable = True
    user_message = "The calendar service could not be reached. The next synchronisation will try again."

    #: a message is shown and stored: never let a provider's text make it unbounded
    max_length = 500

    def __init__(self, message=None, *, status=None, retry_after=None):
        message = str(message or self.user_message)
        if len(message) > self.max_length:
            message = message[: self.max_length - 1] + "…"
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after

    @property
    def message(self):
        return str(self)


class AuthRevoked(SyncError):
    """The grant or password no longer works: a person must act."""

    retryable = False
    user_message = "Access to the calendar was revoked or has expired. Subscribe the calendar again to grant access."


class NotSubscribed(SyncError):
    """The account has no grant or password yet: its user has to subscribe it first."""

    retryable = False
    user_message = "This calendar is not subscribed yet. Subscribe it first."


class RateLimited(SyncError):
    """The provider asks us to slow down (429, 403 rateLimitExceeded, ErrorServerBusy)."""

    user_message = "The calendar service is busy and asked us to slow down. The next synchronisation will try again."


class SyncStateExpired(SyncError):
    """The sync token / delta link / sync state was rejected: a full resync is needed."""

    user_message = "The calendar service asked for a full synchronisation."


class NotFound(SyncError):
    """The event (or calendar) does not exist on the provider side."""

    retryable = False
    user_message = "The meeting no longer exists in the external calendar."


class Conflict(SyncError):
    """The event changed on the provider side since we last read it (etag / change key)."""

    user_message = "The meeting was changed in the external calendar at the same time."


class AlreadyExists(SyncError):
    """A create named an id (or UID) the calendar already has (Google's 409 ``duplicate``)."""

    retryable = False
    user_message = "The meeting already exists in the external calendar."


class Forbidden(SyncError):
    """The account may not make this change (e.g. it does not organise the meeting)."""

    retryable = False
    user_message = "This calendar account is not allowed to change that meeting."


class ConfigurationError(SyncError):
    """Wrong URL, not a calendar server, TLS problem...: fixed by changing settings."""

    retryable = False
    user_message = "The calendar connection settings are not valid."


class Unavailable(SyncError):
    """Network error, timeout or 5xx: try again later."""


class InvalidEvent(SyncError):
    """A provider's item that cannot be turned into a meeting (no start, unreadable dates...).

    ``reason`` is one of :data:`events.INVALID_REASONS`.
    """

    retryable = False
    user_message = "The meeting in the external calendar has no valid dates and cannot be mirrored."

    def __init__(self, reason, external_id=None):
        super().__init__()
        self.reason, self.external_id = reason, external_id
