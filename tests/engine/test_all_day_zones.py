"""All-day meetings are dates on every provider (issue 20, point 3): read and written for users
west of UTC (Los Angeles) and east of it (Auckland), one day and several, never a day off.

Google keeps an all-day meeting as dates; Graph lists one from midnight to midnight whatever the
time zone (in the zone the request asks for, UTC here); EWS keeps the instants of midnight on the
item's own zone's clock, with that zone's Windows id.
"""

import datetime as dt
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from odoo.addons.webcrm_calendar_sync.engine.events import RemoteEvent, Window
from odoo.addons.webcrm_calendar_sync.engine.providers import microsoft as ms

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = Window(NOW - dt.timedelta(days=5), NOW + dt.timedelta(days=120))
#: (IANA name, Windows id) of a user west of UTC and of one east of it
ZONES = {
    "los_angeles": ("America/Los_Angeles", "Pacific Standard Time"),
    "auckland": ("Pacific/Auckland", "New Zealand Standard Time"),
}
FIRST = (NOW + dt.timedelta(days=40)).date()
SPANS = {"one_day": 0, "three_days": 2}


def only(provider):
    """The test runs against that provider's rig alone (a rule of that service's own)."""
    return pytest.mark.parametrize("rig_server", [provider], indirect=True)


@pytest.mark.parametrize("span", SPANS)
@pytest.mark.parametrize("zone", ZONES)
def test_an_all_day_meeting_made_at_the_provider_keeps_its_days(rig, zone, span):
    last = FIRST + dt.timedelta(days=SPANS[span])
    external_id = rig.add_all_day("Offsite", FIRST, last, ZONES[zone])
    provider = rig.provider()
    listed = [e for e in provider.list_changes(None, WINDOW).events if e.summary == "Offsite"]
    assert len(listed) == 1
    for event in (listed[0], provider.get_event(external_id)):
        assert event.all_day
        assert (event.start_date, event.end_date) == (FIRST, last)


@pytest.mark.parametrize("span", SPANS)
@pytest.mark.parametrize("zone", ZONES)
def test_an_all_day_meeting_written_from_odoo_keeps_its_days(rig, zone, span):
    last = FIRST + dt.timedelta(days=SPANS[span])
    provider = rig.provider()
    meeting = RemoteEvent(summary="Leave", all_day=True, start_date=FIRST, end_date=last, timezone=ZONES[zone][0])
    created = provider.create_event(meeting)
    assert (created.start_date, created.end_date) == (FIRST, last)
    moved = provider.update_event(
        created.external_id,
        meeting.replace(start_date=FIRST + dt.timedelta(days=1), end_date=last + dt.timedelta(days=1)),
        etag=created.etag,
    )
    assert moved.all_day
    for event in (provider.get_event(created.external_id), *provider.list_changes(None, WINDOW).events):
        assert event.all_day
        assert (event.start_date, event.end_date) == (FIRST + dt.timedelta(days=1), last + dt.timedelta(days=1))


@only("microsoft")
@pytest.mark.parametrize("zone", ZONES)
def test_graph_gets_an_all_day_meeting_from_midnight_to_midnight_on_the_users_clock(rig, zone):
    """What Outlook shows on the meeting's days is what Graph holds from midnight to midnight on
    the user's own clock: written in UTC, an Auckland user's Outlook would show it from 1 pm."""
    iana, windows = ZONES[zone]
    last = FIRST + dt.timedelta(days=2)
    created = rig.provider().create_event(
        RemoteEvent(summary="Leave", all_day=True, start_date=FIRST, end_date=last, timezone=iana)
    )
    with rig.server.lock:
        stored = dict(rig.server.mailboxes["ann@corp.test"][created.external_id])
    assert stored["isAllDay"] is True
    assert stored["originalStartTimeZone"] == windows
    # listed as Graph lists an all-day meeting: midnight to midnight, whatever the zone
    assert stored["start"]["dateTime"].startswith(f"{FIRST.isoformat()}T00:00:00")
    assert stored["end"]["dateTime"].startswith(f"{(last + dt.timedelta(days=1)).isoformat()}T00:00:00")


@only("microsoft")
def test_a_repeated_all_day_create_is_not_rewritten(rig):
    """A create retried with the same key finds the first one (Graph's transactionId) and leaves
    it as it is when it is the same meeting: its days compare as days, not as instants."""
    provider = rig.provider()
    meeting = RemoteEvent(
        summary="Leave", all_day=True, start_date=FIRST, end_date=FIRST, timezone="Pacific/Auckland", create_key="k-1"
    )
    first = provider.create_event(meeting)
    del rig.server.log[:]
    again = provider.create_event(meeting)
    assert again.external_id == first.external_id
    assert [m for m, _path, _query in rig.server.log if m == "PATCH"] == []


