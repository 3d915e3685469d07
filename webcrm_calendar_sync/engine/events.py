"""Provider-neutral description of a calendar event.

Every provider module translates its wire format to and from :class:`RemoteEvent`;
the reconciliation and the Odoo layer only ever see this type. Plain Python: no
``odoo`` import here or anywhere under ``engine``.

Time rules
----------
* ``start`` / ``end`` of a timed event are timezone-aware datetimes in UTC.
* An all-day event has ``all_day=True`` and ``start_date`` / ``end_date`` as
  :class:`datetime.date`, ``end_date`` being *inclusive* (the last day of the
  meeting, as Odoo shows it). Providers that use an exclusive end date (Google,
  Graph, EWS) convert at their edge. The dates are the days the provider gives (Google's
  ``date``, Graph's midnight-to-midnight ``dateTime``, EWS's midnights on the item's own
  zone's clock), never a midnight converted to another zone.
* ``timezone`` keeps the IANA name the organiser used, so a write-back keeps it.
"""

from __future__ import annotations

import binascii
import dataclasses
import datetime as dt
import html
import re
import struct
from dataclasses import dataclass, field
from typing import Optional

from .errors import InvalidEvent  # noqa: F401 - part of this module's interface

UTC = dt.timezone.utc

# Kinds of event
SINGLE = "single"
MASTER = "master"  # the rule of a series; not shown itself, its occurrences are
OCCURRENCE = "occurrence"  # one instance of a series, as the rule made it
EXCEPTION = "exception"  # one instance of a series, moved or changed

# Status
CONFIRMED = "confirmed"
TENTATIVE = "tentative"
CANCELLED = "cancelled"

# Privacy
PUBLIC = "public"
PRIVATE = "private"
CONFIDENTIAL = "confidential"
DEFAULT = "default"

# Attendee responses, named like Odoo's calendar.attendee states
NEEDS_ACTION = "needsAction"
ACCEPTED = "accepted"
DECLINED = "declined"
TENTATIVE_RESPONSE = "tentative"
RESPONSES = (NEEDS_ACTION, ACCEPTED, DECLINED, TENTATIVE_RESPONSE)


