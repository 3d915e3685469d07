"""Issue 11, points 2 and 3 in Odoo: a user's EWS URL cannot reach the server's own network."""

import http.server
import threading

from odoo.exceptions import UserError

from ..engine.testing.tcp import CountingListener, closed_port
from .common import CalendarSyncCase
from .test_exchange_subscribe import SilentServer


class _PlainHandler(http.server.BaseHTTPRequestHandler):
    """Answers anything in plain HTTP (no TLS), as a web server on another port of the host would."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class TestNetworkGuard(CalendarSyncCase):
    def setUp(self):
        super().setUp()
        self.listener = CountingListener()
        self.addCleanup(self.listener.close)
        self.env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.allowed_private_hosts", "")

    def account(self, url):
        Account = self.env["calendar.sync.account"].with_user(self.alice)
        Account.search([("provider", "=", "exchange")]).unlink()  # one Exchange account per user and address
        return Account.create(
            {"provider": "exchange", "email": "alice@example.com", "ews_url": url, "password": "SENTINEL-PW"}
        )

    def test_subscribe_refuses_local_addresses_with_one_message_for_every_port(self):
        messages = set()
        for url in (
            f"https://127.0.0.1:{self.listener.port}/EWS/Exchange.asmx",  # something listens
            f"https://127.0.0.1:{closed_port()}/EWS/Exchange.asmx",  # nothing listens
            "https://127.0.0.1:5432/EWS/Exchange.asmx",  # the database
        ):
            account = self.account(url)
            with self.assertRaises(UserError) as caught:
                account.action_subscribe()
            messages.add(str(caught.exception))
            self.assertEqual(account.state, "draft")
        self.assertEqual(len(messages), 1, messages)
        self.assertIn("local or private network", messages.pop())
        self.assertEqual(self.listener.accepted, 0)
        for url in ("https://localhost/EWS/Exchange.asmx", "https://169.254.169.254/EWS/Exchange.asmx"):
            with self.assertRaisesRegex(UserError, "local or private network"):
                self.account(url).action_subscribe()

    def test_a_subscribed_account_is_checked_on_every_sync(self):
        account = self.account(f"https://127.0.0.1:{self.listener.port}/EWS/Exchange.asmx")
        account.sudo().state = "synced"  # e.g. subscribed while the address was allowed
        account._sync(raise_errors=False)
        self.assertEqual(account.state, "error")
        self.assertIn("local or private network", account.last_error)
        self.assertEqual(self.listener.accepted, 0)

    def test_an_administrator_allows_a_private_server(self):
        self.env["res.config.settings"].create(
            {"calendar_sync_allowed_private_hosts": "10.0.0.0/8, 127.0.0.1"}
        ).execute()
        account = self.account(f"https://127.0.0.1:{self.listener.port}/EWS/Exchange.asmx")
        with self.assertRaises(UserError) as caught:
            account.action_subscribe()
        self.assertNotIn("local or private network", str(caught.exception))
        self.assertGreaterEqual(self.listener.accepted, 1)

    def test_an_allowed_host_tells_no_open_port_from_a_closed_one(self):
        """Once a host is allowed, Save and subscribe says one thing for every connection that fails
        before an HTTP answer: nothing listens, something listens but speaks no TLS, something
        accepts and hangs up, something accepts and never speaks."""
        params = self.env["ir.config_parameter"].sudo()
        params.set_param("webcrm_calendar_sync.allowed_private_hosts", "127.0.0.1")
        params.set_param("webcrm_calendar_sync.connect_timeout", "1")
        params.set_param("webcrm_calendar_sync.request_timeout", "2")
        plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PlainHandler)
        threading.Thread(target=plain.serve_forever, daemon=True).start()
        self.addCleanup(plain.server_close)
        self.addCleanup(plain.shutdown)
        messages = {}
        with SilentServer() as silent:
            for name, port in (
                ("closed", closed_port()),
                ("plain http", plain.server_port),
                ("accepts and hangs up", self.listener.port),
                ("never speaks", silent.port),
            ):
                account = self.account(f"https://127.0.0.1:{port}/EWS/Exchange.asmx")
                with self.assertRaises(UserError) as caught:
                    account.action_subscribe()
                self.assertEqual(account.state, "draft")
                messages[name] = str(caught.exception).replace(str(port), "<port>")
        self.assertEqual(len(set(messages.values())), 1, messages)
        self.assertIn("not subscribed", messages["closed"])

    def test_plain_http_is_refused_even_when_subscribed(self):
        account = self.account(f"http://127.0.0.1:{self.listener.port}/EWS/Exchange.asmx")
        account.sudo().write({"state": "synced", "ews_auth_type": "basic"})
        account._sync(raise_errors=False)
        self.assertEqual(account.state, "error")
        self.assertIn("https://", account.last_error)
        self.assertEqual(self.listener.accepted, 0)

    def test_timeouts_come_from_settings(self):
        self.env["res.config.settings"].create(
            {"calendar_sync_connect_timeout": 3, "calendar_sync_read_timeout": 7}
        ).execute()
        account = self.account("https://mail.example.com/EWS/Exchange.asmx")
        provider = account.sudo()._exchange_provider_with("pw")
        self.assertEqual(provider.timeout, (3.0, 7.0))
        self.env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.connect_timeout", "0")
        self.assertEqual(account._http_timeouts(), (1.0, 7.0))  # never "wait forever"
