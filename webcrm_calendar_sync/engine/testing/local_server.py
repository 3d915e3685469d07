"""What the fake servers share: a threaded HTTP(S) server on 127.0.0.1 and JSON replies."""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import ipaddress
import itertools
import json
import os
import ssl
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: Faults every fake can inject (``add_fault``), one queue for all of them:
#: ``reset``    the connection is closed before the request is handled (nothing happens)
#: ``delay``    the answer comes after ``value`` seconds (the request is handled: a client
#:              that timed out has lost the answer of a write that happened)
#: ``lose``     the request is handled, then the connection is closed without an answer
#: ``lose503``  the request is handled, then answered 503 (a front end that gave up)
#: ``status``   answered ``value`` (e.g. 500, 502, 503) with no body, the request not handled
#: ``error``    answered with the API's own error for ``value`` (a :class:`ApiFault`), the
#:              request not handled: a 429 with ``Retry-After``, a 503, EWS's ErrorServerBusy
FAULT_KINDS = ("reset", "delay", "lose", "lose503", "status", "error")


@dataclasses.dataclass
class ApiFault:
    """What an ``error`` fault answers, in each fake's own words (``FaultInjector.fault_error``).

    ``status``: 429 says "slow down" (Google: 429/403 ``rateLimitExceeded``; Graph:
    ``TooManyRequests``; EWS: ``ErrorServerBusy``); another status is a failure of the service.
    ``retry_after``: seconds the server asks the client to wait (``Retry-After``, EWS's
    ``BackOffMilliseconds``); None: no hint. ``reason``: the API's name for the error, when the
    fake offers several for one status (Google).
    """

    status: int = 429
    retry_after: float | None = None
    reason: str | None = None


@dataclasses.dataclass
class Fault:
    kind: str
    value: object = None
    on: set | None = None  # kinds of request hit; None: any request to the calendar API
    count: int = 1  # how many more requests it hits
    after: int = 0  # matching requests let through first


class FaultInjector:
    """One fault queue for a fake server: faults of the transport and errors of the API.

    The HTTP handler takes a fault for each request (``take_fault``) before the fake sees it;
    an ``error`` fault is answered by the fake itself when its ``handle`` calls
    :meth:`raise_injected_fault` (after authentication, where the real service answers them).
    A fake names the kind of each request (:meth:`request_kind`) and turns an
    :class:`ApiFault` into its error (:meth:`fault_error`).
    """

    def __init__(self):
        self.faults = []  # [Fault], in the order they were added
        self._fault_lock = threading.Lock()
        self._pending = threading.local()  # the ``error`` fault the current request met

    def add_fault(self, kind, *, on=None, count=1, value=None, after=0):
        """Inject ``count`` faults of ``kind`` (see FAULT_KINDS) into the next requests.

        ``on``: kinds of request (as :meth:`request_kind` names them, e.g. ``"create"``,
        ``"list"``, ``"update"``, ``"delete"``, ``"get"``) the fault hits; None: any
        request to the calendar API (sign-in endpoints are never hit). ``after``: let
        that many matching requests through first (e.g. to break the second page).
        """
        assert kind in FAULT_KINDS, kind
        on = {on} if isinstance(on, str) else set(on) if on else None
        with self._fault_lock:
            self.faults.append(Fault(kind, value, on, count, after))

    def fail_next(self, count=1, status=429, retry_after=None, *, reason=None, on=None, after=0):
        """The next ``count`` requests are answered with the API's error for ``status`` (ApiFault)."""
        self.add_fault("error", on=on, count=count, after=after, value=ApiFault(status, retry_after, reason))

    def clear_faults(self):
        with self._fault_lock:
            self.faults.clear()

    def faults_left(self):
        """How many requests the queued faults will still hit."""
        with self._fault_lock:
            return sum(fault.count for fault in self.faults)

    def request_kind(self, method, path, query, headers, body):
        """What a request does, in the words of ``add_fault(on=...)``; None: never faulted."""
        return None

    def fault_error(self, fault: ApiFault) -> Exception:  # pragma: no cover - abstract
        """The fake's error (an ``error_class``) answering ``fault``."""
        raise NotImplementedError

    def take_fault(self, method, path, query, headers, body):
        """The fault the request meets, as (kind, value), or None; an ``error`` is kept for the fake."""
        self._pending.fault = None
        with self._fault_lock:
            if not self.faults:
                return None
            kind = self.request_kind(method, path, query, headers, body)
            if kind is None:
                return None
            for fault in self.faults:
                if fault.on is None or kind in fault.on:
                    if fault.after > 0:
                        fault.after -= 1
                        return None
                    if fault.kind == "error":
                        # counted when the fake answers it (raise_injected_fault): a request
                        # answered before the API is reached (an NTLM challenge) leaves it queued
                        self._pending.fault = fault
                    else:
                        self._use(fault)
                    return fault.kind, fault.value
        return None

    def _use(self, fault):
        fault.count -= 1
        if fault.count <= 0 and fault in self.faults:
            self.faults.remove(fault)

    def raise_injected_fault(self):
        """Raise the API error the current request met, if any (called by the fake's ``handle``)."""
        fault, self._pending.fault = getattr(self._pending, "fault", None), None
        if fault is not None:
            with self._fault_lock:
                self._use(fault)
            raise self.fault_error(fault.value)

    def wait_idle(self, timeout=10.0):
        """Wait until no request is being handled (e.g. a delayed one whose client gave up)."""
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)


