"""What every provider promises, checked on Google, Microsoft 365 and Exchange alike (fake servers):
idempotent creates, the organiser among the attendees, bad events skipped and reported, UIDs
in one normal form."""

import datetime as dt

import pytest
from rigs import GUEST, OWNER, log_lines

from odoo.addons.webcrm_calendar_sync.engine import errors
from odoo.addons.webcrm_calendar_sync.engine import provider as provider_module
from odoo.addons.webcrm_calendar_sync.engine.events import Attendee, RemoteEvent, Window, vcal_global_object_id
from odoo.addons.webcrm_calendar_sync.engine.reconcile import BindingState, plan_changes

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = Window(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=120))


def meeting(summary="Plan", uid="4f1c2b9e-idem@odoo", days=2, **kw):
    start = NOW + dt.timedelta(days=days)
    return RemoteEvent(
        summary=summary,
        ical_uid=uid,
        start=start,
        end=start + dt.timedelta(hours=1),
        organizer_email=OWNER,
        attendees=[Attendee(OWNER, organizer=True, response="accepted")],
        **kw,
    )


def copies(rig):
    """Subjects of the events in the owner's calendar (Graph chooses its own iCalUId: count by subject)."""
    return [s for s, _u in rig.live()]


# -- 1. idempotent creates ------------------------------------------------------
@pytest.mark.parametrize("fault", ["lose", "lose503", "delay"])
def test_a_create_whose_answer_is_lost_is_made_once(rig, fault):
    provider = rig.provider(timeout=1)
    rig.server.add_fault(fault, on="create", value=1.5 if fault == "delay" else None)
    created = provider.create_event(meeting())
    assert not rig.server.faults, "the fault was not met"
    rig.server.wait_idle()  # a delayed request is handled after the client gave up on it
    assert created.external_id and created.summary == "Plan"
    if fault == "delay" and rig.name == "exchange":
        # EWS has no idempotent create: a server slower than our timeout handles the first
        # CreateItem after the retry's lookup and CreateItem. The second item carries the
        # same UID: the next sync links it to the same meeting, never imports it again.
        changes = provider.list_changes(None, WINDOW)
        bound = BindingState(1, created.external_id, 41, etag=created.etag, ical_uid=created.ical_uid)
        plan = plan_changes(changes, [bound], window=WINDOW)
        assert not plan.create and {link.event_id for link in plan.link} <= {41}
        return
    assert copies(rig) == ["Plan"]


def test_a_create_retried_later_finds_the_first_and_brings_it_up_to_date(rig):
    provider = rig.provider()
    rig.server.add_fault("lose", on="create", count=50)
    try:
        first = provider.create_event(meeting())
    except errors.Unavailable:
        first = None  # every answer lost: the caller keeps the write pending
    rig.server.clear_faults()
    assert copies(rig) == ["Plan"]
    again = provider.create_event(meeting(summary="Plan v2"))
    assert copies(rig) == ["Plan v2"]
    assert first is None or first.external_id == again.external_id
    listed = provider.list_changes(None, WINDOW).events
    assert [(e.external_id, e.summary) for e in listed] == [(again.external_id, "Plan v2")]


def test_creates_without_the_same_key_are_distinct_meetings(rig):
    provider = rig.provider()
    provider.create_event(meeting(uid="first@odoo"))
    provider.create_event(meeting(uid="second@odoo"))
    assert len(rig.live()) == 2


def test_create_meets_a_copy_of_the_meeting_already_in_the_calendar(rig):
    # the account's calendar already holds the meeting (an invitation from a colleague)
    if rig.name == "microsoft":
        pytest.skip("Graph's iCalUId is its own (read-only, a Global Object ID): a create cannot name it")
    rig.add("Shared", NOW + dt.timedelta(days=2), uid="shared-uid@corp.test", organizer=GUEST, attendees=[OWNER])
    provider = rig.provider()
    listed = provider.list_changes(None, WINDOW).events
    result = provider.create_event(meeting(summary="Shared", uid="shared-uid@corp.test"))
    assert copies(rig) == ["Shared"]
    assert result.external_id == listed[0].external_id


