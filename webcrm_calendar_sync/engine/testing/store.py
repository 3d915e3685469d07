"""What the fake servers' calendars share beneath their wire formats.

Each fake keeps its records in its own shape (Google JSON, Graph JSON, EWS items) and
numbers every change with its server's ``seq``. The ideas that do not depend on the
shape live here once:

* :func:`busy_intervals`: free/busy of one calendar in a window, as neutral
  ``(start, end, show_as)`` intervals; each fake only writes them in its wire format.
* :func:`changed_since` / :func:`last_seq`: the records changed after a sequence number,
  behind Google's sync tokens, Graph's delta links, EWS's sync states and push.
* :func:`stamp_change` / :func:`version_tag`: a change numbered on its record, and the
  opaque version a client sends back (Graph's and EWS's change keys; Google's etag is
  the number itself).
* :class:`TokenFloors`: which of those numbers handed out in tokens are still honoured
  (a test invalidates them as a server does after a reset).
"""

from __future__ import annotations

import base64


def busy_intervals(events, lo, hi, *, occurrences, span, show_as, clip=False):
    """[(start, end, show_as)] of ``events`` overlapping [``lo``, ``hi``), by start then end.

    ``occurrences(event)``: the records an event stands for in the window (a single event:
    itself; a series: its occurrences; an event that never shows: none). ``span(record)``:
    its aware (start, end). ``show_as(record)``: how it shows (e.g. "busy"), None when it
    does not (free, cancelled). ``clip``: intervals are cut to the window.
    """
    found = []
    for event in events:
        for record in occurrences(event):
            status = show_as(record)
            if status is None:
                continue
            start, end = span(record)
            if start < hi and end > lo:
                if clip:
                    start, end = max(start, lo), min(end, hi)
                found.append((start, end, status))
    found.sort(key=lambda interval: (interval[0], interval[1]))
    return found


def stamp_change(record, seq, key="_seq"):
    """Number ``record``'s latest change ``seq`` (under ``key``); returns ``seq``."""
    record[key] = seq
    return seq


def version_tag(seq, prefix):
    """The opaque version of change ``seq``: ``prefix`` and the number, base64-encoded."""
    return base64.b64encode(f"{prefix}{seq}".encode()).decode()


def changed_since(records, since, seq=lambda record: record["_seq"]):
    """``records`` changed after sequence number ``since`` (all when None), oldest change first."""
    return sorted((r for r in records if since is None or seq(r) > since), key=seq)


def last_seq(records, seq=lambda record: record["_seq"]):
    """The sequence number of the latest change among ``records`` (0 when none)."""
    return max((seq(r) for r in records), default=0)


class TokenFloors:
    """Per owner, the lowest sequence number a change token may carry and still be honoured."""

    def __init__(self):
        self._floor = {}

    def refuse_before(self, owner, seq):
        """Tokens of ``owner`` handed out before ``seq`` are refused from now on."""
        self._floor[owner] = seq

    def honours(self, owner, seq):
        return seq >= self._floor.get(owner, 0)