def self_signed_certificate(prefix="fake-server-"):
    """A certificate for 127.0.0.1 / localhost, made now: (cert_file, key_file).

    The certificate is its own CA: a client trusts the server with ``verify=cert_file``.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tempfile.mkdtemp(prefix=prefix)
    cert_file, key_file = os.path.join(folder, "cert.pem"), os.path.join(folder, "key.pem")
    with open(cert_file, "wb") as fh:
        fh.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_file, "wb") as fh:
        fh.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return cert_file, key_file


class LocalServer(FaultInjector):
    """Runs ``handle(method, path, query, headers, body)`` of a subclass on a free port.

    ``handle`` returns ``(status, payload)`` or ``(status, payload, headers)``; a
    payload is JSON-able, or ``bytes`` sent as they are (headers name their type); a
    302 payload is ``{"_location": url}``.
    Exceptions of ``error_class`` become ``(status, payload, headers)`` through
    ``error_reply``. ``requests`` counts the HTTP requests received, faulted ones included;
    ``lock`` guards the fake's state, ``seq`` numbers its changes.
    """

    error_class = Exception
    scheme = "http"

    def __init__(self):
        super().__init__()
        self.httpd = None
        self._local = threading.local()
        self.in_flight = 0  # requests being handled now (a delayed one may outlive its client)
        self.requests = 0
        self.lock = threading.RLock()
        self.seq = itertools.count(1)

    def after_request(self, method, path):
        """Called once a request was handled (e.g. to send push notifications of its changes)."""

    def handle(self, method, path, query, headers, body):  # pragma: no cover - abstract
        raise NotImplementedError

    def error_reply(self, exc):  # pragma: no cover - abstract
        raise NotImplementedError

    #: serve HTTPS with a certificate made at start (``ca_file`` is what clients trust)
    tls = False
    cert_file = key_file = None

    def wrap_socket(self, httpd):
        if not self.tls:
            return
        self.cert_file, self.key_file = self_signed_certificate(prefix=f"{type(self).__name__.lower()}-")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)

    @property
    def ca_file(self):
        return self.cert_file

    @property
    def connection(self) -> dict:
        """State of the current HTTP connection (one thread serves one connection)."""
        return self._local.__dict__.setdefault("connection", {})

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


class JsonEvents:
    """For fakes that keep events as JSON-able dicts, one dict of events per user.

    Keys starting with ``_`` are the fake's bookkeeping, never shown; ``_stamp(event)``
    (the fake's) marks an event changed.
    """

    def _event_boxes(self) -> dict:  # pragma: no cover - abstract
        """{email: {event_id: event}}."""
        raise NotImplementedError

    def add_user(self, email):
        with self.lock:
            self._event_boxes().setdefault(email.lower(), {})
        return email.lower()

    def corrupt(self, email, event_id, **fields):
        """Store fields as given (None removes one), past validation: data another client left."""
        with self.lock:
            event = self._event_boxes()[email.lower()][event_id]
            for key, value in fields.items():
                if value is None:
                    event.pop(key, None)
                else:
                    event[key] = value
            self._stamp(event)

    @staticmethod
    def _public(event):
        """An event as the API shows it (a copy, without the fake's bookkeeping)."""
        return {k: copy.deepcopy(v) for k, v in event.items() if not k.startswith("_")}


class _JsonHandler(BaseHTTPRequestHandler):
    fake: LocalServer = None
    protocol_version = "HTTP/1.1"
    # headers and body leave in two writes: without TCP_NODELAY, Nagle's algorithm holds
    # the second until the client's delayed ACK (~40 ms per kept-alive request)
    disable_nagle_algorithm = True

    def log_message(self, *args):  # quiet
        pass

    def handle(self):
        self.fake._local.connection = {}
        return super().handle()

    def _dispatch(self):
        with self.fake._fault_lock:
            self.fake.in_flight += 1
            self.fake.requests += 1
        try:
            self._serve()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True  # the client gave up (timeout): nobody reads the answer
        finally:
            with self.fake._fault_lock:
                self.fake.in_flight -= 1

    def _serve(self):
        parsed = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parsed.query, keep_blank_values=True))
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {}
        fault = self.fake.take_fault(self.command, parsed.path, query, self.headers, body)
        kind, value = fault or (None, None)
        if kind == "reset":
            self.close_connection = True
            return
        if kind == "status":
            self._send(int(value or 503), b"", {"Content-Length": "0"})
            return
        if kind == "delay":
            time.sleep(float(value or 1))
        try:
            reply = self.fake.handle(self.command, parsed.path, query, self.headers, body)
            status, payload, headers = reply if len(reply) == 3 else (*reply, {})
        except self.fake.error_class as exc:
            status, payload, headers = self.fake.error_reply(exc)
        self.fake.after_request(self.command, parsed.path)
        if kind == "lose":
            self.close_connection = True
            return
        if kind == "lose503":
            self._send(503, b"", {"Content-Length": "0"})
            return
        if status == 302:
            self.send_response(302)
            self.send_header("Location", payload["_location"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        raw = isinstance(payload, bytes)
        data = b"" if payload is None else payload if raw else json.dumps(payload).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if payload is not None and not raw:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _send(self, status, data, headers):
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _dispatch
