"""A local fake of Google Calendar v3 and Google's OAuth 2.0 endpoints.

It speaks the wire format closely enough for google-api-python-client (with its
static discovery document), google-auth and our own code to run unmodified against
it: point ``client_options={"api_endpoint": server.api_endpoint}`` and the token
URI at ``server.token_uri``. State is in memory; a ``threading.RLock`` guards it.

What it does: OAuth authorization code with PKCE (S256) and refresh tokens,
revocation (``invalid_grant``); events list/get/insert/patch/update/delete/instances
with sync tokens (410 once invalidated), pagination, etags and ``If-Match`` (412);
recurring masters expanded into instances (``singleEvents=true``) with moved and
cancelled instances stored as exceptions; copies of a meeting in the calendars of
attendees known to the server (same iCalUID); free/busy; invitations recorded
(``sendUpdates``); injected faults (429, 403 rateLimitExceeded, 5xx) and transport faults
(``add_fault``: reset, delay, lost answers).

Client-chosen ids, modelled on Google's documentation of ``events.insert``: the ``id`` of
a new event may be given by the client (base32hex, ``[a-v0-9]``, 5 to 1024 characters,
else 400 ``invalid``); an id the calendar already has, even for a deleted event, is
answered 409 ``duplicate`` ("The requested identifier already exists."), and so is an
``iCalUID`` the calendar already has on a live event. ``events.list`` filters on
``iCalUID``.

Guests' answers, modelled on Google's documentation of the event resource: in every copy
the attendee entry of the calendar the copy is in carries ``self: true`` (read-only). A
guest answers by patching their copy's ``attendees`` with their own entry's
``responseStatus``; only that entry is taken from a guest's patch of ``attendees`` (the guest
list is the organiser's). The answer reaches the organiser's event (and, through it, every
copy); an organiser outside this server gets it as an e-mailed reply (``replies``).
:meth:`FakeGoogle.reply` plays a reply arriving from outside (an invitee on another
service answering).

Meet conferences, modelled on Google's documentation of ``conferenceData`` (event resource) and
of ``conferenceDataVersion`` (``events.insert`` / ``patch``): a write with
``conferenceDataVersion=1`` whose ``conferenceData.createRequest`` names the solution
``hangoutsMeet`` and a ``requestId`` makes a Meet conference: ``conferenceData`` with the request's
``status.statusCode`` ``success``, an ``entryPoints`` item of type ``video`` whose ``uri`` is a
``https://meet.google.com/xxx-xxxx-xxx`` link, and the event's ``hangoutLink``. Without
``conferenceDataVersion=1`` (version 0, the default) ``conferenceData`` is ignored. A request
repeating the ``requestId`` of the event's conference is ignored. Google documents the creation
as asynchronous ("pending" until made): with ``meet_pending`` set, a conference stays
``pending`` without entry points or link until :meth:`FakeGoogle.finish_conferences`.
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import json
import re
import secrets
import time
import urllib.parse

from . import recurrence, store, wire_time
from .local_server import JsonEvents, LocalServer
from .oauth import OAuthRefused, OAuthServer, token_form
from .push import Notifier

UTC = dt.timezone.utc
CLIENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
MAX_CHANNEL_TTL = 7 * 24 * 3600  # seconds; the fake's cap on a watch channel's life
PAGED_LISTINGS_KEPT = 32  # listings whose later pages are served from their snapshot


_now = wire_time.now


def _iso(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def _parse_dt(value: str) -> dt.datetime:
    return wire_time.parse_time(value)


def _when(node: dict) -> dt.datetime:
    """Start of a Google start/end node as an aware datetime (dates at midnight UTC); a
    ``dateTime`` without offset is read on the clock of the node's ``timeZone``."""
    if "dateTime" in node:
        return wire_time.parse_time(node["dateTime"], node.get("timeZone"))
    day = dt.date.fromisoformat(node["date"])
    return dt.datetime.combine(day, dt.time.min, tzinfo=UTC)


class ApiError(Exception):
    def __init__(self, status, reason, message, headers=None):
        super().__init__(message)
        self.status, self.reason, self.message, self.headers = status, reason, message, headers or {}


