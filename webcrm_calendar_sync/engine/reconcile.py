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
* Only a *complete full* listing may remove bindings it does not mention, and
  only those whose meeting lies inside the listed window; if that would remove
  more than ``mass_delete_ratio`` of the bindings in the window (with more than
  ``mass_delete_min`` of them), nothing is removed and the plan says so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Optional

from .events import MASTER, ChangeSet, RemoteEvent, Window, utc


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
    mass_delete_blocked: int = 0  # bindings a suspicious listing would have removed

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
        }


def uid_key(ical_uid: Optional[str], original_start: Optional[dt.datetime]):
    """Key under which the same meeting is found across accounts and providers."""
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
    mass_delete_min: int = 10,
) -> Plan:
    """Compute what to do in Odoo for ``changes``.

    :param bindings: the account's bindings
    :param uid_index: {uid_key(...): event_id} of Odoo meetings bound through any
        account (or otherwise known by iCalUID)
    :param window: the window a full listing covered
    :param legacy_index: {external_id: event_id} of Odoo meetings an earlier sync
        (Odoo's google_calendar / microsoft_calendar) already made for this calendar:
        they are linked, never duplicated (M1)
    """
    legacy_index = legacy_index or {}
    plan = Plan()
    by_external = {b.external_id: b for b in bindings}
    uid_index = dict(uid_index or {})
    seen = set()
    handled = set()

    # the last version of an id in the change set wins (pages may overlap)
    latest = {}
    for remote in changes.events:
        if remote.external_id:
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
            event_id = (uid_index.get(key) if key else None) or legacy_index.get(external_id)
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
    if changes.full and changes.complete:
        _plan_gone(plan, by_external, seen, window, mass_delete_ratio, mass_delete_min)
    return plan


def _in_window(binding, window):
    return window is None or binding.start is None or (window.start <= utc(binding.start) < window.end)


def _plan_gone(plan, by_external, seen, window, ratio, minimum):
    in_window = [b for b in by_external.values() if _in_window(b, window)]
    gone = [b for b in in_window if b.external_id not in seen]
    if not gone:
        return
    if len(gone) > minimum and len(gone) > ratio * len(in_window):
        plan.mass_delete_blocked = len(gone)
        return
    plan.delete.extend(gone)
