"""One interface over the three fake servers, so a test can run against Google, Microsoft 365
and Exchange alike: build a provider, put events in the calendar as another client would,
break them, count what the server holds. Not a test module (no ``test_`` prefix)."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import urllib.parse
from zoneinfo import ZoneInfo

import requests
from exchangelib.protocol import CachingProtocol

from odoo.addons.webcrm_calendar_sync.engine.providers import exchange as ex
from odoo.addons.webcrm_calendar_sync.engine.providers import google
from odoo.addons.webcrm_calendar_sync.engine.providers import microsoft as ms
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_ews import FakeEWS
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_google import FakeGoogle
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_graph import FakeGraph

UTC = dt.timezone.utc
OWNER = "ann@corp.test"
GUEST = "bob@corp.test"
PROVIDERS = ("google", "microsoft", "exchange")


def _iso(value):
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GoogleRig:
    name = "google"

    def __init__(self):
        self.server = FakeGoogle().start()

    def reset(self):
        with self.server.lock:
            self.server.calendars.clear()
        self.server.clear_faults()
        self.server.add_user(OWNER)

    def provider(self, email=OWNER, timeout=5, page_size=None):
        tokens = self.server.issue_tokens(email)
        return google.GoogleProvider(
            tokens,
            client_id=self.server.client_id,
            client_secret=self.server.client_secret,
            token_uri=self.server.token_uri,
            api_endpoint=self.server.api_endpoint,
            retry_delay=0.001,
            timeout=timeout,
            page_size=page_size or google.PAGE_SIZE,
            label=email,
        )

    def add(self, subject, start, hours=1, attendees=(), uid=None, organizer=OWNER):
        body = {
            "summary": subject,
            "start": {"dateTime": _iso(start)},
            "end": {"dateTime": _iso(start + dt.timedelta(hours=hours))},
            "attendees": [{"email": a} for a in attendees],
        }
        if uid:
            body["iCalUID"] = uid
        if organizer != OWNER:
            body["organizer"] = {"email": organizer}
        return self.server.add_event(OWNER, body)["id"]

    def add_all_day(self, subject, first, last, zone):
        """An all-day meeting from ``first`` to ``last`` (dates, included) as Google Calendar
        stores one made by a user in ``zone`` (IANA, Windows id): dates, no zone."""
        body = {
            "summary": subject,
            "start": {"date": first.isoformat()},
            "end": {"date": (last + dt.timedelta(days=1)).isoformat()},
        }
        return self.server.add_event(OWNER, body)["id"]

    def corrupt(self, external_id, how, start):
        if how == "end_before_start":
            self.server.corrupt(
                OWNER,
                external_id,
                start={"dateTime": _iso(start)},
                end={"dateTime": _iso(start - dt.timedelta(hours=2))},
            )
        elif how == "no_start":
            self.server.corrupt(OWNER, external_id, start=None)
        elif how == "bad_date":
            self.server.corrupt(OWNER, external_id, start={"dateTime": "31/02/2027 25:00"})

    def remove(self, external_id):
        with self.server.lock:
            event = self.server.calendars[OWNER][external_id]
            event["status"] = "cancelled"
            self.server._stamp(event)

    def live(self):
        """[(summary, iCalUID)] of the owner's live events."""
        return sorted((e.get("summary", ""), e["iCalUID"]) for e in self.server.events_of(OWNER))

    def expire_state(self):
        self.server.invalidate_sync_tokens(OWNER)

    def rate_limit(self, seconds):
        self.server.fail_next(1, status=429, retry_after=seconds)

    def stop(self):
        self.server.stop()


