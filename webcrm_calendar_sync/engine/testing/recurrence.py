"""The recurrence expander the fake servers share: the starts of a series' occurrences.

A series is RFC 5545 rules (``RRULE:``, ``EXDATE:``... lines) from a first start, on the
wall clock of a time zone (a weekly 9:00 meeting stays at 9:00 across a change of daylight
saving time). Google's fake hands its ``recurrence`` lines as they are; Graph's
``pattern``/``range`` and the fake EWS's recurrence are written as rules by
:func:`rrule_lines`. What an occurrence looks like on the wire stays in each fake.
"""

from __future__ import annotations

import datetime as dt
import re

from dateutil import rrule as dt_rrule

UTC = dt.timezone.utc
#: how far a listing without bounds expands a series that never ends
EXPAND_BACK = dt.timedelta(days=400)
EXPAND_AHEAD = dt.timedelta(days=800)
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_UTC_UNTIL = re.compile(r"UNTIL=(\d{8}T\d{6})Z", re.IGNORECASE)


def default_window(lo=None, hi=None):
    """(lo, hi) with the expansion window's ends where a bound is None."""
    now = dt.datetime.now(UTC)
    return lo or now - EXPAND_BACK, hi or now + EXPAND_AHEAD


def rrule_lines(freq, *, interval=1, weekdays=(), month_day=None, count=None, until=None):
    """One ``RRULE:`` line: ``freq`` DAILY, WEEKLY or MONTHLY; ``weekdays`` 0 (Monday) to 6;
    ``until``: the last day (a date, included)."""
    parts = [f"FREQ={freq}", f"INTERVAL={int(interval)}"]
    if weekdays:
        parts.append("BYDAY=" + ",".join(DAY_CODES[d] for d in sorted(set(weekdays))))
    if month_day:
        parts.append(f"BYMONTHDAY={int(month_day)}")
    if count:
        parts.append(f"COUNT={int(count)}")
    elif until:
        parts.append(f"UNTIL={until:%Y%m%d}T235959")
    return ["RRULE:" + ";".join(parts)]


def _wall_clock_until(line, zone):
    """An ``UNTIL`` in UTC (``...Z``) as a time on ``zone``'s wall clock, as the rules run on it."""

    def local(match):
        moment = dt.datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        return "UNTIL=" + moment.astimezone(zone).strftime("%Y%m%dT%H%M%S")

    return _UTC_UNTIL.sub(local, line)


def expand(lines, first_start, duration, *, zone=UTC, all_day=False, lo=None, hi=None, limit=None):
    """[(index, start)] of a series' occurrences, in order.

    ``index`` counts from 1, the first occurrence of the series (EWS's instance index),
    whatever the window. ``first_start``: an aware datetime (all-day: midnight, its zone
    ignored); starts come back aware, in ``zone`` (all-day: UTC midnights). Kept: the
    occurrences that start from ``lo - duration`` (so an occurrence running at ``lo`` is
    kept) to ``hi``, both included; a bound of None does not bound. ``limit``: at most that
    many occurrences of the series are counted (the cap of a series that never ends).
    """
    if all_day:
        zone = UTC
        local_start = first_start.replace(tzinfo=None)
    else:
        local_start = first_start.astimezone(zone).replace(tzinfo=None)
    text = "\n".join(_wall_clock_until(line, zone) for line in lines)
    rules = dt_rrule.rrulestr(f"DTSTART:{local_start:%Y%m%dT%H%M%S}\n{text}", forceset=True)

    def wall(value):
        return None if value is None else value.astimezone(zone).replace(tzinfo=None)

    low, high = wall(None if lo is None else lo - duration), wall(hi)
    found = []
    for index, start in enumerate(rules, 1):
        if (limit is not None and index > limit) or (high is not None and start > high):
            break
        if low is None or start >= low:
            found.append((index, start.replace(tzinfo=zone)))
    return found
