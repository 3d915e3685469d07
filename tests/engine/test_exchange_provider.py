"""ExchangeProvider (exchangelib, unmodified) against the local fake EWS server."""

import datetime as dt
import socket
import time

import pytest
import requests
from exchangelib.protocol import BaseProtocol, CachingProtocol, Protocol

from odoo.addons.webcrm_calendar_sync.engine import errors
from odoo.addons.webcrm_calendar_sync.engine.events import Attendee, ChangeSet, RemoteEvent, Window
from odoo.addons.webcrm_calendar_sync.engine.providers import exchange as ex
from odoo.addons.webcrm_calendar_sync.engine.reconcile import BindingState, plan_changes
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_ews import FakeEWS

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = Window(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=120))
ANN, BOB = "ann@corp.test", "bob@corp.test"


@pytest.fixture(scope="module", params=["basic", "ntlm"])
def server(request):
    with FakeEWS(auth=(request.param,)) as fake:
        fake.auth = request.param
        yield fake


@pytest.fixture(autouse=True)
def clean(server):
    # a request an earlier test's client gave up on (a delay fault) may still be handled: its
    # log line must not land in this test's log
    server.wait_idle()
    server.mailboxes.clear()
    server.invitations.clear()
    server.clear_faults()
    server.log.clear()
    server.add_mailbox(ANN, "ann-pw")
    server.add_mailbox(BOB, "bob-pw")
    CachingProtocol.clear_cache()


def make(server, email=ANN, password="ann-pw", **kw):
    return ex.ExchangeProvider(
        service_endpoint=server.url, email=email, password=password, verify=server.ca_file, retry_delay=0.01, **kw
    )


def test_exchangelib_is_left_as_it_was_for_other_users(server):
    make(server).check_connection()
    # exchangelib's own classes keep their adapter: only this module's protocol uses its own
    assert BaseProtocol.HTTP_ADAPTER_CLS is requests.adapters.HTTPAdapter
    assert Protocol.HTTP_ADAPTER_CLS is requests.adapters.HTTPAdapter
    # a plain exchangelib client of the same server does not verify with the provider's CA bundle
    plain = Protocol.raw_session(server.url)
    assert type(plain.get_adapter(server.url)) is requests.adapters.HTTPAdapter


# -- subscribe --------------------------------------------------------------
@pytest.mark.parametrize(
    "url, words",
    [
        ("", "Enter the EWS address"),
        ("http://mail.corp.test/EWS/Exchange.asmx", "https://"),
        ("https://mail.corp.test", "must end with /EWS/Exchange.asmx"),
        ("https://mail.corp.test/owa/", "must end with /EWS/Exchange.asmx"),
        ("https:///EWS/Exchange.asmx", "no server name"),
    ],
)
def test_url_form_is_checked_first(url, words):
    assert words in ex.check_url(url)


def test_url_of_the_right_form_passes():
    assert ex.check_url("https://mail.corp.test/EWS/Exchange.asmx") is None
    assert ex.check_url("https://mail.corp.test/ews/exchange.asmx") is None


def test_check_connection_learns_auth_type_and_build(server):
    provider = make(server)
    found = provider.check_connection()
    assert found == {"auth_type": server.auth, "server_build": "15.1.2507.6"}
    assert [op for op, _ in server.log[-2:]] == ["ConvertId", "GetFolder"]


def test_wrong_password_or_email(server):
    with pytest.raises(errors.AuthRevoked) as info:
        make(server, password="wrong").check_connection()
    assert "e-mail address or password" in str(info.value)
    assert "wrong" not in str(info.value)
    with pytest.raises(errors.AuthRevoked):
        make(server, email="nobody@corp.test").check_connection()


def test_a_mailbox_that_does_not_exist_for_a_valid_login(server):
    # Bob's login, but the calendar of an address the server does not know
    provider = make(server, email="ghost@corp.test", password="bob-pw", username="bob")
    with pytest.raises(errors.ConfigurationError) as info:
        provider.check_connection()
    assert "no mailbox for ghost@corp.test" in str(info.value)


