"""The one small interface every provider implements.

A provider object talks to one external calendar of one account. It is built by
the Odoo layer from plain values (endpoints, credentials) and keeps no Odoo state.
Credentials that the provider refreshes (OAuth tokens, msal cache) are handed back
through ``on_credentials_changed`` so the caller can store them protected.
"""

from __future__ import annotations

import abc
import datetime as dt
import random
import time
from typing import Callable, Iterable, Optional

from . import errors
from .events import ChangeSet, RemoteEvent, Window


class CalendarProvider(abc.ABC):
    """List changes since a sync state, create, update, delete, free/busy."""

    #: technical name, as stored on the account (google, microsoft, exchange)
    name = None

    def __init__(self, *, on_credentials_changed: Optional[Callable[[dict], None]] = None):
        self.on_credentials_changed = on_credentials_changed or (lambda data: None)
        self.requests = 0  # HTTP requests made by this object, for benchmarks

    # -- reading -------------------------------------------------------
    @abc.abstractmethod
    def list_changes(self, state: Optional[str], window: Window) -> ChangeSet:
        """Changes since ``state`` (None: list the whole ``window``).

        Raises :class:`errors.SyncStateExpired` when the provider rejects ``state``;
        the caller then calls again with ``state=None``.
        """

    @abc.abstractmethod
    def get_event(self, external_id: str) -> RemoteEvent:
        """One event; :class:`errors.NotFound` when it is gone."""

    # -- writing -------------------------------------------------------
    @abc.abstractmethod
    def create_event(self, event: RemoteEvent, *, send_invitations: bool = False) -> RemoteEvent:
        """Create ``event``; return it as the provider stored it (ids, etag)."""

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

    # -- free/busy -----------------------------------------------------
    @abc.abstractmethod
    def free_busy(self, emails: Iterable[str], start: dt.datetime, end: dt.datetime) -> dict:
        """{email: [events.BusyInterval, ...]} for the given addresses."""

    # -- checks ----------------------------------------------------------
    def check_connection(self) -> None:  # noqa: B027 - optional hook, not abstract
        """Raise a typed error when the account cannot be used (default: nothing to check)."""
        return None


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

    The wait honours the provider's ``retry_after`` hint but is capped so that no
    call blocks for minutes: ``max_total`` bounds the waits plus the time the failed
    calls themselves took (a timeout counts); when it is spent the last error is raised.
    """
    waited = 0.0
    started = time.monotonic()
    for attempt in range(attempts):
        try:
            return func()
        except (errors.RateLimited, errors.Unavailable) as exc:
            if attempt == attempts - 1:
                raise
            delay = exc.retry_after if exc.retry_after is not None else base_delay * 2**attempt
            delay = min(float(delay), max_delay) + random.uniform(0, base_delay / 4)
            if waited + delay > max_total or (time.monotonic() - started) + delay > max_total:
                raise
            sleep(delay)
            waited += delay