def utc(value: dt.datetime) -> dt.datetime:
    """Return ``value`` as an aware UTC datetime (naive values are taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def normalize_email(email: Optional[str]) -> str:
    return (email or "").strip().lower()


# ---------------------------------------------------------------------------
# iCalendar UIDs in one normal form
# ---------------------------------------------------------------------------
#: the class id that starts every Global Object ID ([MS-OXOCAL] 2.2.1.27 PidLidGlobalObjectId)
GOID_CLASS_ID = "040000008200E00074C5B7101A82E008"
#: what the Data field of a Global Object ID starts with when it wraps a UID that came from
#: another system ([MS-OXCICAL] 2.1.3.1.1.20.26): "vCal-Uid", then the version 1 (4 bytes LE)
VCAL_UID_MARKER = b"vCal-Uid\x01\x00\x00\x00"
_HEX = re.compile(r"^[0-9A-Fa-f]+$")


def normalize_ical_uid(uid: Optional[str]) -> Optional[str]:
    """The one form under which a meeting's UID is compared, whatever the provider.

    Exchange and Microsoft 365 hand out the UID of a meeting as a Global Object ID in hex
    ([MS-OXOCAL] PidLidGlobalObjectId: class id, 4 bytes of instance date, 8 bytes of
    creation time, 8 reserved bytes, a 4-byte little-endian size, then ``size`` bytes of
    data). For a meeting that came from another system (Google, an .ics file...), the
    data is ``"vCal-Uid" 01 00 00 00 <the original UID> 00`` ([MS-OXCICAL] 2.1.3.1.1.20.26):
    that original UID is returned, so the meeting is found under the UID the other system
    gives it. A Global Object ID made by Outlook/Exchange itself stays hex, in upper case,
    with its instance-date bytes zeroed (the PidLidCleanGlobalObjectId form, the same for
    every occurrence of a series: occurrences are told apart by their original start).
    Any other UID is returned as it is (surrounding blanks removed).
    """
    if uid is None:
        return None
    uid = uid.strip()
    if len(uid) < 80 or not uid.upper().startswith(GOID_CLASS_ID) or not _HEX.match(uid) or len(uid) % 2:
        return uid
    data = binascii.unhexlify(uid)
    (size,) = struct.unpack_from("<I", data, 36)
    payload = data[40 : 40 + size]
    if len(payload) != size:
        return uid.upper()  # truncated: not a Global Object ID after all
    if payload.startswith(VCAL_UID_MARKER):
        inner = payload[len(VCAL_UID_MARKER) :].split(b"\x00", 1)[0]
        try:
            text = inner.decode("utf-8")
        except UnicodeDecodeError:
            text = inner.decode("latin-1")
        if text.strip():
            return text.strip()
    return (data[:16] + b"\x00\x00\x00\x00" + data[20:]).hex().upper()


def vcal_global_object_id(uid: str, instance_date: Optional[dt.date] = None) -> str:
    """The Global Object ID (hex) Exchange makes for ``uid`` coming from another system.

    The inverse of :func:`normalize_ical_uid` for such UIDs; tests build real-looking ids with it.
    """
    data = VCAL_UID_MARKER + uid.encode("utf-8") + b"\x00"
    if instance_date:
        date = struct.pack(">HBB", instance_date.year, instance_date.month, instance_date.day)
    else:
        date = b"\x00" * 4
    goid = bytes.fromhex(GOID_CLASS_ID) + date + b"\x00" * 8 + b"\x00" * 8 + struct.pack("<I", len(data)) + data
    return goid.hex().upper()


# ---------------------------------------------------------------------------
# text
# ---------------------------------------------------------------------------
_TAG = re.compile(r"<[^>]+>")
_DROP = re.compile(r"<!--.*?-->|<(script|style|head)\b.*?</\1\s*>", re.I | re.S)
_WHITESPACE = re.compile(r"\s+")
_LINK = re.compile(r"""<a\b[^>]*?\bhref\s*=\s*["']([^"']+)["'][^>]*>(.*?)<\s*/a\s*>""", re.I | re.S)
_ITEM = re.compile(r"<\s*li\b[^>]*>", re.I)
_BLOCK = re.compile(
    r"<\s*/?\s*(p|div|ul|ol|li|tr|table|h[1-6]|blockquote|pre|section|article|header|footer)\b[^>]*>", re.I
)
_BR = re.compile(r"<\s*br\s*/?\s*>", re.I)
_BOUNDARY = "\x00"
_BOUNDARIES = re.compile(r"[ ]*(?:\x00[ ]*)+")
_SPACES = re.compile(r"[ \t\r\f\v\xa0]+")
_LINES = re.compile(r"\n\s*\n\s*\n+")


def _link_text(match):
    url, label = match.group(1), match.group(2)
    shown = html.unescape(_TAG.sub("", label)).strip()
    target = html.unescape(url).strip()
    if not shown or target in shown or target.startswith(("#", "javascript:")):
        return label
    return f"{label} ({html.escape(target)})"


def html_to_text(content: Optional[str]) -> str:
    """Plain text of an HTML body, as a browser lays it out: the source's line breaks and runs of
    spaces are one space (a template's indentation never breaks a sentence), a block (paragraph,
    list item, row...) starts a line, ``<br>`` breaks one, list items get a dash, a link keeps its
    address. Providers hand out such bodies (Outlook, Exchange); Odoo keeps descriptions as HTML."""
    if not content:
        return ""
    text = _DROP.sub("", content.replace(_BOUNDARY, ""))
    text = _WHITESPACE.sub(" ", text)
    text = _LINK.sub(_link_text, text)
    text = _ITEM.sub(_BOUNDARY + "- ", text)
    text = _BLOCK.sub(_BOUNDARY, text)
    text = _BR.sub("\n", text)
    text = html.unescape(_TAG.sub("", text))
    text = _BOUNDARIES.sub("\n", text)
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return _LINES.sub("\n\n", "\n".join(lines)).strip()


@dataclass
class Attendee:
    email: str
    name: str = ""
    response: str = NEEDS_ACTION
    organizer: bool = False
    optional: bool = False

    def __post_init__(self):
        self.email = normalize_email(self.email)
        if self.response not in RESPONSES:
            self.response = NEEDS_ACTION


@dataclass
class RemoteEvent:
    """One event as a provider has it (or as Odoo wants the provider to have it)."""

    external_id: Optional[str] = None
    ical_uid: Optional[str] = None
    summary: str = ""
    description: str = ""
    location: str = ""
    start: Optional[dt.datetime] = None
    end: Optional[dt.datetime] = None
    all_day: bool = False
    start_date: Optional[dt.date] = None
    end_date: Optional[dt.date] = None  # inclusive
    timezone: str = "UTC"
    attendees: list = field(default_factory=list)
    organizer_email: str = ""
    privacy: str = DEFAULT
    show_as: str = "busy"  # busy | free
    status: str = CONFIRMED
    kind: str = SINGLE
    recurrence: list = field(default_factory=list)  # RRULE/EXDATE lines of a master
    series_id: Optional[str] = None  # external id of the master, for occurrences
    original_start: Optional[dt.datetime] = None  # for occurrences and exceptions
    etag: Optional[str] = None
    updated: Optional[dt.datetime] = None
    #: idempotency key of a create (see :meth:`provider.CalendarProvider.create_event`);
    #: None: the ``ical_uid`` is the key. On a listed event: the key it was created with,
    #: when the provider keeps it (Microsoft 365's ``transactionId``)
    create_key: Optional[str] = None
    #: False when the provider's list of attendees is not the meeting's (a Microsoft 365
    #: meeting saved without sending invitations carries none there): keep Odoo's
    attendees_authoritative: bool = True
    #: the answer of the calendar's owner in this copy, when the provider keeps it apart
    #: (Google: the attendee marked ``self``; Microsoft 365: the event's ``responseStatus``;
    #: Exchange: ``MyResponseType``); None when it does not say. Each account is the
    #: authority for its owner's answer
    own_response: Optional[str] = None
    #: False when the copy lists the other attendees without their answers (an attendee's copy
    #: in Microsoft 365 or Exchange lists everyone as ``none``/``Unknown``): their answers are
    #: not news, only ``own_response`` is
    responses_known: bool = True
    #: the address to join the meeting's online meeting (Google Meet, Microsoft Teams) as the
    #: provider gives it; "" when the meeting has none there
    video_url: str = ""
    #: ask the provider to make an online meeting for the event when a write of it has no
    #: ``video_url`` yet (Google: a Meet conference; Microsoft 365: a Teams meeting); the
    #: providers without one (Exchange) ignore it
    video_call: bool = False
    raw: dict = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self):
        self.organizer_email = normalize_email(self.organizer_email)
        if self.start is not None:
            self.start = utc(self.start)
        if self.end is not None:
            self.end = utc(self.end)
        if self.original_start is not None:
            self.original_start = utc(self.original_start)
        if self.updated is not None:
            self.updated = utc(self.updated)

    # -- helpers -------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        return self.status == CANCELLED

    @property
    def is_instance(self) -> bool:
        return self.kind in (OCCURRENCE, EXCEPTION)

    def utc_bounds(self) -> tuple:
        """(start, end) as aware UTC datetimes; all-day events span whole UTC days."""
        if self.all_day:
            start = dt.datetime.combine(self.start_date, dt.time.min, tzinfo=UTC)
            end = dt.datetime.combine(self.end_date + dt.timedelta(days=1), dt.time.min, tzinfo=UTC)
            return start, end
        return self.start, self.end

    def content_key(self) -> tuple:
        """What Odoo shows of the event; equal keys mean nothing to write."""
        return (
            self.summary or "",
            self.description or "",
            self.location or "",
            self.all_day,
            self.start_date if self.all_day else self.start,
            self.end_date if self.all_day else self.end,
            tuple(sorted((a.email, a.response) for a in self.attendees)),
            self.organizer_email,
            self.privacy,
            self.show_as,
            self.status,
        )

    def replace(self, **changes) -> RemoteEvent:
        return dataclasses.replace(self, **changes)

    def same_content(self, other: RemoteEvent) -> bool:
        """Whether ``other`` already shows what a write of this event sets (title, text, place, time)."""

        def text(value):
            return " ".join((value or "").split())

        return (
            text(self.summary) == text(other.summary)
            and text(self.description) == text(other.description)
            and text(self.location) == text(other.location)
            and self.all_day == other.all_day
            and (
                (self.start_date, self.end_date) == (other.start_date, other.end_date)
                if self.all_day
                else (self.start, self.end) == (other.start, other.end)
            )
        )

    @property
    def idempotency_key(self) -> Optional[str]:
        """What makes a repeated create of this event find the first one."""
        return self.create_key or self.ical_uid or None

    def invalid_reason(self) -> Optional[str]:
        """None when the event can be mirrored, else one of :data:`INVALID_REASONS`."""
        return invalid_reason(self)


# Why a remote event cannot be mirrored (reported in ChangeSet.invalid)
NO_ID = "no_id"
NO_START = "no_start"
END_BEFORE_START = "end_before_start"
BAD_DATE = "bad_date"
UNREADABLE = "unreadable"
INVALID_REASONS = (NO_ID, NO_START, END_BEFORE_START, BAD_DATE, UNREADABLE)


def repair(event: RemoteEvent) -> RemoteEvent:
    """Fill what a provider's intent makes clear: a missing end is the start (no duration)."""
    if event.all_day:
        if event.start_date is not None and event.end_date is None:
            event.end_date = event.start_date
    elif event.start is not None and event.end is None:
        event.end = event.start
    return event


