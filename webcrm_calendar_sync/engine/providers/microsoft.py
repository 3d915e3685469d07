"""Microsoft 365 through Microsoft Graph (requests) with msal for the tokens.

Reading uses ``/me/calendarView/delta`` over the sync window, in UTC and with
immutable ids: occurrences come one by one, so one occurrence can be changed alone.

Invitations: Graph has no "don't notify" switch — an organiser's meeting that has
attendees is sent to them. So a plain save writes the meeting to the organiser's
calendar *without* its other attendees (they stay in Odoo), and "Save and send
invitation" adds them, which makes Exchange Online invite them. Once a meeting has
been sent, later changes reach its attendees as updates, as in Outlook.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import urllib.parse
import warnings
from zoneinfo import ZoneInfo

import msal
import requests

from .. import errors
from ..events import (
    ACCEPTED,
    BAD_DATE,
    CANCELLED,
    DECLINED,
    EXCEPTION,
    MASTER,
    NO_START,
    OCCURRENCE,
    SINGLE,
    TENTATIVE_RESPONSE,
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
from ..timezones import iana_zone, windows_zone  # noqa: F401 - iana_zone: part of this module's interface

AUTHORITY_HOST = DEFAULT_ENDPOINTS["microsoft"]["authority_host"]
GRAPH_ENDPOINT = DEFAULT_ENDPOINTS["microsoft"]["graph_endpoint"]
SCOPES = ["Calendars.ReadWrite", "User.Read"]
PAGE_SIZE = 500

# msal keeps discovery answers (OpenID configuration, instance metadata) here, so a
# sync with nothing new costs one Graph request, not a discovery round trip as well.
_HTTP_CACHE = {}


def _verify(session, verify):
    """Use ``verify`` (True, or a CA bundle for a private endpoint) for every call of ``session``."""
    session.verify = verify
    if verify is not True:
        # requests would otherwise let REQUESTS_CA_BUNDLE from the environment win
        session.trust_env = False


# ---------------------------------------------------------------------------
# OAuth helpers (msal authorization code flow with PKCE)
# ---------------------------------------------------------------------------
def _app(client_id, client_secret, authority, cache=None, verify=True, session=None):
    if session is None:
        session = requests.Session()
        _verify(session, verify)
    try:
        return msal.ConfidentialClientApplication(
            client_id,
            client_credential=client_secret,
            authority=authority,
            token_cache=cache,
            http_client=session,
            http_cache=_HTTP_CACHE,
            instance_discovery=authority.startswith(AUTHORITY_HOST),
        )
    except (ValueError, requests.RequestException) as exc:
        raise errors.ConfigurationError(code="microsoft_signin_unusable") from exc


def build_auth_flow(client_id, client_secret, authority, redirect_uri, login_hint, scopes=SCOPES, verify=True):
    """msal's auth-code flow (state, PKCE); send the browser to ``flow['auth_uri']``."""
    app = _app(client_id, client_secret, authority, verify=verify)
    with warnings.catch_warnings():
        # msal suggests form_post; the return route takes the code from the query string,
        # protected by msal's state and PKCE
        warnings.simplefilter("ignore", UserWarning)
        return app.initiate_auth_code_flow(list(scopes), redirect_uri=redirect_uri, login_hint=login_hint)


def complete_auth_flow(flow, query_params, client_id, client_secret, authority, verify=True):
    """Finish the flow with the redirect's query; returns the serialized token cache."""
    cache = msal.SerializableTokenCache()
    app = _app(client_id, client_secret, authority, cache=cache, verify=verify)
    try:
        result = app.acquire_token_by_auth_code_flow(flow, dict(query_params))
    except ValueError:
        raise errors.AuthRevoked(code="microsoft_signin_mismatch") from None
    except requests.RequestException:
        raise errors.Unavailable(code="microsoft_signin_unreachable") from None
    if "error" in result:
        if result.get("error") == "invalid_client":
            raise errors.ConfigurationError(code="microsoft_client_refused")
        raise errors.AuthRevoked(code="microsoft_not_granted")
    claims = result.get("id_token_claims") or {}
    return cache.serialize(), (claims.get("preferred_username") or claims.get("email") or "").lower()


