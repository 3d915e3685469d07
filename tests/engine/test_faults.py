"""Fault injection, per provider (Google, Microsoft 365, Exchange against their fake servers).

Timeouts and 5xx on every kind of request, 429 / ErrorServerBusy with a back-off hint, a
connection reset in the middle of paging, lost answers on create / update / delete, the same
change delivered twice, the sync state rejected. After each, the next sync converges: every
external event exactly once on the Odoo side, no meeting made twice on the provider side.

The Odoo side is modelled by :class:`Mirror`: meetings and bindings in memory, plans from the
engine's reconciliation applied the way the account applies them (sync state stored only when
the plan allows it, pending creates keyed before the first attempt and linked when a listing
shows them). The Odoo layer's own transaction tests are in the addon's tests.
"""

import datetime as dt
import itertools
import time
import uuid

import pytest
from rigs import OWNER

from odoo.addons.webcrm_calendar_sync.engine import errors
from odoo.addons.webcrm_calendar_sync.engine.events import Attendee, RemoteEvent, Window
from odoo.addons.webcrm_calendar_sync.engine.providers import exchange as ex
from odoo.addons.webcrm_calendar_sync.engine.reconcile import BindingState, plan_changes, uid_key

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = Window(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=120))


class Mirror:
    """A miniature of the Odoo side of one account."""

    def __init__(self, provider):
        self.provider = provider
        self.state = None
        self.held = None
        self.meetings = {}  # event_id -> summary
        self.bindings = {}  # external_id -> BindingState
        self.pending = {}  # event_id -> (key, RemoteEvent) of creates not answered yet
        self.ids = itertools.count(1)

    # -- remote -> here ----------------------------------------------------------
    def sync(self):
        try:
            changes = self.provider.list_changes(self.state, WINDOW)
        except errors.SyncStateExpired:
            changes = self.provider.list_changes(None, WINDOW)
        self._link_pending(changes)
        plan = plan_changes(changes, list(self.bindings.values()), {}, window=WINDOW, held_ids=self.held)
        for remote in plan.create:
            event_id = next(self.ids)
            self.meetings[event_id] = remote.summary
            self._bind(remote, event_id)
        for link in plan.link:
            self._bind(link.remote, link.event_id)
        for update in plan.update + [c for c in plan.conflicts if c.winner == "remote"]:
            self.meetings[update.binding.event_id] = update.remote.summary
            self._bind(update.remote, update.binding.event_id)
        for binding in plan.delete:
            del self.bindings[binding.external_id]
            if not any(b.event_id == binding.event_id for b in self.bindings.values()):
                self.meetings.pop(binding.event_id, None)
        self.held = plan.held_ids or None
        if changes.next_state and not plan.hold_sync_state:
            self.state = changes.next_state
        return plan

    def _link_pending(self, changes):
        for remote in changes.events:
            if remote.external_id in self.bindings:
                continue
            for event_id, (key, wanted) in list(self.pending.items()):
                if key in (remote.external_id, remote.create_key) or uid_key(remote.ical_uid, None) == uid_key(
                    wanted.ical_uid, None
                ):
                    self._bind(remote, event_id)
                    del self.pending[event_id]
                    break

    def _bind(self, remote, event_id):
        self.bindings[remote.external_id] = BindingState(
            binding_id=event_id,
            external_id=remote.external_id,
            event_id=event_id,
            etag=remote.etag,
            remote_updated=remote.updated,
            start=remote.start,
            ical_uid=remote.ical_uid,
        )

    # -- here -> remote ----------------------------------------------------------
    def create(self, summary, days=3):
        """A meeting made in Odoo: its key chosen and kept before the first attempt."""
        event_id = next(self.ids)
        key = uuid.uuid4().hex
        start = NOW + dt.timedelta(days=days)
        self.meetings[event_id] = summary
        self.pending[event_id] = (
            key,
            RemoteEvent(
                summary=summary,
                ical_uid=f"{key}@odoo",
                start=start,
                end=start + dt.timedelta(hours=1),
                organizer_email=OWNER,
                attendees=[Attendee(OWNER, organizer=True, response="accepted")],
            ),
        )
        self.push()
        return event_id

    def push(self):
        """Write what waits; a failed write stays waiting (raises the error)."""
        for event_id, (key, remote) in list(self.pending.items()):
            result = self.provider.create_event(remote, idempotency_key=key)
            self._bind(result, event_id)
            del self.pending[event_id]

    def binding_of(self, event_id):
        return next(b for b in self.bindings.values() if b.event_id == event_id)

    def update(self, event_id, summary):
        binding = self.binding_of(event_id)
        current = self.provider.get_event(binding.external_id)
        result = self.provider.update_event(binding.external_id, current.replace(summary=summary), etag=binding.etag)
        self.meetings[event_id] = summary
        self._bind(result, event_id)

    def delete(self, event_id):
        binding = self.binding_of(event_id)
        self.provider.delete_event(binding.external_id)
        del self.bindings[binding.external_id]
        del self.meetings[event_id]

    # -- the promise ---------------------------------------------------------------
    def assert_converged(self, rig):
        self.push()
        self.sync()
        remote = rig.live()
        assert not self.pending
        assert sorted(self.meetings.values()) == sorted(summary for summary, _uid in remote), (self.meetings, remote)
        assert len(self.bindings) == len(remote)  # each external event bound once
        assert len({b.event_id for b in self.bindings.values()}) == len(self.meetings)


