"""What the fake servers share: a threaded HTTP(S) server on 127.0.0.1 and JSON replies."""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalServer:
    """Runs ``handle(method, path, query, headers, body)`` of a subclass on a free port.

    ``handle`` returns ``(status, payload)``; a 302 payload is ``{"_location": url}``.
    Exceptions of ``error_class`` become ``(status, payload, headers)`` through
    ``error_reply``.
    """

    error_class = Exception
    scheme = "http"

    def __init__(self):
        self.httpd = None

    def handle(self, method, path, query, headers, body):  # pragma: no cover - abstract
        raise NotImplementedError

    def error_reply(self, exc):  # pragma: no cover - abstract
        raise NotImplementedError

    def wrap_socket(self, httpd):
        """Hook for TLS."""

    def start(self):
        handler = type("Handler", (_JsonHandler,), {"fake": self})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.wrap_socket(self.httpd)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.httpd:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def port(self):
        return self.httpd.server_address[1]


class _JsonHandler(BaseHTTPRequestHandler):
    fake: LocalServer = None
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def _dispatch(self):
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {}
        try:
            status, payload = self.fake.handle(self.command, parsed.path, query, self.headers, body)
        except self.fake.error_class as exc:
            status, payload, headers = self.fake.error_reply(exc)
        if status == 302:
            self.send_response(302)
            self.send_header("Location", payload["_location"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        data = b"" if payload is None else json.dumps(payload).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if payload is not None:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch
