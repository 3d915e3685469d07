"""Reconciliation: a provider's change set + bindings -> plan. No database."""

import datetime as dt

import pytest

from odoo.addons.webcrm_calendar_sync.engine.events import CANCELLED, MASTER, OCCURRENCE, ChangeSet, RemoteEvent, Window
from odoo.addons.webcrm_calendar_sync.engine.reconcile import BindingState, plan_changes, plan_sweep, uid_key

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
WINDOW = Window(T0 - dt.timedelta(days=30), T0 + dt.timedelta(days=300))


def remote(ext_id, etag="e1", uid=None, **kw):
    kw.setdefault("start", T0)
    kw.setdefault("end", T0 + dt.timedelta(hours=1))
    return RemoteEvent(external_id=ext_id, ical_uid=uid or f"uid-{ext_id}", etag=etag, **kw)


def binding(ext_id, event_id, etag="e1", binding_id=None, **kw):
    kw.setdefault("start", T0)
    return BindingState(binding_id=binding_id or event_id, external_id=ext_id, event_id=event_id, etag=etag, **kw)


class Applier:
    """A tiny in-memory 'Odoo' applying plans, to check idempotency end to end."""

    def __init__(self):
        self.events = {}
        self.bindings = {}
        self.next_id = 1

    def apply(self, plan):
        for r in plan.create:
            eid = self.next_id
            self.next_id += 1
            self.events[eid] = r.summary
            self.bindings[r.external_id] = binding(r.external_id, eid, r.etag, binding_id=eid)
        for link in plan.link:
            self.bindings[link.remote.external_id] = binding(link.remote.external_id, link.event_id, link.remote.etag)
        for up in plan.update:
            self.events[up.binding.event_id] = up.remote.summary
            self.bindings[up.binding.external_id] = binding(up.binding.external_id, up.binding.event_id, up.remote.etag)
        for b in plan.delete:
            del self.bindings[b.external_id]
            self.events.pop(b.event_id, None)


def test_new_events_are_created():
    plan = plan_changes(ChangeSet(events=[remote("a"), remote("b")]), [])
    assert [r.external_id for r in plan.create] == ["a", "b"]
    assert not plan.update and not plan.delete


def test_same_change_set_twice_changes_nothing():
    changes = ChangeSet(events=[remote("a"), remote("b", summary="x")], deleted_ids=["zzz"])
    odoo = Applier()
    odoo.apply(plan_changes(changes, odoo.bindings.values()))
    assert len(odoo.events) == 2
    second = plan_changes(changes, odoo.bindings.values())
    assert second.is_empty
    assert second.unchanged == 2


def test_changed_etag_updates_and_equal_etag_does_not():
    bindings = [binding("a", 1, "e1"), binding("b", 2, "e1")]
    plan = plan_changes(ChangeSet(events=[remote("a", "e2"), remote("b", "e1")]), bindings)
    assert [u.binding.external_id for u in plan.update] == ["a"]
    assert plan.unchanged == 1


def test_without_etag_last_modified_decides():
    when = T0 - dt.timedelta(days=1)
    bindings = [binding("a", 1, None, remote_updated=when)]
    same = remote("a", None, updated=when)
    newer = remote("a", None, updated=when + dt.timedelta(minutes=5))
    assert plan_changes(ChangeSet(events=[same]), bindings).unchanged == 1
    assert len(plan_changes(ChangeSet(events=[newer]), bindings).update) == 1


def test_cancelled_and_deleted_remove_bound_events_only():
    bindings = [binding("a", 1), binding("b", 2)]
    changes = ChangeSet(
        events=[remote("a", "e2", status=CANCELLED), remote("x", status=CANCELLED)], deleted_ids=["b", "y"]
    )
    plan = plan_changes(changes, bindings)
    assert sorted(b.external_id for b in plan.delete) == ["a", "b"]
    assert not plan.create
    assert plan.skipped == 2


def test_shared_meeting_is_linked_not_duplicated():
    uid_index = {uid_key("shared-1", None): 42}
    plan = plan_changes(ChangeSet(events=[remote("mine", uid="shared-1")]), [], uid_index)
    assert not plan.create
    assert plan.link[0].event_id == 42


