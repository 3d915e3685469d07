"""Exchange "Save and subscribe": what it says when it fails, what it leaves behind, how long it waits."""

import contextlib
import json
import socket
import threading
import time
from unittest.mock import patch
from urllib.parse import urlsplit

from odoo.exceptions import UserError
from odoo.tests import common as odoo_test_common
from odoo.tests import new_test_user, tagged

from ..engine.testing.fake_ews import FakeEWS
from .common import CalendarSyncCase
from .test_ui import CalendarUiCase

ALICE = "alice@example.com"
CALENDAR_URL = "/web#action=calendar.action_calendar_event"


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self):
        return f"https://127.0.0.1:{self.port}/EWS/Exchange.asmx"

    def _accept(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread
        self.sock.close()
        for conn in self.accepted:
            conn.close()
        self._thread.join(5)


class ExchangeServerMixin:
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = FakeEWS(auth=("ntlm", "basic")).start()
        cls.addClassCleanup(cls.server.stop)
        cls.env["res.config.settings"].create({"calendar_sync_exchange_ca_bundle": cls.server.ca_file}).execute()

    def setUp(self):
        super().setUp()
        self.server.mailboxes.clear()
        self.server.clear_faults()
        self.server.add_mailbox(ALICE, "alice-pw")
        self.server.add_mailbox("dora@example.com", "dora-pw")

    def values(self, **kw):
        return {"email": ALICE, "ews_url": self.server.url, "password": "alice-pw", **kw}


@tagged("post_install", "-at_install")
class TestExchangeSubscribeErrors(ExchangeServerMixin, CalendarSyncCase):
    def subscribe(self, **kw):
        return self.env["calendar.sync.account"].with_user(self.alice).subscribe_exchange(False, self.values(**kw))

    def assert_refused(self, pattern, **kw):
        # the savepoint plays the RPC's rollback of a call that raised
        with self.assertRaisesRegex(UserError, pattern) as caught, self.env.cr.savepoint():
            self.subscribe(**kw)
        message = str(caught.exception)
        self.assertNotIn("will try again", message, "nothing retries a calendar that is not subscribed")
        return message

    def test_subscribes_and_says_so(self):
        triggers = self.cron_triggers()
        result = self.subscribe()
        account = self.env["calendar.sync.account"].browse(result["id"])
        self.assertEqual(account.provider, "exchange")
        self.assertTrue(account.has_credentials)
        # the first sync is queued, not run in the request: no listing was asked of the server
        self.assert_first_sync_queued(account, triggers)
        message = result["action"]["params"]["message"]
        self.assertIn("Subscribed. Your meetings are being copied in the background", message)
        self.assertNotIn("Synchronise", message)

    def test_refused_subscription_queues_nothing(self):
        triggers = self.cron_triggers()
        with self.assertRaises(UserError), self.env.cr.savepoint():
            self.subscribe(password="wrong")
        self.assertFalse(self.cron_triggers() - triggers)

    def test_busy_server_says_when_to_try_again(self):
        self.server.fail_next(4, status=429, retry_after=30)  # ErrorServerBusy, "back off 30 s"
        message = self.assert_refused("is busy")
        self.assertIn("Click Save and subscribe again in a few minutes", message)

    def test_failing_server_is_not_retried_by_a_sync_that_will_not_come(self):
        self.server.add_fault("status", count=4, value=503)
        message = self.assert_refused("could not be reached or did not answer")
        self.assertIn("not subscribed", message)

    def test_server_refusing_the_check_as_invalid_says_what_to_do(self):
        self.server.fail_next(5, status=400)
        message = self.assert_refused("refused Odoo's connection check as invalid")
        self.assertIn("(400 Bad Request)", message)
        self.assertIn("not subscribed. Check the EWS address", message)
        self.assertNotIn("next synchronisation", message)
        self.assertEqual(self.server.faults_left(), 4, "one attempt")

    def test_wrong_password_and_wrong_url(self):
        self.assert_refused("refused the e-mail address or password", password="wrong")
        self.assert_refused("must end with /EWS/Exchange.asmx", ews_url=self.server.url.replace("/Exchange.asmx", ""))

    def test_other_provider_is_refused(self):
        with self.assertRaisesRegex(UserError, "Only an Exchange"):
            self.env["calendar.sync.account"].with_user(self.alice).subscribe_exchange(
                False, {"provider": "microsoft", "email": ALICE}
            )

    def _timed_subscribe(self, url):
        started = time.monotonic()
        with self.assertRaises(UserError) as caught:
            self.subscribe(ews_url=url)
        return time.monotonic() - started, str(caught.exception)

    def test_server_that_never_answers_gives_up_within_the_timeout(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("webcrm_calendar_sync.connect_timeout", "1")
        params.set_param("webcrm_calendar_sync.request_timeout", "2")
        with SilentServer() as silent:
            elapsed, message = self._timed_subscribe(silent.url)
            accepted = len(silent.accepted)
        self.assertGreaterEqual(accepted, 1, "the server accepted the connection")
        # one attempt, bounded by the timeouts (1 s to connect, 2 s to answer) - not a minute of retries
        self.assertLess(elapsed, 2 + 1 + 2, f"gave up after {elapsed:.1f} s")
        self.assertIn("did not answer in time (Odoo waits up to 2 seconds)", message)
        self.assertNotIn("will try again", message)

    def test_server_that_stops_answering_after_tls_gives_up_within_the_timeout(self):
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("webcrm_calendar_sync.request_timeout", "2")
        self.server.add_fault("delay", count=4, value=6)  # every answer comes later than the timeout
        elapsed, message = self._timed_subscribe(self.server.url)
        self.assertLess(elapsed, 2 + 2, f"gave up after {elapsed:.1f} s")
        self.assertIn("did not answer in time", message)

    def test_unknown_host_says_the_name_was_not_found(self):
        # a name under .invalid never resolves (RFC 2606): let Odoo's test guard pass it on to
        # the resolver, which fails at once, without waiting - the message must not speak of a wait
        guard = type(self)._request_handler

        def resolve_invalid_names(cls, session, request, **kw):
            if (urlsplit(request.url).hostname or "").endswith(".invalid"):
                return odoo_test_common._super_send(session, request, **kw)
            return guard(session, request, **kw)

        with patch.object(type(self), "_request_handler", classmethod(resolve_invalid_names)):
            _elapsed, message = self._timed_subscribe("https://no-such-host.invalid/EWS/Exchange.asmx")
        self.assertIn("The name no-such-host.invalid could not be found", message)
        self.assertIn("Check the EWS address for typing mistakes", message)
        self.assertNotIn("waits up to", message)
        self.assertNotIn("did not answer", message)

    def test_closed_port_gets_the_sentence_of_every_connection_failure(self):
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()  # nothing listens there any more
        _elapsed, message = self._timed_subscribe(f"https://127.0.0.1:{port}/EWS/Exchange.asmx")
        # the same sentence as a silent or a non-TLS port (test_network_guard.py): no port oracle
        self.assertIn("the connection was refused or cut", message)


@tagged("post_install", "-at_install")
class TestExchangeSubscribeLeavesNothing(ExchangeServerMixin, CalendarUiCase):
    """Through the web client's RPC, as the form calls it: a refusal rolls the whole call back."""

    def call(self, login, method, args):
        self.authenticate(login, login)
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"model": "calendar.sync.account", "method": method, "args": args, "kwargs": {}},
        }
        response = self.url_open(
            "/web/dataset/call_kw/calendar.sync.account/" + method,
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        response.raise_for_status()
        return response.json()

    def accounts(self, user):
        return self.env["calendar.sync.account"].search([("user_id", "=", user.id)])

    def test_refused_new_account_is_not_saved(self):
        answer = self.call("alice", "subscribe_exchange", [False, self.values(password="wrong")])
        self.assertIn("refused the e-mail address or password", answer["error"]["data"]["message"])
        self.assertNotIn("wrong", str(answer))
        self.assertFalse(self.accounts(self.alice), "no draft account left behind")
        self.assertFalse(self.env["calendar.sync.credential"].sudo().search([]).filtered("password"))
        answer = self.call("alice", "subscribe_exchange", [False, self.values()])
        account = self.accounts(self.alice)
        self.assertEqual(answer["result"]["id"], account.id)
        self.assertEqual(account.state, "subscribed")

    def test_refused_change_leaves_the_account_as_it_was(self):
        account = self.env["calendar.sync.account"].create(
            {"user_id": self.alice.id, "provider": "exchange", "email": ALICE, "ews_url": self.server.url}
        )
        answer = self.call("alice", "subscribe_exchange", [account.id, {"password": "wrong"}])
        self.assertIn("refused the e-mail address or password", answer["error"]["data"]["message"])
        account.invalidate_recordset()
        self.assertFalse(account.has_credentials, "the refused password is not stored")
        self.assertEqual(account.state, "draft")

    def test_subscribe_errors_in_the_form(self):
        dora = new_test_user(self.env, "dora", email="dora@example.com", name="Dora")
        # the company's EWS address, set as a default for new accounts
        self.env["ir.default"].set("calendar.sync.account", "ews_url", self.server.url, user_id=dora.id)
        tour = "webcrm_calendar_sync_exchange_errors_tour"
        self.start_tour(CALENDAR_URL, tour, login="dora", screenshot="exchange_subscribe_error")
        self.assertFalse(self.accounts(dora), "no account left behind by the refusals")

    def test_subscribe_in_the_form(self):
        dora = new_test_user(self.env, "dora", email="dora@example.com", name="Dora")
        self.env["ir.default"].set("calendar.sync.account", "ews_url", self.server.url, user_id=dora.id)
        self.start_tour(CALENDAR_URL, "webcrm_calendar_sync_exchange_subscribe_tour", login="dora")
        account = self.accounts(dora)
        self.assertEqual(len(account), 1)
        self.assertEqual(account.state, "subscribed")
