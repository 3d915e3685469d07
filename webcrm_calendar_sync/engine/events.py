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
  Graph, EWS) convert at their edge.
* ``timezone`` keeps the IANA name the organiser used, so a write-back keeps it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import Optional

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
