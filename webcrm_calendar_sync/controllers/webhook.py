"""Where Google and Microsoft Graph push their change notifications.

Each answers at once: the notification is checked against the account it names (one
SELECT; see ``calendar.sync.account._push_receive``) and, when genuine and new, the
account is made due and the scheduled sync woken. Nothing is synced here, no calendar
service is called, and nothing tells a caller whether a channel exists.
"""

import json
import logging

from odoo import SUPERUSER_ID, http
from odoo.http import request

_logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024  # bytes: a Graph notification batch is a few KB
MAX_NOTIFICATIONS = 100  # per request
MAX_VALIDATION_TOKEN = 1024


class CalendarSyncWebhook(http.Controller):
    def _accounts(self):
        # the superuser: the caller is a calendar service, authenticated by the channel's secret
        return request.env(user=SUPERUSER_ID, su=True)["calendar.sync.account"]

    @staticmethod
    def _answer(status):
        return request.make_response(b"", status=status, headers=[("Content-Length", "0")])

    @http.route(
        "/webcrm_calendar_sync/notify/google",
        type="http",
        auth="none",
        readonly=False,  # it writes (queues the account); auth="none" routes are read-only by default
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def notify_google(self, **_params):
        headers = request.httprequest.headers
        try:
            number = int(headers.get("X-Goog-Message-Number", ""))
        except ValueError:
            return self._answer(200)  # not from Google: nothing to do, nothing to say
        state = headers.get("X-Goog-Resource-State", "")
        result = self._accounts()._push_receive(
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
        "/webcrm_calendar_sync/notify/microsoft",
        type="http",
        auth="none",
        readonly=False,  # it writes (queues the account); auth="none" routes are read-only by default
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
    )
    def notify_microsoft(self, **_params):
        return self._graph_notifications(lifecycle=False)

    @http.route(
        "/webcrm_calendar_sync/notify/microsoft/lifecycle",
        type="http",
        auth="none",
        readonly=False,  # it writes (queues the account, or forgets its subscription)
        methods=["GET", "POST"],
        csrf=False,
        save_session=False,
    )
    def notify_microsoft_lifecycle(self, **_params):
        """Graph's lifecycle notifications (``lifecycleEvent``): checked like the others."""
        return self._graph_notifications(lifecycle=True)

    def _graph_notifications(self, lifecycle):
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
        Account = self._accounts()
        seen, busy = set(), False
        for item in items[:MAX_NOTIFICATIONS]:
            if not isinstance(item, dict):
                continue
            key = (str(item.get("subscriptionId") or ""), str(item.get("clientState") or ""))
            event = str(item.get("lifecycleEvent") or "") if lifecycle else None
            if (key, event) in seen:
                continue  # several changes of one calendar: one sync
            seen.add((key, event))
            busy |= Account._push_receive("microsoft", *key, lifecycle=event) == "busy"
        # busy: the account is being synced right now; Graph sends the notification again later
        return self._answer(503 if busy else 202)