def invalid_reason(event: RemoteEvent) -> Optional[str]:
    """Check what every mirrored event needs; cancelled events and series masters need no times."""
    if not event.external_id:
        return NO_ID
    if event.cancelled or event.kind == MASTER:
        return None
    if event.all_day:
        if event.start_date is None:
            return NO_START
        if event.end_date is None:
            return BAD_DATE
        if event.end_date < event.start_date:
            return END_BEFORE_START
        return None
    if event.start is None:
        return NO_START
    if event.end is None:
        return BAD_DATE
    if event.end < event.start:
        return END_BEFORE_START
    return None


@dataclass
class ChangeSet:
    """What a provider answered to "what changed since this sync state?".

    ``complete`` is True only when every page was read; a change set that is not
    complete must never be used to delete anything. ``full`` is True when the
    provider listed the whole window (first sync, or a resync after the sync state
    expired): events bound before but missing from a complete full listing are gone.
    """

    events: list = field(default_factory=list)
    deleted_ids: list = field(default_factory=list)
    next_state: Optional[str] = None
    full: bool = False
    complete: bool = True
    requests: int = 0
    #: external ids of series masters whose occurrences inside the window are all in
    #: ``events``: an occurrence bound before but not listed now was removed
    complete_series: list = field(default_factory=list)
    #: [(external_id, reason)] of listed events that could not be mirrored (see
    #: :func:`invalid_reason`): not in ``events``, yet present on the provider, so a full
    #: listing does not take them for deleted
    invalid: list = field(default_factory=list)
    #: one page of a paged listing (:meth:`CalendarProvider.list_page`): where the next page
    #: starts (an opaque string to pass back), None on the last page, which alone carries
    #: ``next_state``
    next_page: Optional[str] = None
    #: how many events the whole listing holds, when the provider says (else None)
    estimated_total: Optional[int] = None
    #: how many of the provider's items this page read, when they are not what ``events``
    #: and ``invalid`` count (Exchange: series and items outside the window); for progress
    listed: Optional[int] = None


@dataclass(frozen=True)
class Window:
    """The period a full sync covers (aware UTC datetimes)."""

    start: dt.datetime
    end: dt.datetime

    @classmethod
    def around(cls, now: dt.datetime, days_back: int, days_ahead: int) -> Window:
        now = utc(now)
        return cls(now - dt.timedelta(days=days_back), now + dt.timedelta(days=days_ahead))


@dataclass(frozen=True)
class BusyInterval:
    start: dt.datetime
    end: dt.datetime
    status: str = "busy"
