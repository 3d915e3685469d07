"""Google Calendar through google-api-python-client (Calendar API v3).

Recurring series are read as instances (``singleEvents=true``): each occurrence has
its own id (``<master>_<start>``), so one occurrence can be changed or deleted alone
and the series stays intact. Sync tokens make later listings incremental.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import secrets
import threading
import urllib.parse
from typing import Optional

import google.auth.exceptions
import google.oauth2.credentials
import google_auth_httplib2
import httplib2
import requests
from googleapiclient import discovery
from googleapiclient import errors as gerrors

from .. import errors
from ..events import (
    ACCEPTED,
    BAD_DATE,
    CANCELLED,
    EXCEPTION,
    MASTER,
    OCCURRENCE,
    SINGLE,
    UTC,
    Attendee,
    BusyInterval,
    ChangeSet,
    InvalidEvent,
    RemoteEvent,
    html_to_text,
    normalize_ical_uid,
)
from ..provider import (
    DEFAULT_ENDPOINTS,
    CalendarProvider,
    call_with_retry,
    convert_each,
    delete_ignoring_missing,
    error_keyword,
    parse_retry_after,
    update_or_landed,
)

AUTH_URI = DEFAULT_ENDPOINTS["google"]["auth_uri"]
TOKEN_URI = DEFAULT_ENDPOINTS["google"]["token_uri"]
API_ENDPOINT = DEFAULT_ENDPOINTS["google"]["api_endpoint"]
SCOPES = ("https://www.googleapis.com/auth/calendar",)
PAGE_SIZE = 2500  # the most events.list gives per page (Google's default is 250)
WATCH_TTL = 7 * 24 * 3600  # seconds a watch channel is asked to live (Google may give less)


# ---------------------------------------------------------------------------
# OAuth helpers
# ---------------------------------------------------------------------------
def make_pkce_pair():
    """(code_verifier, S256 code_challenge)."""
    verifier = secrets.token_urlsafe(64)[:96]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorization_url(
    client_id, redirect_uri, state, code_challenge, auth_uri=AUTH_URI, login_hint=None, scopes=SCOPES
):
    params = {
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "response_type": "code",
        "scope": " ".join(scopes),
        "access_type": "offline",
        "prompt": "consent",
        "include_granted_scopes": "true",
        "state": state,
        "code_challenge": code_challenge,
        "code_challenge_method": "S256",
    }
    if login_hint:
        params["login_hint"] = login_hint
    return f"{auth_uri}?{urllib.parse.urlencode(params)}"


def exchange_code(code, code_verifier, client_id, client_secret, redirect_uri, token_uri=TOKEN_URI, timeout=20):
    """Trade the authorization code for tokens: {access_token, refresh_token, expiry, scope}."""
    try:
        response = requests.post(
            token_uri,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "code_verifier": code_verifier,
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uri": redirect_uri,
            },
            timeout=timeout,
        )
    except requests.RequestException:
        raise errors.Unavailable(code="google_signin_unreachable") from None
    data = _json(response)
    if response.status_code != 200:
        if data.get("error") == "invalid_client":
            raise errors.ConfigurationError(code="google_client_refused")
        raise errors.AuthRevoked(code="google_not_granted")
    if not data.get("refresh_token"):
        raise errors.AuthRevoked(code="google_no_offline_access")
    expiry = dt.datetime.now(UTC) + dt.timedelta(seconds=int(data.get("expires_in", 3600)))
    return {
        "access_token": data["access_token"],
        "refresh_token": data["refresh_token"],
        "expiry": expiry.replace(tzinfo=None).isoformat(),
        "scope": data.get("scope", " ".join(SCOPES)),
    }


def _json(response):
    try:
        return response.json()
    except ValueError:
        return {}


# ---------------------------------------------------------------------------
# mapping
# ---------------------------------------------------------------------------
RESPONSES = {"needsAction": "needsAction", "accepted": "accepted", "declined": "declined", "tentative": "tentative"}


def _parse_time(value: str) -> dt.datetime:
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def google_event_id(key: str) -> str:
    """The event id we choose for a create keyed ``key``.

    Google lets the client choose the id: 5 to 1024 characters of base32hex (``0-9a-v``),
    unique in the calendar. A key of that form (a uuid4 hex is) is the id; any other key
    gives the first 40 hex digits of its SHA-256 (hex digits are base32hex).
    """
    if _CLIENT_ID.match(key):
        return key
    return hashlib.sha256(key.encode()).hexdigest()[:40]


_CLIENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")


def from_google(item: dict) -> RemoteEvent:
    """Google event JSON -> RemoteEvent (:class:`InvalidEvent` for unreadable dates)."""
    try:
        return _from_google(item)
    except (ValueError, TypeError, KeyError, AttributeError):
        raise InvalidEvent(BAD_DATE, item.get("id") if isinstance(item, dict) else None) from None


def _from_google(item: dict) -> RemoteEvent:
    status = item.get("status") or "confirmed"
    start, end = item.get("start") or {}, item.get("end") or {}
    if item.get("recurrence"):
        kind = MASTER
    elif item.get("recurringEventId"):
        original = item.get("originalStartTime") or {}
        same = (
            original.get("dateTime")
            and start.get("dateTime")
            and _parse_time(original["dateTime"]) == _parse_time(start["dateTime"])
        ) or (original.get("date") and original.get("date") == start.get("date"))
        kind = OCCURRENCE if same else EXCEPTION
    else:
        kind = SINGLE
    event = RemoteEvent(
        external_id=item.get("id"),
        ical_uid=normalize_ical_uid(item.get("iCalUID")),
        summary=item.get("summary") or "",
        description=_description_text(item.get("description") or ""),
        location=item.get("location") or "",
        organizer_email=(item.get("organizer") or {}).get("email", ""),
        privacy=item.get("visibility") or "default",
        show_as="free" if item.get("transparency") == "transparent" else "busy",
        status=CANCELLED if status == "cancelled" else status,
        kind=kind,
        recurrence=list(item.get("recurrence") or []),
        series_id=item.get("recurringEventId"),
        etag=item.get("etag"),
        updated=_parse_time(item["updated"]) if item.get("updated") else None,
        timezone=start.get("timeZone") or "UTC",
        video_url=_video_url(item),
        raw=item,
    )
    original = item.get("originalStartTime") or {}
    if original.get("dateTime"):
        event.original_start = _parse_time(original["dateTime"])
    elif original.get("date"):
        event.original_start = dt.datetime.combine(dt.date.fromisoformat(original["date"]), dt.time.min, tzinfo=UTC)
    if "date" in start:
        event.all_day = True
        event.start_date = dt.date.fromisoformat(start["date"])
        end_date = dt.date.fromisoformat(end.get("date", start["date"]))
        event.end_date = max(event.start_date, end_date - dt.timedelta(days=1))
    elif "dateTime" in start:
        event.start = _parse_time(start["dateTime"])
        event.end = _parse_time(end.get("dateTime", start["dateTime"]))
    event.attendees = [
        Attendee(
            email=a.get("email", ""),
            name=a.get("displayName", ""),
            response=RESPONSES.get(a.get("responseStatus"), "needsAction"),
            organizer=bool(a.get("organizer")),
            optional=bool(a.get("optional")),
        )
        for a in item.get("attendees") or []
        if a.get("email") and not a.get("resource")
    ]
    organizer = item.get("organizer") or {}
    if organizer.get("email") and not any(a.email == organizer["email"].lower() for a in event.attendees):
        # a meeting without guests lists nobody; its organiser attends it
        event.attendees.insert(
            0,
            Attendee(
                email=organizer["email"], name=organizer.get("displayName", ""), response=ACCEPTED, organizer=True
            ),
        )
    for attendee in event.attendees:
        attendee.organizer = attendee.organizer or attendee.email == event.organizer_email
        if attendee.organizer and not attendee.name and attendee.email == (organizer.get("email") or "").lower():
            # the guest list may name the organiser without the name Google gives them apart
            attendee.name = organizer.get("displayName", "")
    own = next((a for a in item.get("attendees") or [] if a.get("self")), None)
    if own is not None:
        # Google marks the entry of the calendar this copy is in (``self``): its owner's answer
        event.own_response = RESPONSES.get(own.get("responseStatus"), "needsAction")
    return event


# Google keeps what its editor made as HTML in the description ("<b>Agenda</b><br>..."); other
# clients write plain text there
_HTML_MARKUP = re.compile(r"<\s*(br|p|div|span|b|i|u|a|ul|ol|li|strong|em)\b[^>]*>", re.I)


def _description_text(description: str) -> str:
    """A Google description as plain text (what RemoteEvent carries)."""
    return html_to_text(description) if _HTML_MARKUP.search(description) else description


def _video_url(item: dict) -> str:
    """The address to join the event's conference: Google's ``hangoutLink`` (a Meet link) or the
    ``conferenceData`` entry point of type ``video`` (any conference solution); "" while the
    conference is being made (its ``createRequest`` status ``pending``) or when there is none."""
    conference = item.get("conferenceData") or {}
    for entry in conference.get("entryPoints") or []:
        if isinstance(entry, dict) and entry.get("entryPointType") == "video" and entry.get("uri"):
            return str(entry["uri"])
    return str(item.get("hangoutLink") or "")


def conference_request() -> dict:
    """``conferenceData`` asking Google to make a Meet conference for the event.

    Google makes it only when the request carries ``conferenceDataVersion=1`` (with 0, the
    default, it ignores ``conferenceData``); ``requestId`` is new for each request (Google ignores
    a request repeating the id of an earlier one: a retried request makes one conference)."""
    return {"createRequest": {"requestId": secrets.token_hex(16), "conferenceSolutionKey": {"type": "hangoutsMeet"}}}


def to_google(event: RemoteEvent) -> dict:
    """RemoteEvent -> Google event JSON (for insert and patch)."""
    body = {
        "summary": event.summary or "",
        "description": event.description or "",
        "location": event.location or "",
        "visibility": event.privacy or "default",
        "transparency": "transparent" if event.show_as == "free" else "opaque",
        "attendees": [
            {"email": a.email, **({"displayName": a.name} if a.name else {}), "responseStatus": a.response}
            | ({"optional": True} if a.optional else {})
            for a in event.attendees
        ],
    }
    if event.all_day:
        body["start"] = {"date": event.start_date.isoformat()}
        body["end"] = {"date": (event.end_date + dt.timedelta(days=1)).isoformat()}
    else:
        tz_name = event.timezone or "UTC"
        body["start"] = {
            "dateTime": event.start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "timeZone": tz_name,
        }
        body["end"] = {"dateTime": event.end.astimezone(UTC).isoformat().replace("+00:00", "Z"), "timeZone": tz_name}
    if event.recurrence and event.kind == MASTER:
        body["recurrence"] = list(event.recurrence)
    if event.ical_uid and not event.external_id:
        body["iCalUID"] = event.ical_uid
    if event.video_call and not event.video_url:
        body["conferenceData"] = conference_request()
    return body


def _conference_version(body: dict) -> dict:
    """The query parameter that makes Google read ``conferenceData`` (only when the body has it)."""
    return {"conferenceDataVersion": 1} if "conferenceData" in body else {}


# ---------------------------------------------------------------------------
# provider
# ---------------------------------------------------------------------------
_THREAD_SERVICES = threading.local()


class _CountingHttp(httplib2.Http):
    def __init__(self, provider, **kw):
        super().__init__(**kw)
        self._provider = provider
        # the providers of one thread share their kept-alive connections (no new TCP and TLS
        # handshake per account); a connection carries no credentials, each request its own
        self.connections = _THREAD_SERVICES.__dict__.setdefault("connections", {})

    def request(self, *args, **kwargs):
        self._provider.requests += 1
        return super().request(*args, **kwargs)


class _SharedService:
    """``discovery.build(...)`` for one provider, built once per thread and endpoint.

    Building the Calendar client costs milliseconds and so does each resource
    (``events()`` renders its methods' documentation): paid once per thread instead of
    per account and per request. Each resource is handed out with this provider's
    authorised http set on it; the request built from it right away, in the same
    thread, keeps that http, so providers never see each other's credentials.
    """

    def __init__(self, http, api_endpoint):
        self._http, self._api_endpoint = http, api_endpoint

    def __getattr__(self, name):
        def resource():
            cache = _THREAD_SERVICES.__dict__.setdefault("services", {})
            if self._api_endpoint not in cache:
                service = discovery.build(
                    "calendar",
                    "v3",
                    http=self._http,
                    static_discovery=True,
                    cache_discovery=False,
                    client_options={"api_endpoint": self._api_endpoint},
                )
                cache[self._api_endpoint] = (service, {})
            service, resources = cache[self._api_endpoint]
            if name not in resources:
                resources[name] = getattr(service, name)()
            found = resources[name]
            found._http = self._http
            return found

        return resource


class GoogleProvider(CalendarProvider):
    name = "google"

    def __init__(
        self,
        credentials: dict,
        *,
        client_id: str,
        client_secret: str,
        token_uri: str = TOKEN_URI,
        api_endpoint: str = API_ENDPOINT,
        calendar_id: str = "primary",
        timeout: float = 30,
        page_size: int = PAGE_SIZE,
        retry_delay: float = 0.5,
        on_credentials_changed=None,
        label: str = "",
    ):
        super().__init__(on_credentials_changed=on_credentials_changed, label=label)
        self.calendar_id = calendar_id
        self.page_size = page_size
        self.retry_delay = retry_delay
        expiry = credentials.get("expiry")
        self.credentials = google.oauth2.credentials.Credentials(
            token=credentials.get("access_token"),
            refresh_token=credentials.get("refresh_token"),
            token_uri=token_uri,
            client_id=client_id,
            client_secret=client_secret,
            scopes=(credentials.get("scope") or " ".join(SCOPES)).split(),
            expiry=dt.datetime.fromisoformat(expiry) if expiry else None,
        )
        self._token = credentials.get("access_token")
        self._scope = credentials.get("scope")
        http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=_CountingHttp(self, timeout=timeout))
        self.service = _SharedService(http, api_endpoint)

    # -- plumbing ----------------------------------------------------------
    def _execute(self, request, *, if_match: Optional[str] = None):
        if if_match:
            request.headers["If-Match"] = if_match

        def run():
            try:
                return request.execute(num_retries=0)
            except gerrors.HttpError as exc:
                raise _typed(exc) from None
            except google.auth.exceptions.RefreshError:
                raise errors.AuthRevoked(code="google_access_revoked") from None
            except (httplib2.HttpLib2Error, OSError):
                raise errors.Unavailable() from None
            finally:
                self._report_credentials()

        return call_with_retry(run, base_delay=self.retry_delay, max_delay=max(self.retry_delay * 16, 0.01))

    def _report_credentials(self):
        if self.credentials.token and self.credentials.token != self._token:
            self._token = self.credentials.token
            expiry = self.credentials.expiry
            self.on_credentials_changed(
                {
                    "access_token": self.credentials.token,
                    "refresh_token": self.credentials.refresh_token,
                    "expiry": expiry.replace(tzinfo=None).isoformat() if expiry else None,
                    "scope": self._scope,
                }
            )

    # -- reading -------------------------------------------------------
    def primary_calendar_email(self) -> str:
        data = self._execute(self.service.calendars().get(calendarId=self.calendar_id))
        return (data.get("id") or "").lower()

    def list_changes(self, state, window):
        return self._list_all_pages(state, window)

    def list_page(self, state, window, page=None):
        params = {
            "calendarId": self.calendar_id,
            "singleEvents": True,
            "showDeleted": True,
            "maxResults": self.page_size,
        }
        if state:
            params["syncToken"] = state
        else:
            params["timeMin"] = window.start.astimezone(UTC).isoformat().replace("+00:00", "Z")
            params["timeMax"] = window.end.astimezone(UTC).isoformat().replace("+00:00", "Z")
        if page:
            params["pageToken"] = page
        changes = ChangeSet(full=not state)
        data = self._execute(self.service.events().list(**params))
        changes.requests += 1
        for event in convert_each(
            data.get("items", []), from_google, changes, provider="Google", account=self.label or self.calendar_id
        ):
            if event.cancelled and not state:
                continue  # a full listing keeps only what exists
            if event.cancelled:
                changes.deleted_ids.append(event.external_id)
            else:
                changes.events.append(event)
        changes.next_page = data.get("nextPageToken")
        changes.complete = not changes.next_page
        if not changes.next_page:
            changes.next_state = data.get("nextSyncToken")
        return changes

    def get_event(self, external_id):
        return from_google(self._execute(self.service.events().get(calendarId=self.calendar_id, eventId=external_id)))

    # -- writing -------------------------------------------------------
    def create_event(self, event, *, send_invitations=False, idempotency_key=None):
        if idempotency_key:
            event = event.replace(create_key=idempotency_key)
        body = to_google(event)
        key = event.idempotency_key
        if key:
            body["id"] = google_event_id(key)
        send = "all" if send_invitations else "none"
        try:
            return from_google(
                self._execute(
                    self.service.events().insert(
                        calendarId=self.calendar_id, body=body, sendUpdates=send, **_conference_version(body)
                    )
                )
            )
        except errors.AlreadyExists:
            if not key:
                raise
        # an earlier attempt made it (its answer was lost), or the calendar has the UID already
        try:
            existing = self._execute(self.service.events().get(calendarId=self.calendar_id, eventId=body["id"]))
        except errors.NotFound:
            existing = None
        if existing is not None:
            # ours: bring it to this content (and back to life if it was deleted since)
            patch = {k: v for k, v in body.items() if k not in ("id", "iCalUID")}
            if _video_url(existing):
                patch.pop("conferenceData", None)  # the first attempt made the conference
            patch["status"] = "confirmed"
            request = self.service.events().patch(
                calendarId=self.calendar_id,
                eventId=body["id"],
                body=patch,
                sendUpdates=send,
                **_conference_version(patch),
            )
            return from_google(self._execute(request))
        if event.ical_uid:
            found = self._execute(
                self.service.events().list(calendarId=self.calendar_id, iCalUID=body.get("iCalUID", event.ical_uid))
            )
            for item in found.get("items", []):
                if item.get("status") != "cancelled":
                    return from_google(item)
        raise errors.SyncError(code="google_duplicate_missing")

    def update_event(self, external_id, event, *, etag=None, send_invitations=False):
        body = to_google(event)
        body.pop("iCalUID", None)
        if event.is_instance or "_" in external_id:
            body.pop("recurrence", None)
        request = self.service.events().patch(
            calendarId=self.calendar_id,
            eventId=external_id,
            body=body,
            sendUpdates="all" if send_invitations else "none",
            **_conference_version(body),
        )
        return update_or_landed(
            lambda: from_google(self._execute(request, if_match=etag)), lambda: self.get_event(external_id), event
        )

    def delete_event(self, external_id, *, etag=None, send_invitations=False):
        request = self.service.events().delete(
            calendarId=self.calendar_id, eventId=external_id, sendUpdates="all" if send_invitations else "none"
        )
        delete_ignoring_missing(lambda: self._execute(request, if_match=etag))

    def respond_event(self, external_id, response):
        """Google takes a guest's answer as a patch of their copy's ``attendees`` in which their
        own entry (``self``) carries the ``responseStatus``; Google tells the organiser."""
        current = self._execute(self.service.events().get(calendarId=self.calendar_id, eventId=external_id))
        attendees = [dict(a) for a in current.get("attendees") or []]
        own = next((a for a in attendees if a.get("self")), None)
        if own is None:
            raise errors.Forbidden(code="not_invited")
        own["responseStatus"] = response
        request = self.service.events().patch(
            calendarId=self.calendar_id,
            eventId=external_id,
            body={"attendees": attendees},
            sendUpdates="all",
        )
        return from_google(self._execute(request, if_match=current.get("etag")))

    # -- free/busy -----------------------------------------------------
    def free_busy(self, emails, start, end):
        emails = list(emails)
        body = {
            "timeMin": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "timeMax": end.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "items": [{"id": e} for e in emails],
        }
        data = self._execute(self.service.freebusy().query(body=body))
        result = {}
        for email in emails:
            entry = (data.get("calendars") or {}).get(email) or {}
            result[email] = [
                BusyInterval(_parse_time(b["start"]), _parse_time(b["end"])) for b in entry.get("busy", [])
            ]
        return result

    def check_connection(self):
        self.primary_calendar_email()

    # -- push notifications (watch channels) ---------------------------
    def watch(self, channel_id: str, address: str, token: str, ttl: int = WATCH_TTL) -> dict:
        """Open a watch channel on the calendar's events (``events.watch``).

        Google then POSTs an empty message to ``address`` whenever an event changes, with
        ``X-Goog-Channel-ID`` = ``channel_id`` and ``X-Goog-Channel-Token`` = ``token``.
        A channel cannot be renewed: open a new one before it expires, then stop the old.
        Returns ``{"channel_id", "resource_id", "expiration"}`` (aware UTC datetime).
        """
        body = {"id": channel_id, "type": "web_hook", "address": address, "token": token, "params": {"ttl": str(ttl)}}
        data = self._execute(self.service.events().watch(calendarId=self.calendar_id, body=body))
        expiration = data.get("expiration")
        return {
            "channel_id": data.get("id") or channel_id,
            "resource_id": data.get("resourceId") or "",
            "expiration": (
                dt.datetime.fromtimestamp(int(expiration) / 1000, UTC)
                if expiration
                else dt.datetime.now(UTC) + dt.timedelta(seconds=ttl)
            ),
        }

    def stop_watch(self, channel_id: str, resource_id: str) -> None:
        """Close a watch channel (``channels.stop``); one Google no longer knows counts as closed."""
        request = self.service.channels().stop(body={"id": channel_id, "resourceId": resource_id})
        delete_ignoring_missing(lambda: self._execute(request))


def _typed(exc: gerrors.HttpError) -> errors.SyncError:
    status = exc.resp.status
    try:
        payload = json.loads(exc.content.decode() or "{}")
    except ValueError:
        payload = {}
    # a body that is not Google's error shape (a proxy's page, a list) is no reason at all
    error = payload.get("error") if isinstance(payload, dict) else None
    error = error if isinstance(error, dict) else {}
    items = error.get("errors") if isinstance(error.get("errors"), list) else []
    error = dict(error, errors=[e for e in items if isinstance(e, dict)])
    reasons = {e.get("reason") for e in error["errors"]}
    retry_after = parse_retry_after(exc.resp.get("retry-after"))
    if status == 429 or (status == 403 and reasons & {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}):
        return errors.RateLimited(status=status, retry_after=retry_after)
    if status == 410 and "deleted" not in reasons:
        return errors.SyncStateExpired(status=status)
    if status in (404, 410):
        return errors.NotFound(status=status)
    if status == 412:
        return errors.Conflict(status=status)
    if status == 409:
        return errors.AlreadyExists(status=status)
    if status == 401:
        return errors.AuthRevoked(code="google_access_revoked", status=status)
    if status == 403:
        return errors.Forbidden(code="google_forbidden", status=status)
    if status >= 500 or status == 408:
        return errors.Unavailable(status=status, retry_after=retry_after)
    # any other 4xx (400 badRequest / invalid, 422...): this request is wrong, the same one fails
    # again, so it is not retried; the reason is Google's keyword, never its free text
    reason = next((r for r in (e.get("reason") for e in error.get("errors", [])) if isinstance(r, str)), "")
    return errors.BadRequest(code="google_refused", status=status, error=error_keyword(reason, status))
