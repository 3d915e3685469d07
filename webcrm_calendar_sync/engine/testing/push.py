"""How the fake servers call a subscriber back, like Google and Microsoft Graph do.

Both services deliver a notification as an HTTP POST to the address the client
registered, from their own machines, after the change (never inside the client's
request). :class:`Notifier` does the same from a thread of its own; with
``hold=True`` the notifications wait until :meth:`Notifier.deliver` sends them, from
the caller's thread (an Odoo ``HttpCase`` must not run SQL in the test thread while
the test server answers the POST in another one). Graph's validation handshake,
which Graph makes while the client's ``POST /subscriptions`` waits, is
:meth:`Notifier.validate`.
"""

from __future__ import annotations

import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

# no proxy from the environment: the addresses are the test's own
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Notifier:
    """An ordered outbox of HTTP POSTs; ``sent`` keeps what was delivered and the answer."""

    def __init__(self, *, timeout=10.0, hold=False):
        self.timeout = timeout
        self.hold = hold
        self.outbox = []  # (url, headers, body)
        self.sent = []  # {"url", "headers", "body", "status"} (status None: no answer)
        self._cond = threading.Condition()
        self._busy = 0
        self._thread = None

    def send(self, url, headers, body=b""):
        """Queue one POST (never blocks: the fakes call it while they hold their lock)."""
        with self._cond:
            self.outbox.append((url, dict(headers), body))
            self._cond.notify_all()
            if not self.hold and self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="fake-push-notifier", daemon=True)
                self._thread.start()

    def deliver(self):
        """Send what waits, now, in this thread; the answers' status codes."""
        statuses = []
        while True:
            with self._cond:
                if not self.outbox:
                    return statuses
                item = self.outbox.pop(0)
                self._busy += 1
            try:
                statuses.append(self._post(*item))
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def wait(self, timeout=10.0):
        """Wait until everything queued was sent (delivering mode); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.outbox or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def clear(self):
        with self._cond:
            self.outbox.clear()
            self.sent.clear()

    def _loop(self):
        while True:
            with self._cond:
                while self.hold or not self.outbox:
                    self._cond.wait()
                item = self.outbox.pop(0)
                self._busy += 1
            try:
                self._post(*item)
            finally:
                with self._cond:
                    self._busy -= 1
                    self._cond.notify_all()

    def _post(self, url, headers, body):
        status = self._send(url, headers, body)[0]
        with self._cond:
            self.sent.append({"url": url, "headers": headers, "body": body, "status": status})
        return status

    def _send(self, url, headers, body):
        """POST with the standard library (a fake imports no client library): (status, body text)."""
        request = urllib.request.Request(url, data=body or b"", headers=headers, method="POST")
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, ""
        except (urllib.error.URLError, OSError):
            return None, ""

    def validate(self, url):
        """Graph's check of a new notification URL: POST ``?validationToken=...`` (text/plain),
        which must be answered 200 with the token itself. True when it was."""
        token = "Validation: Testing client application reachability for subscription Request-Id: " + (
            secrets.token_hex(8)
        )
        sep = "&" if urllib.parse.urlsplit(url).query else "?"
        target = f"{url}{sep}{urllib.parse.urlencode({'validationToken': token})}"
        status, text = self._send(target, {"Content-Type": "text/plain; charset=utf-8"}, b"")
        return status == 200 and text == token
