"""Online meeting links: "Add video call" asks the organiser's provider for one (Google Meet through
``conferenceData.createRequest`` with ``conferenceDataVersion=1``, Microsoft Teams through
``isOnlineMeeting`` / ``onlineMeetingProvider``) and the link comes back on the event
(``RemoteEvent.video_url``); meetings made at the provider with a link are read with it."""

import datetime as dt

import pytest
from test_google_provider import make as make_google
from test_microsoft_provider import make as make_microsoft

from odoo.addons.webcrm_calendar_sync.engine.events import Attendee, RemoteEvent, Window
from odoo.addons.webcrm_calendar_sync.engine.providers import google
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_google import FakeGoogle
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_graph import FakeGraph

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = Window(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=120))
START = NOW + dt.timedelta(days=2)


@pytest.fixture
def gserver():
    with FakeGoogle() as fake:
        yield fake


@pytest.fixture(scope="module")
def graph():
    with FakeGraph() as fake:
        yield fake


def meeting(**kw):
    return RemoteEvent(
        summary="Demo",
        start=START,
        end=START + dt.timedelta(hours=1),
        organizer_email="ann@example.com",
        attendees=[Attendee("ann@example.com", organizer=True), Attendee("bob@example.com")],
        **kw,
    )


# -- Google ------------------------------------------------------------------
def test_google_create_with_video_call_gets_a_meet_link(gserver):
    provider, _ = make_google(gserver)
    gserver.calendars.setdefault("bob@example.com", {})
    made = provider.create_event(meeting(video_call=True), idempotency_key="a" * 32)
    assert made.video_url.startswith("https://meet.google.com/")
    stored = gserver.calendars["ann@example.com"][made.external_id]
    assert stored["hangoutLink"] == made.video_url
    assert stored["conferenceData"]["createRequest"]["status"]["statusCode"] == "success"
    # the guest's copy shows the same link, and a listing reads it
    copy = next(iter(gserver.calendars["bob@example.com"].values()))
    assert copy["hangoutLink"] == made.video_url
    listed = provider.list_changes(None, WINDOW).events
    assert [e.video_url for e in listed] == [made.video_url]
    # a later write keeps the conference (no new request once the link is known)
    again = provider.update_event(made.external_id, made.replace(summary="Demo 2", video_call=True))
    assert again.video_url == made.video_url


def test_google_update_adds_a_meet_link_and_plain_writes_ask_for_none(gserver):
    provider, _ = make_google(gserver)
    made = provider.create_event(meeting(), idempotency_key="b" * 32)
    assert made.video_url == ""
    assert "conferenceData" not in gserver.calendars["ann@example.com"][made.external_id]
    changed = provider.update_event(made.external_id, made.replace(video_call=True))
    assert changed.video_url.startswith("https://meet.google.com/")


def test_google_pending_conference_link_arrives_with_a_later_read(gserver):
    provider, _ = make_google(gserver)
    gserver.meet_pending = True
    made = provider.create_event(meeting(video_call=True), idempotency_key="c" * 32)
    assert made.video_url == ""  # Google is still making it
    gserver.finish_conferences()
    assert provider.get_event(made.external_id).video_url.startswith("https://meet.google.com/")


def test_google_meeting_made_at_google_with_a_link_is_read_with_it(gserver):
    provider, _ = make_google(gserver)
    gserver.add_event(
        "ann@example.com",
        {
            "summary": "Made in Google",
            "start": {"dateTime": START.isoformat()},
            "end": {"dateTime": (START + dt.timedelta(hours=1)).isoformat()},
            "conferenceData": {
                "entryPoints": [
                    {"entryPointType": "phone", "uri": "tel:+46-8-123"},
                    {"entryPointType": "video", "uri": "https://meet.google.com/abc-defg-hij"},
                ]
            },
        },
    )
    (event,) = provider.list_changes(None, WINDOW).events
    assert event.video_url == "https://meet.google.com/abc-defg-hij"
    assert google.from_google({"id": "x", "hangoutLink": "https://meet.google.com/x"}).video_url == (
        "https://meet.google.com/x"
    )


# -- Microsoft 365 -----------------------------------------------------------
def test_graph_create_with_video_call_gets_a_teams_link(graph):
    provider, _ = make_microsoft(graph)
    made = provider.create_event(meeting(video_call=True), send_invitations=True, idempotency_key="d" * 32)
    assert made.video_url.startswith("https://teams.microsoft.com/l/meetup-join/")
    stored = graph.mailboxes["ann@example.com"][made.external_id]
    assert stored["isOnlineMeeting"] is True and stored["onlineMeetingProvider"] == "teamsForBusiness"
    listed = provider.list_changes(None, WINDOW).events
    assert [e.video_url for e in listed] == [made.video_url]
    again = provider.update_event(made.external_id, made.replace(summary="Demo 2", video_call=True))
    assert again.video_url == made.video_url


def test_graph_update_adds_a_teams_link_and_plain_writes_ask_for_none(graph):
    provider, _ = make_microsoft(graph)
    made = provider.create_event(meeting(), idempotency_key="e" * 32)
    assert made.video_url == ""
    assert graph.mailboxes["ann@example.com"][made.external_id]["onlineMeeting"] is None
    changed = provider.update_event(made.external_id, made.replace(video_call=True))
    assert changed.video_url.startswith("https://teams.microsoft.com/l/meetup-join/")