@pytest.mark.parametrize("fault", ["lose", "lose503"])
def test_an_update_whose_answer_is_lost_is_not_a_conflict(rig, fault):
    provider = rig.provider()
    created = provider.create_event(meeting())
    rig.server.add_fault(fault, on="update")
    updated = provider.update_event(created.external_id, meeting(summary="Moved"), etag=created.etag)
    assert not rig.server.faults
    assert updated.summary == "Moved" and copies(rig) == ["Moved"]
    # a genuine conflict (someone else changed it) still is one
    provider.update_event(created.external_id, meeting(summary="By someone else"))
    with pytest.raises(errors.Conflict):
        provider.update_event(created.external_id, meeting(summary="Stale"), etag=updated.etag)


@pytest.mark.parametrize("fault", ["lose", "lose503"])
def test_a_delete_whose_answer_is_lost_is_done(rig, fault):
    provider = rig.provider()
    created = provider.create_event(meeting())
    rig.server.add_fault(fault, on="delete")
    provider.delete_event(created.external_id)
    assert not rig.server.faults
    assert rig.live() == []
    provider.delete_event(created.external_id)  # again: already gone is fine


# -- 2. the organiser attends -----------------------------------------------------
def test_the_organiser_is_among_the_attendees(rig):
    alone = rig.add("Alone", NOW + dt.timedelta(days=1))
    invited = rig.add("Team", NOW + dt.timedelta(days=2), attendees=[GUEST])
    theirs = rig.add("Theirs", NOW + dt.timedelta(days=3), organizer=GUEST, attendees=[OWNER])
    events = {e.external_id: e for e in rig.provider().list_changes(None, WINDOW).events}

    def people(external_id):
        return sorted((a.email, a.organizer) for a in events[external_id].attendees)

    assert people(alone) == [(OWNER, True)]
    assert people(invited) == [(OWNER, True), (GUEST, False)]
    assert people(theirs) == [(OWNER, False), (GUEST, True)]
    organiser = next(a for a in events[invited].attendees if a.organizer)
    assert organiser.response == "accepted"
    # Microsoft 365 keeps a meeting saved without invitations without its attendees:
    # that list is not the meeting's, and the event says so
    assert events[alone].attendees_authoritative == (rig.name != "microsoft")
    assert events[invited].attendees_authoritative and events[theirs].attendees_authoritative


# -- 3. UIDs in one normal form -----------------------------------------------------
def test_a_uid_wrapped_in_a_global_object_id_is_read_plain(rig):
    wrapped = vcal_global_object_id("7kq2mldcd8b0vvd5e1a0@google.com")
    rig.add("From Google", NOW + dt.timedelta(days=1), uid=wrapped)
    (event,) = rig.provider().list_changes(None, WINDOW).events
    assert event.ical_uid == "7kq2mldcd8b0vvd5e1a0@google.com"


# -- 4. bad events -----------------------------------------------------------------
@pytest.mark.parametrize("how", ["end_before_start", "no_start", "bad_date"])
def test_a_bad_event_is_skipped_reported_and_keeps_its_binding(rig, how):
    good = rig.add("Good", NOW + dt.timedelta(days=1))
    bad = rig.add("Bad", NOW + dt.timedelta(days=2))
    provider = rig.provider()
    first = provider.list_changes(None, WINDOW)
    assert sorted(e.summary for e in first.events) == ["Bad", "Good"]
    rig.corrupt(bad, how, NOW + dt.timedelta(days=2))
    later = provider.list_changes(first.next_state, WINDOW)
    assert [e.external_id for e in later.events] == []
    assert [i for i, _r in later.invalid] == [bad]
    with log_lines(provider_module.__name__) as lines:
        full = provider.list_changes(None, WINDOW)
    assert [e.external_id for e in full.events] == [good]
    ((external_id, reason),) = full.invalid
    expected = {"end_before_start": "end_before_start", "no_start": "no_start"}.get(how)
    assert external_id == bad and reason in ((expected,) if expected else ("bad_date", "no_start"))
    # the log names the account and the event (by its id, never its content)
    assert any(bad in line and OWNER in line for line in lines) and not any("Bad" in line for line in lines)
    # the full listing does not take the bad event for deleted
    bindings = [
        BindingState(1, good, 1, etag=first.events[0].etag, start=NOW + dt.timedelta(days=1)),
        BindingState(2, bad, 2, etag="old", start=NOW + dt.timedelta(days=2)),
    ]
    plan = plan_changes(full, bindings, window=WINDOW)
    assert not plan.delete and not plan.update and plan.invalid == full.invalid
