"""Exchange servers on premise, through Exchange Web Services, with exchangelib.

* Subscribe: :func:`url_error` checks the EWS URL's form, then
  :meth:`ExchangeProvider.check_connection` connects and tells apart a server that
  does not answer, a server that is not Exchange, a certificate problem and a wrong
  e-mail or password. It returns what it learnt (authentication type, server build)
  so later syncs skip the discovery requests.
* Sync: ``SyncFolderItems`` on the calendar folder, the sync state kept per account.
  Single items come from it directly; recurring series are expanded with one
  ``FindItem`` calendar view over the sync window (occurrences and exceptions get
  the master's item id as their series id), only when a series changed.
* Write: ``CreateItem`` / ``UpdateItem`` / ``DeleteItem`` with
  ``SendToNone`` for a plain save and ``SendToAllAndSaveCopy`` for "Save and send
  invitation"; updates carry the change key with ``NeverOverwrite`` so a stale
  write is refused (:class:`errors.Conflict`).
* Free/busy: ``GetUserAvailability``.
* Faults: ``ErrorServerBusy`` (with its back-off hint) and timeouts are retried
  within a bound (:func:`provider.call_with_retry`); a refused password raises
  :class:`errors.AuthRevoked`.

Never imports ``odoo``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import socket
import threading
import urllib.parse
import uuid
from typing import Optional

import requests
from exchangelib import DELEGATE, Account, Build, Configuration, Credentials, FailFast, Version
from exchangelib import errors as xerr
from exchangelib.ewsdatetime import EWSDate, EWSDateTime, EWSTimeZone
from exchangelib.folders import Calendar, Root
from exchangelib.items import (
    ID_ONLY,
    SEND_ONLY,
    SEND_TO_ALL_AND_SAVE_COPY,
    SEND_TO_NONE,
    AcceptItem,
    CalendarItem,
    DeclineItem,
    TentativelyAcceptItem,
)
from exchangelib.properties import Attendee as EwsAttendee
from exchangelib.properties import (
    DaylightTime,
    DistinguishedFolderId,
    FreeBusyViewOptions,
    ItemId,
    Mailbox,
    MailboxData,
    ReferenceItemId,
    StandardTime,
    TimeWindow,
    TimeZone,
)
from exchangelib.protocol import Protocol
from exchangelib.services import FindItem, GetUserAvailability, SyncFolderItems
from exchangelib.services.common import EWSPagingService
from exchangelib.transport import BASIC, NTLM

from .. import errors, netguard
from ..events import (
    ACCEPTED,
    CONFIDENTIAL,
    DECLINED,
    DEFAULT,
    EXCEPTION,
    MASTER,
    NEEDS_ACTION,
    NO_START,
    OCCURRENCE,
    PRIVATE,
    SINGLE,
    TENTATIVE_RESPONSE,
    UTC,
    Attendee,
    BusyInterval,
    ChangeSet,
    InvalidEvent,
    RemoteEvent,
    html_to_text,
    normalize_ical_uid,
    utc,
)
from ..provider import (
    CalendarProvider,
    call_with_retry,
    convert_each,
    delete_ignoring_missing,
    error_keyword,
    update_or_landed,
)
from ..timezones import iana_zone

AUTH_TYPES = {"basic": BASIC, "ntlm": NTLM}
PAGE_SIZE = 512  # SyncFolderItems' maximum

FIELDS = (
    "subject",
    "body",
    "location",
    "start",
    "end",
    "is_all_day",
    "_start_timezone",
    "uid",
    "type",
    "organizer",
    "required_attendees",
    "optional_attendees",
    "sensitivity",
    "legacy_free_busy_status",
    "is_cancelled",
    "last_modified_time",
    "original_start",
    "my_response_type",
)

RESPONSES = {
    "Accept": ACCEPTED,
    "Decline": DECLINED,
    "Tentative": TENTATIVE_RESPONSE,
    "Organizer": ACCEPTED,
    "NoResponseReceived": NEEDS_ACTION,
    "Unknown": NEEDS_ACTION,
}
TO_RESPONSE = {ACCEPTED: "Accept", DECLINED: "Decline", TENTATIVE_RESPONSE: "Tentative", NEEDS_ACTION: "Unknown"}
SENSITIVITY = {"Normal": DEFAULT, "Personal": PRIVATE, "Private": PRIVATE, "Confidential": CONFIDENTIAL}
TO_SENSITIVITY = {DEFAULT: "Normal", "public": "Normal", PRIVATE: "Private", CONFIDENTIAL: "Confidential"}
KINDS = {"Single": SINGLE, "RecurringMaster": MASTER, "Occurrence": OCCURRENCE, "Exception": EXCEPTION}


# ---------------------------------------------------------------------------
# URL form
# ---------------------------------------------------------------------------
def url_error(url: str) -> Optional[errors.ConfigurationError]:
    """None when ``url`` has the form of an EWS endpoint, else the error saying what is wrong with it."""
    url = (url or "").strip()
    if not url:
        return errors.ConfigurationError(code="exchange_url_missing")
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() != "https":
        return errors.ConfigurationError(code="exchange_url_not_https")
    if not parts.hostname:
        return errors.ConfigurationError(code="exchange_url_no_host")
    if not parts.path.lower().rstrip("/").endswith("/ews/exchange.asmx"):
        return errors.ConfigurationError(code="exchange_url_path", host=parts.hostname, path=parts.path or "/")
    if parts.query or parts.fragment:
        return errors.ConfigurationError(code="exchange_url_query")
    return None


def check_url(url: str) -> Optional[str]:
    """None when ``url`` has the form of an EWS endpoint, else what is wrong with it, in English."""
    error = url_error(url)
    return error.message if error else None


# ---------------------------------------------------------------------------
# HTTP: the sessions of this provider's protocol use an adapter that counts requests
# and applies the provider's CA bundle and timeout. Scoped to this module's protocol
# class: importing it changes nothing in exchangelib for other users.
# ---------------------------------------------------------------------------
_CONTEXT = threading.local()

# EWS response codes that say the mailbox cannot be served just now: tried again
_TRANSIENT = (
    xerr.ErrorTimeoutExpired,
    xerr.ErrorInternalServerTransientError,
    xerr.ErrorMailboxStoreUnavailable,
    xerr.ErrorMailboxMoveInProgress,
    xerr.ErrorConnectionFailed,
    xerr.ErrorConnectionFailedTransientError,
    xerr.ErrorADUnavailable,
    xerr.ErrorInternalServerError,
)
# HTTP statuses that mean the address is not an EWS endpoint (nothing there, POST not allowed,
# a login page's refusal): the EWS address is wrong, a settings matter
_NOT_EWS_STATUSES = frozenset({401, 403, 404, 405})


#: what the operating system and urllib3 say when a connection could not be made, by kind
_NETWORK_FAILURES = (
    (
        "name",
        (
            "nameresolutionerror",
            "name or service not known",
            "nodename nor servname",
            "getaddrinfo failed",
            "failure in name resolution",
            "no address associated with hostname",
        ),
    ),
    ("refused", ("connection refused", "connectionrefusederror", "actively refused")),
    ("timeout", ("timed out", "timeouterror", "readtimeout", "connecttimeout")),
)


def network_failure(exc: BaseException) -> Optional[str]:
    """Why no connection was made, when ``exc`` (or what it wraps) says: ``"name"`` (the host name
    does not resolve), ``"refused"`` (nothing listens at the address and port) or ``"timeout"``;
    None otherwise. Libraries wrap the socket's error, sometimes only as text."""
    seen, stack = set(), [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return "name"
        if isinstance(current, ConnectionRefusedError):
            return "refused"
        if isinstance(current, (TimeoutError, socket.timeout, requests.exceptions.Timeout)):
            return "timeout"
        stack.extend([current.__cause__, current.__context__])
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    text = str(exc).lower()
    for kind, markers in _NETWORK_FAILURES:
        if any(marker in text for marker in markers):
            return kind
    return None


def _http_status(exc):
    """The HTTP status of an answer exchangelib could not read as EWS (its MalformedResponseError
    says ``Code: 400``), or None."""
    if not isinstance(exc, xerr.MalformedResponseError):
        return None
    found = re.search(r"Code: (\d{3})\b", str(exc))
    status = int(found.group(1)) if found else None
    return status if status and 400 <= status < 600 else None


class _Adapter(netguard.GuardedAdapter):
    """Counts, CA bundle, timeouts; and the provider's network guard on every connection."""

    def send(self, request, **kwargs):
        provider = getattr(_CONTEXT, "provider", None)
        if provider is not None:
            provider.requests += 1
            if provider.verify is not True:
                kwargs["verify"] = provider.verify
            kwargs["timeout"] = provider.timeout
        return super().send(request, **kwargs)


class _Protocol(Protocol):
    """exchangelib's Protocol with :class:`_Adapter`, cached apart from plain Protocols."""

    HTTP_ADAPTER_CLS = _Adapter

    @staticmethod
    def _cache_key(config):
        return (__name__, config.service_endpoint, config.credentials)


class _RedactCredentials(logging.Filter):
    """exchangelib logs request headers at DEBUG level: never let an Authorization value through."""

    redacts_credentials = True
    pattern = re.compile(r"(authorization['\"]?\s*[:=]\s*['\"]?)(basic|ntlm|negotiate|bearer)\s+[^'\",}\s]+", re.I)

    def filter(self, record):
        if record.levelno <= logging.DEBUG:
            message = record.getMessage()
            redacted = self.pattern.sub(r"\1\2 [redacted]", message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


def _redact_exchangelib_logs():
    """Install the filter on exchangelib's loggers once (at the first provider, not at import)."""
    for name in ("exchangelib.util", "exchangelib.transport", "exchangelib.protocol"):
        logger = logging.getLogger(name)
        if not any(getattr(f, "redacts_credentials", False) for f in logger.filters):
            logger.addFilter(_RedactCredentials())


# ---------------------------------------------------------------------------
# Mapping
# ---------------------------------------------------------------------------
def _iana(tz) -> str:
    key = getattr(tz, "key", None) or getattr(tz, "zone", None)
    return key or "UTC"


def from_ews(item, series_of: Optional[dict] = None) -> RemoteEvent:
    """A RemoteEvent from an exchangelib CalendarItem (``series_of``: {uid: master item id})."""
    kind = KINDS.get(item.type or "Single", SINGLE)
    attendees = []
    organizer = (item.organizer.email_address if item.organizer else "") or ""
    for optional, group in ((False, item.required_attendees), (True, item.optional_attendees)):
        for person in group or []:
            email = person.mailbox.email_address if person.mailbox else ""
            if not email:
                continue
            attendees.append(
                Attendee(
                    email=email,
                    name=person.mailbox.name or "",
                    response=RESPONSES.get(person.response_type or "Unknown", NEEDS_ACTION),
                    organizer=email.lower() == organizer.lower(),
                    optional=optional,
                )
            )
    if organizer and not any(a.email == organizer.lower() for a in attendees):
        # EWS lists the organiser apart; the neutral event lists everyone who attends
        name = item.organizer.name or ""
        attendees.insert(0, Attendee(email=organizer, name=name, response=ACCEPTED, organizer=True))
    if item.start is None and not item.is_cancelled:
        # EWS gives no start, or one exchangelib could not read
        raise InvalidEvent(NO_START, item.id)
    tz = item._start_timezone
    body = item.body or ""
    if getattr(body, "body_type", "Text") == "HTML":
        body = html_to_text(str(body))
    own = None
    if organizer and (item.my_response_type or "Organizer") != "Organizer":
        # an attendee's copy: Exchange keeps the owner's answer in MyResponseType and lists the
        # attendees as Unknown there, which says nothing of their answers
        own = RESPONSES.get(item.my_response_type, NEEDS_ACTION)
    values = {
        "own_response": own,
        "responses_known": own is None,
        "external_id": item.id,
        "ical_uid": normalize_ical_uid(item.uid),
        "summary": item.subject or "",
        "description": str(body),
        "location": item.location or "",
        "timezone": _iana(tz),
        "attendees": attendees,
        "organizer_email": organizer,
        "privacy": SENSITIVITY.get(item.sensitivity or "Normal", DEFAULT),
        "show_as": "free" if item.legacy_free_busy_status == "Free" else "busy",
        "status": "cancelled" if item.is_cancelled else "confirmed",
        "kind": kind,
        "etag": item.changekey,
        "updated": _as_utc(item.last_modified_time),
        "original_start": _as_utc(item.original_start) if kind in (OCCURRENCE, EXCEPTION) else None,
        "series_id": (series_of or {}).get(item.uid) if kind in (OCCURRENCE, EXCEPTION) else None,
    }
    if item.start is None:
        pass  # a cancelled item without dates: removed, its dates do not matter
    elif item.is_all_day:
        start, end = item.start, item.end or item.start  # exchangelib gives dates, end inclusive
        if isinstance(start, dt.datetime):
            start = start.date()
        if isinstance(end, dt.datetime):
            end = end.date()
        values.update(all_day=True, start_date=start, end_date=max(end, start))
    else:
        values.update(start=_as_utc(item.start), end=_as_utc(item.end))
    return RemoteEvent(**values)


def _zone(name):
    try:
        return EWSTimeZone(iana_zone(name))  # an IANA name, or a Windows id read through CLDR's mapping
    except Exception:  # noqa: BLE001 - an unknown zone is written as UTC
        return EWSTimeZone("UTC")


def to_ews_fields(event: RemoteEvent, owner_email: str) -> dict:
    """CalendarItem field values for ``event`` (the owner is not listed as an attendee)."""
    zone = _zone(event.timezone)
    fields = {
        "subject": event.summary or "",
        "body": event.description or "",
        "location": event.location or None,
        "sensitivity": TO_SENSITIVITY.get(event.privacy, "Normal"),
        "legacy_free_busy_status": "Free" if event.show_as == "free" else "Busy",
        "is_all_day": bool(event.all_day),
        "_start_timezone": zone,
        "_end_timezone": zone,
    }
    if event.all_day:
        fields.update(start=EWSDate.from_date(event.start_date), end=EWSDate.from_date(event.end_date))
    else:
        fields.update(
            start=EWSDateTime.from_datetime(utc(event.start)).astimezone(zone),
            end=EWSDateTime.from_datetime(utc(event.end)).astimezone(zone),
        )
    required, optional = [], []
    for attendee in event.attendees:
        if attendee.email == owner_email:
            continue
        entry = EwsAttendee(
            mailbox=Mailbox(email_address=attendee.email, name=attendee.name or None),
            response_type=TO_RESPONSE.get(attendee.response, "Unknown"),
        )
        (optional if attendee.optional else required).append(entry)
    fields.update(required_attendees=required or None, optional_attendees=optional or None)
    return fields


UPDATE_FIELDS = (
    "subject",
    "body",
    "location",
    "sensitivity",
    "legacy_free_busy_status",
    "is_all_day",
    "start",
    "end",
    "required_attendees",
    "optional_attendees",
)


def _utc_timezone():
    """The UTC time zone in GetUserAvailability's own form."""
    rule = {"bias": 0, "time": dt.time(0, 0), "occurrence": 1, "iso_month": 1, "weekday": 7}
    return TimeZone(bias=0, standard_time=StandardTime(**rule), daylight_time=DaylightTime(**rule))


# ---------------------------------------------------------------------------
# Provider
# ---------------------------------------------------------------------------
class ExchangeProvider(CalendarProvider):
    name = "exchange"

    def __init__(
        self,
        *,
        service_endpoint: str,
        email: str,
        password: str,
        username: Optional[str] = None,
        auth_type: Optional[str] = None,
        server_build: Optional[str] = None,
        verify=True,
        timeout=30,
        retry_delay: float = 0.5,
        max_wait: float = 20.0,
        page_size: Optional[int] = None,
        guard: Optional[netguard.NetGuard] = None,
        on_credentials_changed=None,
        label: str = "",
    ):
        super().__init__(on_credentials_changed=on_credentials_changed, label=label)
        _redact_exchangelib_logs()
        self.endpoint = (service_endpoint or "").strip()
        # the URL's form is checked on every construction, not only at subscribe: https only
        # (a password never travels unencrypted) and the EWS path
        error = url_error(self.endpoint)
        if error:
            raise error
        self.guard = guard  # None: any host (the Odoo layer always passes one)
        self.timeout = timeout  # seconds, or (connect, read)
        self.email = (email or "").strip().lower()
        self.username = (username or "").strip() or self.email
        self._password = password or ""
        self.auth_type = auth_type or None  # "basic" / "ntlm"; None: ask the server
        self.server_build = server_build or None  # "15.1.2507.6"; None: ask the server
        self.verify = verify
        self.page_size = page_size or PAGE_SIZE  # items per SyncFolderItems answer (512 at most)
        self.retry_delay = retry_delay
        self.max_wait = max_wait
        self._account = None

    def __repr__(self):
        return f"<ExchangeProvider {self.email} at {self.endpoint}>"

    # -- plumbing ----------------------------------------------------------
    def _config(self):
        version = None
        if self.server_build:
            version = Version(build=Build(*[int(p) for p in self.server_build.split(".")]))
        return Configuration(
            service_endpoint=self.endpoint,
            credentials=Credentials(self.username, self._password),
            auth_type=AUTH_TYPES.get(self.auth_type),
            version=version,
            retry_policy=FailFast(),
        )

    @property
    def account(self) -> Account:
        if self._account is None:
            config = self._config()
            self._account = Account(
                primary_smtp_address=self.email,
                config=config,
                autodiscover=False,
                access_type=DELEGATE,
                default_timezone=EWSTimeZone("UTC"),
            )
            self._account.protocol = _Protocol(config=config)
            if not self.auth_type:
                self.auth_type = {v: k for k, v in AUTH_TYPES.items()}.get(self._account.protocol.auth_type)
            if not self.server_build:
                self.server_build = str(self._account.version.build)
        return self._account

    @property
    def calendar(self) -> Calendar:
        """The calendar folder, named by its distinguished id: no GetFolder request."""
        account = self.account
        root = Root(account=account)
        folder = Calendar(
            root=root,
            _distinguished_id=DistinguishedFolderId(id="calendar", mailbox=Mailbox(email_address=self.email)),
        )
        return folder

    def _call(self, func):
        def run():
            _CONTEXT.provider = self
            try:
                with netguard.guarded(self.guard):
                    if self.guard is not None:
                        self.guard.check_url(self.endpoint)  # before anything is sent
                    return func()
            except errors.SyncError:
                raise
            except Exception as exc:  # noqa: BLE001 - every library error becomes a typed one
                raise self._typed(exc) from None
            finally:
                _CONTEXT.provider = None

        return call_with_retry(
            run, base_delay=self.retry_delay, max_delay=max(self.retry_delay * 16, 0.01), max_total=self.max_wait
        )

    def _typed(self, exc) -> errors.SyncError:
        host = urllib.parse.urlsplit(self.endpoint).hostname or self.endpoint
        refusal = netguard.find_refusal(exc)
        if refusal is not None:
            # one sentence whatever the port and whether anything listens: nothing was sent there
            return errors.ConfigurationError(code=f"network_{refusal.reason}", host=refusal.host)
        if isinstance(exc, xerr.UnauthorizedError):
            self._forget_protocol()
            return errors.AuthRevoked(code="exchange_password_refused", email=self.email)
        text = str(exc)
        if isinstance(exc, xerr.ErrorServerBusy) and "ErrorInternalServerTransientError" in text:
            # exchangelib's name for a bare HTTP 503: an outage, not a back-off hint from the server
            return errors.Unavailable(code="exchange_unreachable", host=host)
        if isinstance(exc, xerr.ErrorServerBusy):
            return errors.RateLimited(code="exchange_busy", retry_after=exc.back_off)
        if isinstance(exc, xerr.ErrorInvalidSyncStateData):
            return errors.SyncStateExpired()
        if isinstance(exc, xerr.ErrorItemNotFound):
            return errors.NotFound()
        if isinstance(exc, xerr.ErrorIrresolvableConflict):
            return errors.Conflict()
        if isinstance(exc, (xerr.ErrorNonExistentMailbox, xerr.ErrorMailRecipientNotFound)):
            return errors.ConfigurationError(code="exchange_no_mailbox", host=host, email=self.email)
        if isinstance(exc, (xerr.ErrorAccessDenied, xerr.ErrorItemSave)):
            return errors.Forbidden(code="exchange_forbidden")
        if isinstance(exc, _TRANSIENT):
            # EWS answered that the mailbox cannot be reached just now
            return errors.Unavailable(code="exchange_unreachable", host=host)
        if isinstance(exc, xerr.ResponseMessageError):
            # any other EWS response code (ErrorInvalidRequest, ErrorSchemaValidation,
            # ErrorInvalidIdMalformed...): EWS understood the request and refuses it as it is
            return errors.BadRequest(code="exchange_bad_request", host=host, error=error_keyword(type(exc).__name__))
        status = _http_status(exc)
        if status and (status >= 500 or status == 408):
            # an HTTP 5xx without a SOAP answer (a front end or proxy failing): passing trouble
            return errors.Unavailable(code="exchange_unreachable", host=host)
        if status == 429:
            return errors.RateLimited(code="exchange_busy")
        if status and status not in _NOT_EWS_STATUSES:
            # an HTTP 4xx: the server (or a front end) refused this request, the same one fails again
            return errors.BadRequest(
                code="exchange_bad_request", host=host, error=f"{status} {error_keyword(None, status)}"
            )
        if isinstance(exc, requests.exceptions.SSLError) or "CERTIFICATE" in text.upper() or "SSL" in text.upper():
            return errors.ConfigurationError(code="exchange_certificate", host=host)
        failure = network_failure(exc)
        if failure:
            # told apart: a name that does not resolve fails at once, a silent server after the timeout
            return errors.Unavailable(code="exchange_unreachable", host=host, failure=failure)
        if isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)) or (
            "Connection" in text or "timed out" in text.lower()
        ):
            return errors.Unavailable(code="exchange_unreachable", host=host)
        if isinstance(exc, (xerr.TransportError, xerr.MalformedResponseError, xerr.SOAPError, xerr.RedirectError)):
            return errors.ConfigurationError(code="exchange_not_ews", host=host)
        return errors.SyncError(code="exchange_refused", error=type(exc).__name__)

    def _forget_protocol(self):
        """Drop this account's cached protocol (its sessions), so the next request authenticates anew."""
        self._account = None
        config = self._config()
        with contextlib.suppress(KeyError):
            protocol, _ = _Protocol[config]
            del _Protocol[config]
            if isinstance(protocol, Protocol):
                protocol.close()

    # -- subscribe ---------------------------------------------------------
    def check_connection(self) -> dict:
        """Connect, authenticate and open the calendar; return {"auth_type", "server_build"}."""
        error = url_error(self.endpoint)
        if error:
            raise error
        self._forget_protocol()
        self._call(lambda: Calendar.get_distinguished(root=Root(account=self.account)))
        return {"auth_type": self.auth_type, "server_build": self.server_build}

    # -- reading -----------------------------------------------------------
    def list_changes(self, state, window):
        return self._list_all_pages(state, window)

    def list_page(self, state, window, page=None):
        """One ``SyncFolderItems`` batch (``MaxChangesReturned``); its sync state is where the
        next page starts. The series met on the way travel with the page token: their
        occurrences in the window are listed with the last page (one ``CalendarView``)."""
        saved = json.loads(state) if state else None
        resume = json.loads(page) if page else None
        changes = ChangeSet(full=not saved)
        if resume:
            sync_state, series_of = resume["sync_state"], dict(resume["series"])
            series_changed = set(resume["changed"])
        else:
            sync_state = saved["sync_state"] if saved else None
            series_of, series_changed = (dict(saved.get("series", {})) if saved else {}), set()
        series_removed = set()
        before = self.requests

        def read():
            folder = self.calendar
            fields = {f for f in folder.normalize_fields(fields=FIELDS) if not f.field.is_attribute}
            service = SyncFolderItems(account=self.account)
            found = list(
                service.call(
                    folder=folder,
                    shape=ID_ONLY,
                    additional_fields=fields,
                    sync_state=sync_state,
                    ignore=None,
                    max_changes_returned=self.page_size,
                    sync_scope=None,
                )
            )
            # the same state back means nothing more, whatever IncludesLastItemInRange says
            last = service.includes_last_item_in_range or service.sync_state == sync_state
            return found, service.sync_state, last

        items, new_state, last = self._call(read)
        changes.listed = sum(1 for change_type, _item in items if change_type in ("create", "update"))
        uid_of_master = {master: uid for uid, master in series_of.items()}
        singles = []
        for change_type, item in items:
            if change_type == "delete":
                changes.deleted_ids.append(item.id)
                uid = uid_of_master.get(item.id)
                if uid:
                    series_removed.add(uid)
                continue
            if change_type not in ("create", "update"):
                continue
            if item.type == "RecurringMaster":
                series_of[item.uid] = item.id
                series_changed.add(item.uid)
                continue
            singles.append(item)
        for event in convert_each(singles, from_ews, changes, provider="Exchange", account=self.label or self.email):
            if event.cancelled:
                if saved:
                    changes.deleted_ids.append(event.external_id)
                continue
            if _in_window(event, window):
                changes.events.append(event)
        for uid in series_removed:
            series_of.pop(uid, None)
            series_changed.discard(uid)
        if not last:
            changes.complete = False
            changes.next_page = json.dumps(
                {"sync_state": new_state, "series": series_of, "changed": sorted(series_changed)}
            )
        else:
            if series_changed:
                occurrences = self._expand(window, series_of, changes)
                changed = {normalize_ical_uid(uid) for uid in series_changed}
                for event in occurrences:
                    if event.ical_uid in changed:
                        changes.events.append(event)
                changes.complete_series = sorted(series_of[uid] for uid in series_changed)
            changes.next_state = json.dumps({"sync_state": new_state, "series": series_of})
        changes.requests = self.requests - before
        return changes

    def count_events(self, window):
        """How many items the calendar folder holds: ``FindItem`` with an ``IndexedPageItemView``
        of one entry answers ``TotalItemsInView`` (the folder's items, series counted once,
        whatever their date: what a first ``SyncFolderItems`` reads, not only the window)."""

        def count():
            service = _CountingFindItem(account=self.account, page_size=1)
            list(
                service.call(
                    folders=[self.calendar],
                    additional_fields=None,
                    restriction=None,
                    order_fields=None,
                    shape=ID_ONLY,
                    query_string=None,
                    depth="Shallow",
                    calendar_view=None,
                    max_items=1,
                    offset=0,
                )
            )
            return service.total_items_in_view

        return self._call(count)

    def _expand(self, window, series_of, changes):
        def view():
            found = self.calendar.view(
                start=EWSDateTime.from_datetime(window.start), end=EWSDateTime.from_datetime(window.end)
            )
            return list(found.only(*FIELDS))

        instances = [i for i in self._call(view) if i.type in ("Occurrence", "Exception") and not i.is_cancelled]
        return list(
            convert_each(
                instances,
                lambda item: from_ews(item, series_of),
                changes,
                provider="Exchange",
                account=self.label or self.email,
            )
        )

    def get_event(self, external_id):
        return from_ews(self._call(lambda: self._get(external_id)))

    def _get(self, external_id):
        found = list(self.account.fetch(ids=[ItemId(id=external_id)], only_fields=FIELDS))
        if isinstance(found[0], Exception):
            raise found[0]
        return found[0]

    # -- writing -----------------------------------------------------------
    def create_event(self, event, *, send_invitations=False, idempotency_key=None):
        if idempotency_key:
            event = event.replace(create_key=idempotency_key)
        fields = to_ews_fields(event, self.email)
        key = event.idempotency_key
        if event.ical_uid:
            fields["uid"] = event.ical_uid
        elif key:
            fields["uid"] = f"{uuid.uuid5(uuid.NAMESPACE_URL, key)}@odoo"
        else:
            fields["uid"] = f"{uuid.uuid4()}@odoo"

        def run():
            # looked up on every attempt: the previous one may have made the item
            existing = self._find_by_uid(fields["uid"], event) if key else None
            if existing is not None:
                return existing, False
            item = CalendarItem(account=self.account, folder=self.calendar, **fields)
            item.save(send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY if send_invitations else SEND_TO_NONE)
            return item, True

        item, created = self._call(run)
        if not created:
            if (item.organizer.email_address if item.organizer else "").lower() != self.email:
                return from_ews(item)  # the account's copy of someone else's meeting: linked
            # an earlier attempt made it (its answer was lost): bring it to this content
            return self.update_event(item.id, event, send_invitations=send_invitations).replace(
                ical_uid=normalize_ical_uid(fields["uid"])
            )
        return event.replace(
            external_id=item.id,
            etag=item.changekey,
            ical_uid=normalize_ical_uid(fields["uid"]),
            updated=dt.datetime.now(UTC),
        )

    def _find_by_uid(self, uid, event):
        """The single item of the calendar that carries ``uid``, or None.

        EWS cannot restrict ``FindItem`` on ``calendar:UID`` (the UID is not a searchable
        property; only the binary PidLidGlobalObjectId extended property is). What every
        Exchange version supports is a ``CalendarView`` (``FindItem`` with a view), which
        returns the items of a time span with their UID: the meeting's own span, a day
        wider on each side, is listed and the UIDs are compared in their normal form. A
        meeting whose time changed between two attempts is not found this way.
        """
        lo, hi = event.utc_bounds()
        if lo is None or hi is None:
            return None
        lo, hi = lo - dt.timedelta(days=1), max(hi, lo) + dt.timedelta(days=1)
        view = self.calendar.view(start=EWSDateTime.from_datetime(lo), end=EWSDateTime.from_datetime(hi))
        wanted = normalize_ical_uid(uid)
        for item in view.only(*FIELDS):
            if item.type in ("Single", None) and normalize_ical_uid(item.uid) == wanted and not item.is_cancelled:
                return item
        return None

    def update_event(self, external_id, event, *, etag=None, send_invitations=False):
        fields = to_ews_fields(event, self.email)

        def run():
            item = CalendarItem(
                account=self.account, folder=self.calendar, id=external_id, changekey=etag or None, **fields
            )
            if not etag:
                current = self._get(external_id)
                item.changekey = current.changekey
            item.save(
                update_fields=list(UPDATE_FIELDS),
                conflict_resolution="NeverOverwrite" if etag else "AlwaysOverwrite",
                send_meeting_invitations=SEND_TO_ALL_AND_SAVE_COPY if send_invitations else SEND_TO_NONE,
            )
            return item

        def write():
            item = self._call(run)
            return event.replace(external_id=external_id, etag=item.changekey, updated=dt.datetime.now(UTC))

        return update_or_landed(write, lambda: self.get_event(external_id), event)

    def delete_event(self, external_id, *, etag=None, send_invitations=False):
        def run():
            item = CalendarItem(account=self.account, folder=self.calendar, id=external_id, changekey=etag or None)
            item.delete(send_meeting_cancellations=SEND_TO_ALL_AND_SAVE_COPY if send_invitations else SEND_TO_NONE)

        delete_ignoring_missing(lambda: self._call(run))

    def respond_event(self, external_id, response):
        reply = {ACCEPTED: AcceptItem, DECLINED: DeclineItem, TENTATIVE_RESPONSE: TentativelyAcceptItem}[response]

        def run():
            current = self._get(external_id)
            reference = ReferenceItemId(id=current.id, changekey=current.changekey)
            # a meeting response item (CreateItem), sent to the organiser; Exchange records the
            # answer on the copy (MyResponseType). Sent only: no copy kept in Sent Items
            reply(account=self.account, reference_item_id=reference).send(SEND_ONLY)

        self._call(run)
        try:
            return self.get_event(external_id)
        except errors.NotFound:
            return None  # answered, and the copy left the calendar (Exchange may move a declined one away)

    # -- free/busy ---------------------------------------------------------
    def free_busy(self, emails, start, end):
        emails = list(emails)

        def run():
            protocol = self.account.protocol
            return list(
                GetUserAvailability(protocol).call(
                    tzinfo=EWSTimeZone("UTC"),
                    mailbox_data=[
                        MailboxData(email=e, attendee_type="Required", exclude_conflicts=False) for e in emails
                    ],
                    timezone=_utc_timezone(),
                    free_busy_view_options=FreeBusyViewOptions(
                        time_window=TimeWindow(
                            start=EWSDateTime.from_datetime(utc(start)), end=EWSDateTime.from_datetime(utc(end))
                        ),
                        merged_free_busy_interval=30,
                        requested_view="Detailed",
                    ),
                )
            )

        views = self._call(run)
        result = {}
        for email, view in zip(emails, views, strict=False):
            if isinstance(view, Exception):
                result[email] = []
                continue
            result[email] = [
                BusyInterval(_as_utc(e.start), _as_utc(e.end), "tentative" if e.busy_type == "Tentative" else "busy")
                for e in view.calendar_events or []
                if e.busy_type not in ("Free", "NoData")
            ]
        return result


def _as_utc(value):
    """A plain aware UTC datetime from exchangelib's EWSDateTime (naive values are UTC)."""
    if value is None:
        return None
    if value.tzinfo is None:
        return dt.datetime(*value.timetuple()[:6], value.microsecond, tzinfo=UTC)
    return dt.datetime.fromtimestamp(value.timestamp(), tz=UTC)


def _in_window(event, window):
    if window is None:
        return True
    start, end = event.utc_bounds()
    return start < window.end and end > window.start


class _CountingFindItem(FindItem):
    """exchangelib's FindItem, keeping the ``TotalItemsInView`` its page announced."""

    total_items_in_view = None

    def _get_paging_values(self, elem):
        values = EWSPagingService._get_paging_values(elem)
        self.total_items_in_view = values[0]
        return values
