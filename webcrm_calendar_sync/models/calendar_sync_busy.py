"""Colleagues' free/busy for the booking form: a short cache and a per-user budget of provider calls.

``calendar.event.get_synced_busy_intervals`` calls the providers with colleagues' tokens, so
each answer is kept briefly (per account, mailbox and time range) and each user may make only
so many provider calls a minute. Both live in this process's memory (each Odoo worker has its
own), which is enough to keep a page that polls, or a script that loops, from hammering the
providers with someone else's grant.
"""

import threading
import time
from collections import deque

CACHE_SECONDS = 60
CALLS_PER_MINUTE = 30

_lock = threading.Lock()
_cache = {}  # (dbname, account_id, user_id, email, start, stop) -> (expires, intervals)
_calls = {}  # (dbname, uid) -> deque of monotonic call times


class TooManyCalls(Exception):
    """The caller's budget of provider calls for the last minute is spent."""


def cached(key):
    """The intervals kept for ``key``, or None."""
    now = time.monotonic()
    with _lock:
        found = _cache.get(key)
        if found and found[0] > now:
            return found[1]
        _cache.pop(key, None)
        return None


def remember(key, intervals, seconds=CACHE_SECONDS):
    now = time.monotonic()
    with _lock:
        if len(_cache) > 5000:  # bounded: drop what expired, then the oldest half
            for k in [k for k, v in _cache.items() if v[0] <= now]:
                del _cache[k]
            for k in list(_cache)[: len(_cache) // 2]:
                del _cache[k]
        _cache[key] = (now + seconds, intervals)


def take_call(caller_key, per_minute=CALLS_PER_MINUTE):
    """Count one provider call for ``caller_key``; False when its budget for the last minute is spent."""
    now = time.monotonic()
    with _lock:
        calls = _calls.setdefault(caller_key, deque())
        while calls and calls[0] <= now - 60:
            calls.popleft()
        if len(calls) >= per_minute:
            return False
        calls.append(now)
        return True


def clear():
    """Forget every cached answer and call count (tests start from nothing)."""
    with _lock:
        _cache.clear()
        _calls.clear()
