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
"""

import functools
import json
import logging
import re
from contextlib import closing

import psycopg2

from odoo import SUPERUSER_ID, api, http, sql_db
from odoo.http import request
from odoo.modules.registry import Registry
from odoo.service import model as service_model

_logger = logging.getLogger(__name__)

ADDON = "webcrm_calendar_sync"
DBNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")  # PostgreSQL names are at most 63 bytes

MAX_BODY = 256 * 1024  # bytes: a Graph notification batch is a few KB
MAX_NOTIFICATIONS = 100  # per request
MAX_VALIDATION_TOKEN = 1024


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
    def _registry(dbname):
        """The registry of ``dbname`` when this request may use it, else None.

        Allowed: a database name the server's ``dbfilter`` (or ``--database``) lets this host
        reach, where the addon is installed. A registry is loaded only then.
        """
        if not DBNAME.fullmatch(dbname or "") or not http.db_filter([dbname]):
            return None
        if dbname not in Registry.registries and not _addon_installed(dbname):
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
    )
    def notify_google(self, dbname=None, **_params):
        return self._serve(dbname, self._receive_google)

    def _receive_google(self, accounts):
        headers = request.httprequest.headers
        try:
            number = int(headers.get("X-Goog-Message-Number", ""))
        except ValueError:
            return self._answer(200)  # not from Google: nothing to do, nothing to say
        state = headers.get("X-Goog-Resource-State", "")
        result = accounts._push_receive(
            "google",
            headers.get("X-Goog-Channel-ID", ""),
            headers.get("X-Goog-Channel-Token", ""),
            resource_id=headers.get("X-Goog-Resource-ID", ""),
            message_number=number,
            queue=state != "sync",  # "sync" opens the channel: nothing changed yet
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
    )
    def notify_microsoft(self, dbname=None, **_params):
        return self._serve(dbname, functools.partial(self._graph_notifications, lifecycle=False))

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
    )
    def notify_microsoft_lifecycle(self, dbname=None, **_params):
        """Graph's lifecycle notifications (``lifecycleEvent``): checked like the others."""
        return self._serve(dbname, functools.partial(self._graph_notifications, lifecycle=True))

    def _graph_notifications(self, accounts, lifecycle):
        token = request.httprequest.args.get("validationToken")
        if token is not None:
            # Graph's check of the address when a subscription is made: echo the token at once
            if len(token) > MAX_VALIDATION_TOKEN:
                return self._answer(400)
            return request.make_response(
                token,
                headers=[("Content-Type", "text/plain; charset=utf-8"), ("X-Content-Type-Options", "nosniff")],
            )
        if request.httprequest.method != "POST" or (request.httprequest.content_length or 0) > MAX_BODY:
            return self._answer(400)
        try:
            payload = json.loads(request.httprequest.get_data() or b"{}")
            items = payload.get("value") if isinstance(payload, dict) else None
        except ValueError:
            items = None
        if not isinstance(items, list):
            return self._answer(400)
        seen, busy = set(), False
        for item in items[:MAX_NOTIFICATIONS]:
            if not isinstance(item, dict):
                continue
            key = (str(item.get("subscriptionId") or ""), str(item.get("clientState") or ""))
            event = str(item.get("lifecycleEvent") or "") if lifecycle else None
            if (key, event) in seen:
                continue  # several changes of one calendar: one sync
            seen.add((key, event))
            busy |= accounts._push_receive("microsoft", *key, lifecycle=event) == "busy"
        # busy: the account is being synced right now; Graph sends the notification again later
        return self._answer(503 if busy else 202)