def test_occurrences_are_matched_by_uid_and_original_start():
    start2 = T0 + dt.timedelta(days=7)
    uid_index = {uid_key("series", T0): 10, uid_key("series", start2): 11}
    occ = [
        remote("s_1", uid="series", kind=OCCURRENCE, original_start=T0, series_id="s"),
        remote("s_2", uid="series", kind=OCCURRENCE, original_start=start2, series_id="s"),
        remote("s_3", uid="series", kind=OCCURRENCE, original_start=start2 + dt.timedelta(days=7), series_id="s"),
    ]
    plan = plan_changes(ChangeSet(events=occ), [], uid_index)
    assert [link.event_id for link in plan.link] == [10, 11]
    assert [r.external_id for r in plan.create] == ["s_3"]


def test_duplicates_in_one_change_set_create_once():
    plan = plan_changes(ChangeSet(events=[remote("a", "e1"), remote("a", "e2")]), [])
    assert len(plan.create) == 1 and plan.create[0].etag == "e2"
    same_uid = ChangeSet(events=[remote("a", uid="u"), remote("b", uid="u")])
    assert len(plan_changes(same_uid, []).create) == 1


def test_masters_are_not_shown():
    plan = plan_changes(ChangeSet(events=[remote("m", kind=MASTER, recurrence=["RRULE:FREQ=DAILY"])]), [])
    assert not plan.create and plan.skipped == 1


@pytest.mark.parametrize(
    ("local_minutes", "remote_minutes", "winner"),
    [(10, 5, "local"), (5, 10, "remote"), (5, 5, "remote")],
)
def test_conflict_newest_side_wins(local_minutes, remote_minutes, winner):
    base = T0 - dt.timedelta(days=1)
    b = binding("a", 1, "e1", local_changed=True, local_updated=base + dt.timedelta(minutes=local_minutes))
    r = remote("a", "e2", updated=base + dt.timedelta(minutes=remote_minutes))
    plan = plan_changes(ChangeSet(events=[r]), [b])
    assert not plan.update
    assert plan.conflicts[0].winner == winner


def test_local_change_without_remote_change_is_no_conflict():
    b = binding("a", 1, "e1", local_changed=True, local_updated=T0)
    plan = plan_changes(ChangeSet(events=[remote("a", "e1")]), [b])
    assert plan.is_empty and plan.unchanged == 1


def test_full_listing_removes_bindings_it_no_longer_mentions():
    bindings = [binding(f"e{i}", i) for i in range(1, 21)]
    listed = [remote(f"e{i}") for i in range(1, 19)]
    plan = plan_changes(ChangeSet(events=listed, full=True), bindings, window=WINDOW)
    assert sorted(b.external_id for b in plan.delete) == ["e19", "e20"]


def test_incomplete_or_incremental_listing_never_removes_unmentioned():
    bindings = [binding(f"e{i}", i) for i in range(1, 5)]
    partial = ChangeSet(events=[remote("e1")], full=True, complete=False)
    incremental = ChangeSet(events=[remote("e1")], full=False)
    assert not plan_changes(partial, bindings, window=WINDOW).delete
    assert not plan_changes(incremental, bindings, window=WINDOW).delete


def test_empty_full_answer_is_refused_as_mass_delete():
    bindings = [binding(f"e{i}", i) for i in range(1, 31)]
    plan = plan_changes(ChangeSet(events=[], full=True), bindings, window=WINDOW)
    assert not plan.delete
    assert plan.mass_delete_blocked == 30


def test_full_listing_keeps_meetings_outside_the_window():
    old = binding("old", 1, start=WINDOW.start - dt.timedelta(days=10))
    plan = plan_changes(ChangeSet(events=[], full=True), [old], window=WINDOW)
    assert not plan.delete


def test_events_normalise_times_and_emails():
    naive = dt.datetime(2026, 1, 1, 10, 0)
    cet = dt.timezone(dt.timedelta(hours=1))
    r = RemoteEvent(start=naive, end=dt.datetime(2026, 1, 1, 11, 0, tzinfo=cet), organizer_email=" Boss@X.COM ")
    assert r.start.tzinfo == UTC and r.end == dt.datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    assert r.organizer_email == "boss@x.com"


