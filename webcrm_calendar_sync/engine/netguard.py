"""Where the server may connect when a *user* chose the address (an Exchange server's EWS URL).

Without a guard, anyone who may enter an EWS URL makes the Odoo server connect to any host
and port, the server's own network included (127.0.0.1:5432, a cloud metadata address, an
intranet service), and can tell open ports from closed ones by the answer. The guard:

* resolves the host name before connecting and refuses when any of its addresses is not a
  public internet address (loopback, private, link-local, shared, multicast, reserved,
  unspecified...) unless an administrator allowed that host or network;
* checks the address actually connected to once more (a name that resolves differently the
  second time, a redirect, gets no further);
* says the same thing for every refused address whatever the port and whether anything listens
  there: nothing is sent to a refused address, so its answer cannot show;
* refuses plain ``http://``: credentials only travel encrypted.

:class:`GuardedAdapter` is a ``requests`` adapter applying a guard to every connection of a
session. Never imports ``odoo``.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import urllib.parse
from typing import Iterable, Optional

import requests
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from . import errors


class Refused(Exception):
    """A connection the guard does not allow. ``str()`` is safe to show: it names the host only."""

    def __init__(self, host: str, reason: str = "private"):
        self.host = host
        self.reason = reason  # "private" | "plain_http": errors.MESSAGES["network_<reason>"]
        super().__init__(errors.english(f"network_{reason}", {"host": host}))


def _is_public(ip) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class NetGuard:
    """Which hosts and networks off the public internet may be reached.

    ``allowed``: host names (exact, case-insensitive), IP addresses or networks in CIDR form,
    e.g. ``["mail.corp.local", "10.20.0.0/16", "127.0.0.1"]``. Public addresses are always allowed.
    """

    def __init__(self, allowed: Iterable[str] = (), resolve=socket.getaddrinfo):
        self.hosts = set()
        self.networks = []
        for entry in allowed or ():
            entry = (entry or "").strip().lower().strip("[]")
            if not entry:
                continue
            try:
                self.networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self.hosts.add(entry.rstrip("."))
        self._resolve = resolve

    @classmethod
    def from_setting(cls, text: Optional[str]) -> NetGuard:
        """A guard from the comma- (or space-) separated setting an administrator types."""
        return cls((text or "").replace(",", " ").split())

    def address_allowed(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if _is_public(ip):
            return True
        candidates = [ip] + ([ip.ipv4_mapped] if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped else [])
        return any(c in net for c in candidates for net in self.networks if c.version == net.version)

    def check_host(self, host: str, port: int = 443) -> None:
        """Raise :class:`Refused` unless every address ``host`` resolves to may be reached.

        A name that does not resolve is let through: the connection then fails like any other
        unreachable server.
        """
        name = (host or "").strip().lower().strip("[]").rstrip(".")
        if name in self.hosts:
            return
        try:
            infos = self._resolve(name, port, proto=socket.IPPROTO_TCP)
        except (OSError, UnicodeError):
            return
        for info in infos:
            if not self.address_allowed(info[4][0]):
                raise Refused(host)

    def check_url(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme.lower() != "https":
            raise Refused(host, "plain_http")
        self.check_host(host, parts.port or 443)

    def check_peer(self, sock, host: str) -> None:
        """After connecting: the address really connected to must be allowed too."""
        if (host or "").strip().lower().strip("[]").rstrip(".") in self.hosts:
            return
        try:
            address = sock.getpeername()[0]
        except OSError:
            return
        if not self.address_allowed(address):
            sock.close()
            raise Refused(host)


# ---------------------------------------------------------------------------
# requests / urllib3 plumbing: the guard of the calling thread checks every connection
# ---------------------------------------------------------------------------
_current = threading.local()


class guarded:
    """``with guarded(guard):`` every :class:`GuardedAdapter` connection made by this thread is checked."""

    def __init__(self, guard: Optional[NetGuard]):
        self.guard = guard

    def __enter__(self):
        self.previous = getattr(_current, "guard", None)
        _current.guard = self.guard
        return self.guard

    def __exit__(self, *exc):
        _current.guard = self.previous


def current_guard() -> Optional[NetGuard]:
    return getattr(_current, "guard", None)


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self):
        guard = current_guard()
        if guard is not None:
            # no connection at all without https (checked in send() too, this is the last word)
            raise Refused(self.host, "plain_http")
        return super()._new_conn()


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self):
        guard = current_guard()
        if guard is not None:
            guard.check_host(self.host, self.port or 443)
        sock = super()._new_conn()
        if guard is not None:
            guard.check_peer(sock, self.host)
        return sock


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class GuardedAdapter(requests.adapters.HTTPAdapter):
    """A requests adapter whose connections obey the thread's guard (see :class:`guarded`)."""

    def init_poolmanager(self, *args, **kwargs):
        result = super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
        return result

    def send(self, request, **kwargs):
        guard = current_guard()
        if guard is not None:
            guard.check_url(request.url)
        return super().send(request, **kwargs)


def find_refusal(exc: BaseException) -> Optional[Refused]:
    """The :class:`Refused` behind ``exc`` (libraries wrap what the adapter raised), if any."""
    seen = set()
    stack = [exc]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, Refused):
            return current
        stack.extend([current.__cause__, current.__context__])
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            stack.append(reason)
    return None
