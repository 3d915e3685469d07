"""The one small interface every provider implements.

A provider object talks to one external calendar of one account. It is built by
the Odoo layer from plain values (endpoints, credentials) and keeps no Odoo state.
Credentials that the provider refreshes (OAuth tokens, msal cache) are handed back
through ``on_credentials_changed`` so the caller can store them protected.
"""

from __future__ import annotations

import abc
import datetime as dt
import email.utils
import http.client
import logging
import random
import time
from typing import Callable, Iterable, Optional

from . import errors, logredact
from .events import UNREADABLE, ChangeSet, InvalidEvent, RemoteEvent, Window, invalid_reason, repair

_logger = logging.getLogger(__name__)

#: Public endpoints of each provider, in one place: the providers' defaults, and what the
#: Odoo layer's settings fall back to when the administrator leaves a field empty.
DEFAULT_ENDPOINTS = {
    "google": {
        "auth_uri": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "api_endpoint": "https://www.googleapis.com/calendar/v3/",
    },
    "microsoft": {
        "authority_host": "https://login.microsoftonline.com",
        "graph_endpoint": "https://graph.microsoft.com/v1.0",
    },
}


class CalendarProvider(abc.ABC):
    """List changes since a sync state, create, update, delete, free/busy."""

    #: technical name, as stored on the account (google, microsoft, exchange)
    name = None

    def __init__(self, *, on_credentials_changed: Optional[Callable[[dict], None]] = None, label: str = ""):
        logredact.install()  # client libraries log secrets at DEBUG: redacted wherever the engine runs
        self.on_credentials_changed = on_credentials_changed or (lambda data: None)
        self.requests = 0  # HTTP requests made by this object, for benchmarks
        self.label = label  # names the account in log lines (never a secret)

    # -- reading -------------------------------------------------------
    @abc.abstractmethod
    def list_changes(self, state: Optional[str], window: Window) -> ChangeSet:
        """Changes since ``state`` (None: list the whole ``window``).

        Raises :class:`errors.SyncStateExpired` when the provider rejects ``state``;
        the caller then calls again with ``state=None``.
        """

    def list_page(self, state: Optional[str], window: Window, page: Optional[str] = None) -> ChangeSet:
        """One page of the changes since ``state`` (None: of the whole ``window``).

        ``page`` is ``changes.next_page`` of the previous page (None: the first page). A page
        is converted as :meth:`list_changes` converts a listing; it has ``next_page`` set when
        more follow, and the last page alone has ``next_state``. Each page stands alone: the
        caller applies it and may keep ``next_page`` to resume later, in another process,
        with the same ``state`` and ``window``. Only the last page is ``complete``, and it lists
        only its own events: what a paged full listing left out is decided by the caller once
        the last page is applied (:func:`reconcile.plan_sweep`), never from one page. The
        default lists everything as one page.
        """
        if page:
            raise ValueError(f"{type(self).__name__} lists in one page: no page {page!r} to resume at")
        return self.list_changes(state, window)

    def count_events(self, window: Window) -> Optional[int]:
        """About how many events a full listing of ``window`` holds, from one cheap request;
        None when the provider cannot say (the default: Google has no count). Used only to
        show a first sync's progress: the caller treats any error as "unknown"."""
        return None

    def _list_all_pages(self, state: Optional[str], window: Window) -> ChangeSet:
        """Read every page of :meth:`list_page` into one complete change set (for providers
        whose listing is paged, as their :meth:`list_changes`)."""
        changes = self.list_page(state, window)
        while changes.next_page:
            page = self.list_page(state, window, changes.next_page)
            changes.events += page.events
            changes.deleted_ids += page.deleted_ids
            changes.invalid += page.invalid
            changes.complete_series += page.complete_series
            changes.requests += page.requests
            changes.next_page, changes.next_state = page.next_page, page.next_state
        changes.complete = True
        return changes

    @abc.abstractmethod
    def get_event(self, external_id: str) -> RemoteEvent:
        """One event; :class:`errors.NotFound` when it is gone."""

    # -- writing -------------------------------------------------------
    @abc.abstractmethod
    def create_event(
        self, event: RemoteEvent, *, send_invitations: bool = False, idempotency_key: Optional[str] = None
    ) -> RemoteEvent:
        """Create ``event``; return it as the provider stored it (ids, etag).

        **Idempotent under retries.** The caller generates, *before the first attempt*, a
        key for this create and stores it with the pending write, then passes the same key
        on every attempt: ``event.ical_uid`` (a new UID such as ``"<uuid4 hex>@odoo"``) and
        ``idempotency_key`` (or ``event.create_key``; e.g. the uuid4 hex itself). Without a
        ``create_key`` the UID is the key (``event.idempotency_key`` is
        ``create_key or ical_uid``). When an earlier attempt
        reached the provider but its answer was lost (dropped connection, timeout, 503
        after the write), calling ``create_event`` again with the same key returns that
        first event, brought to ``event``'s content, and never makes a second copy:

        * Google: the event ``id`` is the key itself when it is base32hex (``[a-v0-9]``, 5 to
          1024 characters; a uuid4 hex is), else a hash of it (:func:`providers.google.google_event_id`);
          Google answers 409 ``duplicate`` for an id (or an iCalUID) the calendar already
          has, and the provider then returns that event.
        * Microsoft 365: the key goes as Graph's ``transactionId`` (itself when it is short
          and plain, else a hash: :func:`providers.microsoft.transaction_id`); Graph answers
          a repeated POST with the event the first one made. Graph's ``iCalUId`` is its own.
        * Exchange: EWS has no client-chosen id; the calendar is searched for an item with
          our UID over the event's time span before each attempt.

        **Finding a create whose every answer was lost**, in a later listing: Google's event
        has the key as ``external_id`` (key base32hex) and ``ical_uid``; Microsoft 365's
        listed event carries the key back in ``create_key`` (its ``transactionId``);
        Exchange's has the ``ical_uid``.

        An event in the calendar that already carries the UID (the attendee's copy of an
        invitation, say) is returned as it is, to be linked. Without a key the create is
        not idempotent.
        """

    @abc.abstractmethod
    def update_event(
        self,
        external_id: str,
        event: RemoteEvent,
        *,
        etag: Optional[str] = None,
        send_invitations: bool = False,
    ) -> RemoteEvent:
        """Update; with ``etag`` the provider refuses (:class:`errors.Conflict`) a stale write."""

    @abc.abstractmethod
    def delete_event(self, external_id: str, *, etag: Optional[str] = None, send_invitations: bool = False) -> None:
        """Delete (or cancel an occurrence). A missing event is not an error."""

    def respond_event(self, external_id: str, response: str) -> Optional[RemoteEvent]:
        """The calendar's owner answers the invitation ``external_id`` (their own copy of a meeting
        someone else organises): ``response`` is ``events.ACCEPTED``, ``DECLINED`` or
        ``TENTATIVE_RESPONSE``. The organiser is told: the answer is sent to them, and their
        calendar shows it. Returns the copy as it is after the answer (its new etag), or None when the
        copy left the calendar with the answer (a decline may take it away).

        * Google: the copy's own attendee (``self``) gets the ``responseStatus``, by a patch of
          the copy's ``attendees``.
        * Microsoft 365: ``POST /me/events/{id}/accept`` | ``decline`` | ``tentativelyAccept``.
        * Exchange: an ``AcceptItem`` | ``DeclineItem`` | ``TentativelyAcceptItem`` (CreateItem).

        :class:`errors.NotFound` when the copy is gone.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot answer invitations")

    # -- free/busy -----------------------------------------------------
    @abc.abstractmethod
    def free_busy(self, emails: Iterable[str], start: dt.datetime, end: dt.datetime) -> dict:
        """{email: [events.BusyInterval, ...]} for the given addresses."""

    # -- checks ----------------------------------------------------------
    def check_connection(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Raise a typed error when the account cannot be used (default: nothing to check)."""
        return None


