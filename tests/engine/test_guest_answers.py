"""A guest answers an invitation in their own calendar (``respond_event``), per provider, over
the fakes: their copy keeps the answer, the organiser's calendar shows it, and a copy that does
not know the other attendees' answers says so (``responses_known``)."""

import datetime as dt
import urllib.parse

import pytest
import requests
from exchangelib.protocol import CachingProtocol

from odoo.addons.webcrm_calendar_sync.engine import errors
from odoo.addons.webcrm_calendar_sync.engine.events import (
    ACCEPTED,
    DECLINED,
    NEEDS_ACTION,
    TENTATIVE_RESPONSE,
    Attendee,
    RemoteEvent,
    Window,
)
from odoo.addons.webcrm_calendar_sync.engine.providers import exchange as ex
from odoo.addons.webcrm_calendar_sync.engine.providers import google
from odoo.addons.webcrm_calendar_sync.engine.providers import microsoft as ms
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_ews import FakeEWS
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_google import FakeGoogle
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_graph import FakeGraph

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = Window(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=120))
ANN, BOB, KIM = "ann@corp.test", "bob@corp.test", "kim@client.test"


def meeting(summary="Review", days=3, hours=1):
    start = NOW + dt.timedelta(days=days)
    return RemoteEvent(
        summary=summary,
        start=start,
        end=start + dt.timedelta(hours=hours),
        organizer_email=ANN,
        attendees=[Attendee(ANN, response=ACCEPTED, organizer=True), Attendee(BOB), Attendee(KIM)],
    )


def by_email(event):
    return {a.email: a.response for a in event.attendees}


# -- Google ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def google_server():
    with FakeGoogle() as fake:
        yield fake


def google_provider(server, email):
    return google.GoogleProvider(
        server.issue_tokens(email),
        client_id=server.client_id,
        client_secret=server.client_secret,
        token_uri=server.token_uri,
        api_endpoint=server.api_endpoint,
        retry_delay=0.001,
    )


def test_google_guest_answer_patches_own_attendee_and_reaches_the_organiser(google_server):
    server = google_server
    server.calendars.clear()
    server.add_user(BOB)
    ann, bob = google_provider(server, ANN), google_provider(server, BOB)
    created = ann.create_event(meeting(), send_invitations=True)
    [copy] = bob.list_changes(None, WINDOW).events
    assert copy.own_response == NEEDS_ACTION and copy.responses_known
    answered = bob.respond_event(copy.external_id, TENTATIVE_RESPONSE)
    assert answered.own_response == TENTATIVE_RESPONSE and by_email(answered)[BOB] == TENTATIVE_RESPONSE
    assert answered.etag != copy.etag
    # the organiser's event shows it; nobody else's answer changed
    assert by_email(ann.get_event(created.external_id)) == {ANN: ACCEPTED, BOB: TENTATIVE_RESPONSE, KIM: NEEDS_ACTION}
    # the patch named only Bob's own answer
    method, path, _query = [entry for entry in server.log if entry[0] == "PATCH"][-1]
    assert copy.external_id in path
    # an invitee outside answers: the organiser's event, and through it Bob's copy, show it
    server.reply(ANN, created.ical_uid, KIM, "declined")
    assert by_email(ann.get_event(created.external_id))[KIM] == DECLINED
    assert by_email(bob.get_event(copy.external_id)) == {ANN: ACCEPTED, BOB: TENTATIVE_RESPONSE, KIM: DECLINED}