class FakeGoogle(OAuthServer, JsonEvents, LocalServer):
    """The server. ``start()`` it (or use it as a context manager)."""

    error_class = ApiError

    def __init__(self, client_id="test-client", client_secret="test-secret", token_lifetime=3600):
        super().__init__()
        self._init_oauth(client_id, client_secret, token_lifetime)
        self.calendars = {}  # email -> {event_id: event}
        self.token_floors = store.TokenFloors()  # sync tokens handed out before are refused (410)
        self.default_login = None
        self.invitations = []  # dicts: calendar, event_id, emails, method
        self.replies = []  # answers sent by e-mail to organisers outside: dicts organizer, iCalUID, email, response
        self.log = []  # (method, path, query dict)
        self.meet_pending = False  # True: conferences stay "pending" until finish_conferences()
        self._pages = {}
        self._init_push()

    def error_reply(self, exc):
        if exc.reason in ("invalid_grant", "invalid_client", "invalid_request", "unsupported_grant_type"):
            payload = {"error": exc.reason, "error_description": exc.message}
        else:
            error = {"domain": "global", "reason": exc.reason, "message": exc.message}
            payload = {"error": {"code": exc.status, "message": exc.message, "errors": [error]}}
        return exc.status, payload, exc.headers

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}/"

    @property
    def api_endpoint(self):
        return self.url + "calendar/v3/"

    @property
    def auth_uri(self):
        return self.url + "o/oauth2/auth"

    @property
    def token_uri(self):
        return self.url + "token"

    # -- test helpers ----------------------------------------------------
    def issue_tokens(self, email, scope="https://www.googleapis.com/auth/calendar"):
        """Tokens as if ``email`` had granted access (skips the browser round trip)."""
        access, refresh = self.tokens.issue(self.add_user(email))
        expiry = _now() + dt.timedelta(seconds=self.token_lifetime)
        return {
            "access_token": access,
            "refresh_token": refresh,
            "expiry": expiry.replace(tzinfo=None).isoformat(),
            "scope": scope,
        }

    def invalidate_sync_tokens(self, email):
        with self.lock:
            self.token_floors.refuse_before(email.lower(), next(self.seq))

    def fault_error(self, fault):
        # Google's reason for each status: throttling, a request refused as invalid (400
        # badRequest, the other 4xx alike), an outage
        default = {429: "rateLimitExceeded", 403: "rateLimitExceeded"}.get(fault.status)
        default = default or ("badRequest" if fault.status < 500 else "backendError")
        reason = fault.reason or default
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        message = {"rateLimitExceeded": "Rate Limit Exceeded", "badRequest": "Bad Request"}.get(reason, "Backend Error")
        return ApiError(fault.status, reason, message, headers)

    def add_event(self, email, body, send_updates="none"):
        """Insert ``body`` (Google JSON) into ``email``'s calendar as the API would."""
        self.add_user(email)
        with self.lock:
            event = copy.deepcopy(self._insert(email.lower(), copy.deepcopy(body), send_updates))
        self.push_changes()
        return event

    def _event_boxes(self):
        return self.calendars

    def events_of(self, email, include_cancelled=False):
        with self.lock:
            return [
                copy.deepcopy(e)
                for e in self.calendars.get(email.lower(), {}).values()
                if include_cancelled or e.get("status") != "cancelled"
            ]

    def instances_of(self, email, event_id):
        with self.lock:
            master = self.calendars[email.lower()][event_id]
            return [copy.deepcopy(i) for i in self._instances(email.lower(), master, None, None)]

    def reply(self, organizer_email, ical_uid, email, response):
        """An invitee's answer reaching the organiser's calendar (an iCalendar REPLY, e.g. from a
        guest on another service): the organiser's event shows it, and so does every copy."""
        with self.lock:
            organizer_email = organizer_email.lower()
            event = self._organizer_event(organizer_email, ical_uid)
            if event is None:
                raise KeyError(f"{organizer_email} has no meeting {ical_uid}")
            self._take_answer(organizer_email, event, email.lower(), response)
        self.push_changes()

    def _organizer_event(self, organizer_email, ical_uid):
        for event in self.calendars.get(organizer_email, {}).values():
            own = (event.get("organizer") or {}).get("email", "").lower() == organizer_email
            if own and event.get("iCalUID") == ical_uid and not event.get("recurringEventId"):
                return event
        return None

    def _take_answer(self, organizer_email, event, email, response):
        for attendee in event.get("attendees") or []:
            if attendee.get("email", "").lower() == email:
                attendee["responseStatus"] = response
        self._stamp(event)
        self._propagate(organizer_email, event)

    def _guest_answer(self, email, copy_event, attendees):
        """A guest's patch of ``attendees`` on their copy: their own entry's answer is taken (and
        sent to the organiser), the rest of the list stays the organiser's."""
        own = next((a for a in attendees if (a.get("email") or "").lower() == email), None)
        if not own or not own.get("responseStatus"):
            return
        response = own["responseStatus"]
        for attendee in copy_event.get("attendees") or []:
            if attendee.get("email", "").lower() == email:
                attendee["responseStatus"] = response
        organizer_email = (copy_event.get("organizer") or {}).get("email", "").lower()
        event = self._organizer_event(organizer_email, copy_event.get("iCalUID"))
        if event is not None and copy_event.get("recurringEventId"):
            # one instance answered: the organiser's instance that starts at the same time alone
            instance_id = f"{event['id']}_{copy_event['id'].rpartition('_')[2]}"
            instance = self._instance_exception(organizer_email, event, instance_id)
            for attendee in instance.get("attendees") or []:
                if attendee.get("email", "").lower() == email:
                    attendee["responseStatus"] = response
            self._stamp(instance)
        elif event is not None:
            self._take_answer(organizer_email, event, email, response)
        else:
            self.replies.append(
                {
                    "organizer": organizer_email,
                    "iCalUID": copy_event.get("iCalUID"),
                    "email": email,
                    "response": response,
                }
            )

    @staticmethod
    def _mark_self(email, event):
        """Google marks the attendee entry of the calendar a copy is in (``self``)."""
        for attendee in event.get("attendees") or []:
            if (attendee.get("email") or "").lower() == email:
                attendee["self"] = True
            else:
                attendee.pop("self", None)

    # -- storage ---------------------------------------------------------
    def _stamp(self, event):
        # like Google, default values are not echoed back
        if event.get("visibility") == "default":
            del event["visibility"]
        if event.get("transparency") == "opaque":
            del event["transparency"]
        seq = store.stamp_change(event, next(self.seq))
        event["etag"] = f'"{seq}"'
        event["updated"] = _iso(_now())
        event["sequence"] = event.get("sequence", -1) + 1

    def _insert(self, email, body, send_updates, organizer=None, ical_uid=None):
        cal = self.calendars[email]
        event_id = body.get("id") or secrets.token_hex(13)
        if body.get("id") and not CLIENT_ID.match(event_id):
            raise ApiError(400, "invalid", "Invalid resource id value.")
        if event_id in cal:
            raise ApiError(409, "duplicate", "The requested identifier already exists.")
        if organizer is None and body.get("iCalUID"):
            for other in cal.values():
                live = other.get("status") != "cancelled" and not other.get("recurringEventId")
                if live and other.get("iCalUID") == body["iCalUID"]:
                    raise ApiError(409, "duplicate", "The requested identifier already exists.")
        body.update(
            id=event_id,
            kind="calendar#event",
            status=body.get("status") or "confirmed",
            iCalUID=ical_uid or body.get("iCalUID") or f"{event_id}@google.com",
            created=_iso(_now()),
            organizer=organizer or body.get("organizer") or {"email": email, "self": True},
            creator={"email": email},
        )
        body.setdefault("htmlLink", f"https://calendar.example/event?eid={event_id}")
        body.setdefault("reminders", {"useDefault": True})
        body.setdefault("eventType", "default")
        self._mark_self(email, body)
        self._stamp(body)
        cal[event_id] = body
        if organizer is None:
            self._propagate(email, body)
            self._invite(email, body, send_updates, "request")
        return body

    def _copies(self, ical_uid, exclude):
        for email, cal in self.calendars.items():
            if email == exclude:
                continue
            for event in cal.values():
                if event.get("iCalUID") == ical_uid and not event.get("recurringEventId"):
                    yield email, event

    def _propagate(self, organizer_email, event):
        """Keep the attendees' copies (same iCalUID) in line with the organiser's event."""
        if event.get("recurringEventId"):
            return
        attendees = {a["email"].lower() for a in event.get("attendees", [])}
        existing = dict(self._copies(event["iCalUID"], organizer_email))
        for email in attendees:
            if email == organizer_email or email not in self.calendars:
                continue
            fields = {
                k: copy.deepcopy(v) for k, v in event.items() if not k.startswith("_") and k not in ("id", "etag")
            }
            if email in existing:
                target = existing[email]
                target.update(fields)
                target["id"] = [k for k, v in self.calendars[email].items() if v is target][0]
                self._mark_self(email, target)
                self._stamp(target)
            else:
                fields.pop("id", None)
                self._insert(email, fields, "none", organizer=event["organizer"], ical_uid=event["iCalUID"])
        for email, target in existing.items():
            if email not in attendees or event.get("status") == "cancelled":
                target["status"] = "cancelled"
                self._stamp(target)

    def _invite(self, email, event, send_updates, method):
        if send_updates not in ("all", "externalOnly"):
            return
        guests = [a["email"].lower() for a in event.get("attendees", []) if a["email"].lower() != email]
        if guests:
            self.invitations.append({"calendar": email, "event_id": event["id"], "emails": guests, "method": method})

    # -- Meet conferences ------------------------------------------------
    def _take_conference(self, event, data, query):
        """Apply a write's ``conferenceData`` to ``event`` as Google does (see the module's text)."""
        asked = data.pop("conferenceData", None)
        if str(query.get("conferenceDataVersion", "0")) != "1" or not isinstance(asked, dict):
            return  # version 0: Google ignores conferenceData
        request = asked.get("createRequest")
        if not isinstance(request, dict):
            event["conferenceData"] = copy.deepcopy(asked)
            return
        if not request.get("requestId"):
            raise ApiError(400, "invalid", "Invalid conference request id.")
        solution = (request.get("conferenceSolutionKey") or {}).get("type")
        if solution != "hangoutsMeet":
            raise ApiError(400, "invalid", "Invalid conference type value.")
        current = (event.get("conferenceData") or {}).get("createRequest") or {}
        if current.get("requestId") == request["requestId"]:
            return  # the same request again: ignored
        event["conferenceData"] = {
            "createRequest": {
                "requestId": request["requestId"],
                "conferenceSolutionKey": {"type": solution},
                "status": {"statusCode": "pending"},
            },
            "conferenceSolution": {"key": {"type": solution}, "name": "Google Meet"},
        }
        event.pop("hangoutLink", None)
        if not self.meet_pending:
            self._make_conference(event)

    @staticmethod
    def _make_conference(event):
        letters = "abcdefghijklmnopqrstuvwxyz"
        code = "-".join("".join(secrets.choice(letters) for _ in range(n)) for n in (3, 4, 3))
        link = f"https://meet.google.com/{code}"
        conference = event["conferenceData"]
        conference["createRequest"]["status"] = {"statusCode": "success"}
        conference["conferenceId"] = code
        conference["entryPoints"] = [{"entryPointType": "video", "uri": link, "label": link[len("https://") :]}]
        event["hangoutLink"] = link

    def finish_conferences(self):
        """Google has made the pending conferences: each organiser's event (and its copies) gets its link."""
        with self.lock:
            for email, cal in self.calendars.items():
                for event in cal.values():
                    status = ((event.get("conferenceData") or {}).get("createRequest") or {}).get("status") or {}
                    organizer = (event.get("organizer") or {}).get("email", email)
                    if status.get("statusCode") == "pending" and organizer == email:
                        self._make_conference(event)
                        self._stamp(event)
                        self._propagate(email, event)

    # -- recurrence ------------------------------------------------------
    def _instances(self, email, master, time_min, time_max):
        """Instances of ``master`` between bounds (exceptions applied)."""
        cal = self.calendars[email]
        start = _when(master["start"])
        duration = _when(master["end"]) - start
        all_day = "date" in master["start"]
        tz_name = master["start"].get("timeZone")
        zone = wire_time.zone(tz_name)
        lo, hi = recurrence.default_window(time_min, time_max)
        exceptions = {
            e["originalStartTime"].get("dateTime") or e["originalStartTime"].get("date"): e
            for e in cal.values()
            if e.get("recurringEventId") == master["id"]
        }
        out = []
        starts = recurrence.expand(
            master.get("recurrence", []), start, duration, zone=zone, all_day=all_day, lo=lo, hi=hi
        )
        for _index, occ_start in starts:
            if all_day:
                key = occ_start.date().isoformat()
                inst_id = f"{master['id']}_{occ_start.strftime('%Y%m%d')}"
                original = {"date": key}
                s_node = {"date": key}
                e_node = {"date": (occ_start + duration).date().isoformat()}
            else:
                key = _iso(occ_start).replace(".000Z", "Z")
                inst_id = f"{master['id']}_{occ_start.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"
                original = {"dateTime": key, **({"timeZone": tz_name} if tz_name else {})}
                s_node = dict(original)
                e_node = {
                    "dateTime": _iso(occ_start + duration).replace(".000Z", "Z"),
                    **({"timeZone": tz_name} if tz_name else {}),
                }
            exc = exceptions.get(key)
            if exc is not None:
                out.append(exc)
                continue
            inst = {k: copy.deepcopy(v) for k, v in master.items() if k not in ("recurrence",)}
            inst.update(id=inst_id, recurringEventId=master["id"], originalStartTime=original, start=s_node, end=e_node)
            out.append(inst)
        return out

    def _instance_exception(self, email, master, instance_id):
        """The stored exception for ``instance_id`` (made from the generated instance)."""
        cal = self.calendars[email]
        if instance_id in cal:
            return cal[instance_id]
        for inst in self._instances(email, master, None, None):
            if inst["id"] == instance_id:
                exc = dict(inst)
                cal[instance_id] = exc
                return exc
        raise ApiError(404, "notFound", "Not Found")

    # -- API -----------------------------------------------------------------
    def request_kind(self, method, path, query, headers, body):
        parts = [p for p in path.split("/") if p]
        if parts[:2] != ["calendar", "v3"]:
            return None  # sign-in
        parts = parts[2:]
        if parts == ["freeBusy"]:
            return "freebusy"
        if len(parts) == 3 and parts[2] == "events":
            return "list" if method == "GET" else "create"
        if len(parts) == 4 and parts[2] == "events":
            return {"GET": "get", "PATCH": "update", "PUT": "update", "DELETE": "delete"}.get(method)
        return "get"

    def handle(self, method, path, query, headers, body):
        with self.lock:
            self.log.append((method, path, dict(query)))
            self.raise_injected_fault()
            if path.startswith("/o/oauth2/auth"):
                return self._authorize(query)
            if path == "/token":
                return self._token(body)
            email = self._auth(headers, query)
            parts = [urllib.parse.unquote(p) for p in path.split("/") if p]
            if parts[:2] != ["calendar", "v3"]:
                raise ApiError(404, "notFound", "Not Found")
            parts = parts[2:]
            if parts == ["channels", "stop"] or parts[2:] == ["events", "watch"]:
                return self._push_request(email, method, parts, body)
            if parts == ["freeBusy"] and method == "POST":
                return 200, self._freebusy(json.loads(body or b"{}"))
            if parts[:3] == ["users", "me", "calendarList"] and len(parts) == 4:
                return 200, {"kind": "calendar#calendarListEntry", "id": email, "primary": True, "summary": email}
            if parts[0] != "calendars" or len(parts) < 2:
                raise ApiError(404, "notFound", "Not Found")
            cal_id = email if parts[1] == "primary" else parts[1].lower()
            if cal_id != email:
                raise ApiError(403, "forbidden", "Forbidden")
            if len(parts) == 2 and method == "GET":
                return 200, {"kind": "calendar#calendar", "id": email, "summary": email, "timeZone": "UTC"}
            if len(parts) == 3 and parts[2] == "events":
                if method == "GET":
                    return 200, self._list(email, query)
                if method == "POST":
                    data = json.loads(body or b"{}")
                    self._validate(data)
                    self._take_conference(data, data, query)
                    return 200, self._public(self._insert(email, data, query.get("sendUpdates", "none")))
            if len(parts) >= 4 and parts[2] == "events":
                event_id = parts[3]
                if len(parts) == 5 and parts[4] == "instances" and method == "GET":
                    return 200, self._list_instances(email, event_id, query)
                if len(parts) == 4:
                    return self._one(email, event_id, method, query, headers, body)
            raise ApiError(404, "notFound", "Not Found")

    def _authorize(self, query):
        client_id = query.get("client_id")
        try:
            self.tokens.check_client(client_id, secret=False)
        except OAuthRefused:
            raise ApiError(401, "invalid_client", "The OAuth client was not found.") from None
        for name in ("redirect_uri", "response_type", "code_challenge", "state"):
            if not query.get(name):
                raise ApiError(400, "invalid_request", f"Missing required parameter: {name}")
        if query.get("code_challenge_method") != "S256" or query["response_type"] != "code":
            raise ApiError(400, "invalid_request", "PKCE S256 and response_type=code are required")
        email = (query.get("login_hint") or self.default_login or "").lower()
        if not email:
            raise ApiError(400, "invalid_request", "no user to log in")
        self.add_user(email)
        code = self.tokens.new_code(
            email,
            client_id,
            query["redirect_uri"],
            query["code_challenge"],
            offline=query.get("access_type") == "offline",
        )
        sep = "&" if "?" in query["redirect_uri"] else "?"
        location = query["redirect_uri"] + sep + urllib.parse.urlencode({"code": code, "state": query["state"]})
        return 302, {"_location": location}

    #: the token endpoint's words for what the store refused
    REFUSED = {
        "client": (401, "invalid_client", "Unauthorized"),
        "code": (400, "invalid_grant", "Malformed auth code."),
        "verifier": (400, "invalid_grant", "Invalid code verifier."),
        "revoked": (400, "invalid_grant", "Token has been expired or revoked."),
    }

    def _token(self, body):
        form = token_form(body)
        grant = form.get("grant_type")
        try:
            if grant == "authorization_code":
                data = self.tokens.redeem_code(form)
                access, refresh = self.tokens.issue(data["email"], refresh=data["offline"])
                answer = {
                    "access_token": access,
                    "expires_in": self.token_lifetime,
                    "scope": "https://www.googleapis.com/auth/calendar",
                    "token_type": "Bearer",
                }
                if refresh:
                    answer["refresh_token"] = refresh
                return 200, answer
            if grant == "refresh_token":
                _email, access = self.tokens.refresh(form)
                return 200, {"access_token": access, "expires_in": self.token_lifetime, "token_type": "Bearer"}
            self.tokens.check_client(form.get("client_id"), form.get("client_secret"))
        except OAuthRefused as refused:
            raise ApiError(*self.REFUSED[refused.why]) from None
        raise ApiError(400, "unsupported_grant_type", "Invalid grant_type")

    def _auth(self, headers, query):
        # Google also takes the token as an access_token parameter (Odoo's module does that)
        owner = self.tokens.owner(self.tokens.bearer(headers) or query.pop("access_token", ""))
        if owner is None:
            raise ApiError(
                401,
                "authError",
                "Invalid Credentials",
                {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'},
            )
        return owner

    @staticmethod
    def _validate(data):
        for name in ("start", "end"):
            node = data.get(name) or {}
            if "dateTime" not in node and "date" not in node:
                raise ApiError(400, "required", f"Missing {name} time.")

    def _token_for(self, email, seq):
        return base64.urlsafe_b64encode(f"{email}|{seq}".encode()).decode()

    def _list(self, email, query):
        cal = self.calendars[email]
        page_token = query.get("pageToken")
        offset, snapshot = 0, None
        if page_token:
            # like Google, the page token carries the query it continues
            state = json.loads(base64.urlsafe_b64decode(page_token.encode()))
            offset, snapshot = state["offset"], state["snapshot"]
            query = dict(state["query"], **{k: v for k, v in query.items() if k != "pageToken"})
        self._since(email, query)  # a bad sync token fails the first page
        if snapshot is None:
            snapshot = next(self.seq)
        cache_key = (email, snapshot, json.dumps(sorted(query.items())))
        if page_token and cache_key in self._pages:
            items = self._pages[cache_key]
        else:
            items = self._listing(email, cal, query)
            # later pages are served from this snapshot (a few listings at a time, as page
            # tokens of several calendars may be under way)
            self._pages[cache_key] = items
            while len(self._pages) > PAGED_LISTINGS_KEPT:
                self._pages.pop(next(iter(self._pages)))
        return self._page(email, query, items, offset, snapshot)

    def _since(self, email, query):
        sync_token = query.get("syncToken")
        since = None
        if sync_token:
            if any(query.get(p) for p in ("timeMin", "timeMax", "orderBy", "q", "updatedMin", "iCalUID")):
                raise ApiError(400, "invalid", "Sync token cannot be used with other filters.")
            try:
                owner, seq = base64.urlsafe_b64decode(sync_token.encode()).decode().split("|")
                since = int(seq)
            except Exception:
                raise ApiError(
                    410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required."
                ) from None
            if owner != email or not self.token_floors.honours(email, since):
                raise ApiError(410, "fullSyncRequired", "Sync token is no longer valid, a full sync is required.")
        return since

    def _listing(self, email, cal, query):
        single = query.get("singleEvents") == "true"
        show_deleted = query.get("showDeleted") == "true"
        since = self._since(email, query)
        time_min = _parse_dt(query["timeMin"]) if query.get("timeMin") else None
        time_max = _parse_dt(query["timeMax"]) if query.get("timeMax") else None
        items = []
        for event in store.changed_since(cal.values(), since):
            if query.get("iCalUID") and event.get("iCalUID") != query["iCalUID"]:
                continue
            if event.get("recurringEventId") and single and event["recurringEventId"] in cal:
                # exceptions come out through their master's expansion, unless only they changed
                master = cal[event["recurringEventId"]]
                if since is None or master["_seq"] > since:
                    continue
                items.append(event)
                continue
            cancelled = event.get("status") == "cancelled"
            if cancelled and not (show_deleted or since is not None):
                continue
            if single and event.get("recurrence") and not cancelled:
                items.extend(self._instances(email, event, time_min, time_max))
                continue
            if not event.get("recurrence") and (time_min or time_max) and not cancelled:
                try:
                    start, end = _when(event["start"]), _when(event.get("end") or event["start"])
                except (KeyError, ValueError, TypeError):
                    items.append(event)  # stored badly by another client: listed as it is
                    continue
                if (time_max and start >= time_max) or (time_min and end <= time_min):
                    continue
            items.append(event)
        if not show_deleted and since is None:
            items = [i for i in items if i.get("status") != "cancelled"]
        return items

    def _page(self, email, query, items, offset, snapshot):
        size = min(int(query.get("maxResults", 250)), 2500)
        page = items[offset : offset + size]
        answer = {
            "kind": "calendar#events",
            "etag": f'"p{snapshot}"',
            "summary": email,
            "updated": _iso(_now()),
            "timeZone": "UTC",
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}],
            "items": [self._public(i) for i in page],
        }
        if offset + size < len(items):
            filters = {k: v for k, v in query.items() if k not in ("pageToken", "access_token")}
            token = {"offset": offset + size, "snapshot": snapshot, "query": filters}
            answer["nextPageToken"] = base64.urlsafe_b64encode(json.dumps(token).encode()).decode()
        else:
            answer["nextSyncToken"] = self._token_for(email, snapshot)
        return answer

    def _list_instances(self, email, event_id, query):
        cal = self.calendars[email]
        master = cal.get(event_id)
        if not master or not master.get("recurrence"):
            raise ApiError(404, "notFound", "Not Found")
        time_min = _parse_dt(query["timeMin"]) if query.get("timeMin") else None
        time_max = _parse_dt(query["timeMax"]) if query.get("timeMax") else None
        items = self._instances(email, master, time_min, time_max)
        if query.get("showDeleted") != "true":
            items = [i for i in items if i.get("status") != "cancelled"]
        return {"kind": "calendar#events", "items": [self._public(i) for i in items]}

    def _find(self, email, event_id):
        cal = self.calendars[email]
        if event_id in cal:
            return cal[event_id]
        master_id, sep, _stamp = event_id.rpartition("_")
        if sep and master_id in cal and cal[master_id].get("recurrence"):
            return self._instance_exception(email, cal[master_id], event_id)
        raise ApiError(404, "notFound", "Not Found")

    def _one(self, email, event_id, method, query, headers, body):
        event = self._find(email, event_id)
        if method == "GET":
            return 200, self._public(event)
        if_match = headers.get("If-Match")
        if if_match and if_match != event.get("etag"):
            raise ApiError(412, "conditionNotMet", "Precondition Failed")
        send = query.get("sendUpdates", "none")
        organizer = (event.get("organizer") or {}).get("email", email)
        if method in ("PATCH", "PUT"):
            data = json.loads(body or b"{}")
            if organizer != email and any(k not in ("attendees", "reminders", "colorId") for k in data):
                # changes to an attendee's copy stay in that copy (like Google); fine here
                pass
            if method == "PUT":
                self._validate(data)
                keep = {
                    k: event[k]
                    for k in (
                        "id",
                        "iCalUID",
                        "created",
                        "organizer",
                        "creator",
                        "recurringEventId",
                        "originalStartTime",
                        "sequence",
                        "_seq",
                        "htmlLink",
                    )
                    if k in event
                }
                event.clear()
                event.update(keep)
                event["status"] = "confirmed"
            self._take_conference(event, data, query)
            if organizer != email and "attendees" in data:
                # a guest's patch of the guest list: only their own answer is taken (and sent on)
                self._guest_answer(email, event, data.pop("attendees") or [])
            event.update({k: v for k, v in data.items() if k not in ("id", "etag", "iCalUID")})
            self._mark_self(email, event)
            self._stamp(event)
            if organizer == email:
                self._propagate(email, event)
                self._invite(email, event, send, "update")
            return 200, self._public(event)
        if method == "DELETE":
            if event.get("status") == "cancelled":
                raise ApiError(410, "deleted", "Resource has been deleted")
            event["status"] = "cancelled"
            self._stamp(event)
            if organizer == email:
                self._propagate(email, event)
                self._invite(email, event, send, "cancel")
            return 204, None
        raise ApiError(405, "methodNotAllowed", "Method not allowed")

    def _freebusy(self, data):
        time_min, time_max = _parse_dt(data["timeMin"]), _parse_dt(data["timeMax"])
        calendars = {}
        for item in data.get("items", []):
            email = item["id"].lower()
            if email not in self.calendars:
                calendars[item["id"]] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
                continue
            cal = self.calendars[email]

            def occurrences(event, email=email, cal=cal):
                if event.get("status") == "cancelled" or event.get("transparency") == "transparent":
                    return []
                if event.get("recurringEventId") and event["recurringEventId"] in cal:
                    return []  # an exception comes out through its series
                return self._instances(email, event, time_min, time_max) if event.get("recurrence") else [event]

            busy = store.busy_intervals(
                cal.values(),
                time_min,
                time_max,
                occurrences=occurrences,
                span=lambda occ: (_when(occ["start"]), _when(occ["end"])),
                show_as=lambda occ: None if occ.get("status") == "cancelled" else "busy",
                clip=True,
            )
            calendars[item["id"]] = {"busy": [{"start": _iso(s), "end": _iso(e)} for s, e, _show_as in busy]}
        return {
            "kind": "calendar#freeBusy",
            "timeMin": _iso(time_min),
            "timeMax": _iso(time_max),
            "calendars": calendars,
        }

    # -- push notifications: watch channels ----------------------------------
    # Modelled on Google's "Push notifications" guide for the Calendar API: events.watch
    # opens a channel (id chosen by the client, unique; type web_hook; an https address;
    # an optional token echoed in every message; params.ttl in seconds), answered with
    # the channel's resourceId and expiration (ms since the epoch). Google then POSTs an
    # empty message to the address: first "sync", then "exists" after each change, with
    # X-Goog-Channel-ID, X-Goog-Channel-Token, X-Goog-Channel-Expiration,
    # X-Goog-Resource-ID, X-Goog-Resource-URI, X-Goog-Resource-State and
    # X-Goog-Message-Number (1, 2, 3 ... per channel). channels.stop ends a channel.
    def _init_push(self):
        self.channels = {}  # channel id -> {email, address, token, resource_id, expiration, number, mark}
        self.notifier = Notifier()
        self.push_allow_http = False  # Google only calls https addresses; tests may serve plain http
        self.max_channel_ttl = MAX_CHANNEL_TTL

    def after_request(self, method, path):
        if method != "GET":
            self.push_changes()

    def _push_request(self, email, method, parts, body):
        if method != "POST":
            raise ApiError(405, "methodNotAllowed", "Method not allowed")
        data = json.loads(body or b"{}")
        if parts == ["channels", "stop"]:
            channel = self.channels.get(data.get("id") or "")
            if not channel or channel["resource_id"] != data.get("resourceId") or channel["email"] != email:
                raise ApiError(404, "notFound", f"Channel '{data.get('id')}' not found for project")
            del self.channels[data["id"]]
            return 204, None
        cal_id = email if parts[1] == "primary" else parts[1].lower()
        if cal_id != email:
            raise ApiError(403, "forbidden", "Forbidden")
        channel_id, address = data.get("id") or "", data.get("address") or ""
        if data.get("type") not in ("web_hook", "webhook") or not channel_id:
            raise ApiError(400, "required", "Required channel id and type web_hook.")
        scheme = urllib.parse.urlsplit(address).scheme
        if scheme != "https" and not (scheme == "http" and self.push_allow_http):
            raise ApiError(400, "push.webhookUrlNotHttps", "WebHook callback must be HTTPS: " + address)
        if channel_id in self.channels:
            raise ApiError(400, "channelIdNotUnique", f"Channel id {channel_id} not unique")
        ttl = min(int((data.get("params") or {}).get("ttl") or 604800), self.max_channel_ttl)
        expiration = int((time.time() + ttl) * 1000)
        if data.get("expiration"):
            expiration = min(expiration, int(data["expiration"]))
        resource_id = hashlib.sha1(f"events|{email}".encode()).hexdigest()[:27]
        resource_uri = f"{self.api_endpoint}calendars/{urllib.parse.quote(parts[1])}/events?alt=json"
        cal = self.calendars[email]
        self.channels[channel_id] = {
            "email": email,
            "address": address,
            "token": data.get("token"),
            "resource_id": resource_id,
            "resource_uri": resource_uri,
            "expiration": expiration,
            "number": 0,
            "mark": store.last_seq(cal.values()),
        }
        self._notify(channel_id, "sync")
        answer = {
            "kind": "api#channel",
            "id": channel_id,
            "resourceId": resource_id,
            "resourceUri": resource_uri,
            "expiration": str(expiration),
        }
        if data.get("token"):
            answer["token"] = data["token"]
        return 200, answer

    def push_changes(self):
        """Send an "exists" message on every live channel whose calendar changed since its last one."""
        with self.lock:
            now = time.time() * 1000
            for channel_id, channel in list(self.channels.items()):
                if channel["expiration"] <= now:
                    del self.channels[channel_id]  # Google stops an expired channel
                    continue
                cal = self.calendars.get(channel["email"], {})
                top = store.last_seq(cal.values())
                if top > channel["mark"]:
                    channel["mark"] = top
                    self._notify(channel_id, "exists")

    def _notify(self, channel_id, state):
        channel = self.channels[channel_id]
        channel["number"] += 1
        headers = {
            "X-Goog-Channel-ID": channel_id,
            "X-Goog-Channel-Expiration": time.strftime(
                "%a, %d %b %Y %H:%M:%S GMT", time.gmtime(channel["expiration"] / 1000)
            ),
            "X-Goog-Resource-ID": channel["resource_id"],
            "X-Goog-Resource-URI": channel["resource_uri"],
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(channel["number"]),
        }
        if channel["token"]:
            headers["X-Goog-Channel-Token"] = channel["token"]
        self.notifier.send(channel["address"], headers)
