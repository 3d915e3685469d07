"""A calendar of N events with a fixed seed and a realistic mix.

Neutral :class:`RemoteEvent` objects: the bench seeds each provider's fake server
with them. Mix (by default): ~55% timed single meetings with 1-6 attendees, ~15%
alone in the calendar, ~10% all-day or multi-day, ~10% recurring series (weekly or
daily, a few occurrences inside the window), the rest in other time zones.
"""

from __future__ import annotations

import datetime as dt
import random

from odoo.addons.webcrm_calendar_sync.engine.events import MASTER, Attendee, RemoteEvent

UTC = dt.timezone.utc
ZONES = ["Europe/Stockholm", "Europe/London", "America/New_York", "Asia/Tokyo", "Europe/Berlin", "UTC"]
WORDS = [
    "review",
    "demo",
    "planning",
    "sync",
    "kickoff",
    "budget",
    "roadmap",
    "lunch",
    "workshop",
    "offsite",
    "call",
    "retro",
]


def generate(n: int, owner: str, *, seed: int = 42, now: dt.datetime | None = None, colleagues=()):
    """``n`` events owned by ``owner``; attendees drawn from customers and ``colleagues``."""
    rnd = random.Random(seed)
    now = (now or dt.datetime.now(UTC)).replace(minute=0, second=0, microsecond=0)
    customers = [f"contact{i}@customer{i % 37}.test" for i in range(400)]
    events = []
    for i in range(n):
        kind = rnd.random()
        day = now + dt.timedelta(days=rnd.randint(-80, 300))
        start = day.replace(hour=rnd.randint(7, 17))
        title = f"{rnd.choice(WORDS).title()} {rnd.choice(WORDS)} #{i}"
        attendees = [Attendee(owner, response="accepted", organizer=True)]
        if kind > 0.15:
            pool = customers + list(colleagues)
            for email in rnd.sample(pool, rnd.randint(1, 6)):
                attendees.append(Attendee(email, response=rnd.choice(["needsAction", "accepted", "tentative"])))
        event = RemoteEvent(
            summary=title,
            description=f"Generated meeting {i}",
            location=rnd.choice(["", "Room A", "Room B", "Teams", "Client office"]),
            attendees=attendees,
            organizer_email=owner,
            privacy=rnd.choice(["default"] * 8 + ["private", "public"]),
            timezone="UTC",
        )
        if kind < 0.10:
            first = start.date()
            event.all_day = True
            event.start_date = first
            event.end_date = first + dt.timedelta(days=rnd.choice([0, 0, 1, 2]))
        else:
            event.start = start
            event.end = start + dt.timedelta(minutes=rnd.choice([30, 45, 60, 60, 90, 120]))
            if kind > 0.90:
                event.timezone = rnd.choice(ZONES)
            if 0.10 <= kind < 0.20:
                event.kind = MASTER
                freq, count = rnd.choice([("WEEKLY", 6), ("DAILY", 5), ("WEEKLY", 10)])
                event.recurrence = [f"RRULE:FREQ={freq};COUNT={count}"]
        events.append(event)
    return events