def parse_retry_after(value) -> Optional[float]:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date); None if absent or unreadable."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:  # pylint: disable=except-pass
        pass  # not seconds: an HTTP date, read below
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


def error_keyword(keyword, status=None) -> str:
    """What a refusal is called, as we show it: the provider's error keyword (``badRequest``,
    ``ErrorInvalidRequest``; letters, digits and ``._-`` only, at most 60), else the HTTP
    status's name (``Bad Request``). Never the provider's free text, which may quote data."""
    text = "".join(ch for ch in str(keyword or "") if ch.isalnum() or ch in "._-")[:60]
    if not text and status:
        text = http.client.responses.get(status, "")
    return text


def update_or_landed(write: Callable[[], RemoteEvent], read: Callable[[], RemoteEvent], wanted: RemoteEvent):
    """Run an update guarded by an etag; on :class:`errors.Conflict`, read the event: when it
    already shows ``wanted`` (an earlier attempt landed and only its answer was lost), that
    is the result, otherwise the conflict stands."""
    try:
        return write()
    except errors.Conflict:
        current = read()
        if wanted.same_content(current):
            return current
        raise


def delete_ignoring_missing(func: Callable) -> None:
    """Run a delete; an event that is already gone (NotFound) is what was wanted."""
    try:
        func()
    except errors.NotFound:  # pylint: disable=except-pass
        pass  # already gone is what a delete wants


