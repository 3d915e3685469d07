"""MicrosoftProvider (msal + requests, unmodified) against the local fake Graph."""

import datetime as dt
import urllib.parse

import pytest
import requests

from odoo.addons.webcrm_calendar_sync.engine import errors
from odoo.addons.webcrm_calendar_sync.engine.events import Attendee, RemoteEvent, Window
from odoo.addons.webcrm_calendar_sync.engine.providers import microsoft as ms
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_graph import FakeGraph

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = Window(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=120))


@pytest.fixture(scope="module")
def server():
    with FakeGraph() as fake:
        yield fake


@pytest.fixture(autouse=True)
def clean(server):
    server.mailboxes.clear()
    server.invitations.clear()
    server.clear_faults()


def subscribe(server, email):
    authority = server.authority("organizations")
    flow = ms.build_auth_flow(
        server.client_id, server.client_secret, authority, "http://odoo.test/cb", email, verify=server.ca_file
    )
    answer = requests.get(flow["auth_uri"], allow_redirects=False, verify=server.ca_file, timeout=5)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
    return flow, query


def make(server, email="ann@example.com"):
    flow, query = subscribe(server, email)
    authority = server.authority("organizations")
    cache, who = ms.complete_auth_flow(
        flow, query, server.client_id, server.client_secret, authority, verify=server.ca_file
    )
    assert who == email
    changed = []
    provider = ms.MicrosoftProvider(
        cache,
        client_id=server.client_id,
        client_secret=server.client_secret,
        email=email,
        authority=authority,
        graph_endpoint=server.graph_endpoint,
        verify=server.ca_file,
        retry_delay=0.001,
        page_size=3,
        on_credentials_changed=changed.append,
    )
    return provider, changed


