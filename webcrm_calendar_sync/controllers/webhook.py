"""Where Google and Microsoft Graph push their change notifications.

Each answers at once: the notification is checked against the account it names (one
SELECT; see ``calendar.sync.account._push_receive``) and, when genuine and new, the
account is made due and the scheduled sync woken. Nothing is synced here, no calendar
service is called, and nothing tells a caller whether a channel exists.

The address the services are given names the database (``.../notify/<provider>/<dbname>``),
so that it works on a server that serves several databases without a ``dbfilter``: Odoo
then picks no database for a request that carries no session, and serves only the routes of
the server-wide modules (``--load``). With this addon among them, the route opens the named
database itself, when ``dbfilter`` / ``--database`` allow it for this host and the addon is
installed there; anything else is answered 404 at once. When Odoo did pick a database for the
request (a single one, or the ``dbfilter``), the address's must be that one. The addresses
without a database name (registered before) keep working where Odoo picks the database.

What a caller sends is checked before any database is looked at: the body is read from the
request's stream under a hard cap whatever its transfer encoding (a chunked body is refused,
413, as soon as it passes the cap), and anything malformed (not UTF-8 JSON, nested beyond
reason, an id that is not a short printable ASCII string, a Google message number out of range)
is a 400 with one log line. Then the database the address names is looked up in a list of the
server's databases with the addon, read at most once a minute: every refused name costs one
look-up and gets the same 404, whether or not a database of that name exists.
"""

import functools
import json
import logging
import re
import threading
from contextlib import closing
from time import monotonic

import psycopg2
from werkzeug.exceptions import RequestEntityTooLarge

from odoo import SUPERUSER_ID, api, http, sql_db
from odoo.http import request
from odoo.modules.registry import Registry
from odoo.service import db as service_db
from odoo.service import model as service_model

_logger = logging.getLogger(__name__)

ADDON = "webcrm_calendar_sync"
DBNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")  # PostgreSQL names are at most 63 bytes

MAX_BODY = 256 * 1024  # bytes: a Graph notification batch is a few KB
MAX_GOOGLE_BODY = 4 * 1024  # Google's notifications carry everything in their headers
READ_CHUNK = 64 * 1024  # a body is read this much at a time
MAX_NOTIFICATIONS = 100  # per request
MAX_VALIDATION_TOKEN = 1024
MAX_ID_LENGTH = 256  # a channel, subscription or resource id, a secret (as _push_receive's)
# Google numbers its messages from 1 up; stored in an integer column
MESSAGE_NUMBER = re.compile(r"[0-9]{1,10}")
MAX_MESSAGE_NUMBER = 2**31 - 1
DATABASES_TTL = 60  # seconds the list of databases served is kept


class Malformed(Exception):
    """What a caller sent cannot be a notification: 400. ``str()`` is a fixed phrase, never the input."""


class _CappedInput:
    """A request's input stream that gives at most ``cap`` bytes: one more and it raises 413, whoever
    reads it (this controller, or werkzeug's form parser before the route is called). With a
    Content-Length, werkzeug reads within it; a chunked body has none, and is stopped here."""

    def __init__(self, stream, cap):
        self._stream = stream
        self._left = cap

    def _taken(self, data):
        self._left -= len(data)
        if self._left < 0:
            raise RequestEntityTooLarge()
        return data

    def read(self, size=-1):  # pylint: disable=method-required-super
        # a file-like wrapper, not a model: its read() is the stream's, there is no super to call
        if size is None or size < 0:
            chunks = []
            while chunk := self.read(READ_CHUNK):
                chunks.append(chunk)
            return b"".join(chunks)
        return self._taken(self._stream.read(min(size, self._left + 1)))

    def readline(self, size=-1):
        limit = self._left + 1 if size is None or size < 0 else min(size, self._left + 1)
        return self._taken(self._stream.readline(limit))

    def readable(self):
        return True

    def __iter__(self):
        return iter(self.readline, b"")


def _wsgi_request():
    # werkzeug's request under Odoo's wrapper, which forwards neither its stream nor the WSGI input
    return getattr(request.httprequest, "_HTTPRequest__wrapped", request.httprequest)


def _capped_body(cap):
    """A route's ``max_content_length``: Odoo calls it before anything of the body is read (form
    parsing included), and it caps the input stream there, whatever the transfer encoding."""

    def cap_stream(_controller):
        wsgi = _wsgi_request()
        wsgi.environ["wsgi.input"] = _CappedInput(wsgi.environ["wsgi.input"], cap)
        wsgi.__dict__.pop("stream", None)  # not read yet: made again over the capped input
        return cap

    return cap_stream