@pytest.fixture
def mirror(rig):
    for i in range(3):
        rig.add(f"Existing {i}", NOW + dt.timedelta(days=i + 1))
    mirror = Mirror(rig.provider(timeout=1))
    mirror.sync()
    assert len(mirror.meetings) == 3
    return mirror


KINDS = ["list", "get", "create", "update", "delete"]


def run(mirror, kind):
    first = sorted(mirror.meetings)[0]
    if kind == "list":
        mirror.sync()
    elif kind == "get":
        mirror.provider.get_event(mirror.binding_of(first).external_id)
    elif kind == "create":
        mirror.create("Made in Odoo")
    elif kind == "update":
        mirror.update(first, "Renamed in Odoo")
    elif kind == "delete":
        mirror.delete(first)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("fault", [("status", 500), ("status", 503), ("delay", 1.6)])
def test_one_timeout_or_5xx_is_retried_within_the_call(rig, mirror, kind, fault):
    rig.server.add_fault(fault[0], on=kind, value=fault[1])
    run(mirror, kind)
    assert not rig.server.faults, "the fault was not met"
    rig.server.wait_idle()
    if (rig.name, kind, fault[0]) == ("exchange", "create", "delay"):
        # EWS has no idempotent create: a server slower than our timeout handles the first
        # CreateItem after the retry's lookup and CreateItem made the item. The second item
        # carries the same UID: the next sync binds it to the same meeting, never imports it.
        mirror.sync()
        made = [e for e, s in mirror.meetings.items() if s == "Made in Odoo"]
        assert len(made) == 1 and len(rig.live()) == 5
        assert sum(b.event_id == made[0] for b in mirror.bindings.values()) == 2
        return
    mirror.assert_converged(rig)


@pytest.mark.parametrize("kind", KINDS)
def test_an_outage_fails_the_call_and_the_next_run_converges(rig, mirror, kind):
    rig.server.add_fault("status", on=kind, value=503, count=1000)
    with pytest.raises(errors.SyncError) as info:
        run(mirror, kind)
    assert info.value.retryable
    rig.server.clear_faults()
    if kind == "update":
        run(mirror, kind)  # the waiting write is written again
    elif kind == "delete":
        run(mirror, kind)
    mirror.assert_converged(rig)


def test_rate_limited_with_a_back_off_hint(rig, mirror):
    rig.add("New", NOW + dt.timedelta(days=9))
    rig.rate_limit(1)
    started = time.monotonic()
    mirror.sync()
    assert time.monotonic() - started >= 0.9  # the provider's hint was honoured
    assert "New" in mirror.meetings.values()
    mirror.assert_converged(rig)


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(ex, "PAGE_SIZE", 3)


@pytest.mark.parametrize("resets", [2, 1000])
def test_a_connection_reset_in_the_middle_of_paging(rig, small_pages, resets):
    for i in range(8):
        rig.add(f"Paged {i}", NOW + dt.timedelta(days=i + 1))
    mirror = Mirror(rig.provider(page_size=3))
    # the first page comes, then the connection drops (httplib2 re-sends once by itself)
    rig.server.add_fault("reset", on="list", after=1, count=resets)
    if resets > 2:
        with pytest.raises(errors.Unavailable):
            mirror.sync()
        assert mirror.meetings == {} and mirror.state is None  # nothing half-applied
        rig.server.clear_faults()
    else:
        mirror.sync()
        assert not rig.server.faults
    assert len(mirror.meetings) == 8 or not mirror.meetings
    mirror.assert_converged(rig)
    assert len(mirror.meetings) == 8