def gbody(subject, start, hours=1, **kw):
    return {
        "subject": subject,
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {"dateTime": (start + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        **kw,
    }


def test_state_mismatch_is_refused(server):
    flow, query = subscribe(server, "ann@example.com")
    query["state"] = "forged"
    with pytest.raises(errors.AuthRevoked):
        ms.complete_auth_flow(
            flow, query, server.client_id, server.client_secret, server.authority(), verify=server.ca_file
        )


def test_full_delta_with_pages_then_incremental(server):
    provider, _ = make(server)
    for i in range(7):
        server.add_event("ann@example.com", gbody(f"E{i}", NOW + dt.timedelta(days=i + 1)))
    full = provider.list_changes(None, WINDOW)
    assert full.full and len(full.events) == 7 and full.requests == 3
    before = provider.requests
    again = provider.list_changes(full.next_state, WINDOW)
    assert (again.events, again.deleted_ids, provider.requests - before) == ([], [], 1)
    first = full.events[0]
    provider.update_event(first.external_id, first.replace(summary="Changed"), etag=first.etag)
    provider.delete_event(full.events[1].external_id)
    inc = provider.list_changes(again.next_state, WINDOW)
    assert [e.summary for e in inc.events] == ["Changed"]
    assert inc.deleted_ids == [full.events[1].external_id]
    server.invalidate_delta_tokens("ann@example.com")
    with pytest.raises(errors.SyncStateExpired):
        provider.list_changes(inc.next_state, WINDOW)


def test_change_keys_and_conflicts(server):
    provider, _ = make(server)
    created = provider.create_event(
        RemoteEvent(
            summary="Plan", start=NOW + dt.timedelta(days=2), end=NOW + dt.timedelta(days=2, hours=1), privacy="private"
        )
    )
    assert created.etag and created.privacy == "private"
    updated = provider.update_event(created.external_id, created.replace(summary="Plan 2"), etag=created.etag)
    assert updated.etag != created.etag
    with pytest.raises(errors.Conflict):
        provider.update_event(created.external_id, created.replace(summary="stale"), etag=created.etag)
    provider.delete_event(created.external_id)
    provider.delete_event(created.external_id)


def test_all_day_and_windows_time_zones(server):
    provider, _ = make(server)
    provider.create_event(
        RemoteEvent(summary="Fair", all_day=True, start_date=dt.date(2027, 3, 1), end_date=dt.date(2027, 3, 3))
    )
    server.add_event(
        "ann@example.com",
        {
            "subject": "Berlin",
            "start": {"dateTime": "2027-03-05T10:00:00", "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": "2027-03-05T11:30:00", "timeZone": "W. Europe Standard Time"},
        },
    )
    events = {e.summary: e for e in provider.list_changes(None, Window(NOW, NOW + dt.timedelta(days=900))).events}
    assert (events["Fair"].start_date, events["Fair"].end_date) == (dt.date(2027, 3, 1), dt.date(2027, 3, 3))
    assert events["Berlin"].start == dt.datetime(2027, 3, 5, 9, 0, tzinfo=UTC)
    assert events["Berlin"].timezone == "Europe/Berlin"


def test_recurring_series_one_occurrence_changed_and_one_deleted(server):
    provider, _ = make(server)
    start = (NOW + dt.timedelta(days=1)).replace(hour=9)
    server.add_event(
        "ann@example.com",
        gbody(
            "Weekly",
            start,
            recurrence={
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": [start.strftime("%A").lower()]},
                "range": {"type": "numbered", "startDate": start.date().isoformat(), "numberOfOccurrences": 4},
            },
        ),
    )
    occurrences = provider.list_changes(None, WINDOW).events
    assert len(occurrences) == 4 and len({o.series_id for o in occurrences}) == 1
    second, third = occurrences[1], occurrences[2]
    moved = provider.update_event(
        second.external_id,
        second.replace(start=second.start + dt.timedelta(hours=1), end=second.end + dt.timedelta(hours=1)),
    )
    assert moved.kind == "exception"
    provider.delete_event(third.external_id)
    listed = {e.external_id: e for e in provider.list_changes(None, WINDOW).events}
    assert len(listed) == 3 and third.external_id not in listed
    assert listed[second.external_id].start == second.start + dt.timedelta(hours=1)


def test_plain_save_invites_nobody_send_invitation_invites(server):
    server.add_user("bob@example.com")
    provider, _ = make(server)
    event = RemoteEvent(
        summary="Team",
        start=NOW + dt.timedelta(days=3),
        end=NOW + dt.timedelta(days=3, hours=1),
        organizer_email="ann@example.com",
        attendees=[Attendee("ann@example.com"), Attendee("bob@example.com"), Attendee("kim@client.test")],
    )
    created = provider.create_event(event)
    assert server.invitations == [] and server.events_of("bob@example.com") == []
    provider.update_event(created.external_id, event, send_invitations=True)
    assert server.invitations[-1]["emails"] == ["bob@example.com", "kim@client.test"]
    copy = server.events_of("bob@example.com")[0]
    assert copy["iCalUId"] == created.ical_uid


def test_get_schedule_free_busy(server):
    provider, _ = make(server)
    server.add_user("bob@example.com")
    server.add_event("bob@example.com", gbody("Busy", NOW + dt.timedelta(hours=5)))
    server.add_event("bob@example.com", gbody("Free", NOW + dt.timedelta(hours=8), showAs="free"))
    busy = provider.free_busy(["bob@example.com"], NOW, NOW + dt.timedelta(days=1))
    assert [(b.start, b.end) for b in busy["bob@example.com"]] == [
        (NOW + dt.timedelta(hours=5), NOW + dt.timedelta(hours=6))
    ]


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_is_retried_after_retry_after(server, status):
    provider, _ = make(server)
    server.fail_next(2, status=status, retry_after=0)
    assert provider.list_changes(None, WINDOW).complete
    server.fail_next(10, status=status, retry_after=0)
    with pytest.raises(errors.RateLimited):
        provider.list_changes(None, WINDOW)


def test_silent_refresh_and_revoked_grant(server):
    provider, changed = make(server)
    server.expire_access_tokens()
    # msal refreshes when its cached token expired; make it look expired to msal too
    for token in list(provider.cache.search(provider.cache.CredentialType.ACCESS_TOKEN)):
        provider.cache.remove_at(token)
    provider.list_changes(None, WINDOW)
    assert changed, "the refreshed cache is handed back for storage"
    server.revoke("ann@example.com")
    fresh = ms.MicrosoftProvider(
        changed[-1],
        client_id=server.client_id,
        client_secret=server.client_secret,
        email="ann@example.com",
        authority=server.authority(),
        graph_endpoint=server.graph_endpoint,
        verify=server.ca_file,
        retry_delay=0.001,
    )
    for token in list(fresh.cache.search(fresh.cache.CredentialType.ACCESS_TOKEN)):
        fresh.cache.remove_at(token)
    with pytest.raises(errors.AuthRevoked) as info:
        fresh.list_changes(None, WINDOW)
    assert "Subscribe again" in str(info.value)


def test_delta_pages_one_at_a_time_resume_in_another_provider_object(server):
    for i in range(7):
        server.add_event("ann@example.com", gbody(f"E{i}", NOW + dt.timedelta(days=i + 1)))
    seen, page, pages = [], None, 0
    while True:
        provider, _ = make(server)  # page_size=3; a new worker process for each page
        changes = provider.list_page(None, WINDOW, page)
        pages += 1
        seen += [e.summary for e in changes.events]
        if not changes.next_page:
            break
        assert not changes.complete and not changes.next_state
        page = changes.next_page
    assert pages == 3 and changes.complete and changes.next_state
    assert sorted(seen) == [f"E{i}" for i in range(7)]
    again = provider.list_changes(changes.next_state, WINDOW)
    assert again.events == [] and again.deleted_ids == []


def test_count_of_the_window_in_one_request_as_graph_says(server):
    for i in range(5):
        server.add_event("ann@example.com", gbody(f"C{i}", NOW + dt.timedelta(days=i + 1)))
    server.add_event("ann@example.com", gbody("Long ago", NOW - dt.timedelta(days=400)))
    provider, _ = make(server)
    before = server.requests
    assert provider.count_events(WINDOW) == 5
    assert server.requests - before == 1
    method, path, query = server.log[-1]
    assert path.endswith("/me/calendarView") and query["$count"] == "true" and query["$top"] == "1"
    # Graph's answer: the count of the whole view, one event of it in the page
    answer = server._calendar_view(
        "ann@example.com", dict(query, startDateTime=query["startDateTime"], endDateTime=query["endDateTime"])
    )
    assert answer["@odata.count"] == 5 and len(answer["value"]) == 1 and "@odata.nextLink" in answer


def test_a_failed_count_is_an_error_the_caller_may_ignore(server):
    provider, _ = make(server)
    server.fail_next(count=10, status=500, on="count")
    with pytest.raises(errors.SyncError):
        provider.count_events(WINDOW)
    # the listing itself is not hit by it
    server.clear_faults()
    assert provider.list_changes(None, WINDOW).complete


def test_delta_pages_come_from_their_round_snapshot(server):
    """A change made between two pages of a round is news for the next round: no event of the
    round is skipped or repeated because the list moved under the skip token."""
    stored = [server.add_event("ann@example.com", gbody(f"S{i}", NOW + dt.timedelta(days=i + 1))) for i in range(7)]
    provider, _ = make(server)
    first = provider.list_page(None, WINDOW)
    server._remove("ann@example.com", stored[0]["id"])  # listed already: the list would move by one
    seen = [e.summary for e in first.events]
    page = first
    while page.next_page:
        page = provider.list_page(None, WINDOW, page.next_page)
        seen += [e.summary for e in page.events]
    assert sorted(seen) == [f"S{i}" for i in range(7)]
    later = provider.list_changes(page.next_state, WINDOW)
    assert later.deleted_ids == [stored[0]["id"]]
