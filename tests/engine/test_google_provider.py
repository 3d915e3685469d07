"""GoogleProvider (google-api-python-client, unmodified) against the local fake Google."""

import datetime as dt
import urllib.parse

import pytest
import requests

from odoo.addons.webcrm_calendar_sync.engine import errors
from odoo.addons.webcrm_calendar_sync.engine.events import Attendee, RemoteEvent, Window
from odoo.addons.webcrm_calendar_sync.engine.providers import google
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_google import FakeGoogle

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = Window(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=120))


@pytest.fixture
def server():
    with FakeGoogle() as fake:
        yield fake


def make(server, email="ann@example.com", **kw):
    tokens = server.issue_tokens(email)
    changed = []
    provider = google.GoogleProvider(
        tokens,
        client_id=server.client_id,
        client_secret=server.client_secret,
        token_uri=server.token_uri,
        api_endpoint=server.api_endpoint,
        retry_delay=0.001,
        on_credentials_changed=changed.append,
        **kw,
    )
    return provider, changed


def timed(summary, start, hours=1, **kw):
    return RemoteEvent(summary=summary, start=start, end=start + dt.timedelta(hours=hours), **kw)


def body(summary, start, hours=1, tz="UTC", **kw):
    iso = lambda d: d.astimezone(UTC).isoformat().replace("+00:00", "Z")  # noqa: E731
    return {
        "summary": summary,
        "start": {"dateTime": iso(start), "timeZone": tz},
        "end": {"dateTime": iso(start + dt.timedelta(hours=hours)), "timeZone": tz},
        **kw,
    }


def test_full_sync_with_pages_then_incremental(server):
    provider, _ = make(server, page_size=3)
    for i in range(7):
        server.add_event("ann@example.com", body(f"E{i}", NOW + dt.timedelta(days=i)))
    full = provider.list_changes(None, WINDOW)
    assert full.full and full.complete and len(full.events) == 7
    assert full.requests == 3 and full.next_state
    # nothing changed: one request, nothing listed
    before = provider.requests
    again = provider.list_changes(full.next_state, WINDOW)
    assert (again.events, again.deleted_ids, provider.requests - before) == ([], [], 1)
    # a change and a deletion
    first = full.events[0]
    provider.update_event(first.external_id, first.replace(summary="Changed"))
    provider.delete_event(full.events[1].external_id)
    inc = provider.list_changes(again.next_state, WINDOW)
    assert [e.summary for e in inc.events] == ["Changed"]
    assert inc.deleted_ids == [full.events[1].external_id]


def test_rejected_sync_token_raises_sync_state_expired(server):
    provider, _ = make(server)
    state = provider.list_changes(None, WINDOW).next_state
    server.invalidate_sync_tokens("ann@example.com")
    with pytest.raises(errors.SyncStateExpired):
        provider.list_changes(state, WINDOW)


def test_create_update_delete_with_etags(server):
    provider, _ = make(server)
    created = provider.create_event(timed("Plan", NOW + dt.timedelta(days=2), privacy="private"))
    assert created.external_id and created.etag and created.ical_uid
    assert created.privacy == "private"
    updated = provider.update_event(created.external_id, created.replace(summary="Plan 2"), etag=created.etag)
    assert updated.summary == "Plan 2" and updated.etag != created.etag
    with pytest.raises(errors.Conflict):
        provider.update_event(created.external_id, created.replace(summary="stale"), etag=created.etag)
    provider.delete_event(created.external_id)
    provider.delete_event(created.external_id)  # already gone: not an error
    assert server.events_of("ann@example.com") == []


def test_all_day_and_time_zones_are_exact(server):
    provider, _ = make(server)
    created = provider.create_event(
        RemoteEvent(summary="Fair", all_day=True, start_date=dt.date(2027, 3, 1), end_date=dt.date(2027, 3, 3))
    )
    stored = server.events_of("ann@example.com")[0]
    assert stored["start"] == {"date": "2027-03-01"} and stored["end"] == {"date": "2027-03-04"}
    assert (created.start_date, created.end_date) == (dt.date(2027, 3, 1), dt.date(2027, 3, 3))
    server.add_event(
        "ann@example.com",
        {
            "summary": "Tokyo",
            "start": {"dateTime": "2027-03-05T10:00:00+09:00", "timeZone": "Asia/Tokyo"},
            "end": {"dateTime": "2027-03-05T11:30:00+09:00", "timeZone": "Asia/Tokyo"},
        },
    )
    tokyo = [
        e for e in provider.list_changes(None, Window(NOW, NOW + dt.timedelta(days=900))).events if e.summary == "Tokyo"
    ][0]
    assert tokyo.start == dt.datetime(2027, 3, 5, 1, 0, tzinfo=UTC)
    assert tokyo.end - tokyo.start == dt.timedelta(minutes=90)
    assert tokyo.timezone == "Asia/Tokyo"