@only("microsoft")
def test_graph_refuses_an_all_day_meeting_that_does_not_run_midnight_to_midnight(rig):
    """The fake models Graph's rule for ``isAllDay`` (event resource): start and end at midnight,
    in one time zone, at least a day apart; else 400."""
    from odoo.addons.webcrm_calendar_sync.engine.testing.fake_graph import GraphError

    day = FIRST.isoformat()
    next_day = (FIRST + dt.timedelta(days=1)).isoformat()
    wrong = [
        ({"dateTime": f"{day}T08:00:00", "timeZone": "UTC"}, {"dateTime": f"{next_day}T08:00:00", "timeZone": "UTC"}),
        (
            {"dateTime": f"{day}T00:00:00", "timeZone": "Pacific Standard Time"},
            {"dateTime": f"{next_day}T00:00:00", "timeZone": "UTC"},
        ),
        ({"dateTime": f"{day}T00:00:00", "timeZone": "UTC"}, {"dateTime": f"{day}T00:00:00", "timeZone": "UTC"}),
    ]
    for start, end in wrong:
        with pytest.raises(GraphError) as refused:
            rig.server.add_event("ann@corp.test", {"subject": "x", "isAllDay": True, "start": start, "end": end})
        assert refused.value.status == 400


def test_windows_zone_names_are_read_from_the_cldr_mapping():
    assert ms.iana_zone("New Zealand Standard Time") == "Pacific/Auckland"
    assert ms.iana_zone("Pacific Standard Time") == "America/Los_Angeles"
    assert ms.iana_zone("Europe/Berlin") == "Europe/Berlin"  # Graph may give IANA names too
    assert ms.iana_zone("UTC") == "UTC"
    assert ms.iana_zone("No Such Standard Time") == "UTC"
    assert ms.iana_zone(None) == "UTC"


def test_every_windows_zone_name_goes_to_iana_and_back():
    from exchangelib.winzone import MS_TIMEZONE_TO_IANA_MAP

    from odoo.addons.webcrm_calendar_sync.engine import timezones

    names = [n for n in MS_TIMEZONE_TO_IANA_MAP if not n.startswith("tzone://")]
    assert len(names) > 130
    for name in names:
        iana = timezones.iana_zone(name)
        assert iana != "UTC" or name == "UTC", name
        assert timezones.windows_zone(iana) == name, (name, iana)


@only("exchange")
def test_exchange_takes_an_all_day_item_from_midnight_to_midnight_on_its_zones_clock(rig):
    """The fake models EWS's documented rule for all-day items: a start that is not midnight
    (on the item's zone's clock) moves to the midnight before, an end to the midnight after."""
    clock = ZoneInfo("Pacific/Auckland")
    item_id = rig.server.add_item(
        "ann@corp.test",
        subject="Half days",
        all_day=True,
        tz="New Zealand Standard Time",
        start=dt.datetime.combine(FIRST, dt.time(13), tzinfo=clock),
        end=dt.datetime.combine(FIRST + dt.timedelta(days=1), dt.time(9), tzinfo=clock),
    )
    event = rig.provider().get_event(item_id)
    assert event.all_day
    assert (event.start_date, event.end_date) == (FIRST, FIRST + dt.timedelta(days=1))


def test_the_mapping_is_loaded_at_first_use_not_when_a_provider_is_imported():
    """Importing the Graph provider does not load exchangelib (costly); the first lookup reads
    CLDR's mapping from it. In a process of its own, where the engine is imported alone."""
    engine_parent = Path(ms.__file__).resolve().parents[2]
    code = (
        f"import sys; sys.path.insert(0, {str(engine_parent)!r})\n"
        "from engine.providers import microsoft\n"
        "assert not any(n.split('.')[0] == 'exchangelib' for n in sys.modules), 'exchangelib imported'\n"
        "assert microsoft.iana_zone('New Zealand Standard Time') == 'Pacific/Auckland'\n"
        "assert 'exchangelib.winzone' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@only("microsoft")
@pytest.mark.parametrize("zone", ZONES)
def test_an_outlook_all_day_series_keeps_its_days(rig, zone):
    """A weekly all-day series made in Outlook: each occurrence on its own day."""
    windows = ZONES[zone][1]
    rig.server.add_event(
        "ann@corp.test",
        {
            "subject": "Gym",
            "isAllDay": True,
            "start": {"dateTime": f"{FIRST.isoformat()}T00:00:00", "timeZone": windows},
            "end": {"dateTime": f"{(FIRST + dt.timedelta(days=1)).isoformat()}T00:00:00", "timeZone": windows},
            "recurrence": {
                "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": [FIRST.strftime("%A").lower()]},
                "range": {
                    "type": "numbered",
                    "startDate": FIRST.isoformat(),
                    "numberOfOccurrences": 3,
                    "recurrenceTimeZone": windows,
                },
            },
        },
    )
    listed = [e for e in rig.provider().list_changes(None, WINDOW).events if e.summary == "Gym"]
    days = [FIRST + dt.timedelta(weeks=n) for n in range(3)]
    assert sorted((e.start_date, e.end_date) for e in listed) == [(d, d) for d in days]
    assert all(e.all_day and e.kind == "occurrence" for e in listed)