def _read_body(cap):
    """The request's body, read under ``cap`` (RequestEntityTooLarge beyond)."""
    wsgi = _wsgi_request()
    if (wsgi.content_length or 0) > cap:
        raise RequestEntityTooLarge()
    stream = wsgi.stream
    chunks, size = [], 0
    while chunk := stream.read(READ_CHUNK):
        size += len(chunk)
        if size > cap:
            raise RequestEntityTooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _text(value, name):
    """``value`` as an id: absent (""), or a string of at most MAX_ID_LENGTH printable ASCII characters."""
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > MAX_ID_LENGTH or not (value.isascii() and value.isprintable()):
        raise Malformed(name)
    return value


_databases = {"at": None, "names": frozenset()}
_databases_lock = threading.Lock()


def _served_databases():
    """The names of the databases with the addon installed, read at most once every DATABASES_TTL
    seconds (a look-up per database then, whatever a request names): checking the name an address
    gives is then the same work for every name."""
    with _databases_lock:
        if _databases["at"] is None or monotonic() - _databases["at"] > DATABASES_TTL:
            names = [name for name in service_db.list_dbs(force=True) if DBNAME.fullmatch(name)]
            _databases["names"] = frozenset(name for name in names if _addon_installed(name))
            _databases["at"] = monotonic()
        return _databases["names"]


def _addon_installed(dbname):
    """Whether the addon is installed in ``dbname`` (one connection and query; False if no such database)."""
    try:
        with closing(sql_db.db_connect(dbname).cursor()) as cr:
            # a database without Odoo has no such table: an answer here, not a "bad query" to log
            cr.execute(
                "SELECT 1 FROM ir_module_module WHERE name = %s AND state = 'installed'", (ADDON,), log_exceptions=False
            )
            return bool(cr.fetchone())
    except psycopg2.Error:
        return False  # no such database, or not an Odoo one


