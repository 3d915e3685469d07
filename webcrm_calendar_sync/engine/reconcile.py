"""Turn a provider's change set plus the current bindings into a plan.

Plain Python, no database: the Odoo layer gathers :class:`BindingState` rows and
the iCalUID index, calls :func:`plan_changes`, and applies the :class:`Plan` in
batches. Applying the same change set twice yields a plan with nothing to do.

Rules (also written in the README, "Conflicts"):

* A remote event that is cancelled or listed as deleted removes its binding; the
  Odoo meeting is removed by the Odoo layer only when no other account still
  binds it. Unknown deletions are ignored.
* A remote event whose etag (or, without etag, last-modified time) equals the
  binding's is unchanged: nothing is written.
* A remote event that changed while the Odoo meeting also changed since the last
  sync is a conflict. The side modified last wins (remote ``updated`` against the
  Odoo change time; a tie goes to the provider, which is the source the invitees
  see). The losing version is reported so the Odoo layer can log it on the
  meeting: nothing is lost silently.
* An unbound remote event is linked to the Odoo meeting that already carries the
  same iCalUID (and, for occurrences, the same original start) through another
  account: one meeting, several bindings, never a duplicate. Otherwise it is
  created.
* Series masters are not shown themselves (providers list occurrences). A
  provider that lists every occurrence of a series at once names the series in
  ``complete_series``: bound occurrences it no longer lists were removed.
* An unbound remote event carrying the UID of a meeting this same account already
  binds (a second copy in the account's own calendar, e.g. left by a create whose
  answer was lost before creates were idempotent) is linked to that meeting, never
  imported again (needs ``BindingState.ical_uid``).
* UIDs are compared in one normal form (:func:`events.normalize_ical_uid`): a Google
  UID and the Global Object ID Microsoft wraps it in are the same meeting.
* A remote event without an end ends when it starts (:func:`events.repair`). One that
  cannot be mirrored (listed in ``ChangeSet.invalid`` by the provider, or failing
  :func:`events.invalid_reason` here) changes nothing: its binding
  is kept as it is (a full listing does not take it for deleted) and it is reported in
  ``plan.invalid``.
* Only a *complete full* listing may remove bindings it does not mention, and only
  those whose meeting lies inside the listed window. Such removals must be believable
  at every size; a *collapsed* listing removes nothing:

  - it lists none of the N >= 1 meetings the account binds in the window, or
  - it would remove more than half of them, and at least two
    (``mass_delete_ratio`` = 0.5, ``mass_delete_min`` = 2).

  The plan then says ``hold_sync_state`` (the caller must not store the listing's sync
  state, so the next sync lists again; ``plan_changes`` also clears
  ``changes.next_state`` for callers that store it whenever given),
  ``mass_delete_blocked`` (how many) and ``held_ids`` (which). The *next* listing
  decides: passed back as ``held_ids``, a collapsed listing that again misses only
  meetings the previous one missed too is believed, and they are removed.
  A provider's explicit deletion (``deleted_ids``, a cancelled event) is always applied.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Optional

from .events import MASTER, ChangeSet, RemoteEvent, Window, invalid_reason, normalize_ical_uid, repair, utc


@dataclass
class BindingState:
    """What the Odoo layer knows of one binding."""

    binding_id: int
    external_id: str
    event_id: Optional[int]
    etag: Optional[str] = None
    remote_updated: Optional[dt.datetime] = None
    local_changed: bool = False  # the Odoo meeting changed since the last sync
    local_updated: Optional[dt.datetime] = None
    start: Optional[dt.datetime] = None  # of the Odoo meeting, for window checks
    series_id: Optional[str] = None  # external id of the series master, for occurrences
    ical_uid: Optional[str] = None  # as the provider gave it, to find second copies
    original_start: Optional[dt.datetime] = None  # for occurrences


@dataclass
class Update:
    binding: BindingState
    remote: RemoteEvent


@dataclass
class Link:
    remote: RemoteEvent
    event_id: int


@dataclass
class ConflictResolution:
    binding: BindingState
    remote: RemoteEvent
    winner: str  # "remote" or "local"


@dataclass
class Plan:
    create: list = field(default_factory=list)  # [RemoteEvent]
    link: list = field(default_factory=list)  # [Link]
    update: list = field(default_factory=list)  # [Update]
    delete: list = field(default_factory=list)  # [BindingState]
    conflicts: list = field(default_factory=list)  # [ConflictResolution]
    unchanged: int = 0
    skipped: int = 0  # masters and unknown deletions
    mass_delete_blocked: int = 0  # bindings a collapsed listing would have removed
    #: the listing collapsed: do not store its sync state (see the module's docstring)
    hold_sync_state: bool = False
    #: external ids a collapsed listing would have removed: pass them back as
    #: ``plan_changes(held_ids=...)`` on the next sync, which then decides
    held_ids: list = field(default_factory=list)
    #: [(external_id, reason)] of remote events that cannot be mirrored (bindings kept)
    invalid: list = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.create or self.link or self.update or self.delete or self.conflicts)

    def summary(self) -> dict:
        return {
            "create": len(self.create),
            "link": len(self.link),
            "update": len(self.update),
            "delete": len(self.delete),
            "conflicts": len(self.conflicts),
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "mass_delete_blocked": self.mass_delete_blocked,
            "hold_sync_state": self.hold_sync_state,
            "invalid": len(self.invalid),
        }


def uid_key(ical_uid: Optional[str], original_start: Optional[dt.datetime]):
    """Key under which the same meeting is found across accounts and providers.

    The UID is taken in its normal form (:func:`events.normalize_ical_uid`), so every
    comparison of UIDs goes through one form whatever provider gave it.
    """
    ical_uid = normalize_ical_uid(ical_uid)
    if not ical_uid:
        return None
    return (ical_uid, utc(original_start).replace(microsecond=0) if original_start else None)


def _same_version(binding: BindingState, remote: RemoteEvent) -> bool:
    if remote.etag and binding.etag:
        return remote.etag == binding.etag
    if remote.updated and binding.remote_updated:
        return utc(remote.updated) == utc(binding.remote_updated)
    return False


def plan_changes(
    changes: ChangeSet,
    bindings: Iterable[BindingState],
    uid_index: Optional[dict] = None,
    *,
    window: Optional[Window] = None,
    legacy_index: Optional[dict] = None,
    mass_delete_ratio: float = 0.5,
    mass_delete_min: int = 2,
    held_ids: Optional[Iterable[str]] = None,
    sweep: bool = True,
) -> Plan:
    """Compute what to do in Odoo for ``changes``.

    :param bindings: the account's bindings
    :param uid_index: {uid_key(...): event_id} of Odoo meetings bound through any
        account (or otherwise known by iCalUID)
    :param window: the window a full listing covered
    :param legacy_index: {external_id: event_id} of Odoo meetings an earlier sync
        (Odoo's google_calendar / microsoft_calendar) already made for this calendar:
        they are linked, never duplicated (M1)
    :param held_ids: ``plan.held_ids`` of the previous sync of this account, when its
        listing collapsed (see the module's docstring)
    :param sweep: False for one page of a paged full listing: what the listing left out
        is decided after its last page, by :func:`plan_sweep`
    """
    legacy_index = legacy_index or {}
    plan = Plan()
    by_external = {b.external_id: b for b in bindings}
    uid_index = {uid_key(*key) if key else None: v for key, v in (uid_index or {}).items()}
    own_uids = {}
    for b in by_external.values():
        key = uid_key(b.ical_uid, b.original_start)
        if key and b.event_id:
            own_uids.setdefault(key, b.event_id)
    seen = set()
    handled = set()

    # events that cannot be mirrored change nothing: their bindings stay as they are
    for external_id, reason in changes.invalid:
        if external_id:
            seen.add(external_id)
            handled.add(external_id)
        plan.invalid.append((external_id, reason))

    # the last version of an id in the change set wins (pages may overlap)
    latest = {}
    for remote in changes.events:
        if remote.external_id in handled:
            continue
        reason = invalid_reason(repair(remote))
        if reason:
            if remote.external_id:
                seen.add(remote.external_id)
            plan.invalid.append((remote.external_id, reason))
            continue
        latest[remote.external_id] = remote

    by_series = {}
    for b in by_external.values():
        if b.series_id:
            by_series.setdefault(b.series_id, []).append(b)

    def delete(external_id):
        """Remove what ``external_id`` names: an event, or every occurrence of a series."""
        binding = by_external.get(external_id)
        targets = [binding] if binding else by_series.get(external_id, [])
        targets = [t for t in targets if t.external_id not in handled]
        if not targets:
            plan.skipped += 1
        for target in targets:
            handled.add(target.external_id)
            plan.delete.append(target)

    for external_id in changes.deleted_ids:
        seen.add(external_id)
        if external_id not in handled:
            delete(external_id)

    for external_id, remote in latest.items():
        seen.add(external_id)
        if external_id in handled:
            continue
        handled.add(external_id)
        binding = by_external.get(external_id)
        if remote.cancelled:
            handled.discard(external_id)
            delete(external_id)
            continue
        if remote.kind == MASTER:
            plan.skipped += 1
            continue
        if binding is None:
            key = uid_key(remote.ical_uid, remote.original_start)
            event_id = (uid_index.get(key) or own_uids.get(key) if key else None) or legacy_index.get(external_id)
            if event_id:
                plan.link.append(Link(remote, event_id))
            else:
                plan.create.append(remote)
            continue
        if _same_version(binding, remote):
            plan.unchanged += 1
            continue
        if binding.local_changed:
            remote_time = utc(remote.updated) if remote.updated else None
            local_time = utc(binding.local_updated) if binding.local_updated else None
            winner = "local" if remote_time and local_time and local_time > remote_time else "remote"
            plan.conflicts.append(ConflictResolution(binding, remote, winner))
            continue
        plan.update.append(Update(binding, remote))

    # Creates that share a key with an earlier create of the same set: keep one.
    if plan.create:
        unique, first_of = [], {}
        for remote in plan.create:
            key = uid_key(remote.ical_uid, remote.original_start)
            if key and key in first_of:
                plan.skipped += 1
                continue
            if key:
                first_of[key] = remote
            unique.append(remote)
        plan.create = unique

    if changes.complete:
        for series_id in changes.complete_series:
            for binding in by_series.get(series_id, []):
                if binding.external_id in seen or binding.external_id in handled or not _in_window(binding, window):
                    continue
                handled.add(binding.external_id)
                seen.add(binding.external_id)
                plan.delete.append(binding)
    if changes.full and changes.complete and sweep:
        _plan_gone(plan, by_external, seen, handled, window, mass_delete_ratio, mass_delete_min, held_ids)
        if plan.hold_sync_state:
            # a caller that stores whatever sync state it is given does not cement the collapse
            changes.next_state = None
    return plan


def plan_sweep(
    unlisted: Iterable[BindingState],
    in_window: int,
    *,
    window: Optional[Window] = None,
    mass_delete_ratio: float = 0.5,
    mass_delete_min: int = 2,
    held_ids: Optional[Iterable[str]] = None,
) -> Plan:
    """The end of a full listing applied page by page (:meth:`CalendarProvider.list_page`).

    :param unlisted: the account's bindings that no page of the listing mentioned (neither
        listed, nor deleted, nor reported invalid)
    :param in_window: how many of the account's bindings lie in ``window`` (listed or not)

    The same rules as a full listing read at once: the unlisted bindings inside the window
    are gone, unless the listing collapsed (see the module's docstring), which removes
    nothing and says ``hold_sync_state``.
    """
    plan = Plan()
    unlisted = list(unlisted)
    gone = [b for b in unlisted if _in_window(b, window)]
    if not gone:
        return plan
    if is_collapsed(len(gone), max(in_window, len(gone)), mass_delete_ratio, mass_delete_min):
        confirmed = held_ids is not None and {b.external_id for b in gone} <= set(held_ids)
        if not confirmed:
            plan.mass_delete_blocked = len(gone)
            plan.hold_sync_state = True
            plan.held_ids = sorted(b.external_id for b in gone)
            return plan
    plan.delete.extend(gone)
    return plan


def _in_window(binding, window):
    return window is None or binding.start is None or (window.start <= utc(binding.start) < window.end)


def is_collapsed(gone: int, in_window: int, ratio: float = 0.5, minimum: int = 2) -> bool:
    """Whether a full listing missing ``gone`` of the ``in_window`` bound meetings is not believable."""
    if gone <= 0:
        return False
    return gone >= in_window or (gone >= minimum and gone > ratio * in_window)


def _plan_gone(plan, by_external, seen, handled, window, ratio, minimum, held_ids):
    in_window = [b for b in by_external.values() if _in_window(b, window)]
    gone = [b for b in in_window if b.external_id not in seen and b.external_id not in handled]
    if not gone:
        return
    if is_collapsed(len(gone), len(in_window), ratio, minimum):
        confirmed = held_ids is not None and {b.external_id for b in gone} <= set(held_ids)
        if not confirmed:
            plan.mass_delete_blocked = len(gone)
            plan.hold_sync_state = True
            plan.held_ids = sorted(b.external_id for b in gone)
            return
    plan.delete.extend(gone)