def test_google_answer_to_an_organiser_elsewhere_is_a_reply(google_server):
    server = google_server
    server.calendars.clear()
    server.replies.clear()
    body = {
        "summary": "Outside",
        "iCalUID": "outside-1@else",
        "start": {"dateTime": (NOW + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")},
        "end": {"dateTime": (NOW + dt.timedelta(days=2, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")},
        "organizer": {"email": "olga@else.test"},
        "attendees": [{"email": "olga@else.test", "organizer": True, "responseStatus": "accepted"}, {"email": BOB}],
    }
    copy = server.add_event(BOB, body)
    bob = google_provider(server, BOB)
    assert bob.respond_event(copy["id"], DECLINED).own_response == DECLINED
    assert server.replies == [
        {"organizer": "olga@else.test", "iCalUID": "outside-1@else", "email": BOB, "response": "declined"}
    ]


def test_google_guest_answers_one_instance_of_a_series(google_server):
    server = google_server
    server.calendars.clear()
    server.add_user(BOB)
    ann, bob = google_provider(server, ANN), google_provider(server, BOB)
    start = (NOW + dt.timedelta(days=1)).replace(hour=9)
    server.add_event(
        ANN,
        {
            "summary": "Daily",
            "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "end": {"dateTime": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")},
            "recurrence": ["RRULE:FREQ=DAILY;COUNT=3"],
            "attendees": [{"email": ANN, "organizer": True, "responseStatus": "accepted"}, {"email": BOB}],
        },
    )
    copies = sorted(bob.list_changes(None, WINDOW).events, key=lambda e: e.start)
    assert len(copies) == 3 and {c.own_response for c in copies} == {NEEDS_ACTION}
    assert bob.respond_event(copies[1].external_id, DECLINED).own_response == DECLINED
    mine = {e.start: e.own_response for e in bob.list_changes(None, WINDOW).events}
    assert [mine[c.start] for c in copies] == [NEEDS_ACTION, DECLINED, NEEDS_ACTION]
    theirs = {e.start: by_email(e)[BOB] for e in ann.list_changes(None, WINDOW).events}
    assert [theirs[c.start] for c in copies] == [NEEDS_ACTION, DECLINED, NEEDS_ACTION]


# -- Microsoft 365 ------------------------------------------------------------------
@pytest.fixture(scope="module")
def graph_server():
    with FakeGraph() as fake:
        yield fake


def graph_provider(server, email):
    authority = server.authority("organizations")
    flow = ms.build_auth_flow(
        server.client_id, server.client_secret, authority, "http://odoo.test/cb", email, verify=server.ca_file
    )
    answer = requests.get(flow["auth_uri"], allow_redirects=False, verify=server.ca_file, timeout=5)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
    cache, _who = ms.complete_auth_flow(
        flow, query, server.client_id, server.client_secret, authority, verify=server.ca_file
    )
    return ms.MicrosoftProvider(
        cache,
        client_id=server.client_id,
        client_secret=server.client_secret,
        email=email,
        authority=authority,
        graph_endpoint=server.graph_endpoint,
        verify=server.ca_file,
        retry_delay=0.001,
    )


def test_graph_guest_copy_lists_answers_as_none_and_keeps_its_own_apart(graph_server):
    server = graph_server
    server.mailboxes.clear()
    ann, bob = graph_provider(server, ANN), graph_provider(server, BOB)
    created = ann.create_event(meeting(), send_invitations=True)
    [copy] = bob.list_changes(None, WINDOW).events
    # Graph lists every attendee of an invitee's copy as "none": not news of their answers
    assert copy.responses_known is False and copy.own_response == NEEDS_ACTION
    answered = bob.respond_event(copy.external_id, ACCEPTED)
    assert (answered.own_response, by_email(answered)[BOB]) == (ACCEPTED, ACCEPTED)
    assert answered.etag != copy.etag
    posts = [path for method, path, _q in server.log if method == "POST" and path.endswith("/accept")]
    assert posts == [f"/v1.0/me/events/{copy.external_id}/accept"]
    organiser = ann.get_event(created.external_id)
    assert organiser.responses_known and organiser.own_response is None
    assert by_email(organiser) == {ANN: ACCEPTED, BOB: ACCEPTED, KIM: NEEDS_ACTION}
    # the organiser moves the meeting (writing the attendees again): the answers stay
    moved = meeting(days=4).replace(attendees=[Attendee(ANN), Attendee(BOB), Attendee(KIM)])
    ann.update_event(created.external_id, moved, send_invitations=True)
    assert by_email(ann.get_event(created.external_id))[BOB] == ACCEPTED
    [again] = bob.list_changes(None, WINDOW).events
    assert (again.start, again.own_response) == (moved.start, ACCEPTED)
    # an invitee outside answers: the organiser's event shows it
    server.reply(ANN, created.raw["iCalUId"], KIM, "tentativelyAccepted")
    assert by_email(ann.get_event(created.external_id))[KIM] == TENTATIVE_RESPONSE


def test_graph_guest_answers_one_occurrence_of_a_series(graph_server):
    server = graph_server
    server.mailboxes.clear()
    ann, bob = graph_provider(server, ANN), graph_provider(server, BOB)
    start = (NOW + dt.timedelta(days=1)).replace(hour=9)
    server.add_event(
        ANN,
        {
            "subject": "Weekly",
            "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "end": {"dateTime": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "attendees": [{"emailAddress": {"address": BOB, "name": "Bob"}, "type": "required"}],
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": [start.strftime("%A").lower()]},
                "range": {"type": "numbered", "startDate": start.date().isoformat(), "numberOfOccurrences": 3},
            },
        },
    )
    copies = sorted(bob.list_changes(None, WINDOW).events, key=lambda e: e.start)
    assert len(copies) == 3 and {c.own_response for c in copies} == {NEEDS_ACTION}
    answered = bob.respond_event(copies[1].external_id, DECLINED)
    assert answered.own_response == DECLINED
    # that occurrence alone, in Bob's calendar and in Ann's
    mine = {e.start: e.own_response for e in bob.list_changes(None, WINDOW).events}
    assert [mine[c.start] for c in copies] == [NEEDS_ACTION, DECLINED, NEEDS_ACTION]
    theirs = {e.start: by_email(e)[BOB] for e in ann.list_changes(None, WINDOW).events}
    assert [theirs[c.start] for c in copies] == [NEEDS_ACTION, DECLINED, NEEDS_ACTION]


def test_graph_organiser_cannot_answer_own_meeting(graph_server):
    server = graph_server
    server.mailboxes.clear()
    ann = graph_provider(server, ANN)
    created = ann.create_event(meeting(), send_invitations=True)
    with pytest.raises(errors.BadRequest):
        ann.respond_event(created.external_id, DECLINED)


# -- Exchange --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ews_server():
    with FakeEWS(auth=("basic",)) as fake:
        yield fake


def ews_provider(server, email, password):
    CachingProtocol.clear_cache()
    return ex.ExchangeProvider(
        service_endpoint=server.url,
        email=email,
        password=password,
        verify=server.ca_file,
        retry_delay=0.001,
        timeout=5,
        auth_type="basic",
        server_build="15.1.2507.6",
    )


def test_exchange_guest_answer_is_a_response_item_the_organiser_takes(ews_server):
    server = ews_server
    server.mailboxes.clear()
    server.add_mailbox(ANN, "ann-pw")
    server.add_mailbox(BOB, "bob-pw")
    start = NOW + dt.timedelta(days=3)
    guests = [(BOB, "Bob", "Unknown"), (KIM, "Kim", "Unknown")]
    server.add_item(ANN, subject="Review", start=start, end=start + dt.timedelta(hours=1), attendees=guests, uid="u-1")
    # Bob's copy, as Exchange delivers the invitation: his answer apart, the attendees Unknown
    server.add_item(
        BOB,
        subject="Review",
        start=start,
        end=start + dt.timedelta(hours=1),
        attendees=guests,
        uid="u-1",
        organizer=(ANN, "Ann"),
    )
    bob = ews_provider(server, BOB, "bob-pw")
    [copy] = bob.list_changes(None, WINDOW).events
    assert copy.responses_known is False and copy.own_response == NEEDS_ACTION
    answered = bob.respond_event(copy.external_id, TENTATIVE_RESPONSE)
    assert answered.own_response == TENTATIVE_RESPONSE and answered.etag != copy.etag
    assert ("CreateItem", BOB) in server.log
    ann = ews_provider(server, ANN, "ann-pw")
    [organiser] = ann.list_changes(None, WINDOW).events
    assert organiser.own_response is None and organiser.responses_known
    assert by_email(organiser) == {ANN: ACCEPTED, BOB: TENTATIVE_RESPONSE, KIM: NEEDS_ACTION}
    # the organiser cannot answer their own meeting
    with pytest.raises(errors.SyncError):
        ann.respond_event(organiser.external_id, ACCEPTED)
    # an invitee outside answers
    server.reply(ANN, "u-1", KIM, "Decline")
    assert by_email(ann.get_event(organiser.external_id))[KIM] == DECLINED


def test_exchange_guest_answers_one_occurrence_of_a_series(ews_server):
    server = ews_server
    server.mailboxes.clear()
    server.add_mailbox(ANN, "ann-pw")
    server.add_mailbox(BOB, "bob-pw")
    start = (NOW + dt.timedelta(days=1)).replace(hour=9)
    series = {"pattern": "daily", "interval": 1, "count": 3}
    guests = [(BOB, "Bob", "Unknown")]
    for email, organizer in ((ANN, None), (BOB, (ANN, "Ann"))):
        server.add_item(
            email,
            subject="Daily",
            start=start,
            end=start + dt.timedelta(hours=1),
            attendees=guests,
            uid="series-1",
            recurrence=series,
            organizer=organizer,
        )
    bob = ews_provider(server, BOB, "bob-pw")
    copies = sorted(bob.list_changes(None, WINDOW).events, key=lambda e: e.start)
    assert len(copies) == 3 and {c.own_response for c in copies} == {NEEDS_ACTION}
    bob.respond_event(copies[1].external_id, DECLINED)
    mine = {e.start: e.own_response for e in bob.list_changes(None, WINDOW).events}
    assert [mine[c.start] for c in copies] == [NEEDS_ACTION, DECLINED, NEEDS_ACTION]
    ann = ews_provider(server, ANN, "ann-pw")
    theirs = {e.start: by_email(e)[BOB] for e in ann.list_changes(None, WINDOW).events}
    assert [theirs[c.start] for c in copies] == [NEEDS_ACTION, DECLINED, NEEDS_ACTION]