@pytest.mark.parametrize("kind", ["create", "update", "delete"])
@pytest.mark.parametrize("fault", ["lose", "lose503"])
def test_lost_answers_on_writes(rig, mirror, kind, fault):
    rig.server.add_fault(fault, on=kind)
    run(mirror, kind)
    assert not rig.server.faults
    mirror.assert_converged(rig)


def test_every_answer_of_a_create_lost_then_a_sync_then_the_retry(rig, mirror):
    rig.server.add_fault("lose", on="create", count=1000)
    try:
        mirror.create("Made in Odoo")
    except errors.Unavailable:
        pass  # the create waits (on Exchange, the retry's lookup finds the first item at once)
    rig.server.clear_faults()
    mirror.sync()  # lists the meeting the lost create made: linked to the waiting one
    mirror.assert_converged(rig)
    assert sorted(mirror.meetings.values()).count("Made in Odoo") == 1


def test_the_same_changes_delivered_twice(rig, mirror):
    state_before = mirror.state
    rig.add("New", NOW + dt.timedelta(days=9))
    first = sorted(mirror.meetings)[0]
    rig.remove(mirror.binding_of(first).external_id)
    mirror.sync()
    # the run stopped before storing the sync state: the next one gets the same changes again
    mirror.state = state_before
    again = mirror.sync()
    assert not again.create and not again.update
    mirror.assert_converged(rig)


def test_a_rejected_sync_state_means_a_full_listing_that_converges(rig, mirror):
    rig.add("Added meanwhile", NOW + dt.timedelta(days=9))
    rig.remove(mirror.binding_of(sorted(mirror.meetings)[0]).external_id)
    rig.expire_state()
    with pytest.raises(errors.SyncStateExpired):
        mirror.provider.list_changes(mirror.state, WINDOW)
    plan = mirror.sync()
    assert len(plan.create) == 1 and len(plan.delete) == 1 and not plan.hold_sync_state
    mirror.assert_converged(rig)


def test_a_collapsed_listing_is_held_then_the_next_listing_decides(rig, mirror):
    for external_id in list(mirror.bindings):
        rig.remove(external_id)
    rig.expire_state()
    held = mirror.sync()
    assert held.hold_sync_state and not held.delete and len(mirror.meetings) == 3
    confirmed = mirror.sync()  # the listing is empty again: believed
    assert len(confirmed.delete) == 3 and not confirmed.hold_sync_state
    mirror.assert_converged(rig)
    assert mirror.meetings == {}


# -- a request refused as invalid is not retried ---------------------------------------------
REFUSALS = {
    # status, the provider's reason (None: its default for the status)
    "google": [(400, None), (400, "invalid"), (422, None)],
    "microsoft": [(400, None), (400, "ErrorInvalidRequest"), (422, None)],
    # EWS: a bare HTTP 400 from the server or a front end, and EWS's own refusals as SOAP faults
    # (ErrorInvalidRequest is not among them: exchangelib reads it as a wrong API version and
    # asks again in each older version, its version negotiation, which we leave to it)
    "exchange": [(400, None), (500, "ErrorSchemaValidation"), (500, "ErrorInvalidIdMalformed")],
}


@pytest.mark.parametrize("kind", ["list", "get", "create", "update"])
@pytest.mark.parametrize("case", range(3))
def test_a_request_refused_as_invalid_is_tried_once(rig, mirror, kind, case):
    status, reason = REFUSALS[rig.name][case]
    first = sorted(mirror.meetings)[0]
    rig.server.fail_next(count=5, status=status, reason=reason, on=kind)
    with pytest.raises(errors.BadRequest) as info:
        run(mirror, kind)
    exc = info.value
    assert not exc.retryable
    # each request of that kind takes one of the five faults: one taken, the request was sent once
    assert rig.server.faults_left() == 4, "the refused request was sent once, never again"
    # a sentence saying what happened and what to do, naming the refusal, never the server's free text
    assert "refused a request as invalid" in exc.message and "tell your administrator" in exc.message
    assert str(status) in exc.message or (reason and reason in exc.message)
    assert "injected" not in exc.message and "Invalid request" not in exc.message
    rig.server.clear_faults()
    if kind == "update":
        mirror.update(first, "Renamed in Odoo")  # the change is made again, as a new request
    mirror.assert_converged(rig)


@pytest.mark.parametrize("status", [503, 429])
def test_outages_and_throttling_are_still_retried(rig, mirror, status):
    rig.add("New", NOW + dt.timedelta(days=9))
    rig.server.fail_next(count=1, status=status, retry_after=0.1, on="list")
    mirror.sync()
    assert rig.server.faults_left() == 0, "the fault was met, and the call tried again past it"
    assert "New" in mirror.meetings.values()
    mirror.assert_converged(rig)
