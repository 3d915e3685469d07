"""Windows time zone ids and IANA names, both ways, from CLDR's mapping (``windowsZones.xml``).

Microsoft 365 and Exchange name zones by Windows ids ("New Zealand Standard Time"); Odoo and
the neutral event by IANA names ("Pacific/Auckland"). The mapping is the one the Unicode CLDR
maintains, as exchangelib ships it (``exchangelib.winzone``): never a table of our own. It is
loaded at the first lookup, so importing a provider that does not need it costs nothing, and it
is only read (exchangelib is left as it was). Plain Python: no ``odoo`` import.
"""

from __future__ import annotations

import functools
from typing import Optional
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

UTC_NAME = "UTC"


@functools.lru_cache(maxsize=1)
def _cldr():
    """(Windows id -> IANA name, IANA name -> Windows id) from CLDR's windowsZones."""
    from exchangelib.winzone import IANA_TO_MS_TIMEZONE_MAP, MS_TIMEZONE_TO_IANA_MAP

    to_windows = {iana: entry[0] for iana, entry in IANA_TO_MS_TIMEZONE_MAP.items()}
    return dict(MS_TIMEZONE_TO_IANA_MAP), to_windows


@functools.lru_cache(maxsize=1024)
def _is_iana(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False
    return True


def iana_zone(name: Optional[str]) -> str:
    """The IANA name of a Windows id or of an IANA name; ``UTC`` when neither is known."""
    if not name or not isinstance(name, str):
        return UTC_NAME
    if _is_iana(name):
        return name
    iana = _cldr()[0].get(name)
    return iana if iana and _is_iana(iana) else UTC_NAME


def windows_zone(name: Optional[str]) -> str:
    """The Windows id of an IANA name (or a Windows id as it is); ``UTC`` when unknown."""
    if not name or not isinstance(name, str):
        return UTC_NAME
    to_iana, to_windows = _cldr()
    if name in to_iana:
        return name
    return to_windows.get(name) or UTC_NAME
