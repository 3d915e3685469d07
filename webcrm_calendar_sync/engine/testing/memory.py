"""An in-memory provider: the interface's reference behaviour, for tests of the Odoo layer.

It keeps events in a dict, hands out sync states ("v<N>") and reports changes since
a state, like the real providers do over HTTP.
"""

from __future__ import annotations

import dataclasses
import itertools
import uuid

from .. import errors
from ..events import BusyInterval, ChangeSet, RemoteEvent
from ..provider import CalendarProvider


class MemoryCalendar:
    """The 'server side': one calendar shared by the providers built on it."""

    def __init__(self, email="user@example.com"):
        self.email = email
        self.events = {}
        self.version = 0
        self.changed_at = {}  # external_id -> version of its last change
        self.deleted_at = {}
        self.invitations = []  # (external_id, [emails]) sent
        self.answers = []  # (external_id, response) given by the owner
        self.expired_states = set()
        self._ids = itertools.count(1)

    def _touch(self, external_id):
        self.version += 1
        self.changed_at[external_id] = self.version
        self.deleted_at.pop(external_id, None)

    def put(self, event: RemoteEvent) -> RemoteEvent:
        external_id = event.external_id or f"m{next(self._ids)}"
        self._touch(external_id)
        stored = event.replace(
            external_id=external_id,
            ical_uid=event.ical_uid or f"{uuid.uuid4()}@memory",
            etag=f'"{self.version}"',
            organizer_email=event.organizer_email or self.email,
        )
        self.events[external_id] = stored
        return stored

    def remove(self, external_id):
        if self.events.pop(external_id, None) is not None:
            self.version += 1
            self.deleted_at[external_id] = self.version
            self.changed_at.pop(external_id, None)


class MemoryProvider(CalendarProvider):
    name = "memory"

    def __init__(self, calendar: MemoryCalendar, **kw):
        super().__init__(**kw)
        self.calendar = calendar

    def list_changes(self, state, window):
        self.requests += 1
        cal = self.calendar
        if state in cal.expired_states:
            raise errors.SyncStateExpired()
        if state is None:
            events = [
                e for e in cal.events.values() if e.utc_bounds()[1] > window.start and e.utc_bounds()[0] < window.end
            ]
            return ChangeSet(events=events, next_state=f"v{cal.version}", full=True, requests=1)
        since = int(state[1:])
        changed = [cal.events[i] for i, v in cal.changed_at.items() if v > since]
        deleted = [i for i, v in cal.deleted_at.items() if v > since]
        return ChangeSet(events=changed, deleted_ids=deleted, next_state=f"v{cal.version}", requests=1)

    def get_event(self, external_id):
        self.requests += 1
        try:
            return self.calendar.events[external_id]
        except KeyError:
            raise errors.NotFound() from None

    def create_event(self, event, *, send_invitations=False, idempotency_key=None):
        self.requests += 1
        key = idempotency_key or event.idempotency_key
        if key:
            for existing in self.calendar.events.values():
                if existing.create_key == key:
                    return existing
        stored = self.calendar.put(event.replace(external_id=None, create_key=key))
        if send_invitations:
            self._invite(stored)
        return stored

    def update_event(self, external_id, event, *, etag=None, send_invitations=False):
        self.requests += 1
        current = self.calendar.events.get(external_id)
        if current is None:
            raise errors.NotFound()
        if etag and etag != current.etag:
            raise errors.Conflict()
        stored = self.calendar.put(event.replace(external_id=external_id, ical_uid=current.ical_uid))
        if send_invitations:
            self._invite(stored)
        return stored

    def delete_event(self, external_id, *, etag=None, send_invitations=False):
        self.requests += 1
        self.calendar.remove(external_id)

    def respond_event(self, external_id, response):
        """The owner's answer in their copy: their attendee's response and ``own_response``
        (one calendar: no organiser elsewhere to tell)."""
        self.requests += 1
        current = self.calendar.events.get(external_id)
        if current is None:
            raise errors.NotFound()
        email = self.calendar.email.lower()
        attendees = [a if a.email != email else dataclasses.replace(a, response=response) for a in current.attendees]
        self.calendar.answers.append((external_id, response))
        return self.calendar.put(current.replace(attendees=attendees, own_response=response))

    def free_busy(self, emails, start, end):
        self.requests += 1
        busy = []
        for event in self.calendar.events.values():
            s, e = event.utc_bounds()
            if event.show_as != "free" and s < end and e > start:
                busy.append(BusyInterval(s, e))
        return {email: sorted(busy, key=lambda b: b.start) for email in emails}

    def _invite(self, event):
        guests = [a.email for a in event.attendees if a.email != self.calendar.email]
        if guests:
            self.calendar.invitations.append((event.external_id, guests))
