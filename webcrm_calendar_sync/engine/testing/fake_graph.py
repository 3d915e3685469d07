"""A local fake of the Microsoft identity platform and Microsoft Graph v1.0 calendars.

msal insists on https authorities, so the server speaks TLS with a self-signed
certificate made at start; ``server.ca_file`` is the file clients trust
(``verify=ca_file``). Point msal's authority at ``server.authority(tenant)`` and the
Graph client at ``server.graph_endpoint``.

What it does: OpenID discovery, authorize (auto-approves ``login_hint``; PKCE S256
and state), token (authorization code with verifier, refresh token, ``invalid_grant``
once revoked), id tokens msal accepts; Graph ``/me/calendarView/delta`` with
``@odata.nextLink`` ($skiptoken) pages and ``@odata.deltaLink`` ($deltatoken),
``@removed`` entries, a 410 ``SyncStateNotFound`` once a delta token is invalidated;
events GET/POST/PATCH/DELETE with change keys and ``If-Match`` (412); recurring
series (daily, weekly, absoluteMonthly patterns; numbered, endDate, noEnd ranges)
expanded into occurrences, with moved and cancelled occurrences; copies in the
calendars of attendees known to the server (same iCalUId); ``getSchedule``;
invitations recorded (Graph sends them whenever an organiser's event gains
attendees); injected 429/503 with ``Retry-After``; transport faults (``add_fault``).

Idempotent creates, modelled on Graph's documentation of the event's ``transactionId``
("a custom identifier specified by a client app for the server to avoid redundant POST
operations in case of client retries to create the same event"): a POST whose
``transactionId`` an event of the mailbox already carries answers that event, unchanged.

Invitees' answers, modelled on Graph's documentation of the event resource and of the
``accept``, ``decline`` and ``tentativelyAccept`` actions: the organiser's event has
``isOrganizer: true`` and ``responseStatus.response`` ``organizer``, and its attendees' ``status``
is what each answered (kept by the server: an organiser's PATCH of ``attendees`` does not reset
the answers of those who stay). An invitee's copy has ``isOrganizer: false``, their own answer in
the copy's ``responseStatus`` (``notResponded`` until they answer) and every attendee's
``status`` as ``none``. ``POST /me/events/{id}/accept`` (``decline``, ``tentativelyAccept``)
with ``sendResponse`` (default true) answers ``202 Accepted`` without a body, sets the copy's
``responseStatus`` and, sent, the attendee's ``status`` on the organiser's event; an organiser
outside this server gets it as a reply (``replies``). The organiser cannot answer their own
meeting (400). :meth:`FakeGraph.reply` plays a reply arriving from outside, and
:meth:`FakeGraph.deliver_invitation` an invitation from an organiser outside.

Online meetings, modelled on Graph's documentation of the event resource (``isOnlineMeeting``,
``onlineMeetingProvider``, ``onlineMeeting``): an event is created or patched with
``isOnlineMeeting: true`` and ``onlineMeetingProvider`` ``teamsForBusiness`` (the provider the
mailbox allows; any other is refused here with 400) and Graph "initializes onlineMeeting": the
answer carries ``onlineMeeting.joinUrl``, a ``https://teams.microsoft.com/l/meetup-join/...``
link. "Subsequently, Outlook ignores any further changes to isOnlineMeeting, and the meeting
remains available online": a later write keeps the same meeting and link. Without
``isOnlineMeeting`` the event has ``onlineMeeting: null``.

The fake reads Graph's wire format with its own code (it never imports the provider it
is used to test).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import secrets
import time
import urllib.parse
import uuid

from . import recurrence, store, wire_time
from .local_server import JsonEvents, LocalServer
from .oauth import OAuthRefused, OAuthServer, token_form
from .push import Notifier

UTC = dt.timezone.utc
MAX_SUBSCRIPTION_MINUTES = 10080  # Graph's limit for Outlook events ("under 7 days")
PAGED_ROUNDS_KEPT = 32  # delta rounds whose later pages are served from their snapshot
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


_now = wire_time.now


def _zone(name):
    try:
        return wire_time.zone(name)
    except ValueError:
        raise GraphError(400, "ErrorTimeZoneNotSupported", f"time zone {name} is not supported") from None


def parse_graph_time(node: dict) -> dt.datetime:
    """A dateTimeTimeZone node (or a bare ISO time) as an aware UTC datetime: the time is
    read on the clock of ``timeZone`` (a trailing ``Z`` is not an offset to Graph)."""
    _zone(node.get("timeZone"))
    return wire_time.parse_time(node["dateTime"].rstrip("Z"), node.get("timeZone"))


def graph_time(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _unb64(text: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


class GraphError(Exception):
    def __init__(self, status, code, message, headers=None, oauth=False):
        super().__init__(message)
        self.status, self.code, self.message, self.headers, self.oauth = status, code, message, headers or {}, oauth


class FakeGraph(OAuthServer, JsonEvents, LocalServer):
    error_class = GraphError
    tls = True

    def __init__(self, client_id="graph-client", client_secret="graph-secret", token_lifetime=3600):
        super().__init__()
        self._init_oauth(client_id, client_secret, token_lifetime)
        self.mailboxes = {}  # email -> {event_id: event}
        self.removed = {}  # email -> [(seq, event_id)]
        self.token_floors = store.TokenFloors()  # delta links handed out before are refused (410)
        self.invitations = []
        self.replies = []  # answers sent to organisers outside: dicts organizer, iCalUId, email, response
        self.log = []
        self.link_base = None  # base of @odata links; Graph's own host when a client insists on it
        self._rounds = {}  # (email, since, seq, start, end) -> the items of one delta round, in order
        self._init_push()

    def error_reply(self, exc):
        if exc.oauth:
            payload = {"error": exc.code, "error_description": exc.message, "error_codes": [0]}
        else:
            payload = {"error": {"code": exc.code, "message": exc.message}}
        return exc.status, payload, exc.headers

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}"

    def authority(self, tenant="organizations"):
        return f"{self.url}/{tenant}"

    @property
    def graph_endpoint(self):
        return f"{self.url}/v1.0"

    # -- helpers for tests -----------------------------------------------
    def invalidate_delta_tokens(self, email):
        with self.lock:
            self.token_floors.refuse_before(email.lower(), next(self.seq))

    def fault_error(self, fault):
        if fault.status != 429 and fault.status < 500:
            # a request refused as invalid (400 BadRequest, ErrorInvalidRequest...): no Retry-After
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            return GraphError(fault.status, fault.reason or "BadRequest", "Invalid request", headers)
        # Graph's throttling and outages always say when to come back
        return GraphError(
            fault.status,
            fault.reason or ("TooManyRequests" if fault.status == 429 else "ServiceUnavailable"),
            "Too many requests" if fault.status == 429 else "Service unavailable",
            {"Retry-After": str(fault.retry_after if fault.retry_after is not None else 0)},
        )

    def add_event(self, email, body):
        self.add_user(email)
        with self.lock:
            event = copy.deepcopy(self._create(email.lower(), copy.deepcopy(body)))
        self.push_changes()
        return event

    def _event_boxes(self):
        return self.mailboxes

    def events_of(self, email):
        with self.lock:
            return [
                copy.deepcopy(e)
                for e in self.mailboxes.get(email.lower(), {}).values()
                if not e.get("_deleted") and e.get("type") != "exception"
            ]

    def occurrences_of(self, email, master_id):
        with self.lock:
            master = self.mailboxes[email.lower()][master_id]
            return [copy.deepcopy(o) for o in self._expand(email.lower(), master, None, None)]

    def deliver_invitation(self, email, body, organizer_email, ical_uid):
        """An invitation from an organiser outside this server reaching ``email``'s mailbox: the
        invitee's copy, as Exchange Online makes it (answers unknown, not yet answered)."""
        self.add_user(email)
        organizer = {"emailAddress": {"address": organizer_email.lower(), "name": organizer_email}}
        with self.lock:
            fields = self._copy_fields(body)
            event = copy.deepcopy(self._create(email.lower(), fields, organizer=organizer, ical_uid=ical_uid))
        self.push_changes()
        return event

    def reply(self, organizer_email, ical_uid, email, response):
        """An invitee's answer (``accepted``, ``declined``, ``tentativelyAccepted``) reaching the
        organiser's mailbox from outside: the organiser's event shows it."""
        with self.lock:
            event = self._organizer_event(organizer_email.lower(), ical_uid)
            if event is None:
                raise KeyError(f"{organizer_email} has no meeting {ical_uid}")
            self._take_answer(event, email.lower(), response)
        self.push_changes()

    def _organizer_event(self, organizer_email, ical_uid):
        for event in self.mailboxes.get(organizer_email, {}).values():
            live = event.get("isOrganizer") and not event.get("_deleted") and event.get("type") != "exception"
            live = live and event.get("type") != "occurrence"
            if live and event.get("iCalUId") == ical_uid:
                return event
        return None

    def _take_answer(self, event, email, response):
        for attendee in event.get("attendees") or []:
            if attendee["emailAddress"]["address"].lower() == email:
                attendee["status"] = {"response": response, "time": _now().strftime("%Y-%m-%dT%H:%M:%SZ")}
        self._stamp(event)

    def _respond(self, email, event_id, action, body):
        """POST /me/events/{id}/accept | decline | tentativelyAccept (of a whole meeting or series,
        or of one occurrence: that occurrence alone, for the organiser too)."""
        event = self.mailboxes[email].get(event_id)
        if event is None and "_OCC" in event_id:
            event = self._occurrence(email, event_id)  # an occurrence answered becomes an exception
        if event is None or event.get("_deleted"):
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if event.get("isOrganizer"):
            raise GraphError(
                400, "ErrorInvalidRequest", "Your request can't be completed. You can't respond to your own meeting."
            )
        response = {"accept": "accepted", "decline": "declined", "tentativelyAccept": "tentativelyAccepted"}[action]
        data = json.loads(body or b"{}")
        event["responseStatus"] = {"response": response, "time": _now().strftime("%Y-%m-%dT%H:%M:%SZ")}
        self._stamp(event)
        if data.get("sendResponse", True):
            organizer_email = event["organizer"]["emailAddress"]["address"].lower()
            target = self._organizer_event(organizer_email, event.get("iCalUId"))
            if target is not None and "_OCC" in event_id:
                # the organiser's occurrence that starts at the same time
                stamp = event_id.rpartition("_OCC")[2]
                occurrence_id = f"{target['id']}_OCC{stamp}"
                target = self.mailboxes[organizer_email].get(occurrence_id) or self._occurrence(
                    organizer_email, occurrence_id
                )
            if target is not None:
                self._take_answer(target, email, response)
            else:
                self.replies.append(
                    {
                        "organizer": organizer_email,
                        "iCalUId": event.get("iCalUId"),
                        "email": email,
                        "response": response,
                    }
                )
        return 202, None

    @staticmethod
    def _copy_fields(event):
        """An invitee's copy of ``event``: the organiser's fields, every attendee's answer ``none``."""
        fields = {
            k: copy.deepcopy(v)
            for k, v in event.items()
            if not k.startswith("_")
            and k not in ("id", "changeKey", "@odata.etag", "isOrganizer", "transactionId", "responseStatus")
        }
        for attendee in fields.get("attendees") or []:
            attendee["status"] = {"response": "none", "time": "0001-01-01T00:00:00Z"}
        return fields

    # -- storage ---------------------------------------------------------
    def _stamp(self, event):
        for attendee in event.get("attendees") or []:
            # Graph always answers with a status
            attendee.setdefault("status", {"response": "none", "time": "0001-01-01T00:00:00Z"})
            attendee.setdefault("type", "required")
        event.setdefault("body", {"contentType": "text", "content": ""})
        if event.get("recurrence"):
            # Graph answers with every member of the pattern and range
            pattern = {
                "interval": 1,
                "month": 0,
                "dayOfMonth": 0,
                "daysOfWeek": [],
                "firstDayOfWeek": "sunday",
                "index": "first",
            }
            pattern.update(event["recurrence"]["pattern"])
            # like Graph, a series recurs on the clock of its start's zone unless told otherwise
            zone_name = event.get("originalStartTimeZone") or "UTC"
            rng = {"endDate": "0001-01-01", "recurrenceTimeZone": zone_name, "numberOfOccurrences": 0}
            rng.update(event["recurrence"]["range"])
            event["recurrence"] = {"pattern": pattern, "range": rng}
        event.setdefault("location", {"displayName": ""})
        seq = store.stamp_change(event, next(self.seq))
        event["changeKey"] = store.version_tag(seq, "ck")
        event["@odata.etag"] = f'W/"{event["changeKey"]}"'
        event["lastModifiedDateTime"] = _now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    @staticmethod
    def _take_online_meeting(event, data):
        """Apply a write's ``isOnlineMeeting`` to ``event`` as Graph does (see the module's text)."""
        if event.get("onlineMeeting"):
            # once online, the meeting stays so and keeps its link
            event["isOnlineMeeting"] = True
            event["onlineMeetingProvider"] = "teamsForBusiness"
            return
        if not data.get("isOnlineMeeting"):
            event["isOnlineMeeting"] = False
            event["onlineMeeting"] = None
            event.setdefault("onlineMeetingProvider", "unknown")
            return
        chosen = data.get("onlineMeetingProvider") or "teamsForBusiness"
        if chosen != "teamsForBusiness":
            raise GraphError(400, "ErrorInvalidArgument", "The online meeting provider is not allowed.")
        thread = secrets.token_hex(16)
        event["isOnlineMeeting"] = True
        event["onlineMeetingProvider"] = chosen
        event["onlineMeeting"] = {
            "joinUrl": f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0",
        }

    def _create(self, email, body, organizer=None, ical_uid=None):
        mailbox = self.mailboxes[email]
        event_id = "AAMk" + secrets.token_urlsafe(18)
        body = {k: v for k, v in body.items() if not k.startswith("@")}
        body.update(
            id=event_id,
            iCalUId=ical_uid or "040000008200E00074C5B7101A82E008" + secrets.token_hex(20).upper(),
            createdDateTime=_now().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            organizer=organizer or {"emailAddress": {"address": email, "name": email}},
            isOrganizer=organizer is None,
            type="seriesMaster" if body.get("recurrence") else "singleInstance",
            isCancelled=False,
        )
        if organizer is None:
            body["responseStatus"] = {"response": "organizer", "time": "0001-01-01T00:00:00Z"}
        else:
            body.setdefault("responseStatus", {"response": "notResponded", "time": "0001-01-01T00:00:00Z"})
        body.setdefault("sensitivity", "normal")
        body.setdefault("showAs", "busy")
        body.setdefault("isAllDay", False)
        body.setdefault("attendees", [])
        if organizer is None:
            self._take_online_meeting(body, body)
        self._normalize_times(body)
        self._stamp(body)
        mailbox[event_id] = body
        if organizer is None:
            self._invite(email, body, [a["emailAddress"]["address"].lower() for a in body["attendees"]])
            self._propagate(email, body)
        return body

    @staticmethod
    def _normalize_times(body, given=None):
        """Store start/end in UTC, like Graph does when asked with outlook.timezone=UTC.

        All-day events, as Graph documents ``isAllDay`` (event resource): "start and end time
        must be set to midnight and be in the same time zone", else 400; and Graph lists an
        all-day event from midnight to midnight whatever the time zone, the one its request
        asked for (UTC here) included: what is kept is the days, on the clock they were given
        on. ``given``: the start/end nodes of the request (a PATCH may give only one)."""
        given = body if given is None else given
        if body.get("isAllDay"):
            FakeGraph._check_all_day(body, given)
        for name in ("start", "end"):
            node = body.get(name)
            if not node:
                raise GraphError(400, "ErrorInvalidRequest", f"{name} is required")
            tz_name = node.get("timeZone") or "UTC"
            if tz_name != "UTC":
                body.setdefault("originalStartTimeZone", tz_name)
            if body.get("isAllDay"):
                day = wire_time.parse_time(node["dateTime"].rstrip("Z")).date()  # the day, as written
                body[name] = {"dateTime": f"{day.isoformat()}T00:00:00.0000000", "timeZone": "UTC"}
            else:
                body[name] = {"dateTime": graph_time(parse_graph_time(node)), "timeZone": "UTC"}
        body.setdefault("originalStartTimeZone", "UTC")
        body.setdefault("originalEndTimeZone", body["originalStartTimeZone"])

    @staticmethod
    def _check_all_day(body, given):
        nodes = [body.get(name) for name in ("start", "end")]
        if not all(nodes):
            return  # the missing one is refused as for any event
        for node in nodes:
            _zone(node.get("timeZone"))
            local = wire_time.parse_time(node["dateTime"].rstrip("Z"))  # on the node's own clock
            if local.time() != dt.time(0, 0):
                raise GraphError(400, "ErrorInvalidRequest", "An all-day event must start and end at midnight.")
        zones = {(given.get(name) or {}).get("timeZone") or "UTC" for name in ("start", "end") if given.get(name)}
        if len(zones) > 1:
            raise GraphError(
                400, "ErrorInvalidRequest", "The start and end of an all-day event must be in the same time zone."
            )
        first, after = (wire_time.parse_time(n["dateTime"].rstrip("Z")).date() for n in nodes)
        if after <= first:
            raise GraphError(400, "ErrorInvalidRequest", "The duration of an all-day event must be at least 24 hours.")

    def _invite(self, email, event, emails):
        guests = [e for e in emails if e != email]
        if guests:
            self.invitations.append({"mailbox": email, "event_id": event["id"], "emails": guests})

    def _propagate(self, organizer_email, event):
        if event.get("type") in ("occurrence", "exception"):
            return
        attendees = {a["emailAddress"]["address"].lower() for a in event.get("attendees", [])}
        for email, mailbox in self.mailboxes.items():
            if email == organizer_email:
                continue
            copy_event = next(
                (e for e in mailbox.values() if e.get("iCalUId") == event["iCalUId"] and not e.get("_deleted")), None
            )
            if email in attendees and not event.get("_deleted"):
                fields = self._copy_fields(event)  # the copy keeps its own responseStatus
                if copy_event is None:
                    self._create(email, fields, organizer=event["organizer"], ical_uid=event["iCalUId"])
                else:
                    copy_event.update(fields)
                    self._stamp(copy_event)
            elif copy_event is not None:
                self._remove(email, copy_event["id"])

    def _remove(self, email, event_id):
        event = self.mailboxes[email][event_id]
        event["_deleted"] = True
        self._stamp(event)

    # -- recurrence ------------------------------------------------------
    @staticmethod
    def _rules(master, zone):
        """The series' pattern and range as RFC 5545 rules, on ``zone``'s clock."""
        pattern, rng = master["recurrence"]["pattern"], master["recurrence"]["range"]
        kind = pattern["type"]
        if kind not in ("daily", "weekly", "absoluteMonthly"):
            raise GraphError(400, "ErrorInvalidRecurrence", f"pattern {kind} not supported by this fake")
        weekly = kind == "weekly" and pattern.get("daysOfWeek")
        return recurrence.rrule_lines(
            {"daily": "DAILY", "weekly": "WEEKLY", "absoluteMonthly": "MONTHLY"}[kind],
            interval=pattern.get("interval", 1),
            weekdays=[WEEKDAYS.index(d.lower()) for d in pattern["daysOfWeek"]] if weekly else (),
            month_day=(pattern.get("dayOfMonth") or parse_graph_time(master["start"]).astimezone(zone).day)
            if kind == "absoluteMonthly"
            else None,
            count=rng["numberOfOccurrences"] if rng["type"] == "numbered" else None,
            until=dt.date.fromisoformat(rng["endDate"]) if rng["type"] == "endDate" else None,
        )

    def _expand(self, email, master, lo, hi):
        mailbox = self.mailboxes[email]
        start, end = parse_graph_time(master["start"]), parse_graph_time(master["end"])
        duration = end - start
        lo, hi = recurrence.default_window(lo, hi)
        zone = _zone(master["recurrence"]["range"].get("recurrenceTimeZone"))
        all_day = bool(master.get("isAllDay"))
        if all_day:
            zone = UTC  # an all-day series recurs on its days (kept as midnights on UTC's clock)
        exceptions = {e["originalStart"]: e for e in mailbox.values() if e.get("seriesMasterId") == master["id"]}
        out = []
        for _index, occ in recurrence.expand(
            self._rules(master, zone), start, duration, zone=zone, all_day=all_day, lo=lo, hi=hi
        ):
            occ = occ.astimezone(UTC)
            original = occ.strftime("%Y-%m-%dT%H:%M:%SZ")
            if original in exceptions:
                exc = exceptions[original]
                if not exc.get("_deleted"):
                    out.append(exc)
                continue
            inst = {
                k: copy.deepcopy(v)
                for k, v in master.items()
                if k not in ("recurrence", "id", "type") and not k.startswith("_")
            }
            inst.update(
                id=f"{master['id']}_OCC{occ.strftime('%Y%m%dT%H%M%S')}",
                type="occurrence",
                seriesMasterId=master["id"],
                originalStart=original,
                start={"dateTime": graph_time(occ), "timeZone": "UTC"},
                end={"dateTime": graph_time(occ + duration), "timeZone": "UTC"},
                _seq=master["_seq"],
            )
            out.append(inst)
        return out

    def _occurrence(self, email, event_id):
        """The exception record for an occurrence id (made on first change)."""
        mailbox = self.mailboxes[email]
        master_id, _sep, stamp = event_id.rpartition("_OCC")
        master = mailbox.get(master_id)
        if not master:
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        for occ in self._expand(email, master, None, None):
            if occ["id"] == event_id:
                exc = {k: v for k, v in occ.items() if not k.startswith("_")}
                exc.update(type="exception", id=event_id)
                self._stamp(exc)
                mailbox[event_id] = exc
                return exc
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")

    # -- HTTP --------------------------------------------------------------
    def handle(self, method, path, query, headers, body):
        with self.lock:
            self.log.append((method, path, dict(query)))
            if "/oauth2/v2.0/" in path or path.endswith("openid-configuration"):
                return self._identity(method, path, query, body)
            self.raise_injected_fault()
            email = self._auth(headers)
            parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
            if parts[:1] != ["v1.0"]:
                raise GraphError(404, "UnknownError", "not found")
            parts = parts[1:]
            if parts[:1] == ["subscriptions"]:
                return self._subscription_request(email, method, parts[1:], body)
            if parts[:1] == ["me"]:
                parts = parts[1:]
            elif parts[:1] == ["users"] and len(parts) > 1:
                if parts[1].lower() != email:
                    raise GraphError(403, "ErrorAccessDenied", "Access is denied.")
                parts = parts[2:]
            else:
                raise GraphError(404, "UnknownError", "not found")
            if parts == [] and method == "GET":
                return 200, {"mail": email, "userPrincipalName": email, "id": hashlib.md5(email.encode()).hexdigest()}
            if parts == ["calendarView", "delta"] and method == "GET":
                return 200, self._delta(email, query, headers)
            if parts == ["calendarView"] and method == "GET":
                return 200, self._calendar_view(email, query)
            if parts == ["calendar", "getSchedule"] and method == "POST":
                return 200, self._schedule(json.loads(body or b"{}"))
            if parts in (["events"], ["calendar", "events"]) and method == "POST":
                data = json.loads(body or b"{}")
                repeated = self._by_transaction(email, data.get("transactionId"))
                if repeated is not None:
                    return 201, self._public(repeated)
                return 201, self._public(self._create(email, data))
            if len(parts) == 2 and parts[0] == "events":
                return self._one(email, parts[1], method, headers, body)
            if (
                len(parts) == 3
                and parts[0] == "events"
                and parts[2] in ("accept", "decline", "tentativelyAccept")
                and method == "POST"
            ):
                return self._respond(email, parts[1], parts[2], body)
            if len(parts) == 3 and parts[0] == "events" and parts[2] == "instances" and method == "GET":
                master = self.mailboxes[email].get(parts[1])
                if not master or master.get("type") != "seriesMaster":
                    raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
                lo = parse_graph_time({"dateTime": query["startDateTime"]}) if query.get("startDateTime") else None
                hi = parse_graph_time({"dateTime": query["endDateTime"]}) if query.get("endDateTime") else None
                return 200, {"value": [self._public(o) for o in self._expand(email, master, lo, hi)]}
            raise GraphError(404, "UnknownError", "not found")

    def _by_transaction(self, email, transaction_id):
        if not transaction_id:
            return None
        for event in self.mailboxes[email].values():
            if event.get("transactionId") == transaction_id and not event.get("_deleted"):
                return event
        return None

    def request_kind(self, method, path, query, headers, body):
        if "/oauth2/v2.0/" in path or path.endswith("openid-configuration"):
            return None
        parts = [p for p in path.split("/") if p]
        if parts[-2:] == ["calendarView", "delta"]:
            return "list"
        if parts[-1:] == ["calendarView"]:
            return "count"
        if parts[-1:] == ["getSchedule"]:
            return "freebusy"
        if parts[-1:] == ["events"] and method == "POST":
            return "create"
        return {"GET": "get", "PATCH": "update", "DELETE": "delete"}.get(method, "get")

    def _identity(self, method, path, query, body):
        tenant = path.strip("/").split("/")[0]
        base = f"{self.url}/{tenant}"
        if path.endswith("openid-configuration"):
            return 200, {
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "issuer": f"{self.url}/{tenant}/v2.0",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_types_supported": ["code"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
            }
        try:
            if path.endswith("/authorize"):
                return self._authorize(tenant, query)
            if path.endswith("/token"):
                return self._token(tenant, body)
        except OAuthRefused as refused:
            raise GraphError(*self.REFUSED[refused.why], oauth=True) from None
        raise GraphError(404, "not_found", "not found", oauth=True)

    #: the identity platform's words for what the store refused
    REFUSED = {
        "client": (401, "invalid_client", "AADSTS7000215: Invalid client secret provided."),
        "code": (400, "invalid_grant", "AADSTS70000: The provided code is invalid."),
        "verifier": (400, "invalid_grant", "AADSTS501481: The code verifier does not match."),
        "revoked": (400, "invalid_grant", "AADSTS50173: The provided grant has expired due to it being revoked."),
    }

    def _authorize(self, tenant, query):
        if query.get("client_id") not in self.tokens.clients:
            raise GraphError(400, "invalid_client", "AADSTS700016: Application not found.", oauth=True)
        for name in ("redirect_uri", "state", "code_challenge"):
            if not query.get(name):
                raise GraphError(400, "invalid_request", f"AADSTS900144: missing {name}", oauth=True)
        email = (query.get("login_hint") or "").lower()
        if not email:
            raise GraphError(400, "invalid_request", "no login_hint", oauth=True)
        self.add_user(email)
        code = self.tokens.new_code(
            email,
            query["client_id"],
            query["redirect_uri"],
            query["code_challenge"],
            nonce=query.get("nonce"),
            tenant=tenant,
        )
        location = query["redirect_uri"] + "?" + urllib.parse.urlencode({"code": code, "state": query["state"]})
        return 302, {"_location": location}

    def _token(self, tenant, body):
        form = token_form(body)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            data = self.tokens.redeem_code(form)
            access, refresh = self.tokens.issue(data["email"])
            return 200, self._tokens(data["email"], data["tenant"], data.get("nonce"), form, access, refresh)
        if grant == "refresh_token":
            email, access = self.tokens.refresh(form)
            return 200, self._tokens(email, tenant, None, form, access, form["refresh_token"])
        self.tokens.check_client(form.get("client_id"), form.get("client_secret"))
        raise GraphError(400, "unsupported_grant_type", "AADSTS70003", oauth=True)

    def _tokens(self, email, tenant, nonce, form, access, refresh):
        now = int(time.time())
        tid = hashlib.md5(tenant.encode()).hexdigest()
        oid = hashlib.md5(email.encode()).hexdigest()
        claims = {
            "iss": f"{self.url}/{tenant}/v2.0",
            "aud": form.get("client_id"),
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "sub": oid,
            "oid": oid,
            "tid": tid,
            "preferred_username": email,
            "email": email,
            "name": email,
            "ver": "2.0",
        }
        if nonce:
            claims["nonce"] = nonce
        id_token = ".".join([_b64({"alg": "none", "typ": "JWT"}), _b64(claims), ""])
        client_info = _b64({"uid": oid, "utid": tid})
        return {
            "token_type": "Bearer",
            "scope": form.get("scope", "Calendars.ReadWrite offline_access openid profile"),
            "expires_in": self.token_lifetime,
            "ext_expires_in": self.token_lifetime,
            "access_token": access,
            "refresh_token": refresh,
            "id_token": id_token,
            "client_info": client_info,
        }

    def _auth(self, headers):
        owner = self.tokens.owner(self.tokens.bearer(headers))
        if owner is None:
            raise GraphError(401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid.")
        return owner

    def _delta(self, email, query, headers):
        prefer = headers.get("Prefer", "")
        size = 100
        for part in prefer.split(","):
            part = part.strip()
            if part.startswith("odata.maxpagesize="):
                size = int(part.split("=", 1)[1])
        if query.get("$deltatoken"):
            state = _unb64(query["$deltatoken"])
            if not self.token_floors.honours(email, state["seq"]) or state["email"] != email:
                raise GraphError(410, "SyncStateNotFound", "The sync state generation is not found.")
            state = dict(state, since=state["seq"], offset=0, seq=next(self.seq))
        elif query.get("$skiptoken"):
            state = _unb64(query["$skiptoken"])
        else:
            if not query.get("startDateTime") or not query.get("endDateTime"):
                raise GraphError(400, "ErrorInvalidParameter", "startDateTime and endDateTime are required")
            state = {
                "email": email,
                "start": query["startDateTime"],
                "end": query["endDateTime"],
                "since": None,
                "offset": 0,
                "seq": next(self.seq),
            }
        # the pages of one round come from the snapshot its first page took, as Graph's
        # skip tokens continue their round: a change made meanwhile is news for the next round
        key = (email, state["since"], state["seq"], state["start"], state["end"])
        items = self._rounds.get(key) if query.get("$skiptoken") else None
        if items is None:
            items = self._delta_items(email, state["since"], state["start"], state["end"])
            self._rounds[key] = items
            while len(self._rounds) > PAGED_ROUNDS_KEPT:
                self._rounds.pop(next(iter(self._rounds)))
        offset = state["offset"]
        page = items[offset : offset + size]
        answer = {"value": [self._public(i) for i in page]}
        base = f"{self.link_base or self.graph_endpoint}/me/calendarView/delta"
        if offset + size < len(items):
            answer["@odata.nextLink"] = f"{base}?$skiptoken={_b64(dict(state, offset=offset + size))}"
        else:
            token = {"email": email, "start": state["start"], "end": state["end"], "seq": state["seq"]}
            answer["@odata.deltaLink"] = f"{base}?$deltatoken={_b64(token)}"
        return answer

    def _delta_items(self, email, since, start, end):
        """What a delta round lists: the changes after ``since`` (everything when None) in the window."""
        mailbox = self.mailboxes[email]
        lo, hi = wire_time.parse_time(start), wire_time.parse_time(end)
        items = []
        for event in store.changed_since(mailbox.values(), since):
            if event.get("type") == "exception":
                master = mailbox.get(event["seriesMasterId"])
                if since is not None and master and master["_seq"] <= since:
                    items.append(
                        {"@removed": {"reason": "deleted"}, "id": event["id"]} if event.get("_deleted") else event
                    )
                continue
            if event.get("_deleted"):
                if since is not None:
                    items.append({"@removed": {"reason": "deleted"}, "id": event["id"]})
                continue
            if event.get("type") == "seriesMaster":
                # like Graph: the series master, then its occurrences in the window
                occurrences = self._expand(email, event, lo, hi)
                if occurrences:
                    items.append(event)
                    items.extend(occurrences)
                continue
            try:
                s, e = parse_graph_time(event["start"]), parse_graph_time(event.get("end") or event["start"])
            except (KeyError, ValueError, TypeError, GraphError):
                items.append(event)  # stored badly by another client: listed as it is
                continue
            if s < hi and e > lo:
                items.append(event)
        return items

    def _calendar_view(self, email, query):
        """``GET /me/calendarView``: the occurrences and single events of a window, by start;
        ``$top`` / ``$skip`` pages, and with ``$count=true`` the whole view's size in
        ``@odata.count`` (as Graph: the count is of the view, not of the page)."""
        if not query.get("startDateTime") or not query.get("endDateTime"):
            raise GraphError(400, "ErrorInvalidParameter", "startDateTime and endDateTime are required")
        items = [
            i
            for i in self._delta_items(email, None, query["startDateTime"], query["endDateTime"])
            if i.get("type") != "seriesMaster"
        ]
        items.sort(key=lambda i: (i.get("start", {}).get("dateTime") or "", i["id"]))
        try:
            top, skip = int(query.get("$top", 10)), int(query.get("$skip", 0))
        except ValueError:
            raise GraphError(400, "BadRequest", "Invalid $top or $skip.") from None
        answer = {"value": [self._public(i) for i in items[skip : skip + top]]}
        if query.get("$count", "").lower() == "true":
            answer["@odata.count"] = len(items)
        if skip + top < len(items):
            rest = dict(query, **{"$skip": str(skip + top)})
            base = f"{self.link_base or self.graph_endpoint}/me/calendarView"
            answer["@odata.nextLink"] = f"{base}?{urllib.parse.urlencode(rest)}"
        return answer

    def _one(self, email, event_id, method, headers, body):
        mailbox = self.mailboxes[email]
        event = mailbox.get(event_id)
        if event is None and "_OCC" in event_id and method in ("PATCH", "DELETE", "GET"):
            if method == "GET":
                master = mailbox.get(event_id.rpartition("_OCC")[0])
                for occ in self._expand(email, master, None, None) if master else []:
                    if occ["id"] == event_id:
                        return 200, self._public(occ)
                raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
            event = self._occurrence(email, event_id)
        if event is None or event.get("_deleted"):
            raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")
        if method == "GET":
            return 200, self._public(event)
        if_match = headers.get("If-Match")
        if if_match and if_match.strip('W/"') != event["changeKey"] and if_match != event["@odata.etag"]:
            raise GraphError(412, "ErrorIrresolvableConflict", "The change key passed in the request does not match.")
        organizer = event["organizer"]["emailAddress"]["address"].lower() == email
        if method == "PATCH":
            data = json.loads(body or b"{}")
            if organizer:
                self._take_online_meeting(event, data)
            data = {k: v for k, v in data.items() if k not in ("isOnlineMeeting", "onlineMeetingProvider")}
            before = {a["emailAddress"]["address"].lower() for a in event.get("attendees", [])}
            answers = {a["emailAddress"]["address"].lower(): a.get("status") for a in event.get("attendees", [])}
            event.update(
                {
                    k: v
                    for k, v in data.items()
                    if not k.startswith("@") and k not in ("id", "iCalUId", "responseStatus", "isOrganizer")
                }
            )
            for attendee in event.get("attendees") or [] if "attendees" in data else []:
                # the server keeps each attendee's answer: a PATCH of the list does not reset it
                kept = answers.get(attendee["emailAddress"]["address"].lower())
                if kept:
                    attendee["status"] = kept
            if "start" in data or "end" in data or "isAllDay" in data:
                self._normalize_times(event, data)
            self._stamp(event)
            if organizer:
                after = [a["emailAddress"]["address"].lower() for a in event.get("attendees", [])]
                # Graph e-mails the attendees of an organiser's meeting when it changes
                notify = (
                    after
                    if (before or any(k in data for k in ("start", "end", "location")))
                    else [a for a in after if a not in before]
                )
                self._invite(email, event, notify)
                self._propagate(email, event)
            return 200, self._public(event)
        if method == "DELETE":
            self._remove(email, event_id)
            if organizer and event.get("type") != "exception":
                event["_deleted"] = True
                self._propagate(email, event)
            return 204, None
        raise GraphError(405, "ErrorInvalidRequest", "method not allowed")

    def _schedule(self, data):
        lo = parse_graph_time(data["startTime"])
        hi = parse_graph_time(data["endTime"])
        answer = []
        for address in data.get("schedules", []):
            email = address.lower()

            def occurrences(event, email=email):
                if event.get("_deleted") or event.get("type") == "exception" or event.get("showAs") == "free":
                    return []
                return self._expand(email, event, lo, hi) if event.get("type") == "seriesMaster" else [event]

            busy = store.busy_intervals(
                self.mailboxes.get(email, {}).values(),
                lo,
                hi,
                occurrences=occurrences,
                span=lambda occ: (parse_graph_time(occ["start"]), parse_graph_time(occ["end"])),
                show_as=lambda occ: (
                    None if occ.get("showAs") == "free" or occ.get("isCancelled") else occ.get("showAs", "busy")
                ),
            )
            items = [
                {
                    "status": show_as,
                    "start": {"dateTime": graph_time(s), "timeZone": "UTC"},
                    "end": {"dateTime": graph_time(e), "timeZone": "UTC"},
                }
                for s, e, show_as in busy
            ]
            answer.append({"scheduleId": address, "availabilityView": "", "scheduleItems": items})
        return {"value": answer}

    # -- push notifications: change subscriptions -----------------------------
    # Modelled on Graph's "Change notifications" documentation: POST /subscriptions with
    # changeType, notificationUrl (https), resource (me/events), expirationDateTime (at
    # most 10,080 minutes ahead for Outlook events) and clientState (up to 128
    # characters). Before answering 201, Graph POSTs notificationUrl?validationToken=...
    # (text/plain) and requires a 200 echoing the token as text/plain within 10 seconds.
    # Notifications are POSTs of {"value": [{subscriptionId, subscriptionExpirationDateTime,
    # changeType, resource, resourceData, clientState, tenantId}]}, to be answered 2xx.
    # PATCH /subscriptions/{id} moves expirationDateTime; DELETE ends it; an expired
    # subscription is gone (404). With a lifecycleNotificationUrl (checked the same way),
    # Graph POSTs lifecycle notifications there: {"value": [{subscriptionId,
    # subscriptionExpirationDateTime, tenantId, clientState, lifecycleEvent}]}, lifecycleEvent
    # being reauthorizationRequired (renew or reauthorize it, else it is removed),
    # subscriptionRemoved (it is gone: subscribe again) or missed (some notifications were
    # lost: read the changes). A test asks for one with send_lifecycle().
    def _init_push(self):
        # id -> {email, url, lifecycle_url, client_state, change_types, expiration, mark, known, reauthorize}
        self.subscriptions = {}
        self.notifier = Notifier()
        self.push_allow_http = False  # Graph only calls https addresses; tests may serve plain http
        self.tenant_id = "9188040d-6c67-4c5b-b112-36a304b66dad"

    def after_request(self, method, path):
        if method != "GET":
            self.push_changes()

    @staticmethod
    def _graph_instant(text):
        try:
            value = parse_graph_time({"dateTime": text})
        except (KeyError, TypeError, ValueError):
            raise GraphError(400, "InvalidRequest", "expirationDateTime is not a valid date.") from None
        return value

    def _subscription_answer(self, sub_id):
        sub = self.subscriptions[sub_id]
        return {
            "@odata.context": f"{self.graph_endpoint}/$metadata#subscriptions/$entity",
            "id": sub_id,
            "resource": sub["resource"],
            "applicationId": hashlib.md5(self.client_id.encode()).hexdigest(),
            "changeType": ",".join(sub["change_types"]),
            "clientState": sub["client_state"],
            "notificationUrl": sub["url"],
            "lifecycleNotificationUrl": sub["lifecycle_url"] or None,
            "expirationDateTime": sub["expiration"].strftime("%Y-%m-%dT%H:%M:%S.0000000Z"),
            "creatorId": hashlib.md5(sub["email"].encode()).hexdigest(),
            "latestSupportedTlsVersion": "v1_2",
        }

    def _check_expiration(self, text):
        expiration = self._graph_instant(text)
        now = _now()
        if expiration <= now:
            raise GraphError(400, "InvalidRequest", "Subscription expiration must be in the future.")
        if expiration > now + dt.timedelta(minutes=MAX_SUBSCRIPTION_MINUTES):
            raise GraphError(
                400,
                "ExtensionError",
                f"Subscription expiration can only be {MAX_SUBSCRIPTION_MINUTES} minutes in the future.",
            )
        return expiration

    def _subscription_request(self, email, method, parts, body):
        self._drop_expired_subscriptions()
        data = json.loads(body or b"{}") if body else {}
        if not parts and method == "POST":
            url = data.get("notificationUrl") or ""
            lifecycle_url = data.get("lifecycleNotificationUrl") or ""
            for address in filter(None, (url, lifecycle_url)):
                scheme = urllib.parse.urlsplit(address).scheme
                if scheme != "https" and not (scheme == "http" and self.push_allow_http):
                    raise GraphError(400, "InvalidRequest", "The Notification Url must be a valid https url.")
            if not url:
                raise GraphError(400, "InvalidRequest", "The Notification Url must be a valid https url.")
            resource = (data.get("resource") or "").strip("/")
            if resource.lower() not in ("me/events", f"users/{email}/events"):
                raise GraphError(400, "InvalidRequest", f"Resource '{resource}' is not supported.")
            change_types = [c.strip() for c in (data.get("changeType") or "").split(",") if c.strip()]
            if not change_types or set(change_types) - {"created", "updated", "deleted"}:
                raise GraphError(400, "InvalidRequest", "changeType is not valid.")
            if len(data.get("clientState") or "") > 128:
                raise GraphError(400, "InvalidRequest", "clientState is longer than 128 characters.")
            expiration = self._check_expiration(data.get("expirationDateTime"))
            if not all(self.notifier.validate(address) for address in filter(None, (url, lifecycle_url))):
                raise GraphError(
                    400,
                    "ValidationError",
                    "Subscription validation request failed. Notification endpoint must respond with 200 OK "
                    "to validation request.",
                )
            sub_id = str(uuid.uuid4())
            mailbox = self.mailboxes[email]
            self.subscriptions[sub_id] = {
                "email": email,
                "url": url,
                "lifecycle_url": lifecycle_url,
                "reauthorize": False,
                "resource": resource,
                "client_state": data.get("clientState"),
                "change_types": change_types,
                "expiration": expiration,
                "mark": store.last_seq(mailbox.values()),
                "known": set(mailbox),
            }
            return 201, self._subscription_answer(sub_id)
        if len(parts) != 1:
            raise GraphError(404, "UnknownError", "not found")
        sub = self.subscriptions.get(parts[0])
        if sub is None or sub["email"] != email:
            raise GraphError(404, "ResourceNotFound", f"The object '{parts[0]}' doesn't exist.")
        if method == "GET":
            return 200, self._subscription_answer(parts[0])
        if method == "PATCH":
            sub["expiration"] = self._check_expiration(data.get("expirationDateTime"))
            sub["reauthorize"] = False  # a renewal reauthorizes it
            return 200, self._subscription_answer(parts[0])
        if method == "DELETE":
            del self.subscriptions[parts[0]]
            return 204, None
        raise GraphError(405, "MethodNotAllowed", "Method not allowed")

    def _drop_expired_subscriptions(self):
        now = _now()
        for sub_id, sub in list(self.subscriptions.items()):
            if sub["expiration"] <= now:
                del self.subscriptions[sub_id]

    def push_changes(self):
        """POST a notification for every event changed since the last one, per live subscription."""
        with self.lock:
            self._drop_expired_subscriptions()
            for sub_id, sub in self.subscriptions.items():
                mailbox = self.mailboxes.get(sub["email"], {})
                changed = store.changed_since(mailbox.values(), sub["mark"])
                if not changed:
                    continue
                sub["mark"] = changed[-1]["_seq"]
                user_id = hashlib.md5(sub["email"].encode()).hexdigest()
                value = []
                for event in changed:
                    if event.get("_deleted"):
                        change = "deleted"
                    elif event["id"] in sub["known"]:
                        change = "updated"
                    else:
                        change = "created"
                    sub["known"].add(event["id"])
                    if change not in sub["change_types"]:
                        continue
                    resource = f"Users/{user_id}/Events/{event['id']}"
                    value.append(
                        {
                            "subscriptionId": sub_id,
                            "subscriptionExpirationDateTime": sub["expiration"].strftime(
                                "%Y-%m-%dT%H:%M:%S.0000000+00:00"
                            ),
                            "changeType": change,
                            "resource": resource,
                            "resourceData": {
                                "@odata.type": "#Microsoft.Graph.Event",
                                "@odata.id": resource,
                                "@odata.etag": event.get("@odata.etag"),
                                "id": event["id"],
                            },
                            "clientState": sub["client_state"],
                            "tenantId": self.tenant_id,
                        }
                    )
                if value:
                    self.notifier.send(
                        sub["url"],
                        {"Content-Type": "application/json; charset=utf-8"},
                        json.dumps({"value": value}).encode(),
                    )

    def send_lifecycle(self, sub_id, event):
        """Test hook: Graph sends the lifecycle notification ``event`` of subscription ``sub_id``
        (queued on the notifier like the others). ``subscriptionRemoved`` removes it first, as
        Graph does; ``reauthorizationRequired`` marks it until a renewal (PATCH)."""
        with self.lock:
            sub = self.subscriptions[sub_id]
            if not sub["lifecycle_url"]:
                raise ValueError("the subscription has no lifecycleNotificationUrl")
            if event == "subscriptionRemoved":
                del self.subscriptions[sub_id]
            elif event == "reauthorizationRequired":
                sub["reauthorize"] = True
            item = {
                "subscriptionId": sub_id,
                "subscriptionExpirationDateTime": sub["expiration"].strftime("%Y-%m-%dT%H:%M:%S.0000000+00:00"),
                "tenantId": self.tenant_id,
                "clientState": sub["client_state"],
                "lifecycleEvent": event,
            }
            self.notifier.send(
                sub["lifecycle_url"],
                {"Content-Type": "application/json; charset=utf-8"},
                json.dumps({"value": [item]}).encode(),
            )