class CalendarSyncWebhook(http.Controller):
    def _accounts(self):
        # the superuser: the caller is a calendar service, authenticated by the channel's secret
        return request.env(user=SUPERUSER_ID, su=True)["calendar.sync.account"]

    @staticmethod
    def _answer(status):
        return request.make_response(b"", status=status, headers=[("Content-Length", "0")])

    @staticmethod
    def _refused(provider, reason, status=400):
        # one line, naming no input: a flood of them says only how many were refused
        _logger.info("Calendar push: a %s notification was refused (%s): HTTP %s", provider, reason, status)
        return CalendarSyncWebhook._answer(status)

    @staticmethod
    def _registry(dbname):
        """The registry of ``dbname`` when this request may use it, else None.

        Allowed: a database name the server's ``dbfilter`` (or ``--database``) lets this host
        reach, where the addon is installed. A registry is loaded only then; every refused name
        costs the same look-ups (see _served_databases).
        """
        served = _served_databases()
        if not (DBNAME.fullmatch(dbname or "") and dbname in served and http.db_filter([dbname])):
            return None
        try:
            registry = Registry(dbname).check_signaling()
        except (psycopg2.Error, AttributeError):
            return None  # as Odoo's own request does for a database it cannot open
        return registry if registry.ready and "calendar.sync.account" in registry else None

    def _serve(self, dbname, handler):
        """Answer with ``handler(accounts)`` in the database of this notification.

        ``dbname``: the database the address names (None: an address without one).
        """
        if request.db:
            # Odoo chose the database (a single one, or the dbfilter): the address must agree
            if dbname and dbname != request.db:
                return self._answer(404)
            return handler(self._accounts())
        # several databases and none chosen: only the address can say which (the route is
        # served so when the addon is a server-wide module)
        registry = self._registry(dbname) if dbname else None
        if registry is None:
            return self._answer(404)
        with registry.cursor() as cr:  # committed at the end of the block, as a request's cursor
            env = api.Environment(cr, SUPERUSER_ID, {})
            # a concurrent update of the account (serialisation failure) is retried, as Odoo does
            return service_model.retrying(functools.partial(handler, env["calendar.sync.account"].sudo()), env)

    @http.route(
        ["/webcrm_calendar_sync/notify/google", "/webcrm_calendar_sync/notify/google/<string:dbname>"],
        type="http",
        auth="none",
        readonly=False,  # it writes (queues the account); auth="none" routes are read-only by default
        methods=["POST"],
        csrf=False,
        save_session=False,
        max_content_length=_capped_body(MAX_GOOGLE_BODY),
    )
    def notify_google(self, dbname=None, **_params):
        try:
            _read_body(MAX_GOOGLE_BODY)  # nothing is expected in it: read only to bound it
            notification = self._parse_google(request.httprequest.headers)
        except RequestEntityTooLarge:
            return self._refused("google", "body over the cap", 413)
        except Malformed as exc:
            return self._refused("google", str(exc))
        return self._serve(dbname, functools.partial(self._receive_google, notification))

    @staticmethod
    def _parse_google(headers):
        number = headers.get("X-Goog-Message-Number", "")
        if not MESSAGE_NUMBER.fullmatch(number) or not 0 < int(number) <= MAX_MESSAGE_NUMBER:
            raise Malformed("message number")
        return {
            "channel_id": _text(headers.get("X-Goog-Channel-ID"), "channel id"),
            "secret": _text(headers.get("X-Goog-Channel-Token"), "channel token"),
            "resource_id": _text(headers.get("X-Goog-Resource-ID"), "resource id"),
            "message_number": int(number),
            # "sync" opens the channel: nothing changed yet
            "queue": _text(headers.get("X-Goog-Resource-State"), "resource state") != "sync",
        }

    def _receive_google(self, notification, accounts):
        notification = dict(notification)
        result = accounts._push_receive(
            "google", notification.pop("channel_id"), notification.pop("secret"), **notification
        )
        # busy: the account is being synced right now; Google sends the message again later
        return self._answer(503 if result == "busy" else 200)

    @http.route(
        ["/webcrm_calendar_sync/notify/microsoft", "/webcrm_calendar_sync/notify/microsoft/<string:dbname>"],
        type="http",
        auth="none",
        readonly=False,  # it writes (queues the account); auth="none" routes are read-only by default
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        max_content_length=_capped_body(MAX_BODY),
    )
    def notify_microsoft(self, dbname=None, **_params):
        return self._graph_route(dbname, lifecycle=False)

    @http.route(
        [
            "/webcrm_calendar_sync/notify/microsoft/lifecycle",
            "/webcrm_calendar_sync/notify/microsoft/<string:dbname>/lifecycle",
        ],
        type="http",
        auth="none",
        readonly=False,  # it writes (queues the account, or forgets its subscription)
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
        max_content_length=_capped_body(MAX_BODY),
    )
    def notify_microsoft_lifecycle(self, dbname=None, **_params):
        """Graph's lifecycle notifications (``lifecycleEvent``): checked like the others."""
        return self._graph_route(dbname, lifecycle=True)

    def _graph_route(self, dbname, lifecycle):
        try:
            body = _read_body(MAX_BODY)
            parsed = self._parse_graph(body, lifecycle)
        except RequestEntityTooLarge:
            return self._refused("microsoft", "body over the cap", 413)
        except Malformed as exc:
            return self._refused("microsoft", str(exc))
        return self._serve(dbname, functools.partial(self._graph_notifications, parsed))

    @staticmethod
    def _parse_graph(body, lifecycle):
        """("validate", token) for Graph's check of the address, else ("notify", [(subscription id,
        secret, lifecycle event or None)]), each notification once; Malformed when it is neither."""
        token = request.httprequest.args.get("validationToken")
        if token is not None:
            if len(token) > MAX_VALIDATION_TOKEN:
                raise Malformed("validation token too long")
            return "validate", token
        if request.httprequest.method != "POST":
            raise Malformed("neither a validation nor a notification")
        try:
            payload = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError:
            raise Malformed("not UTF-8") from None
        except RecursionError:
            raise Malformed("nested too deeply") from None
        except ValueError:
            raise Malformed("not JSON") from None
        items = payload.get("value") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            raise Malformed("no list of notifications")
        notifications = []
        for item in items[:MAX_NOTIFICATIONS]:
            if not isinstance(item, dict):
                raise Malformed("a notification that is not an object")
            key = (
                _text(item.get("subscriptionId"), "subscription id"),
                _text(item.get("clientState"), "client state"),
                _text(item.get("lifecycleEvent"), "lifecycle event") if lifecycle else None,
            )
            if key not in notifications:  # several changes of one calendar: one sync
                notifications.append(key)
        return "notify", notifications

    def _graph_notifications(self, parsed, accounts):
        kind, value = parsed
        if kind == "validate":
            # Graph's check of the address when a subscription is made: echo the token at once
            return request.make_response(
                value,
                headers=[("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")],
            )
        busy = False
        for subscription_id, secret, event in value:
            busy |= accounts._push_receive("microsoft", subscription_id, secret, lifecycle=event) == "busy"
        # busy: the account is being synced right now; Graph sends the notification again later
        return self._answer(503 if busy else 202)
