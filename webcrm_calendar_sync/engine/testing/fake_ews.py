"""A local Exchange Web Services endpoint for tests and benchmarks.

It answers the SOAP operations exchangelib sends for a calendar, in EWS's own XML:
version discovery (the ``ServerVersionInfo`` header of any answer, ``ConvertId``
as exchangelib's probe), ``GetFolder``, ``SyncFolderItems``, ``FindItem`` with a
``CalendarView`` (recurring series expanded, moved and deleted occurrences
included), ``GetItem``, ``CreateItem``, ``UpdateItem``, ``DeleteItem`` and
``GetUserAvailability``, with EWS's error answers (``ErrorServerBusy`` with a
back-off hint, ``ErrorInvalidSyncStateData``, ``ErrorIrresolvableConflict``,
``ErrorItemNotFound``, ``ErrorNonExistentMailbox``...).

Authentication is Basic or NTLM (NTLM checked by pyspnego's acceptor: the fake
writes the users to the file named by ``NTLM_USER_FILE``). It serves HTTPS with a
certificate made at start (``server.ca_file``) unless ``tls=False``.

Meeting responses, modelled on the EWS reference for ``AcceptItem``, ``DeclineItem`` and
``TentativelyAcceptItem`` (CreateItem with a ``ReferenceItemId`` naming the calendar item) and
for ``MyResponseType``: the organiser's item says ``Organizer``, an attendee's copy holds the
owner's own answer (``NoResponseReceived`` until they answer, then ``Accept``, ``Decline`` or
``Tentative``) and lists the attendees as ``Unknown``. A response sent (``SendOnly``,
``SendAndSaveCopy``) updates the attendee's ``ResponseType`` on the organiser's item when the
organiser's mailbox is on this server, else it is kept in ``replies``; the organiser's own
item cannot be answered (``ErrorInvalidReferenceItem``). :meth:`FakeEWS.reply` plays a reply
arriving from outside.

Plain Python, no ``odoo`` import. State lives in memory; ``requests``, ``log``
(operation, mailbox) and ``invitations`` (meeting requests and cancellations the
server would have sent) are there for assertions.
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import tempfile
import uuid
from xml.sax.saxutils import escape

from lxml import etree

from . import recurrence, store, wire_time
from .local_server import LocalServer

UTC = dt.timezone.utc
SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"
NS = {"s": SOAP, "m": M, "t": T}

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _now():
    return wire_time.now().replace(microsecond=0)


def _fmt(value: dt.datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_parse_dt = wire_time.parse_time


def _all_day_midnights(item):
    """EWS's rule for an all-day item ("Create all-day events by using EWS in Exchange",
    Microsoft Learn): a start that is not midnight on the clock of the item's time zone moves to
    the midnight before it, an end to the midnight after it. A zone the fake does not know is
    left as given."""
    if not item.get("all_day"):
        return
    try:
        clock = wire_time.zone(item.get("tz"))
    except ValueError:
        return
    start, end = item["start"].astimezone(clock), item["end"].astimezone(clock)
    first = dt.datetime.combine(start.date(), dt.time.min, tzinfo=clock)
    after = dt.datetime.combine(end.date(), dt.time.min, tzinfo=clock)
    if after < end:
        after = dt.datetime.combine(end.date() + dt.timedelta(days=1), dt.time.min, tzinfo=clock)
    item["start"], item["end"] = first.astimezone(UTC), after.astimezone(UTC)


def _local(tag):
    return etree.QName(tag).localname


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _unb64(text: str) -> str:
    return base64.b64decode(text.encode()).decode()


class EwsFault(Exception):
    """An answer other than a success: a SOAP fault, an error message, or an HTTP status."""

    def __init__(self, code, message="", *, http_status=200, back_off_ms=None, soap_fault=False):
        super().__init__(message or code)
        self.code, self.message = code, message or code
        self.http_status, self.back_off_ms, self.soap_fault = http_status, back_off_ms, soap_fault


class Mailbox:
    def __init__(self, email, password, username, domain, name):
        self.email, self.password, self.username, self.domain, self.name = email, password, username, domain, name
        self.items = {}  # item id -> dict
        self.tombstones = {}  # item id -> seq of its deletion
        self.folder_id = _b64(f"calendar:{email}")
        self.generation = 0  # bumped when the password changes: authenticated connections must log in again
        self.sync_generation = 0  # sync states of another generation are refused (ErrorInvalidSyncStateData)


class FakeEWS(LocalServer):
    """``server.url`` is the EWS endpoint (``https://127.0.0.1:<port>/EWS/Exchange.asmx``)."""

    error_class = EwsFault
    build = (15, 1, 2507, 6)  # Exchange Server 2016 CU
    version_name = "Exchange2016"

    def __init__(self, *, tls=True, auth=("ntlm", "basic"), domain="FAKE"):
        super().__init__()
        self.tls = tls
        self.auth_types = tuple(auth)
        self.domain = domain
        self.mailboxes = {}  # email -> Mailbox
        self.log = []  # (operation, mailbox email)
        self.invitations = []  # (kind, sender, [recipients], subject)
        self.replies = []  # responses sent to organisers outside: (organizer, uid, attendee, response)
        self._ntlm_file = None

    # -- set-up ------------------------------------------------------------
    @property
    def url(self):
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}/EWS/Exchange.asmx"

    def add_mailbox(self, email, password, *, username=None, name=None):
        email = email.lower()
        username = username or email.split("@")[0]
        with self.lock:
            self.mailboxes[email] = Mailbox(email, password, username, self.domain, name or username.title())
            self._write_ntlm_users()
        return self.mailboxes[email]

    def invalidate_sync_states(self, email):
        """Refuse every sync state handed out so far, as Exchange does after a mailbox move."""
        with self.lock:
            box = self.mailboxes[email.lower()]
            box.sync_generation += 1

    def set_password(self, email, password):
        with self.lock:
            box = self.mailboxes[email.lower()]
            box.password = password
            box.generation += 1
            self._write_ntlm_users()

    def _write_ntlm_users(self):
        if "ntlm" not in self.auth_types:
            return
        if not self._ntlm_file:
            handle, self._ntlm_file = tempfile.mkstemp(prefix="fake-ews-ntlm-")
            os.close(handle)
        lines = []
        for box in self.mailboxes.values():
            lines.append(f"{box.domain}:{box.username}:{box.password}")
            lines.append(f":{box.username}:{box.password}")
            lines.append(f":{box.email}:{box.password}")
        with open(self._ntlm_file, "w") as fh:
            fh.write("\n".join(lines) + "\n")
        os.environ["NTLM_USER_FILE"] = self._ntlm_file

    def add_item(
        self,
        email,
        *,
        subject,
        start,
        end,
        tz="UTC",
        all_day=False,
        attendees=(),
        optional=(),
        organizer=None,
        body="",
        location="",
        sensitivity="Normal",
        free_busy="Busy",
        uid=None,
        recurrence=None,
        item_id=None,
        xml_override=None,
        my_response=None,
    ):
        """Store an item as an Exchange client would have made it; return its id.

        ``start``/``end`` are aware datetimes (for all-day items: midnight of the first day
        and of the day after the last, in ``tz``). ``attendees``/``optional`` hold
        ``(email, name, response)`` tuples (response: Unknown, Accept, Tentative,
        Decline, NoResponseReceived). ``my_response``: the owner's own answer (default:
        ``Organizer`` for their own meeting, else ``NoResponseReceived``). ``xml_override`` ({"Start": text or None, ...}) serves
        those elements as given (None: left out), to model items other clients stored badly. ``recurrence`` is ``{"pattern": "daily"|"weekly",
        "interval": 1, "days": ["Monday", ...], "count": n}`` or ``{..., "until": date}``.
        """
        box = self.mailboxes[email.lower()]
        with self.lock:
            item = {
                "id": item_id or _b64(f"item:{uuid.uuid4()}"),
                "uid": uid or f"{uuid.uuid4()}@fake-ews",
                "subject": subject,
                "body": body,
                "location": location,
                "start": start.astimezone(UTC),
                "end": end.astimezone(UTC),
                "tz": tz,
                "all_day": all_day,
                "required": [tuple(a) for a in attendees],
                "optional": [tuple(a) for a in optional],
                "organizer": organizer or (box.email, box.name),
                "sensitivity": sensitivity,
                "free_busy": free_busy,
                "cancelled": False,
                "recurrence": recurrence,
                "modified": {},  # occurrence index -> overridden fields
                "deleted": set(),  # occurrence indexes
                "xml_override": dict(xml_override or {}),
            }
            own_meeting = item["organizer"][0].lower() == box.email
            item["my_response"] = my_response or ("Organizer" if own_meeting else "NoResponseReceived")
            _all_day_midnights(item)
            self._touch(box, item, created=True)
            box.items[item["id"]] = item
        return item["id"]

    def update_item(self, email, item_id, **fields):
        """Change an item as an Exchange client would (new change key, last-modified time)."""
        box = self.mailboxes[email.lower()]
        with self.lock:
            item = box.items[item_id]
            for key, value in fields.items():
                item[key] = value.astimezone(UTC) if isinstance(value, dt.datetime) else value
            self._touch(box, item)

    def modify_occurrence(self, email, master_id, index, **fields):
        box = self.mailboxes[email.lower()]
        with self.lock:
            master = box.items[master_id]
            over = master["modified"].setdefault(index, {})
            for key, value in fields.items():
                over[key] = value.astimezone(UTC) if isinstance(value, dt.datetime) else value
            self._touch(box, master)

    def delete_occurrence(self, email, master_id, index):
        box = self.mailboxes[email.lower()]
        with self.lock:
            master = box.items[master_id]
            master["deleted"].add(index)
            master["modified"].pop(index, None)
            self._touch(box, master)

    def reply(self, organizer_email, uid, attendee_email, response):
        """A meeting response (``Accept``, ``Decline``, ``Tentative``) reaching the organiser's
        mailbox from outside: their item shows the attendee's answer."""
        box = self.mailboxes[organizer_email.lower()]
        with self.lock:
            item = self._organizer_item(box, uid)
            if item is None:
                raise KeyError(f"{organizer_email} has no meeting {uid}")
            self._take_response(box, item, attendee_email.lower(), response)

    @staticmethod
    def _organizer_item(box, uid):
        for item in box.items.values():
            if item.get("uid") == uid and item["organizer"][0].lower() == box.email:
                return item
        return None

    def _take_response(self, box, item, email, response, index=None):
        """``email``'s answer on ``item`` (on its occurrence ``index`` alone, when given)."""
        target = item if index is None else item["modified"].setdefault(index, {})
        for key in ("required", "optional"):
            attendees = target.get(key, item[key])
            target[key] = [(a[0], a[1], response) if a[0].lower() == email else a for a in attendees]
        self._touch(box, item)

    def remove_item(self, email, item_id):
        box = self.mailboxes[email.lower()]
        with self.lock:
            box.items.pop(item_id)
            box.tombstones[item_id] = next(self.seq)

    def occurrence_id(self, master_id, index):
        return _b64(f"occ:{index}:{master_id}")

    def _touch(self, box, item, created=False):
        seq = store.stamp_change(item, next(self.seq), key="seq")
        if created:
            item["created_seq"] = seq
        item["changekey"] = store.version_tag(seq, "ck:")
        item["modified_at"] = _now()

    # -- expansion ---------------------------------------------------------
    def occurrences(self, master):
        """[(index, occurrence dict)] of a recurring master, deleted ones left out."""
        rule = master["recurrence"]
        duration = master["end"] - master["start"]
        zone = wire_time.zone(master["tz"])  # a series recurs on the clock of its time zone
        weekly = rule["pattern"] == "weekly"
        days = rule.get("days") or [WEEKDAYS[master["start"].astimezone(zone).weekday()]]
        lines = recurrence.rrule_lines(
            "WEEKLY" if weekly else "DAILY",
            interval=rule.get("interval", 1),
            weekdays=[WEEKDAYS.index(d) for d in days] if weekly else (),
            count=rule.get("count"),
            until=rule.get("until"),
        )
        # at most a thousand (a series without end)
        starts = recurrence.expand(lines, master["start"], duration, zone=zone, limit=1000)
        result = []
        for index, local_start in starts:
            start = local_start.astimezone(UTC)
            if index in master["deleted"]:
                continue
            occurrence = dict(master)
            occurrence.update(
                id=self.occurrence_id(master["id"], index),
                master_id=master["id"],
                index=index,
                original_start=start,
                start=start,
                end=start + duration,
                recurrence=None,
                type="Occurrence",
            )
            over = master["modified"].get(index)
            if over:
                occurrence.update(over)
                occurrence["type"] = "Exception"
            result.append((index, occurrence))
        return result

    def _find(self, box, item_id):
        """An item or an occurrence by id; EwsFault ErrorItemNotFound otherwise."""
        if item_id in box.items:
            item = dict(box.items[item_id])
            item["type"] = "RecurringMaster" if item["recurrence"] else "Single"
            return item
        try:
            text = _unb64(item_id)
        except Exception:  # noqa: BLE001 - any undecodable id is malformed
            raise EwsFault("ErrorInvalidIdMalformed", "Id is malformed.") from None
        if text.startswith("occ:"):
            _, index, master_id = text.split(":", 2)
            master = box.items.get(master_id)
            if master and master["recurrence"]:
                for idx, occurrence in self.occurrences(master):
                    if idx == int(index):
                        return occurrence
        raise EwsFault("ErrorItemNotFound", "The specified object was not found in the store.")

    # -- HTTP --------------------------------------------------------------
    def error_reply(self, exc):
        if exc.http_status not in (200, 500):
            return exc.http_status, b"", {}
        return 500, self._fault_xml(exc), {"Content-Type": "text/xml; charset=utf-8"}

    OPERATION_KINDS = {
        "CreateItem": "create",
        "UpdateItem": "update",
        "DeleteItem": "delete",
        "SyncFolderItems": "list",
        "FindItem": "view",
        "GetItem": "get",
        "GetFolder": "get",
        "GetUserAvailabilityRequest": "freebusy",
    }

    def request_kind(self, method, path, query, headers, body):
        scheme, _, token = (headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "ntlm":
            try:
                message = base64.b64decode(token)
            except ValueError:
                return None
            if message[8:9] != b"\x03":
                return None  # a leg of the NTLM handshake, not the request itself
        try:
            operation = etree.fromstring(body).find(f"{{{SOAP}}}Body")[0]
        except (etree.XMLSyntaxError, TypeError, IndexError, ValueError):
            return None
        return self.OPERATION_KINDS.get(_local(operation.tag))

    def handle(self, method, path, query, headers, body):
        if path.lower() != "/ews/exchange.asmx":
            return 404, b"<html><body>Not found</body></html>", {"Content-Type": "text/html"}
        if method != "POST":
            return 405, b"", {}
        box, challenge = self._authenticate(headers)
        if box is None:
            return 401, b"", {"WWW-Authenticate": challenge}
        root = etree.fromstring(body)
        operation = root.find(f"{{{SOAP}}}Body")[0]
        name = _local(operation.tag)
        self.log.append((name, box.email))
        self.raise_injected_fault()
        handler = getattr(self, f"op_{name}", None)
        if handler is None:
            raise EwsFault("ErrorInvalidRequest", f"The operation {name} is not supported here.", soap_fault=True)
        with self.lock:
            payload = handler(box, operation)
        return 200, self._envelope(payload), {"Content-Type": "text/xml; charset=utf-8"}

    def fault_error(self, fault):
        if fault.status == 429:  # EWS throttles with a SOAP fault and a back-off hint
            back_off = None if fault.retry_after is None else int(fault.retry_after * 1000)
            return EwsFault(
                "ErrorServerBusy",
                "The server cannot service this request right now. Try again later.",
                http_status=500,
                back_off_ms=back_off,
                soap_fault=True,
            )
        if fault.reason:  # an EWS response code (ErrorInvalidRequest...): a SOAP fault, as EWS answers it
            return EwsFault(fault.reason, f"{fault.reason} (injected)", http_status=500, soap_fault=True)
        return EwsFault("HttpError", http_status=fault.status)

    def _authenticate(self, headers):
        """(mailbox, None) or (None, the WWW-Authenticate challenge)."""
        offer = ", ".join({"ntlm": "NTLM", "basic": 'Basic realm="127.0.0.1"'}[a] for a in self.auth_types)
        conn = self.connection
        auth = headers.get("Authorization") or ""
        scheme, _, token = auth.partition(" ")
        scheme = scheme.lower()
        if scheme == "basic" and "basic" in self.auth_types:
            try:
                login, _, password = base64.b64decode(token).decode().partition(":")
            except Exception:  # noqa: BLE001 - a malformed header is a failed login
                return None, offer
            box = self._box_for_login(login)
            if box and box.password == password:
                return box, None
            return None, offer
        if scheme == "ntlm" and "ntlm" in self.auth_types:
            import spnego

            context = conn.get("ntlm")
            if context is None or context.complete:
                context = conn["ntlm"] = spnego.server(protocol="ntlm")
            try:
                answer = context.step(base64.b64decode(token))
            except Exception:  # noqa: BLE001 - spnego refuses a wrong password with several error types
                conn.pop("ntlm", None)
                return None, offer
            if not context.complete:
                return None, f"NTLM {base64.b64encode(answer).decode()}"
            box = self._box_for_login(context.client_principal or "")
            if box is None:
                return None, offer
            conn["user"], conn["generation"] = box.email, box.generation
            return box, None
        if conn.get("user"):  # an NTLM-authenticated connection stays authenticated
            box = self.mailboxes.get(conn["user"])
            if box and box.generation == conn.get("generation"):
                return box, None
            conn.pop("user", None)
        return None, offer

    def _box_for_login(self, login):
        login = login.lower()
        for box in self.mailboxes.values():
            if login in (box.email, box.username.lower(), f"{box.domain.lower()}\\{box.username.lower()}"):
                return box
        return None

    def _envelope(self, body_xml):
        major, minor, major_build, minor_build = self.build
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<s:Envelope xmlns:s="{SOAP}"><s:Header>'
            f'<h:ServerVersionInfo MajorVersion="{major}" MinorVersion="{minor}" MajorBuildNumber="{major_build}" '
            f'MinorBuildNumber="{minor_build}" Version="{self.version_name}" xmlns:h="{T}"/>'
            f'</s:Header><s:Body xmlns:m="{M}" xmlns:t="{T}">{body_xml}</s:Body></s:Envelope>'
        ).encode()

    def _fault_xml(self, exc):
        details = ""
        if exc.back_off_ms is not None:
            details = (
                f'<t:MessageXml xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">{exc.back_off_ms}</t:Value>'
                "</t:MessageXml>"
            )
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<s:Envelope xmlns:s="{SOAP}"><s:Body><s:Fault>'
            f"<faultcode>a:{exc.code}</faultcode><faultstring>{escape(exc.message)}</faultstring>"
            f'<detail><e:ResponseCode xmlns:e="{E}">{exc.code}</e:ResponseCode>'
            f'<e:Message xmlns:e="{E}">{escape(exc.message)}</e:Message>{details}</detail>'
            "</s:Fault></s:Body></s:Envelope>"
        ).encode()

    @staticmethod
    def _messages(operation, messages):
        return f"<m:{operation}Response><m:ResponseMessages>{''.join(messages)}</m:ResponseMessages></m:{operation}Response>"

    @staticmethod
    def _ok(operation, inner=""):
        return (
            f'<m:{operation}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
            f"{inner}</m:{operation}ResponseMessage>"
        )

    @staticmethod
    def _error(operation, code, text, extra=""):
        return (
            f'<m:{operation}ResponseMessage ResponseClass="Error"><m:MessageText>{escape(text)}</m:MessageText>'
            f"<m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>{extra}"
            f"</m:{operation}ResponseMessage>"
        )

    def _check_mailbox(self, box, element):
        """A mailbox named in a request must be the authenticated one (no delegation here)."""
        for address in element.iter(f"{{{T}}}EmailAddress"):
            email = (address.text or "").strip().lower()
            parent = address.getparent()
            if _local(parent.tag) != "Mailbox" or _local(parent.getparent().tag) != "DistinguishedFolderId":
                continue
            if email == box.email:
                continue
            if email not in self.mailboxes:
                raise EwsFault("ErrorNonExistentMailbox", f"No mailbox with such guid or SMTP address: {email}")
            raise EwsFault("ErrorAccessDenied", "Access is denied. Check credentials and try again.")

    # -- operations --------------------------------------------------------
    def op_ConvertId(self, box, operation):
        return self._messages("ConvertId", [self._error("ConvertId", "ErrorInvalidIdMalformed", "Id is malformed.")])

    def op_ResolveNames(self, box, operation):
        return self._messages(
            "ResolveNames", [self._error("ResolveNames", "ErrorNameResolutionNoResults", "No results.")]
        )

    def op_GetFolder(self, box, operation):
        self._check_mailbox(box, operation)
        messages = []
        for folder in operation.find("m:FolderIds", NS):
            name = folder.get("Id")
            if _local(folder.tag) == "DistinguishedFolderId" and name not in ("calendar", "root", "msgfolderroot"):
                messages.append(
                    self._error("GetFolder", "ErrorFolderNotFound", "The specified folder could not be found.")
                )
                continue
            if name in ("root", "msgfolderroot"):
                inner = (
                    f'<t:Folder><t:FolderId Id="{_b64("root:" + box.email)}" ChangeKey="AQAAAA=="/>'
                    "<t:DisplayName>Top of Information Store</t:DisplayName></t:Folder>"
                )
            else:
                inner = (
                    f'<t:CalendarFolder><t:FolderId Id="{box.folder_id}" ChangeKey="AgAAAA=="/>'
                    "<t:FolderClass>IPF.Appointment</t:FolderClass><t:DisplayName>Calendar</t:DisplayName>"
                    f"<t:TotalCount>{len(box.items)}</t:TotalCount><t:ChildFolderCount>0</t:ChildFolderCount>"
                    "</t:CalendarFolder>"
                )
            messages.append(self._ok("GetFolder", f"<m:Folders>{inner}</m:Folders>"))
        return self._messages("GetFolder", messages)

    def _shape(self, operation, shape_tag):
        shape = operation.find(f"m:{shape_tag}", NS)
        base = shape.findtext("t:BaseShape", default="IdOnly", namespaces=NS)
        extra = {f.get("FieldURI") for f in shape.iter(f"{{{T}}}FieldURI")}
        return None if base in ("AllProperties", "Default") else extra

    def op_SyncFolderItems(self, box, operation):
        self._check_mailbox(box, operation)
        fields = self._shape(operation, "ItemShape")
        state_text = operation.findtext("m:SyncState", default="", namespaces=NS).strip()
        since = 0
        if state_text:
            try:
                owner, generation, since = _unb64(state_text).rsplit(":", 2)
                since = int(since)
                assert owner == box.email
                assert int(generation) == box.sync_generation
            except Exception:  # noqa: BLE001 - any foreign state is invalid
                return self._messages(
                    "SyncFolderItems",
                    [
                        self._error(
                            "SyncFolderItems",
                            "ErrorInvalidSyncStateData",
                            "Synchronization state data is corrupt or otherwise invalid.",
                            "<m:SyncState></m:SyncState><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>",
                        )
                    ],
                )
        limit = int(operation.findtext("m:MaxChangesReturned", default="100", namespaces=NS))
        changes = [(item["seq"], "item", item) for item in box.items.values()]
        if state_text:
            # a first sync (no state) lists what exists; deletions are news only to a later one
            changes += [(seq, "delete", item_id) for item_id, seq in box.tombstones.items()]
        changes = store.changed_since(changes, since, seq=lambda change: change[0])
        page, rest = changes[:limit], changes[limit:]
        parts = []
        for _seq, kind, value in page:
            if kind == "delete":
                parts.append(f'<t:Delete><t:ItemId Id="{value}"/></t:Delete>')
                continue
            item = dict(value, type="RecurringMaster" if value["recurrence"] else "Single")
            tag = "Create" if item["created_seq"] > since else "Update"
            parts.append(f"<t:{tag}>{self._item_xml(item, fields)}</t:{tag}>")
        new_since = page[-1][0] if page else max(since, self._last_seq(box))
        inner = (
            f"<m:SyncState>{_b64(f'{box.email}:{box.sync_generation}:{new_since}')}</m:SyncState>"
            f"<m:IncludesLastItemInRange>{'false' if rest else 'true'}</m:IncludesLastItemInRange>"
            f"<m:Changes>{''.join(parts)}</m:Changes>"
        )
        return self._messages("SyncFolderItems", [self._ok("SyncFolderItems", inner)])

    def _last_seq(self, box):
        return store.last_seq([i["seq"] for i in box.items.values()] + list(box.tombstones.values()), seq=int)

    def op_FindItem(self, box, operation):
        self._check_mailbox(box, operation)
        fields = self._shape(operation, "ItemShape")
        view = operation.find("m:CalendarView", NS)
        if view is None and operation.find("m:IndexedPageItemView", NS) is not None:
            return self._indexed_view(box, operation, fields)
        if view is None:
            raise EwsFault(
                "ErrorInvalidRequest", "Only calendar and indexed views are supported by this server.", soap_fault=True
            )
        start, end = _parse_dt(view.get("StartDate")), _parse_dt(view.get("EndDate"))
        found = []
        for item in box.items.values():
            candidates = [o for _i, o in self.occurrences(item)] if item["recurrence"] else [dict(item, type="Single")]
            found += [c for c in candidates if c["start"] < end and c["end"] > start]
        found.sort(key=lambda i: (i["start"], i["id"]))
        items = "".join(self._item_xml(i, fields) for i in found)
        inner = (
            f'<m:RootFolder TotalItemsInView="{len(found)}" IncludesLastItemInRange="true">'
            f"<t:Items>{items}</t:Items></m:RootFolder>"
        )
        return self._messages("FindItem", [self._ok("FindItem", inner)])

    def _indexed_view(self, box, operation, fields):
        """``FindItem`` with an ``IndexedPageItemView``: the folder's items (a series once, as
        its master), ``MaxEntriesReturned`` from ``Offset``, and ``TotalItemsInView`` the
        folder's whole count, as Exchange answers it."""
        if operation.find("m:Restriction", NS) is not None or operation.find("m:QueryString", NS) is not None:
            raise EwsFault("ErrorInvalidRequest", "Restrictions are not supported by this server.", soap_fault=True)
        view = operation.find("m:IndexedPageItemView", NS)
        try:
            size = int(view.get("MaxEntriesReturned") or 1000)
            offset = int(view.get("Offset") or 0)
        except ValueError:
            raise EwsFault("ErrorInvalidRequest", "Invalid paging values.", soap_fault=True) from None
        if size < 1 or offset < 0:
            raise EwsFault("ErrorInvalidRequest", "Invalid paging values.", soap_fault=True)
        found = sorted(box.items.values(), key=lambda i: (i["start"], i["id"]))
        page = found[offset : offset + size]
        last = offset + len(page) >= len(found)
        items = "".join(
            self._item_xml(dict(i, type="RecurringMaster" if i["recurrence"] else "Single"), fields) for i in page
        )
        paging = f' IndexedPagingOffset="{offset + len(page)}"' if not last else ""
        inner = (
            f'<m:RootFolder TotalItemsInView="{len(found)}" IncludesLastItemInRange="{str(last).lower()}"{paging}>'
            f"<t:Items>{items}</t:Items></m:RootFolder>"
        )
        return self._messages("FindItem", [self._ok("FindItem", inner)])

    def op_GetItem(self, box, operation):
        fields = self._shape(operation, "ItemShape")
        messages = []
        for _ref, _item_id, item in self._items_named(box, operation.find("m:ItemIds", NS), "GetItem", messages):
            messages.append(self._ok("GetItem", f"<m:Items>{self._item_xml(item, fields)}</m:Items>"))
        return self._messages("GetItem", messages)

    def _items_named(self, box, refs, operation, messages):
        """(reference, id, item) of each reference that names an item or occurrence; for
        one that names none, the operation's error message is added to ``messages``."""
        for ref in refs:
            try:
                item_id = self._ref_id(box, ref)
                item = self._find(box, item_id)
            except EwsFault as exc:
                messages.append(self._error(operation, exc.code, exc.message))
                continue
            yield ref, item_id, item

    def _ref_id(self, box, ref):
        kind = _local(ref.tag)
        if kind == "OccurrenceItemId":
            return self.occurrence_id(ref.get("RecurringMasterId"), int(ref.get("InstanceIndex")))
        if kind == "RecurringMasterItemId":
            text = _unb64(ref.get("OccurrenceId"))
            return text.split(":", 2)[2] if text.startswith("occ:") else ref.get("OccurrenceId")
        return ref.get("Id")

    def _respond(self, box, element, disposition):
        """A meeting response item (AcceptItem, DeclineItem, TentativelyAcceptItem)."""
        response = {"AcceptItem": "Accept", "DeclineItem": "Decline", "TentativelyAcceptItem": "Tentative"}
        response = response[_local(element.tag)]
        ref = element.find("t:ReferenceItemId", NS)
        try:
            item = self._find(box, ref.get("Id") if ref is not None else "")
        except EwsFault as exc:
            return self._error("CreateItem", exc.code, exc.message)
        organizer = item["organizer"][0].lower()
        if organizer == box.email:
            return self._error(
                "CreateItem", "ErrorInvalidReferenceItem", "The meeting organizer cannot respond to the meeting."
            )
        index = item.get("index") if item["type"] in ("Occurrence", "Exception") else None
        if index is not None:
            # one occurrence answered: an exception of the series, for the organiser too
            master = box.items[item["master_id"]]
            master["modified"].setdefault(index, {})["my_response"] = response
            self._touch(box, master)
        else:
            box.items[item["id"]]["my_response"] = response
            self._touch(box, box.items[item["id"]])
        if disposition != "SaveOnly":
            other = self.mailboxes.get(organizer)
            target = self._organizer_item(other, item["uid"]) if other else None
            if target is not None:
                self._take_response(other, target, box.email, response, index)
            else:
                self.replies.append((organizer, item["uid"], box.email, response))
        return self._ok("CreateItem", "<m:Items/>")

    def op_CreateItem(self, box, operation):
        send = operation.get("SendMeetingInvitations", "SendToNone")
        messages = []
        for element in operation.find("m:Items", NS):
            if _local(element.tag) in ("AcceptItem", "DeclineItem", "TentativelyAcceptItem"):
                messages.append(self._respond(box, element, operation.get("MessageDisposition", "SaveOnly")))
                continue
            values = self._parse_item(element)
            item_id = self.add_item(
                box.email,
                subject=values.get("subject", ""),
                start=values["start"],
                end=values["end"],
                tz=values.get("tz", "UTC"),
                all_day=values.get("all_day", False),
                attendees=values.get("required", []),
                optional=values.get("optional", []),
                body=values.get("body", ""),
                location=values.get("location", ""),
                sensitivity=values.get("sensitivity", "Normal"),
                free_busy=values.get("free_busy", "Busy"),
                uid=values.get("uid"),
            )
            item = box.items[item_id]
            self._invite(box, item, send, "request")
            messages.append(
                self._ok(
                    "CreateItem",
                    f'<m:Items><t:CalendarItem><t:ItemId Id="{item_id}" ChangeKey="{item["changekey"]}"/></t:CalendarItem></m:Items>',
                )
            )
        return self._messages("CreateItem", messages)

    def _invite(self, box, item, send, kind):
        if send == "SendToNone":
            return
        recipients = [a[0] for a in item["required"] + item["optional"] if a[0] != box.email]
        if recipients:
            self.invitations.append((kind, box.email, recipients, item["subject"]))
        if kind == "cancel":
            self._deliver_cancellation(recipients, item)

    def _deliver_cancellation(self, recipients, item):
        """A meeting cancellation reaching an attendee's mailbox on this server: as Exchange's
        calendar attendant does, the attendee's copy (same UID) is marked cancelled
        (``IsCancelled``), a change its next SyncFolderItems reports. An occurrence's
        cancellation leaves the attendee's series alone (not modelled)."""
        if not item.get("uid") or item.get("type") in ("Occurrence", "Exception"):
            return
        for email in recipients:
            box = self.mailboxes.get(email.lower())
            for copy_ in box.items.values() if box else ():
                if copy_.get("uid") == item["uid"] and not copy_.get("cancelled"):
                    copy_["cancelled"] = True
                    self._touch(box, copy_)

    def op_UpdateItem(self, box, operation):
        send = operation.get("SendMeetingInvitationsOrCancellations", "SendToNone")
        resolution = operation.get("ConflictResolution", "AutoResolve")
        messages = []
        refs = [next(iter(change)) for change in operation.find("m:ItemChanges", NS)]
        for ref, item_id, current in self._items_named(box, refs, "UpdateItem", messages):
            change = ref.getparent()
            changekey = ref.get("ChangeKey")
            if resolution == "NeverOverwrite" and changekey and changekey != current["changekey"]:
                messages.append(
                    self._error(
                        "UpdateItem",
                        "ErrorIrresolvableConflict",
                        "The send or update operation could not be performed because the change key passed in the "
                        "request does not match the current change key for the item.",
                    )
                )
                continue
            values = {}
            for update in change.find("t:Updates", NS):
                if _local(update.tag) == "SetItemField":
                    item_element = [c for c in update if _local(c.tag) == "CalendarItem"][0]
                    values.update(self._parse_item(item_element))
                elif _local(update.tag) == "DeleteItemField":
                    uri = update.find("t:FieldURI", NS).get("FieldURI")
                    values.update(self._cleared(uri))
            if current["type"] in ("Occurrence", "Exception"):
                master = box.items[current["master_id"]]
                over = master["modified"].setdefault(current["index"], {})
                over.update({k: v for k, v in values.items() if k not in ("uid", "recurrence")})
                self._touch(box, master)
                target = self._find(box, item_id)
                target["changekey"] = master["changekey"]
            else:
                target = box.items[item_id]
                target.update(values)
                _all_day_midnights(target)
                self._touch(box, target)
            self._invite(box, target, send, "update")
            messages.append(
                self._ok(
                    "UpdateItem",
                    f'<m:Items><t:CalendarItem><t:ItemId Id="{item_id}" ChangeKey="{target["changekey"]}"/></t:CalendarItem>'
                    "</m:Items><m:ConflictResults><t:Count>0</t:Count></m:ConflictResults>",
                )
            )
        return self._messages("UpdateItem", messages)

    @staticmethod
    def _cleared(uri):
        return {
            "item:Body": {"body": ""},
            "calendar:Location": {"location": ""},
            "calendar:RequiredAttendees": {"required": []},
            "calendar:OptionalAttendees": {"optional": []},
        }.get(uri, {})

    def op_DeleteItem(self, box, operation):
        send = operation.get("SendMeetingCancellations", "SendToNone")
        messages = []
        for _ref, item_id, current in self._items_named(box, operation.find("m:ItemIds", NS), "DeleteItem", messages):
            if current["type"] in ("Occurrence", "Exception"):
                self.delete_occurrence(box.email, current["master_id"], current["index"])
            else:
                self.remove_item(box.email, item_id)
            self._invite(box, current, send, "cancel")
            messages.append(self._ok("DeleteItem"))
        return self._messages("DeleteItem", messages)

    def op_GetUserAvailabilityRequest(self, box, operation):
        window = operation.find("t:FreeBusyViewOptions/t:TimeWindow", NS)
        start = _parse_dt(window.findtext("t:StartTime", namespaces=NS))
        end = _parse_dt(window.findtext("t:EndTime", namespaces=NS))
        answers = []
        for data in operation.find("m:MailboxDataArray", NS):
            email = data.findtext("t:Email/t:Address", namespaces=NS).strip().lower()
            other = self.mailboxes.get(email)
            if other is None:
                answers.append(
                    '<m:FreeBusyResponse><m:ResponseMessage ResponseClass="Error">'
                    "<m:MessageText>No mailbox with such guid or SMTP address.</m:MessageText>"
                    "<m:ResponseCode>ErrorMailRecipientNotFound</m:ResponseCode></m:ResponseMessage>"
                    "</m:FreeBusyResponse>"
                )
                continue
            busy = store.busy_intervals(
                other.items.values(),
                start,
                end,
                occurrences=lambda item: [o for _i, o in self.occurrences(item)] if item["recurrence"] else [item],
                span=lambda inst: (inst["start"], inst["end"]),
                show_as=lambda inst: None if inst["free_busy"] == "Free" else inst["free_busy"],
            )
            events = [
                f"<t:CalendarEvent><t:StartTime>{self._local_time(s)}</t:StartTime>"
                f"<t:EndTime>{self._local_time(e)}</t:EndTime>"
                f"<t:BusyType>{busy_type}</t:BusyType></t:CalendarEvent>"
                for s, e, busy_type in busy
            ]
            answers.append(
                '<m:FreeBusyResponse><m:ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
                "</m:ResponseMessage><m:FreeBusyView><t:FreeBusyViewType>Detailed</t:FreeBusyViewType>"
                f"<t:CalendarEventArray>{''.join(events)}</t:CalendarEventArray></m:FreeBusyView></m:FreeBusyResponse>"
            )
        return f"<m:GetUserAvailabilityResponse><m:FreeBusyResponseArray>{''.join(answers)}</m:FreeBusyResponseArray></m:GetUserAvailabilityResponse>"

    @staticmethod
    def _local_time(value):
        # The request carries a UTC time zone: times are given in it, without offset (as EWS does)
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")

    # -- XML of items ------------------------------------------------------
    def _parse_item(self, element):
        values = {}
        for child in element:
            name = _local(child.tag)
            text = child.text or ""
            if name == "Subject":
                values["subject"] = text
            elif name == "Body":
                values["body"] = text
            elif name == "Location":
                values["location"] = text
            elif name == "Start":
                values["start"] = _parse_dt(text)
            elif name == "End":
                values["end"] = _parse_dt(text)
            elif name == "IsAllDayEvent":
                values["all_day"] = text.strip() in ("true", "1")
            elif name == "Sensitivity":
                values["sensitivity"] = text.strip()
            elif name == "LegacyFreeBusyStatus":
                values["free_busy"] = text.strip()
            elif name == "UID":
                values["uid"] = text.strip()
            elif name == "StartTimeZone":
                values["tz"] = child.get("Id")
            elif name in ("RequiredAttendees", "OptionalAttendees"):
                key = "required" if name == "RequiredAttendees" else "optional"
                values[key] = [
                    (
                        (a.findtext("t:Mailbox/t:EmailAddress", namespaces=NS) or "").strip().lower(),
                        a.findtext("t:Mailbox/t:Name", namespaces=NS) or "",
                        a.findtext("t:ResponseType", namespaces=NS) or "Unknown",
                    )
                    for a in child
                ]
        return values

    @staticmethod
    def _mailbox_xml(email, name):
        return f"<t:Mailbox><t:Name>{escape(name or '')}</t:Name><t:EmailAddress>{escape(email)}</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType></t:Mailbox>"

    def _item_xml(self, item, fields):
        def want(uri):
            return fields is None or uri in fields

        parts = [f'<t:ItemId Id="{item["id"]}" ChangeKey="{item["changekey"]}"/>']
        tz = escape(item["tz"])
        simple = [
            ("item:Subject", "Subject", escape(item["subject"])),
            ("item:Sensitivity", "Sensitivity", item["sensitivity"]),
            ("item:LastModifiedTime", "LastModifiedTime", _fmt(item["modified_at"])),
            ("calendar:UID", "UID", escape(item["uid"])),
            ("calendar:Start", "Start", _fmt(item["start"])),
            ("calendar:End", "End", _fmt(item["end"])),
            ("calendar:IsAllDayEvent", "IsAllDayEvent", "true" if item["all_day"] else "false"),
            ("calendar:LegacyFreeBusyStatus", "LegacyFreeBusyStatus", item["free_busy"]),
            ("calendar:Location", "Location", escape(item["location"])),
            ("calendar:IsCancelled", "IsCancelled", "true" if item["cancelled"] else "false"),
            ("calendar:CalendarItemType", "CalendarItemType", item.get("type", "Single")),
            ("calendar:MyResponseType", "MyResponseType", item.get("my_response", "Organizer")),
        ]
        override = item.get("xml_override") or {}
        for uri, tag, value in simple:
            if tag in override:
                if override[tag] is not None and want(uri):
                    parts.append(f"<t:{tag}>{escape(override[tag])}</t:{tag}>")
                continue
            if uri == "item:Subject" and want(uri):
                parts.append(f"<t:{tag}>{value}</t:{tag}>")
                if want("item:Body"):
                    parts.append(f'<t:Body BodyType="Text">{escape(item["body"])}</t:Body>')
            elif want(uri):
                parts.append(f"<t:{tag}>{value}</t:{tag}>")
        if item.get("original_start") and want("calendar:OriginalStart"):
            parts.append(f"<t:OriginalStart>{_fmt(item['original_start'])}</t:OriginalStart>")
        if want("calendar:Organizer"):
            parts.append(f"<t:Organizer>{self._mailbox_xml(*item['organizer'])}</t:Organizer>")
        for uri, tag, key in (
            ("calendar:RequiredAttendees", "RequiredAttendees", "required"),
            ("calendar:OptionalAttendees", "OptionalAttendees", "optional"),
        ):
            if want(uri) and item[key]:
                attendees = "".join(
                    f"<t:Attendee>{self._mailbox_xml(email, name)}<t:ResponseType>{response}</t:ResponseType></t:Attendee>"
                    for email, name, response in item[key]
                )
                parts.append(f"<t:{tag}>{attendees}</t:{tag}>")
        if want("calendar:StartTimeZone"):
            parts.append(f'<t:StartTimeZone Id="{tz}" Name="{tz}"/>')
        if want("calendar:EndTimeZone"):
            parts.append(f'<t:EndTimeZone Id="{tz}" Name="{tz}"/>')
        return f"<t:CalendarItem>{''.join(parts)}</t:CalendarItem>"