def convert_each(items, convert: Callable, changes: ChangeSet, *, provider: str, account: str = ""):
    """Yield ``convert(item)`` for each item, each on its own: a bad item never stops the others.

    An item that cannot be converted, or converts to an event that cannot be mirrored
    (:func:`events.invalid_reason`), is left out and reported in ``changes.invalid`` as
    ``(external_id, reason)``; a log line names the account and the external id (never the
    content).
    """
    for item in items:
        try:
            event = convert(item)
        except InvalidEvent as exc:
            external_id = exc.external_id or _item_id(item)
            _logger.warning(
                "%s calendar %s: event %s cannot be mirrored (%s); skipped", provider, account, external_id, exc.reason
            )
            changes.invalid.append((external_id, exc.reason))
            continue
        except Exception:  # noqa: BLE001 - whatever the payload holds, the other items go on
            external_id = _item_id(item)
            _logger.warning("%s calendar %s: event %s could not be read; skipped", provider, account, external_id)
            changes.invalid.append((external_id, UNREADABLE))
            continue
        if event is None:
            continue
        reason = invalid_reason(repair(event))
        if reason:
            _logger.warning(
                "%s calendar %s: event %s cannot be mirrored (%s); skipped",
                provider,
                account,
                event.external_id,
                reason,
            )
            changes.invalid.append((event.external_id, reason))
            continue
        yield event


def _item_id(item):
    if isinstance(item, dict):
        return item.get("id")
    if isinstance(item, tuple) and len(item) == 2:
        item = item[1]
    return getattr(item, "id", None)


def call_with_retry(
    func: Callable,
    *,
    attempts: int = 4,
    base_delay: float = 0.5,
    max_delay: float = 8.0,
    max_total: float = 20.0,
    sleep: Callable[[float], None] = time.sleep,
):
    """Call ``func()``; on RateLimited / Unavailable wait and try again, within bounds.

    Our own back-off doubles from ``base_delay`` up to ``max_delay``; a provider's
    ``retry_after`` hint (429 Retry-After, EWS BackOffMilliseconds) is waited as given,
    never shortened. No call blocks for minutes: ``max_total`` bounds the waits plus the
    time the failed calls themselves took (a timeout counts); when the next wait would
    pass it, the last error is raised at once (it carries ``retry_after`` for the caller).
    """
    waited = 0.0
    started = time.monotonic()
    for attempt in range(attempts):
        try:
            return func()
        except (errors.RateLimited, errors.Unavailable) as exc:
            if attempt == attempts - 1:
                raise
            # a provider's hint is waited as given; our own back-off doubles up to max_delay
            hint = exc.retry_after
            delay = float(hint) if hint is not None else min(base_delay * 2**attempt, max_delay)
            delay += random.uniform(0, base_delay / 4)
            if waited + delay > max_total or (time.monotonic() - started) + delay > max_total:
                raise
            sleep(delay)
            waited += delay