def test_all_day_bounds_are_inclusive_days():
    r = RemoteEvent(all_day=True, start_date=dt.date(2026, 5, 1), end_date=dt.date(2026, 5, 3))
    start, end = r.utc_bounds()
    assert (end - start) == dt.timedelta(days=3)


def test_engine_never_imports_odoo():
    import subprocess
    import sys
    from pathlib import Path

    addon = Path(__file__).resolve().parents[2] / "webcrm_calendar_sync"
    code = (
        "import sys, pkgutil, importlib; sys.path.insert(0, %r)\n"
        "import engine\n"
        "for m in pkgutil.walk_packages(engine.__path__, 'engine.'):\n"
        "    importlib.import_module(m.name)\n"
        "assert not any(n == 'odoo' or n.startswith('odoo.') for n in sys.modules), 'odoo imported'\n"
    ) % str(addon)
    subprocess.run([sys.executable, "-c", code], check=True)


def test_meetings_of_an_earlier_sync_are_linked_not_duplicated():
    plan = plan_changes(ChangeSet(events=[remote("g1"), remote("g2")]), [], legacy_index={"g1": 7})
    assert [(link.remote.external_id, link.event_id) for link in plan.link] == [("g1", 7)]
    assert [r.external_id for r in plan.create] == ["g2"]


def test_deleting_a_series_removes_its_occurrences():
    bindings = [
        binding("s_1", 1, series_id="s"),
        binding("s_2", 2, series_id="s"),
        binding("other", 3),
    ]
    plan = plan_changes(ChangeSet(deleted_ids=["s"]), bindings)
    assert sorted(b.external_id for b in plan.delete) == ["s_1", "s_2"]
    cancelled_master = ChangeSet(events=[remote("s", "e9", status=CANCELLED)])
    assert len(plan_changes(cancelled_master, bindings).delete) == 2


# -- collapsed listings (issue 10, point 6) ------------------------------------------
@pytest.mark.parametrize("bound", [1, 2, 3, 10, 30])
def test_an_empty_full_listing_removes_nothing_at_any_size(bound):
    bindings = [binding(f"e{i}", i) for i in range(1, bound + 1)]
    changes = ChangeSet(events=[], full=True, next_state="token-after-empty")
    plan = plan_changes(changes, bindings, window=WINDOW)
    assert not plan.delete
    assert plan.mass_delete_blocked == bound and plan.hold_sync_state
    assert plan.held_ids == sorted(f"e{i}" for i in range(1, bound + 1))
    assert changes.next_state is None  # never cemented, even by a caller that stores whatever it gets


def test_a_listing_missing_more_than_half_is_held_and_a_few_removals_are_believed():
    bindings = [binding(f"e{i}", i) for i in range(1, 5)]
    # 3 of 4 gone: collapsed
    held = plan_changes(ChangeSet(events=[remote("e1")], full=True), bindings, window=WINDOW)
    assert not held.delete and held.hold_sync_state and held.held_ids == ["e2", "e3", "e4"]
    # 1 of 4 gone: a meeting deleted while the sync state had expired
    believed = plan_changes(
        ChangeSet(events=[remote("e1"), remote("e2"), remote("e3")], full=True, next_state="t"), bindings, window=WINDOW
    )
    assert [b.external_id for b in believed.delete] == ["e4"] and not believed.hold_sync_state


def test_the_next_listing_decides_a_held_collapse():
    bindings = [binding("e1", 1), binding("e2", 2)]
    first = plan_changes(ChangeSet(events=[], full=True), bindings, window=WINDOW)
    assert not first.delete and first.held_ids == ["e1", "e2"]
    # the next full listing comes back: nothing was lost
    back = plan_changes(ChangeSet(events=[remote("e1"), remote("e2")], full=True), bindings, window=WINDOW)
    assert not back.delete and not back.hold_sync_state
    # or it is empty again: the meetings are really gone
    again = plan_changes(
        ChangeSet(events=[], full=True, next_state="t2"), bindings, window=WINDOW, held_ids=first.held_ids
    )
    assert sorted(b.external_id for b in again.delete) == ["e1", "e2"] and not again.hold_sync_state
    # a listing missing other meetings than the held ones is not a confirmation
    other = [binding("e1", 1), binding("e3", 3)]
    still = plan_changes(ChangeSet(events=[], full=True), other, window=WINDOW, held_ids=first.held_ids)
    assert not still.delete and still.hold_sync_state


