"""The anonymous push routes against what a caller can send them, over real HTTP: a body over the
route's cap is refused whatever its transfer encoding (chunked included, and before it ends), and
anything malformed is a 400 with one log line, never a 500 with a traceback."""

import json
import logging
import socket

from odoo.tests import HttpCase

from .common import CalendarSyncCase

GOOGLE = "/webcrm_calendar_sync/notify/google"
GRAPH = "/webcrm_calendar_sync/notify/microsoft"
LIFECYCLE = "/webcrm_calendar_sync/notify/microsoft/lifecycle"
LOGGER = "odoo.addons.webcrm_calendar_sync.controllers.webhook"
GOOGLE_HEADERS = {
    "X-Goog-Channel-ID": "some-channel",
    "X-Goog-Channel-Token": "some-token",
    "X-Goog-Resource-ID": "some-resource",
    "X-Goog-Resource-State": "exists",
    "X-Goog-Message-Number": "7",
}


class TestPushInput(HttpCase, CalendarSyncCase):
    def raw_post(self, path, head, first_chunk, end=True, headers=None):
        """POST over a socket with ``Transfer-Encoding: chunked`` (no Content-Length): ``first_chunk``,
        then the end of the body only when ``end``. Returns the status the server answered, read
        while the body may still be unfinished (None if it did not answer within 10 s)."""
        self.env.flush_all()
        host, port = "127.0.0.1", self.http_port()
        lines = [f"POST {path} HTTP/1.1", f"Host: {host}:{port}", "Transfer-Encoding: chunked", *head]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        request += b"%x\r\n" % len(first_chunk) + first_chunk + b"\r\n"
        if end:
            request += b"0\r\n\r\n"
        with socket.create_connection((host, port), timeout=10) as sock:
            try:
                sock.sendall(request)
            except OSError:  # pylint: disable=except-pass
                pass  # the server answered and closed before taking everything: its answer is read below
            try:
                answer = sock.recv(4096)
            except TimeoutError:
                return None
        self.env.invalidate_all()
        return int(answer.split(b" ", 2)[1]) if answer else None

    def post(self, path, data, headers=None):
        self.env.flush_all()
        answer = self.opener.post(self.base_url() + path, data=data, headers=headers or {}, timeout=20)
        self.env.invalidate_all()
        return answer

    def test_a_body_over_the_cap_is_refused_whatever_its_transfer_encoding(self):
        json_head = ["Content-Type: application/json"]
        padded = json.dumps({"value": [], "padding": "x" * (300 * 1024)}).encode()
        for path in (GRAPH, LIFECYCLE):
            # with a Content-Length
            self.assertEqual(self.post(path, padded, {"Content-Type": "application/json"}).status_code, 413, path)
            # chunked, ended: a valid body but for its size
            self.assertEqual(self.raw_post(path, json_head, padded), 413, path)
            # chunked, not ended: refused as soon as the cap is passed, not when the body ends
            self.assertEqual(self.raw_post(path, json_head, padded, end=False), 413, path)
            # a form, which Odoo parses before the route is called: capped there too
            form = b"a=" + b"x" * (300 * 1024)
            form_head = ["Content-Type: application/x-www-form-urlencoded"]
            self.assertEqual(self.raw_post(path, form_head, form, end=False), 413, path)
            # under the cap, chunked: taken as any notification
            self.assertEqual(self.raw_post(path, json_head, b'{"value": []}'), 202, path)
        # Google's notifications have no body: a few KB at most
        big = b"x" * (64 * 1024)
        self.assertEqual(self.post(GOOGLE, big, GOOGLE_HEADERS).status_code, 413)
        self.assertEqual(self.raw_post(GOOGLE, [], big, headers=GOOGLE_HEADERS), 413)
        self.assertEqual(self.raw_post(GOOGLE, [], big, end=False, headers=GOOGLE_HEADERS), 413)
        self.assertEqual(self.post(GOOGLE, b"", GOOGLE_HEADERS).status_code, 200)

    def test_malformed_notifications_are_a_400_with_one_log_line(self):
        deep = b'{"value": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        graph_bodies = {
            "100,000-deep nesting": deep,
            "NUL in an id": b'{"value": [{"subscriptionId": "abc\\u0000def", "clientState": "x"}]}',
            "a lone surrogate": b'{"value": [{"subscriptionId": "\\ud800", "clientState": "x"}]}',
            "not UTF-8": b'{"value": [{"subscriptionId": "\xe9t\xe9", "clientState": "x"}]}',
            "UTF-16": '{"value": []}'.encode("utf-16"),
            "an id that is no string": b'{"value": [{"subscriptionId": {"a": 1}, "clientState": "x"}]}',
            "an item that is no object": b'{"value": [7]}',
            "not JSON": b"not json",
        }
        for path in (GRAPH, LIFECYCLE):
            for name, body in graph_bodies.items():
                with self.assertLogs(LOGGER, logging.INFO) as logs, self.assertNoLogs("odoo.http", "ERROR"):
                    status = self.post(path, body, {"Content-Type": "application/json"}).status_code
                self.assertEqual(status, 400, f"{path}: {name}")
                self.assertEqual(len(logs.records), 1, f"{path}: {name}: {logs.output}")
        numbers = ("99999999999999999999", "2147483648", "-5", "0", "five", "1e3", "7\xa0", "\xb2", "")
        for number in numbers:
            headers = dict(GOOGLE_HEADERS, **{"X-Goog-Message-Number": number})
            with self.assertLogs(LOGGER, logging.INFO) as logs, self.assertNoLogs("odoo.http", "ERROR"):
                status = self.post(GOOGLE, b"", headers).status_code
            self.assertEqual(status, 400, f"message number {number!r}")
            self.assertEqual(len(logs.records), 1, logs.output)
        for name, value in (("too long", "c" * 300), ("a control character", "a\x7fb"), ("not ASCII", "é")):
            headers = dict(GOOGLE_HEADERS, **{"X-Goog-Channel-ID": value})
            with self.assertLogs(LOGGER, logging.INFO) as logs:
                status = self.post(GOOGLE, b"", headers).status_code
            self.assertEqual(status, 400, name)
            self.assertEqual(len(logs.records), 1, logs.output)
        # the largest number Google's channel can carry here is taken
        headers = dict(GOOGLE_HEADERS, **{"X-Goog-Message-Number": "2147483647"})
        self.assertEqual(self.post(GOOGLE, b"", headers).status_code, 200)
