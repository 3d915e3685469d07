"""Plain TCP helpers for the network guard's tests (engine and Odoo layer): a listener on
127.0.0.1 that counts the connections it gets, and a port nothing listens on.

Never imports ``odoo``.
"""

import socket
import threading


class CountingListener:
    """A TCP socket on 127.0.0.1 that counts the connections it accepts and keeps the bytes
    they send (so a test can see whether a request, and which, ever reached it)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.received = b""
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        while True:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return  # closed
            self.accepted += 1
            conn.settimeout(0.5)
            try:
                self.received += conn.recv(4096)
            except OSError:  # pylint: disable=except-pass
                pass  # a client that sent nothing before the timeout: nothing to keep
            conn.close()

    def close(self):
        self.sock.close()


def closed_port():
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