def test_explicit_deletions_are_applied_even_when_they_remove_everything():
    bindings = [binding(f"e{i}", i) for i in range(1, 4)]
    changes = ChangeSet(deleted_ids=["e1", "e2", "e3"], next_state="t")
    plan = plan_changes(changes, bindings, window=WINDOW)
    assert len(plan.delete) == 3 and not plan.hold_sync_state and changes.next_state == "t"
    cancelled = ChangeSet(events=[remote(f"e{i}", "e2", status=CANCELLED) for i in range(1, 4)])
    assert len(plan_changes(cancelled, bindings, window=WINDOW).delete) == 3


# -- bad events (point 5) -------------------------------------------------------------
def test_an_event_that_cannot_be_mirrored_changes_nothing_and_is_reported():
    bindings = [binding("a", 1), binding("b", 2)]
    backwards = remote("b", "e2", start=T0, end=T0 - dt.timedelta(hours=1))
    nostart = RemoteEvent(external_id="c", ical_uid="uid-c", etag="e1")
    changes = ChangeSet(events=[remote("a"), backwards, nostart], full=True, invalid=[("d", "bad_date")])
    plan = plan_changes(changes, bindings + [binding("d", 4)], window=WINDOW)
    assert plan.is_empty and plan.unchanged == 1
    assert sorted(plan.invalid) == [("b", "end_before_start"), ("c", "no_start"), ("d", "bad_date")]
    assert plan.summary()["invalid"] == 3


# -- one meeting, whatever the UID's form (point 4) and second copies (point 1) -----------
def test_uid_keys_compare_in_one_normal_form():
    from odoo.addons.webcrm_calendar_sync.engine.events import vcal_global_object_id

    plain = "0g7tl4v3b9q2k1@google.com"
    start = T0 + dt.timedelta(days=7)
    assert uid_key(vcal_global_object_id(plain), start) == uid_key(plain, start)
    plan = plan_changes(
        ChangeSet(events=[remote("ms1", uid=vcal_global_object_id(plain))]), [], {uid_key(plain, None): 12}
    )
    assert [(link.remote.external_id, link.event_id) for link in plan.link] == [("ms1", 12)]


def test_a_second_copy_of_a_bound_meeting_in_the_same_calendar_is_linked():
    bound = binding("first", 5, ical_uid="odoo-uid-1@odoo")
    plan = plan_changes(ChangeSet(events=[remote("first"), remote("second", uid="odoo-uid-1@odoo")]), [bound])
    assert not plan.create and [(link.remote.external_id, link.event_id) for link in plan.link] == [("second", 5)]


def test_a_paged_full_listing_sweeps_after_its_last_page():
    window = Window(dt.datetime(2026, 1, 1, tzinfo=UTC), dt.datetime(2027, 1, 1, tzinfo=UTC))
    inside = dt.datetime(2026, 6, 1, tzinfo=UTC)
    bound = [binding(f"b{i}", i + 1, start=inside) for i in range(10)]
    # a page never removes what it does not mention, even when it is the last one
    page = ChangeSet(events=[remote("b0")], full=True, complete=True)
    assert plan_changes(page, bound, window=window, sweep=False).delete == []
    # after the last page: the unlisted ones inside the window are gone, the ones outside stay
    outside = binding("old", 99, start=dt.datetime(2025, 6, 1, tzinfo=UTC))
    plan = plan_sweep([bound[3], outside], 10, window=window)
    assert [b.external_id for b in plan.delete] == ["b3"] and not plan.hold_sync_state
    # a collapsed listing (most of the bound meetings unlisted) removes nothing, until confirmed
    plan = plan_sweep(bound[2:], 10, window=window)
    assert plan.delete == [] and plan.hold_sync_state and plan.mass_delete_blocked == 8
    confirmed = plan_sweep(bound[2:], 10, window=window, held_ids=plan.held_ids)
    assert len(confirmed.delete) == 8 and not confirmed.hold_sync_state
    # nothing listed at all: held as well
    assert plan_sweep(bound, 10, window=window).hold_sync_state