def test_recurring_series_with_moved_and_cancelled_instances(server):
    provider, _ = make(server)
    start = (NOW + dt.timedelta(days=1)).replace(hour=9)
    master = server.add_event("ann@example.com", body("Weekly", start, recurrence=["RRULE:FREQ=WEEKLY;COUNT=5"]))
    instances = provider.list_changes(None, WINDOW).events
    assert len(instances) == 5 and all(i.series_id == master["id"] for i in instances)
    assert len({i.ical_uid for i in instances}) == 1
    second, third = instances[1], instances[2]
    moved = provider.update_event(
        second.external_id,
        second.replace(start=second.start + dt.timedelta(hours=2), end=second.end + dt.timedelta(hours=2)),
    )
    assert moved.kind == "exception" and moved.original_start == second.start
    provider.delete_event(third.external_id)
    listed = provider.list_changes(None, WINDOW).events
    assert len(listed) == 4
    by_id = {e.external_id: e for e in listed}
    assert by_id[second.external_id].start == second.start + dt.timedelta(hours=2)
    assert third.external_id not in by_id
    # the series is intact
    assert server.events_of("ann@example.com")[0]["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=5"]


def test_shared_meeting_copies_keep_the_ical_uid_and_invitations_follow_send_updates(server):
    server.add_user("bob@example.com")
    provider, _ = make(server)
    event = timed(
        "Team", NOW + dt.timedelta(days=3), attendees=[Attendee("bob@example.com"), Attendee("kim@client.test")]
    )
    created = provider.create_event(event)
    assert server.invitations == []
    copy = server.events_of("bob@example.com")[0]
    assert copy["iCalUID"] == created.ical_uid and copy["organizer"]["email"] == "ann@example.com"
    provider.update_event(created.external_id, created.replace(summary="Team!"), send_invitations=True)
    assert server.invitations[-1]["emails"] == ["bob@example.com", "kim@client.test"]


def test_free_busy(server):
    provider, _ = make(server)
    server.add_user("bob@example.com")
    server.add_event("bob@example.com", body("Busy", NOW + dt.timedelta(hours=5)))
    server.add_event("bob@example.com", body("Free", NOW + dt.timedelta(hours=7), transparency="transparent"))
    busy = provider.free_busy(["bob@example.com"], NOW, NOW + dt.timedelta(days=1))
    assert [(b.start, b.end) for b in busy["bob@example.com"]] == [
        (NOW + dt.timedelta(hours=5), NOW + dt.timedelta(hours=6))
    ]


@pytest.mark.parametrize("status", [429, 403, 503])
def test_rate_limits_are_retried(server, status):
    provider, _ = make(server)
    server.fail_next(2, status=status, retry_after=0)
    assert provider.list_changes(None, WINDOW).complete
    server.fail_next(10, status=status)
    with pytest.raises((errors.RateLimited, errors.Unavailable)):
        provider.list_changes(None, WINDOW)


def test_failing_page_never_returns_a_partial_listing(server):
    provider, _ = make(server, page_size=2)
    for i in range(5):
        server.add_event("ann@example.com", body(f"E{i}", NOW + dt.timedelta(days=i)))
    server.fail_next(10, status=500, on="list", after=1)  # the first page comes, the second fails
    with pytest.raises(errors.Unavailable):
        provider.list_changes(None, WINDOW)
    assert server.faults_left() < 10


def test_expired_token_is_refreshed_and_reported(server):
    provider, changed = make(server)
    server.expire_access_tokens()
    provider.credentials.expiry = None  # google-auth only learns of it from the 401
    provider.list_changes(None, WINDOW)
    assert changed and changed[-1]["access_token"] and changed[-1]["refresh_token"]