# ---------------------------------------------------------------------------
# mapping
# ---------------------------------------------------------------------------
RESPONSES = {
    "none": "needsAction",
    "notResponded": "needsAction",
    "accepted": "accepted",
    "organizer": "accepted",
    "declined": "declined",
    "tentativelyAccepted": "tentative",
}
#: Graph's action for each answer of an invitee (POST /me/events/{id}/<action>)
RESPOND_ACTIONS = {ACCEPTED: "accept", DECLINED: "decline", TENTATIVE_RESPONSE: "tentativelyAccept"}
TO_RESPONSE = {
    "needsAction": "none",
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentativelyAccepted",
}
SENSITIVITY = {"normal": "default", "personal": "private", "private": "private", "confidential": "confidential"}


def parse_graph_datetime(node: dict) -> dt.datetime:
    """A Graph dateTimeTimeZone node -> aware UTC datetime."""
    value = node["dateTime"].rstrip("Z")
    if "." in value:
        head, frac = value.split(".", 1)
        value = f"{head}.{frac[:6]}"
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(iana_zone(node.get("timeZone") or "UTC")))
    return parsed.astimezone(UTC)


def _graph_day(node: dict) -> dt.date:
    """The date of a dateTimeTimeZone node, as written (an all-day meeting's day)."""
    return dt.date.fromisoformat(node["dateTime"][:10])


def _lastmod(value):
    if not value:
        return None
    value = value.rstrip("Z")
    if "." in value:
        head, frac = value.split(".", 1)
        value = f"{head}.{frac[:6]}"
    return dt.datetime.fromisoformat(value).replace(tzinfo=UTC)


def from_graph(item: dict) -> RemoteEvent:
    """A Graph event -> RemoteEvent (:class:`InvalidEvent` when it has no readable start/end)."""
    if "@removed" in item:
        return RemoteEvent(external_id=item["id"], status=CANCELLED)
    try:
        if not (item.get("start") or {}).get("dateTime"):
            raise InvalidEvent(NO_START, item.get("id"))
        return _from_graph(item)
    except (ValueError, TypeError, KeyError, AttributeError, InvalidEvent) as exc:
        if item.get("isCancelled"):
            # a cancelled meeting needs no dates: it is removed
            return RemoteEvent(external_id=item.get("id"), status=CANCELLED)
        if isinstance(exc, InvalidEvent):
            raise
        raise InvalidEvent(BAD_DATE, item.get("id")) from None


def _from_graph(item: dict) -> RemoteEvent:
    kind = {"seriesMaster": MASTER, "occurrence": OCCURRENCE, "exception": EXCEPTION}.get(item.get("type"), SINGLE)
    organizer = ((item.get("organizer") or {}).get("emailAddress") or {}).get("address", "")
    event = RemoteEvent(
        external_id=item["id"],
        ical_uid=normalize_ical_uid(item.get("iCalUId")),
        summary=item.get("subject") or "",
        description=_body_text(item.get("body") or {}),
        location=((item.get("location") or {}).get("displayName")) or "",
        organizer_email=organizer,
        privacy=SENSITIVITY.get(item.get("sensitivity") or "normal", "default"),
        show_as="free" if item.get("showAs") == "free" else "busy",
        status=CANCELLED if item.get("isCancelled") else "confirmed",
        kind=kind,
        series_id=item.get("seriesMasterId"),
        etag=item.get("changeKey"),
        updated=_lastmod(item.get("lastModifiedDateTime")),
        create_key=item.get("transactionId") or None,
        timezone=iana_zone(item.get("originalStartTimeZone")),
        # Graph's onlineMeeting (an onlineMeetingInfo) once the event is an online meeting
        video_url=str((item.get("onlineMeeting") or {}).get("joinUrl") or ""),
        raw=item,
    )
    if item.get("originalStart"):
        event.original_start = dt.datetime.fromisoformat(item["originalStart"].replace("Z", "+00:00"))
    if item.get("isAllDay"):
        # Graph lists an all-day meeting from midnight to midnight whatever the time zone (the
        # one the request asked for, UTC here): its days are the dates written, never a
        # midnight converted to another clock (a day early west of UTC)
        event.all_day = True
        event.start_date = _graph_day(item["start"])
        after = _graph_day(item["end"]) if (item.get("end") or {}).get("dateTime") else event.start_date
        event.end_date = max(event.start_date, after - dt.timedelta(days=1))
    else:
        event.start = parse_graph_datetime(item["start"])
        event.end = parse_graph_datetime(item["end"]) if (item.get("end") or {}).get("dateTime") else event.start
    event.attendees = [
        Attendee(
            email=(a.get("emailAddress") or {}).get("address", ""),
            name=(a.get("emailAddress") or {}).get("name", ""),
            response=RESPONSES.get((a.get("status") or {}).get("response") or "none", "needsAction"),
            optional=a.get("type") == "optional",
        )
        for a in item.get("attendees") or []
        if (a.get("emailAddress") or {}).get("address") and a.get("type") != "resource"
    ]
    # Graph lists the organiser apart from the attendees: the neutral event lists everyone
    # who attends, the organiser first, with their own answer (accepted unless Graph says)
    if organizer:
        known = next((a for a in event.attendees if a.email == organizer.lower()), None)
        if known is not None:
            known.organizer = True
        else:
            response = ACCEPTED
            if item.get("isOrganizer"):
                own = (item.get("responseStatus") or {}).get("response") or "organizer"
                response = RESPONSES.get(own, ACCEPTED)
            name = ((item.get("organizer") or {}).get("emailAddress") or {}).get("name", "")
            event.attendees.insert(0, Attendee(email=organizer, name=name, response=response, organizer=True))
    if item.get("isOrganizer") is False:
        # an invitee's copy: Graph keeps the owner's answer in the event's own responseStatus and
        # lists every attendee as "none" there, which says nothing of their answers
        own = (item.get("responseStatus") or {}).get("response") or "none"
        event.own_response = RESPONSES.get(own, "needsAction")
        event.responses_known = False
    return event