def test_server_that_does_not_answer():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = ex.ExchangeProvider(
        service_endpoint=f"https://127.0.0.1:{port}/EWS/Exchange.asmx", email=ANN, password="x", retry_delay=0.01
    )
    with pytest.raises(errors.Unavailable) as info:
        provider.check_connection()
    assert "does not answer" in str(info.value)


def test_server_that_is_not_exchange(server):
    provider = ex.ExchangeProvider(
        service_endpoint=server.url.replace("/EWS/Exchange.asmx", "/owa/EWS/Exchange.asmx"),
        email=ANN,
        password="ann-pw",
        verify=server.ca_file,
    )
    with pytest.raises(errors.ConfigurationError) as info:
        provider.check_connection()
    assert "not as an Exchange server" in str(info.value)


def test_certificate_problem(server):
    provider = ex.ExchangeProvider(service_endpoint=server.url, email=ANN, password="ann-pw")  # CA not trusted
    with pytest.raises(errors.ConfigurationError) as info:
        provider.check_connection()
    assert "certificate" in str(info.value)


# -- reading ----------------------------------------------------------------
def test_full_then_incremental_sync(server):
    single = server.add_item(
        ANN,
        subject="Review",
        start=NOW,
        end=NOW + dt.timedelta(hours=1),
        attendees=[(BOB, "Bob", "Accept")],
        tz="W. Europe Standard Time",
    )
    server.add_item(
        ANN, subject="Long ago", start=NOW - dt.timedelta(days=90), end=NOW - dt.timedelta(days=90, hours=-1)
    )
    provider = make(server, auth_type=server.auth, server_build="15.1.2507.6")
    changes = provider.list_changes(None, WINDOW)
    assert changes.full and [e.summary for e in changes.events] == ["Review"]
    event = changes.events[0]
    assert event.timezone == "Europe/Berlin" and event.start == NOW
    assert [(a.email, a.response, a.organizer) for a in event.attendees] == [
        (ANN, "accepted", True),
        (BOB, "accepted", False),
    ]
    assert event.organizer_email == ANN and event.etag

    # nothing changed: one request
    before = server.requests
    again = provider.list_changes(changes.next_state, WINDOW)
    assert (again.events, again.deleted_ids) == ([], [])
    assert server.requests - before == 1  # NTLM too: the connection stays authenticated

    server.update_item(
        ANN, single, subject="Review (moved)", start=NOW + dt.timedelta(hours=2), end=NOW + dt.timedelta(hours=3)
    )
    created = server.add_item(
        ANN, subject="New", start=NOW + dt.timedelta(days=1), end=NOW + dt.timedelta(days=1, hours=1)
    )
    changes = provider.list_changes(again.next_state, WINDOW)
    assert sorted(e.summary for e in changes.events) == ["New", "Review (moved)"]
    server.remove_item(ANN, created)
    changes = provider.list_changes(changes.next_state, WINDOW)
    assert changes.deleted_ids == [created] and not changes.full


def test_sync_pages_are_followed(server, monkeypatch):
    monkeypatch.setattr(ex, "PAGE_SIZE", 3)
    for i in range(8):
        server.add_item(
            ANN, subject=f"M{i}", start=NOW + dt.timedelta(hours=i), end=NOW + dt.timedelta(hours=i, minutes=30)
        )
    changes = make(server).list_changes(None, WINDOW)
    assert len(changes.events) == 8
    assert [op for op, _ in server.log].count("SyncFolderItems") == 3


def test_rejected_sync_state_asks_for_a_full_sync(server):
    provider = make(server)
    with pytest.raises(errors.SyncStateExpired):
        provider.list_changes('{"sync_state": "bm90LWEtc3RhdGU=", "series": {}}', WINDOW)