def test_revoked_grant_is_auth_revoked_without_secrets_in_message(server):
    provider, _ = make(server)
    server.revoke("ann@example.com")
    with pytest.raises(errors.AuthRevoked) as info:
        provider.list_changes(None, WINDOW)
    assert "Subscribe again" in str(info.value)
    assert provider.credentials.refresh_token not in str(info.value)


def test_oauth_round_trip_with_pkce(server):
    verifier, challenge = google.make_pkce_pair()
    url = google.authorization_url(
        server.client_id,
        "http://odoo.test/cb",
        "st4te",
        challenge,
        auth_uri=server.auth_uri,
        login_hint="new@example.com",
    )
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
    assert query["state"] == "st4te"
    with pytest.raises(errors.AuthRevoked):
        google.exchange_code(
            query["code"],
            "wrong-verifier",
            server.client_id,
            server.client_secret,
            "http://odoo.test/cb",
            token_uri=server.token_uri,
        )
    answer = requests.get(url, allow_redirects=False, timeout=5)
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))["code"]
    tokens = google.exchange_code(
        code, verifier, server.client_id, server.client_secret, "http://odoo.test/cb", token_uri=server.token_uri
    )
    assert tokens["refresh_token"] and tokens["access_token"]


def test_client_built_once_per_thread_and_credentials_never_mixed(server):
    ann, _ = make(server, "ann@example.com", page_size=2)
    bob, _ = make(server, "bob@example.com", page_size=2)
    for i in range(3):
        server.add_event("ann@example.com", body(f"Ann {i}", NOW + dt.timedelta(days=i)))
    server.add_event("bob@example.com", body("Bob", NOW + dt.timedelta(days=1)))
    # one client for both (built once in this thread), each request with its own token
    assert ann.service.events() is bob.service.events()
    assert [e.summary for e in bob.list_changes(None, WINDOW).events] == ["Bob"]
    assert sorted(e.summary for e in ann.list_changes(None, WINDOW).events) == ["Ann 0", "Ann 1", "Ann 2"]
    # requests built one after the other but sent later keep their own provider's token
    ann_request = ann.service.events().list(calendarId="primary")
    bob_request = bob.service.events().list(calendarId="primary")
    assert [e["summary"] for e in bob_request.execute()["items"]] == ["Bob"]
    assert len(ann_request.execute()["items"]) == 3


def test_pages_one_at_a_time_resume_in_another_provider_object(server):
    for i in range(7):
        server.add_event("ann@example.com", body(f"E{i}", NOW + dt.timedelta(days=i)))
    seen, page, pages = [], None, 0
    while True:
        provider, _ = make(server, page_size=3)  # a new worker process for each page
        changes = provider.list_page(None, WINDOW, page)
        pages += 1
        assert changes.full and changes.requests == 1
        seen += [e.summary for e in changes.events]
        if not changes.next_page:
            break
        assert not changes.complete and not changes.next_state
        page = changes.next_page
    assert pages == 3 and changes.complete and changes.next_state
    assert sorted(seen) == [f"E{i}" for i in range(7)]
    # the last page's sync state is a real starting point: nothing changed since
    again = provider.list_changes(changes.next_state, WINDOW)
    assert again.events == [] and again.deleted_ids == []


def test_description_written_in_google_as_html_comes_as_text():
    item = {
        "id": "e1",
        "status": "confirmed",
        "summary": "Review",
        "description": '<b>Agenda</b><br>1. Budget<br>2. Plan <a href="https://docs.example/x">notes</a>',
        "start": {"dateTime": "2026-12-07T13:00:00Z"},
        "end": {"dateTime": "2026-12-07T14:00:00Z"},
        "organizer": {"email": "olga@partner.example", "displayName": "Olga Owner"},
        "attendees": [{"email": "olga@partner.example", "responseStatus": "accepted", "organizer": True}],
    }
    event = google.from_google(item)
    assert event.description == "Agenda\n1. Budget\n2. Plan notes (https://docs.example/x)"
    # plain text keeps its line breaks
    item["description"] = "Line one\nLine two"
    assert google.from_google(item).description == "Line one\nLine two"
    # the organiser's name is the one Google sends, also when the guest list names them without it
    organizer = next(a for a in google.from_google(item).attendees if a.organizer)
    assert organizer.name == "Olga Owner"
