"""The one recurrence expander of the fake servers (engine/testing/recurrence.py)."""

import datetime as dt
from zoneinfo import ZoneInfo

from odoo.addons.webcrm_calendar_sync.engine.testing import recurrence
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_ews import FakeEWS
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_google import FakeGoogle
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_graph import FakeGraph

UTC = dt.timezone.utc
HOUR = dt.timedelta(hours=1)
NEW_YORK = ZoneInfo("America/New_York")


def test_weekly_on_given_days_counts_from_the_first():
    first = dt.datetime(2027, 1, 4, 9, tzinfo=UTC)  # a Monday
    lines = recurrence.rrule_lines("WEEKLY", weekdays=[0, 2], count=5)
    assert lines == ["RRULE:FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,WE;COUNT=5"]
    starts = recurrence.expand(lines, first, HOUR)
    assert [(i, s.day) for i, s in starts] == [(1, 4), (2, 6), (3, 11), (4, 13), (5, 18)]


def test_the_wall_clock_is_kept_across_daylight_saving_time():
    first = dt.datetime(2027, 3, 8, 9, tzinfo=NEW_YORK)  # the US clocks change on 14 March
    starts = recurrence.expand(["RRULE:FREQ=WEEKLY;COUNT=2"], first, HOUR, zone=NEW_YORK)
    assert [s.astimezone(NEW_YORK).hour for _i, s in starts] == [9, 9]
    assert [s.astimezone(UTC).hour for _i, s in starts] == [14, 13]


def test_until_in_utc_is_read_on_the_zones_clock_and_included():
    first = dt.datetime(2027, 1, 1, 9, tzinfo=NEW_YORK)
    # 14:00 UTC is 9:00 in New York: the third day is the last one
    starts = recurrence.expand(["RRULE:FREQ=DAILY;UNTIL=20270103T140000Z"], first, HOUR, zone=NEW_YORK)
    assert [s.day for _i, s in starts] == [1, 2, 3]


def test_a_window_keeps_the_series_index_and_what_runs_at_its_start():
    first = dt.datetime(2027, 1, 1, 23, tzinfo=UTC)
    lo = dt.datetime(2027, 1, 5, 0, 30, tzinfo=UTC)  # the 4 January occurrence still runs
    hi = dt.datetime(2027, 1, 6, 23, tzinfo=UTC)  # included
    starts = recurrence.expand(["RRULE:FREQ=DAILY"], first, 2 * HOUR, lo=lo, hi=hi)
    assert [(i, s.day) for i, s in starts] == [(4, 4), (5, 5), (6, 6)]


def test_a_series_without_end_stops_at_the_limit():
    first = dt.datetime(2027, 1, 1, 9, tzinfo=UTC)
    assert len(recurrence.expand(["RRULE:FREQ=DAILY"], first, HOUR, limit=1000)) == 1000


def test_all_day_series_are_utc_midnights():
    first = dt.datetime(2027, 1, 30, tzinfo=UTC)
    lines = recurrence.rrule_lines("MONTHLY", month_day=30, count=3)
    starts = recurrence.expand(lines, first, dt.timedelta(days=1), all_day=True)
    assert [s for _i, s in starts] == [
        dt.datetime(2027, 1, 30, tzinfo=UTC),
        dt.datetime(2027, 3, 30, tzinfo=UTC),  # no 30 February
        dt.datetime(2027, 4, 30, tzinfo=UTC),
    ]


def test_the_google_fake_expands_a_series_ending_at_a_utc_time():
    with FakeGoogle() as server:
        event = server.add_event(
            "ann@example.com",
            {
                "summary": "Until",
                "start": {"dateTime": "2027-01-01T09:00:00", "timeZone": "America/New_York"},
                "end": {"dateTime": "2027-01-01T10:00:00", "timeZone": "America/New_York"},
                "recurrence": ["RRULE:FREQ=DAILY;UNTIL=20270103T140000Z"],
            },
        )
        instances = server.instances_of("ann@example.com", event["id"])
    assert [i["start"]["dateTime"] for i in instances] == [
        "2027-01-01T14:00:00Z",
        "2027-01-02T14:00:00Z",
        "2027-01-03T14:00:00Z",
    ]


def test_the_ews_fake_numbers_occurrences_from_the_first():
    server = FakeEWS(tls=False, auth=("basic",))
    server.add_mailbox("ann@example.com", "pw")
    start = dt.datetime(2027, 1, 4, 9, tzinfo=UTC)
    master = server.add_item(
        "ann@example.com",
        subject="Weekly",
        start=start,
        end=start + HOUR,
        recurrence={"pattern": "weekly", "days": ["Monday", "Thursday"], "until": dt.date(2027, 1, 14)},
    )
    server.delete_occurrence("ann@example.com", master, 2)
    box = server.mailboxes["ann@example.com"]
    assert [(i, o["start"].day) for i, o in server.occurrences(box.items[master])] == [(1, 4), (3, 11), (4, 14)]


def test_the_graph_fake_keeps_a_series_on_its_zones_clock():
    with FakeGraph() as server:
        master = server.add_event(
            "ann@example.com",
            {
                "subject": "Weekly in Berlin",
                # 22 March 2027 is a Monday; Berlin moves its clocks on the 28th
                "start": {"dateTime": "2027-03-22T09:00:00", "timeZone": "W. Europe Standard Time"},
                "end": {"dateTime": "2027-03-22T10:00:00", "timeZone": "W. Europe Standard Time"},
                "recurrence": {
                    "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
                    "range": {"type": "numbered", "startDate": "2027-03-22", "numberOfOccurrences": 2},
                },
            },
        )
        occurrences = server.occurrences_of("ann@example.com", master["id"])
    assert master["recurrence"]["range"]["recurrenceTimeZone"] == "W. Europe Standard Time"
    starts = [o["start"]["dateTime"] for o in occurrences]
    assert starts == ["2027-03-22T08:00:00.0000000", "2027-03-29T07:00:00.0000000"]  # 9:00 in Berlin


def test_the_ews_fake_keeps_a_series_on_its_zones_clock():
    server = FakeEWS(tls=False, auth=("basic",))
    server.add_mailbox("ann@example.com", "pw")
    start = dt.datetime(2027, 3, 22, 9, tzinfo=ZoneInfo("Europe/Berlin"))
    master = server.add_item(
        "ann@example.com",
        subject="Weekly in Berlin",
        start=start,
        end=start + HOUR,
        tz="W. Europe Standard Time",
        recurrence={"pattern": "weekly", "count": 2},
    )
    box = server.mailboxes["ann@example.com"]
    starts = [o["start"] for _i, o in server.occurrences(box.items[master])]
    assert starts == [dt.datetime(2027, 3, 22, 8, tzinfo=UTC), dt.datetime(2027, 3, 29, 7, tzinfo=UTC)]