def test_all_day_and_time_zones(server):
    server.add_item(
        ANN,
        subject="Conference",
        all_day=True,
        tz="Tokyo Standard Time",
        start=dt.datetime(2026, 12, 1, tzinfo=dt.timezone(dt.timedelta(hours=9))),
        end=dt.datetime(2026, 12, 4, tzinfo=dt.timezone(dt.timedelta(hours=9))),
    )
    server.add_item(
        ANN,
        subject="NY call",
        tz="Eastern Standard Time",
        start=dt.datetime(2026, 12, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        end=dt.datetime(2026, 12, 1, 10, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
    )
    window = Window(dt.datetime(2026, 11, 1, tzinfo=UTC), dt.datetime(2027, 1, 1, tzinfo=UTC))
    events = {e.summary: e for e in make(server).list_changes(None, window).events}
    conf = events["Conference"]
    assert conf.all_day and (conf.start_date, conf.end_date) == (dt.date(2026, 12, 1), dt.date(2026, 12, 3))
    assert conf.timezone == "Asia/Tokyo"
    call = events["NY call"]
    assert call.start == dt.datetime(2026, 12, 1, 14, tzinfo=UTC) and call.timezone == "America/New_York"


def test_recurring_series_with_moved_and_deleted_occurrences(server):
    master = server.add_item(
        ANN,
        subject="Weekly",
        start=NOW,
        end=NOW + dt.timedelta(minutes=30),
        recurrence={"pattern": "weekly", "count": 5},
    )
    server.modify_occurrence(
        ANN,
        master,
        2,
        start=NOW + dt.timedelta(days=7, hours=3),
        end=NOW + dt.timedelta(days=7, hours=4),
        subject="Weekly (moved)",
    )
    server.delete_occurrence(ANN, master, 4)
    provider = make(server)
    changes = provider.list_changes(None, WINDOW)
    occurrences = sorted(changes.events, key=lambda e: e.original_start)
    assert [e.original_start for e in occurrences] == [NOW + dt.timedelta(weeks=w) for w in (0, 1, 2, 4)]
    assert [e.kind for e in occurrences] == ["occurrence", "exception", "occurrence", "occurrence"]
    assert occurrences[1].start == NOW + dt.timedelta(days=7, hours=3) and occurrences[1].summary == "Weekly (moved)"
    assert {e.series_id for e in occurrences} == {master} and changes.complete_series == [master]
    assert len({e.ical_uid for e in occurrences}) == 1

    # a third occurrence cancelled in Outlook: the next sync lists the series again without it
    bindings = [
        BindingState(i, e.external_id, 100 + i, etag=e.etag, series_id=e.series_id, start=e.start)
        for i, e in enumerate(occurrences)
    ]
    server.delete_occurrence(ANN, master, 3)
    changes = provider.list_changes(changes.next_state, WINDOW)
    assert changes.complete_series == [master]
    plan = plan_changes(changes, bindings, window=WINDOW)
    assert [b.external_id for b in plan.delete] == [server.occurrence_id(master, 3)]

    # the series deleted: every occurrence goes
    server.remove_item(ANN, master)
    changes = provider.list_changes(changes.next_state, WINDOW)
    assert changes.deleted_ids == [master]
    plan = plan_changes(changes, bindings, window=WINDOW)
    assert len(plan.delete) == 4


def test_complete_series_only_removes_inside_the_window():
    inside = BindingState(1, "occ-in", 11, series_id="M", start=NOW)
    outside = BindingState(2, "occ-out", 12, series_id="M", start=NOW + dt.timedelta(days=400))
    plan = plan_changes(ChangeSet(complete_series=["M"]), [inside, outside], window=WINDOW)
    assert plan.delete == [inside]


# -- writing ----------------------------------------------------------------
def test_create_update_delete_with_and_without_invitations(server):
    provider = make(server)
    event = RemoteEvent(
        summary="Demo",
        description="Agenda",
        start=NOW + dt.timedelta(days=2),
        end=NOW + dt.timedelta(days=2, hours=1),
        timezone="Europe/Paris",
        attendees=[Attendee(ANN, organizer=True), Attendee(BOB)],
        privacy="private",
    )
    created = provider.create_event(event)
    assert server.invitations == []  # a plain save sends nothing
    stored = server.mailboxes[ANN].items[created.external_id]
    assert stored["tz"] == "Romance Standard Time" and stored["sensitivity"] == "Private"
    assert [a[0] for a in stored["required"]] == [BOB] and stored["uid"] == created.ical_uid

    updated = provider.update_event(
        created.external_id, created.replace(summary="Demo v2"), etag=created.etag, send_invitations=True
    )
    assert server.invitations == [("update", ANN, [BOB], "Demo v2")]
    with pytest.raises(errors.Conflict):  # a stale change key is refused
        provider.update_event(created.external_id, created.replace(summary="stale"), etag=created.etag)
    assert provider.get_event(created.external_id).summary == "Demo v2"

    provider.delete_event(created.external_id, etag=updated.etag, send_invitations=True)
    assert server.invitations[-1] == ("cancel", ANN, [BOB], "Demo v2")
    provider.delete_event(created.external_id)  # already gone: not an error


def test_send_invitation_on_create(server):
    provider = make(server)
    provider.create_event(
        RemoteEvent(summary="Kick-off", start=NOW, end=NOW + dt.timedelta(hours=1), attendees=[Attendee(BOB)]),
        send_invitations=True,
    )
    assert server.invitations == [("request", ANN, [BOB], "Kick-off")]


def test_all_day_write_keeps_the_days(server):
    provider = make(server)
    created = provider.create_event(
        RemoteEvent(
            summary="Off",
            all_day=True,
            start_date=dt.date(2026, 12, 24),
            end_date=dt.date(2026, 12, 26),
            timezone="Europe/Berlin",
        )
    )
    back = provider.get_event(created.external_id)
    assert back.all_day and (back.start_date, back.end_date) == (dt.date(2026, 12, 24), dt.date(2026, 12, 26))


def test_one_occurrence_changed_and_deleted_alone(server):
    master = server.add_item(
        ANN, subject="Daily", start=NOW, end=NOW + dt.timedelta(minutes=15), recurrence={"pattern": "daily", "count": 4}
    )
    provider = make(server)
    occurrences = sorted(provider.list_changes(None, WINDOW).events, key=lambda e: e.start)
    second, third = occurrences[1], occurrences[2]
    provider.update_event(second.external_id, second.replace(summary="Daily (special)"), etag=second.etag)
    provider.delete_event(third.external_id)
    box = server.mailboxes[ANN]
    assert box.items[master]["modified"][2]["subject"] == "Daily (special)"
    assert box.items[master]["deleted"] == {3}
    expanded = {i: o["subject"] for i, o in server.occurrences(box.items[master])}
    assert expanded == {1: "Daily", 2: "Daily (special)", 4: "Daily"}


# -- free/busy and faults ------------------------------------------------------
def test_free_busy_from_get_user_availability(server):
    server.add_item(BOB, subject="Bob busy", start=NOW + dt.timedelta(hours=1), end=NOW + dt.timedelta(hours=2))
    server.add_item(
        BOB, subject="Bob free", start=NOW + dt.timedelta(hours=3), end=NOW + dt.timedelta(hours=4), free_busy="Free"
    )
    busy = make(server).free_busy([BOB, "ghost@corp.test"], NOW, NOW + dt.timedelta(days=1))
    assert [(b.start, b.end) for b in busy[BOB]] == [(NOW + dt.timedelta(hours=1), NOW + dt.timedelta(hours=2))]
    assert busy["ghost@corp.test"] == []


def test_server_busy_is_retried_with_its_back_off(server):
    provider = make(server)
    provider.check_connection()
    server.fail_next(2, status=429, retry_after=0.05)
    started = time.monotonic()
    assert provider.list_changes(None, WINDOW).full
    assert time.monotonic() - started >= 0.1
    assert not server.faults


def test_server_busy_for_long_is_given_up_within_bounds(server):
    provider = make(server, max_wait=0.5)
    provider.check_connection()
    server.fail_next(10, status=429, retry_after=0.4)
    started = time.monotonic()
    with pytest.raises(errors.RateLimited):
        provider.list_changes(None, WINDOW)
    assert time.monotonic() - started < 3


def test_timeout_is_bounded(server):
    provider = make(server, timeout=0.3, max_wait=0.5)
    provider.check_connection()
    server.add_fault("delay", value=1.0, count=8)
    with pytest.raises(errors.Unavailable):
        provider.list_changes(None, WINDOW)
    # bounded by the elapsed-time budget, not by the number of faults queued: the provider
    # gave up after a few timed-out tries (counted, not timed, so a loaded machine cannot fail it)
    tried = 8 - server.faults_left()
    assert 1 <= tried <= 3, tried


def test_password_changed_on_the_server(server):
    provider = make(server)
    state = provider.list_changes(None, WINDOW).next_state
    server.set_password(ANN, "new-pw")
    with pytest.raises(errors.AuthRevoked):
        make(server).list_changes(state, WINDOW)
    assert make(server, password="new-pw").list_changes(state, WINDOW).events == []


def test_credentials_never_reach_the_logs(server, caplog):
    import base64
    import logging

    caplog.set_level(logging.DEBUG, logger="exchangelib")
    provider = make(server, auth_type="basic" if server.auth == "basic" else None)
    provider.list_changes(None, WINDOW)
    with pytest.raises(errors.AuthRevoked) as info:
        make(server, password="Wr0ng-secret").check_connection()
    text = caplog.text + str(info.value)
    assert "Authorization" in caplog.text or server.auth == "ntlm"  # the headers were logged, redacted
    for secret in ("ann-pw", "Wr0ng-secret", base64.b64encode(b"ann@corp.test:ann-pw").decode()):
        assert secret not in text


def test_sync_batches_one_at_a_time_resume_in_another_provider_object(server):
    for i in range(7):
        server.add_item(
            ANN, subject=f"M{i}", start=NOW + dt.timedelta(hours=i), end=NOW + dt.timedelta(hours=i, minutes=30)
        )
    server.add_item(
        ANN,
        subject="Weekly",
        start=NOW + dt.timedelta(days=1),
        end=NOW + dt.timedelta(days=1, hours=1),
        recurrence={"pattern": "weekly", "count": 3},
    )
    seen, page, pages = [], None, 0
    while True:
        changes = make(server, page_size=3).list_page(None, WINDOW, page)  # a new worker for each page
        pages += 1
        seen += [e.summary for e in changes.events]
        if not changes.next_page:
            break
        assert not changes.complete and not changes.next_state and not changes.complete_series
        page = changes.next_page
    assert pages == 3 and changes.complete and changes.next_state
    # the series met on the way is expanded with the last page
    assert len(changes.complete_series) == 1
    assert sorted(seen) == sorted([f"M{i}" for i in range(7)] + ["Weekly"] * 3)
    again = make(server).list_changes(changes.next_state, WINDOW)
    assert again.events == [] and again.deleted_ids == []


def test_count_of_the_folder_from_an_indexed_view(server):
    for i in range(4):
        server.add_item(ANN, subject=f"N{i}", start=NOW + dt.timedelta(days=i), end=NOW + dt.timedelta(days=i, hours=1))
    server.add_item(ANN, subject="Old", start=NOW - dt.timedelta(days=900), end=NOW - dt.timedelta(days=900, hours=-1))
    provider = make(server)
    provider.check_connection()
    server.log.clear()
    # the folder's items, whatever their date: what a first SyncFolderItems reads
    assert provider.count_events(WINDOW) == 5
    assert [op for op, _ in server.log] == ["FindItem"]
    changes = provider.list_page(None, WINDOW)
    assert changes.listed == 5 and len(changes.events) == 4


def test_indexed_view_pages_like_exchange(server):
    """exchangelib's own paging over the fake's IndexedPageItemView reads every item once."""
    for i in range(7):
        server.add_item(ANN, subject=f"P{i}", start=NOW + dt.timedelta(days=i), end=NOW + dt.timedelta(days=i, hours=1))
    provider = make(server)
    items = provider._call(lambda: list(provider.calendar.all().only("subject").order_by("start")))
    assert [i.subject for i in items] == [f"P{i}" for i in range(7)]
    server.log.clear()
    assert provider._call(lambda: provider.calendar.all().count(page_size=3)) == 7
    assert [op for op, _ in server.log] == ["FindItem"] * 3