class GraphRig:
    name = "microsoft"

    def __init__(self):
        self.server = FakeGraph().start()

    def reset(self):
        with self.server.lock:
            self.server.mailboxes.clear()
        self.server.clear_faults()
        self.server.add_user(OWNER)

    def provider(self, email=OWNER, timeout=5, page_size=None):
        server = self.server
        authority = server.authority("organizations")
        flow = ms.build_auth_flow(
            server.client_id, server.client_secret, authority, "http://odoo.test/cb", email, verify=server.ca_file
        )
        answer = requests.get(flow["auth_uri"], allow_redirects=False, verify=server.ca_file, timeout=5)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
        cache, _who = ms.complete_auth_flow(
            flow, query, server.client_id, server.client_secret, authority, verify=server.ca_file
        )
        return ms.MicrosoftProvider(
            cache,
            client_id=server.client_id,
            client_secret=server.client_secret,
            email=email,
            authority=authority,
            graph_endpoint=server.graph_endpoint,
            verify=server.ca_file,
            retry_delay=0.001,
            timeout=timeout,
            page_size=page_size or ms.PAGE_SIZE,
        )

    def add(self, subject, start, hours=1, attendees=(), uid=None, organizer=OWNER):
        def node(value):
            return {"dateTime": value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}

        body = {
            "subject": subject,
            "start": node(start),
            "end": node(start + dt.timedelta(hours=hours)),
            "attendees": [{"emailAddress": {"address": a, "name": a}, "type": "required"} for a in attendees],
        }
        event = self.server.add_event(OWNER, body)
        with self.server.lock:
            stored = self.server.mailboxes[OWNER][event["id"]]
            if uid:
                stored["iCalUId"] = uid
            if organizer != OWNER:
                stored["organizer"] = {"emailAddress": {"address": organizer, "name": organizer}}
                stored["isOrganizer"] = False
        return event["id"]

    def add_all_day(self, subject, first, last, zone):
        """... as Outlook makes one for a user in ``zone``: midnight to midnight in the user's
        Windows zone (the fake lists it as Graph does)."""
        body = {
            "subject": subject,
            "isAllDay": True,
            "start": {"dateTime": f"{first.isoformat()}T00:00:00", "timeZone": zone[1]},
            "end": {"dateTime": f"{(last + dt.timedelta(days=1)).isoformat()}T00:00:00", "timeZone": zone[1]},
        }
        return self.server.add_event(OWNER, body)["id"]

    def corrupt(self, external_id, how, start):
        if how == "end_before_start":
            self.server.corrupt(
                OWNER,
                external_id,
                start={"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
                end={"dateTime": (start - dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            )
        elif how == "no_start":
            self.server.corrupt(OWNER, external_id, start=None)
        elif how == "bad_date":
            self.server.corrupt(OWNER, external_id, start={"dateTime": "31/02/2027 25:00", "timeZone": "UTC"})

    def remove(self, external_id):
        with self.server.lock:
            self.server._remove(OWNER, external_id)

    def live(self):
        return sorted((e.get("subject", ""), e["iCalUId"]) for e in self.server.events_of(OWNER))

    def expire_state(self):
        self.server.invalidate_delta_tokens(OWNER)

    def rate_limit(self, seconds):
        self.server.fail_next(1, status=429, retry_after=seconds)

    def stop(self):
        self.server.stop()


class ExchangeRig:
    name = "exchange"

    def __init__(self):
        self.server = FakeEWS(auth=("basic",)).start()

    def reset(self):
        with self.server.lock:
            self.server.mailboxes.clear()
        self.server.clear_faults()
        self.server.add_mailbox(OWNER, "ann-pw")
        self.server.add_mailbox(GUEST, "bob-pw")
        CachingProtocol.clear_cache()

    def provider(self, email=OWNER, timeout=5, page_size=None):
        return ex.ExchangeProvider(
            service_endpoint=self.server.url,
            email=email,
            password="ann-pw",
            verify=self.server.ca_file,
            retry_delay=0.001,
            timeout=timeout,
            auth_type="basic",
            server_build="15.1.2507.6",
        )

    def add(self, subject, start, hours=1, attendees=(), uid=None, organizer=OWNER):
        return self.server.add_item(
            OWNER,
            subject=subject,
            start=start,
            end=start + dt.timedelta(hours=hours),
            attendees=[(a, a, "Unknown") for a in attendees],
            uid=uid,
            organizer=(organizer, organizer) if organizer != OWNER else None,
        )

    def add_all_day(self, subject, first, last, zone):
        """... as Outlook stores one for a user in ``zone``: from midnight of the first day to
        midnight after the last, on the zone's clock, with the zone's Windows id."""
        clock = ZoneInfo(zone[0])
        return self.server.add_item(
            OWNER,
            subject=subject,
            all_day=True,
            tz=zone[1],
            start=dt.datetime.combine(first, dt.time.min, tzinfo=clock),
            end=dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tzinfo=clock),
        )

    def corrupt(self, external_id, how, start):
        if how == "end_before_start":
            self.server.update_item(OWNER, external_id, start=start, end=start - dt.timedelta(hours=2))
        elif how == "no_start":
            self.server.update_item(OWNER, external_id, xml_override={"Start": None})
        elif how == "bad_date":
            self.server.update_item(OWNER, external_id, xml_override={"Start": "31/02/2027 25:00"})

    def remove(self, external_id):
        self.server.remove_item(OWNER, external_id)

    def live(self):
        box = self.server.mailboxes[OWNER]
        return sorted((i["subject"], i["uid"]) for i in box.items.values())

    def expire_state(self):
        self.server.invalidate_sync_states(OWNER)

    def rate_limit(self, seconds):
        self.server.fail_next(1, status=429, retry_after=seconds)

    def stop(self):
        self.server.stop()


@contextlib.contextmanager
def log_lines(logger_name):
    """The messages ``logger_name`` logs meanwhile (whatever logging set-up Odoo's runner made)."""
    lines = []
    handler = logging.Handler(logging.DEBUG)
    handler.emit = lambda record: lines.append(record.getMessage())
    logger = logging.getLogger(logger_name)
    level, disabled = logger.level, logger.disabled
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.disabled = False
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.disabled = disabled


RIGS = {"google": GoogleRig, "microsoft": GraphRig, "exchange": ExchangeRig}