def _body_text(body):
    content = body.get("content") or ""
    if body.get("contentType") == "html":
        return html_to_text(content)
    return content


def to_graph(event: RemoteEvent, *, with_attendees=True) -> dict:
    body = {
        "subject": event.summary or "",
        "body": {"contentType": "text", "content": event.description or ""},
        "location": {"displayName": event.location or ""},
        "sensitivity": {"private": "private", "confidential": "confidential"}.get(event.privacy, "normal"),
        "showAs": "free" if event.show_as == "free" else "busy",
        "isAllDay": bool(event.all_day),
    }
    if event.all_day:
        # midnight to midnight, both in one zone (as Graph requires of isAllDay): the user's own,
        # so that Outlook shows the meeting on these days on the user's clock
        zone = windows_zone(event.timezone)
        body["start"] = {"dateTime": f"{event.start_date.isoformat()}T00:00:00", "timeZone": zone}
        end = event.end_date + dt.timedelta(days=1)
        body["end"] = {"dateTime": f"{end.isoformat()}T00:00:00", "timeZone": zone}
    else:
        body["start"] = {"dateTime": event.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}
        body["end"] = {"dateTime": event.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}
    if event.video_call and not event.video_url:
        # Graph then makes the Teams meeting and answers with its onlineMeeting.joinUrl
        body["isOnlineMeeting"] = True
        body["onlineMeetingProvider"] = "teamsForBusiness"
    if with_attendees:
        organizer = (event.organizer_email or "").lower()
        body["attendees"] = [
            {
                "emailAddress": {"address": a.email, **({"name": a.name} if a.name else {})},
                "type": "optional" if a.optional else "required",
            }
            for a in event.attendees
            if a.email != organizer
        ]
    return body


def transaction_id(key: str) -> str:
    """Graph's ``transactionId`` for a create keyed ``key``: the key when it is short and
    plain (a uuid4 hex is), else a short, stable hash of it."""
    if _PLAIN_KEY.match(key):
        return key
    return "odoo-" + hashlib.sha256(key.encode()).hexdigest()[:32]


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _differs(answer: dict, body: dict) -> bool:
    """Whether the event Graph answered is not the one ``body`` asks for (an older attempt's)."""
    if (answer.get("subject") or "") != body["subject"] or bool(answer.get("isAllDay")) != body["isAllDay"]:
        return True
    if ((answer.get("location") or {}).get("displayName") or "") != body["location"]["displayName"]:
        return True
    try:
        if body["isAllDay"]:
            return any(_graph_day(answer[k]) != _graph_day(body[k]) for k in ("start", "end"))
        return any(parse_graph_datetime(answer[k]) != parse_graph_datetime(body[k]) for k in ("start", "end"))
    except (KeyError, ValueError, TypeError):
        return True


# ---------------------------------------------------------------------------
# provider
# ---------------------------------------------------------------------------
class MicrosoftProvider(CalendarProvider):
    name = "microsoft"

    def __init__(
        self,
        token_cache: str,
        *,
        client_id: str,
        client_secret: str,
        email: str,
        authority: str = f"{AUTHORITY_HOST}/organizations",
        graph_endpoint: str = GRAPH_ENDPOINT,
        timeout: float = 30,
        verify=True,
        page_size: int = PAGE_SIZE,
        retry_delay: float = 0.5,
        on_credentials_changed=None,
        label: str = "",
    ):
        super().__init__(on_credentials_changed=on_credentials_changed, label=label)
        self.email = (email or "").lower()
        self.graph = graph_endpoint.rstrip("/")
        self.timeout = timeout
        self.page_size = page_size
        self.retry_delay = retry_delay
        self.session = requests.Session()
        _verify(self.session, verify)
        self.session.hooks["response"].append(self._count)
        self.cache = msal.SerializableTokenCache()
        if token_cache:
            self.cache.deserialize(token_cache if isinstance(token_cache, str) else json.dumps(token_cache))
        self._app_args = (client_id, client_secret, authority)
        self._app = None
        self._token = None

    def _count(self, response, *args, **kwargs):
        self.requests += 1

    def _event(self, item) -> RemoteEvent:
        """from_graph, knowing whose calendar this is."""
        event = from_graph(item)
        if (
            not event.cancelled
            and event.organizer_email == self.email
            and not any(a.email != self.email for a in event.attendees)
        ):
            # a meeting saved without sending invitations carries no attendees in Microsoft
            # 365 (see the module's docstring): its attendees are the ones Odoo has
            event.attendees_authoritative = False
        if event.own_response:
            for attendee in event.attendees:
                if attendee.email == self.email:
                    attendee.response = event.own_response
        return event

    @property
    def app(self):
        if self._app is None:
            client_id, client_secret, authority = self._app_args
            self._app = _app(client_id, client_secret, authority, cache=self.cache, session=self.session)
        return self._app

    def _access_token(self, force_refresh=False):
        """The access token; ``force_refresh`` redeems the refresh token even if msal's cached
        access token has not expired (Graph refused it)."""
        if self._token and not force_refresh:
            return self._token
        accounts = [a for a in self.app.get_accounts() if (a.get("username") or "").lower() == self.email]
        accounts = accounts or self.app.get_accounts()
        try:
            result = (
                self.app.acquire_token_silent(SCOPES, account=accounts[0], force_refresh=force_refresh)
                if accounts
                else None
            )
        except requests.RequestException:
            raise errors.Unavailable() from None
        if not result or "access_token" not in result:
            raise errors.AuthRevoked(code="microsoft_grant_expired")
        if self.cache.has_state_changed:
            self.on_credentials_changed(self.cache.serialize())
            self.cache.has_state_changed = False
        self._token = result["access_token"]
        return self._token

    def _request(self, method, url, *, json_body=None, params=None, headers=None, expect_json=True):
        if not url.startswith("http"):
            url = self.graph + url

        def send(token):
            all_headers = {
                "Authorization": f"Bearer {token}",
                "Prefer": f'outlook.timezone="UTC", IdType="ImmutableId", odata.maxpagesize={self.page_size}',
                **(headers or {}),
            }
            try:
                return self.session.request(
                    method, url, json=json_body, params=params, headers=all_headers, timeout=self.timeout
                )
            except requests.RequestException:
                raise errors.Unavailable() from None

        def run():
            response = send(self._access_token())
            if response.status_code == 401:
                # a refused access token is not a revoked grant: refresh once (the refresh token
                # may still work) and try again; only a refused refresh or a second 401 decides
                self._token = None
                response = send(self._access_token(force_refresh=True))
            if response.status_code == 401:
                self._token = None
                raise errors.AuthRevoked(code="microsoft_access_revoked", status=401)
            if response.status_code >= 400:
                raise _typed(response)
            if not expect_json or response.status_code == 204:
                return None
            return response.json()

        return call_with_retry(run, base_delay=self.retry_delay, max_delay=max(self.retry_delay * 16, 0.01))

    # -- reading -------------------------------------------------------
    def list_changes(self, state, window):
        return self._list_all_pages(state, window)

    def list_page(self, state, window, page=None):
        if page:
            url, params = page, None  # the nextLink carries the query it continues
        elif state:
            url, params = state, None
        else:
            url = "/me/calendarView/delta"
            params = {
                "startDateTime": window.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endDateTime": window.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        changes = ChangeSet(full=not state)
        data = self._request("GET", url, params=params)
        changes.requests += 1
        for event in convert_each(
            data.get("value", []), self._event, changes, provider="Microsoft 365", account=self.label or self.email
        ):
            if event.cancelled:
                if state:
                    changes.deleted_ids.append(event.external_id)
                continue
            if event.kind == MASTER:
                continue  # its occurrences come one by one
            changes.events.append(event)
        changes.next_page = data.get("@odata.nextLink")
        changes.complete = not changes.next_page
        if not changes.next_page:
            changes.next_state = data.get("@odata.deltaLink")
        return changes

    def count_events(self, window):
        """The size of the window's calendar view (``$count=true``, ``@odata.count``): its
        occurrences and single events, as the delta listing gives them, in one small request."""
        data = self._request(
            "GET",
            "/me/calendarView",
            params={
                "startDateTime": window.start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "endDateTime": window.end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "$count": "true",
                "$top": "1",
                "$select": "id",
            },
        )
        count = data.get("@odata.count")
        return count if isinstance(count, int) and count >= 0 else None

    def get_event(self, external_id):
        return self._event(self._request("GET", f"/me/events/{urllib.parse.quote(external_id)}"))

    # -- writing -------------------------------------------------------
    def create_event(self, event, *, send_invitations=False, idempotency_key=None):
        if idempotency_key:
            event = event.replace(create_key=idempotency_key)
        body = to_graph(event, with_attendees=send_invitations)
        key = event.idempotency_key
        if key:
            # Graph answers a POST repeating a transactionId with the event the first one made
            body["transactionId"] = transaction_id(key)
        answer = self._request("POST", "/me/events", json_body=body)
        if key and _differs(answer, body):
            # the first attempt's event, made from an older version of the meeting
            answer = self._request(
                "PATCH",
                f"/me/events/{urllib.parse.quote(answer['id'])}",
                json_body={k: v for k, v in body.items() if k != "transactionId"},
            )
        return self._event(answer)

    def update_event(self, external_id, event, *, etag=None, send_invitations=False):
        invited = send_invitations
        if not send_invitations:
            # a meeting not yet sent stays without its attendees; one already sent keeps them
            current = self.get_event(external_id)
            invited = any(a.email != self.email for a in current.attendees)
        body = to_graph(event, with_attendees=invited)
        headers = {"If-Match": f'W/"{etag}"'} if etag else None
        path = f"/me/events/{urllib.parse.quote(external_id)}"
        return update_or_landed(
            lambda: self._event(self._request("PATCH", path, json_body=body, headers=headers)),
            lambda: self.get_event(external_id),
            event,
        )

    def delete_event(self, external_id, *, etag=None, send_invitations=False):
        delete_ignoring_missing(
            lambda: self._request("DELETE", f"/me/events/{urllib.parse.quote(external_id)}", expect_json=False)
        )

    def respond_event(self, external_id, response):
        action = RESPOND_ACTIONS[response]
        path = f"/me/events/{urllib.parse.quote(external_id)}"
        # Graph answers 202 without a body; the copy is read back for its new change key
        self._request("POST", f"{path}/{action}", json_body={"sendResponse": True}, expect_json=False)
        try:
            return self.get_event(external_id)
        except errors.NotFound:
            return None  # answered, and the copy left the calendar (a decline may take it away)

    def free_busy(self, emails, start, end):
        emails = list(emails)
        body = {
            "schedules": emails,
            "startTime": {"dateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "endTime": {"dateTime": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "availabilityViewInterval": 30,
        }
        data = self._request("POST", "/me/calendar/getSchedule", json_body=body)
        result = {email: [] for email in emails}
        for schedule in data.get("value", []):
            key = next((e for e in emails if e.lower() == schedule.get("scheduleId", "").lower()), None)
            if key is None:
                continue
            result[key] = [
                BusyInterval(parse_graph_datetime(i["start"]), parse_graph_datetime(i["end"]), i.get("status", "busy"))
                for i in schedule.get("scheduleItems", [])
                if i.get("status") != "free"
            ]
        return result

    def check_connection(self):
        self._request("GET", "/me")

    # -- push notifications (change subscriptions) ---------------------
    def subscribe_changes(
        self, address: str, client_state: str, expiration: dt.datetime, lifecycle_address: str = ""
    ) -> dict:
        """Subscribe to changes of the user's events (``POST /subscriptions``).

        Before answering, Graph checks ``address`` (and ``lifecycle_address``) by POSTing
        ``?validationToken=...`` to it, which must be echoed at once as text/plain. Graph then
        POSTs a JSON list of notifications, each with the subscription's id and ``clientState``;
        to ``lifecycle_address``, when given, its lifecycle notifications (``lifecycleEvent``:
        ``reauthorizationRequired``, ``subscriptionRemoved``, ``missed``).
        Returns ``{"subscription_id", "expiration"}`` (aware UTC datetime).
        """
        body = {
            "changeType": "created,updated,deleted",
            "notificationUrl": address,
            "resource": "me/events",
            "expirationDateTime": _graph_instant(expiration),
            "clientState": client_state,
            "latestSupportedTlsVersion": "v1_2",
        }
        if lifecycle_address:
            body["lifecycleNotificationUrl"] = lifecycle_address
        return _subscription(self._request("POST", "/subscriptions", json_body=body), expiration)

    def renew_subscription(self, subscription_id: str, expiration: dt.datetime) -> dict:
        """Move a subscription's end (``PATCH /subscriptions/{id}``); NotFound once Graph dropped it."""
        path = f"/subscriptions/{urllib.parse.quote(subscription_id)}"
        data = self._request("PATCH", path, json_body={"expirationDateTime": _graph_instant(expiration)})
        return _subscription(data, expiration)

    def delete_subscription(self, subscription_id: str) -> None:
        """End a subscription (``DELETE /subscriptions/{id}``); one Graph no longer knows counts as ended."""
        path = f"/subscriptions/{urllib.parse.quote(subscription_id)}"
        delete_ignoring_missing(lambda: self._request("DELETE", path, expect_json=False))


def _graph_instant(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _subscription(data: dict, asked: dt.datetime) -> dict:
    try:
        # e.g. 2026-11-28T18:23:45.9356913Z: whole seconds are precise enough
        expiration = dt.datetime.strptime(data["expirationDateTime"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    except (KeyError, TypeError, ValueError, AttributeError):
        expiration = asked
    return {"subscription_id": data.get("id") or "", "expiration": expiration.astimezone(UTC)}


def _typed(response) -> errors.SyncError:
    status = response.status_code
    try:
        payload = response.json()
    except ValueError:
        payload = None
    # a body that is not Graph's error shape (a proxy's page, a list) has no code
    error = payload.get("error") if isinstance(payload, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    code = code if isinstance(code, str) else ""
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 429 or (status == 503 and retry_after is not None):
        return errors.RateLimited(status=status, retry_after=retry_after)
    if status == 410 or code in ("SyncStateNotFound", "resyncRequired", "SyncStateInvalid"):
        return errors.SyncStateExpired(status=status)
    if status == 404:
        return errors.NotFound(status=status)
    if status == 412 or code == "ErrorIrresolvableConflict":
        return errors.Conflict(status=status)
    if status == 403:
        return errors.Forbidden(code="microsoft_forbidden", status=status)
    if status >= 500 or status == 408:
        return errors.Unavailable(status=status, retry_after=retry_after)
    # any other 4xx (400 BadRequest / ErrorInvalidRequest, 409, 422...): this request is wrong,
    # the same one fails again, so it is not retried
    return errors.BadRequest(code="microsoft_refused", status=status, error=error_keyword(code, status))
