"""Times as the fake servers read them off the wire: their own small parser, never the
provider's (a fake that shared the provider's parser would agree with its bugs)."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC = dt.timezone.utc

#: the Windows time zone ids the fakes understand (Graph and EWS name zones by them): the fakes'
#: own few, never the providers' mapping (CLDR's windowsZones, through exchangelib)
WINDOWS_ZONES = {
    "UTC": "UTC",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Eastern Standard Time": "America/New_York",
    "Pacific Standard Time": "America/Los_Angeles",
    "Tokyo Standard Time": "Asia/Tokyo",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "New Zealand Standard Time": "Pacific/Auckland",
}
_FRACTION = re.compile(r"\.(\d+)")


def now() -> dt.datetime:
    return dt.datetime.now(UTC)


def zone(name: str | None):
    """The tzinfo of an IANA name or a Windows id (None: UTC); ValueError if unknown."""
    name = WINDOWS_ZONES.get(name or "UTC", name or "UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None


def parse_time(text: str, zone_name: str | None = None) -> dt.datetime:
    """An ISO 8601 time as an aware UTC datetime; without an offset it is read on
    ``zone_name``'s clock (None: UTC). ``Z`` and fractions of any length (Graph writes
    seven digits) are read. ValueError if it is not a time."""
    text = text.strip()
    if text[-1:] in ("Z", "z"):
        text = text[:-1] + "+00:00"
    text = _FRACTION.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text, count=1)
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone(zone_name))
    return value.astimezone(UTC)
