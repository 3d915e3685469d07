"""The fake servers read and write the wire formats with their own code: a fake that borrowed
the provider's parser or the client library would agree with the provider's bugs."""

import ast
import datetime as dt
import subprocess
import sys
from pathlib import Path

TESTING = Path(__file__).resolve().parents[2] / "webcrm_calendar_sync" / "engine" / "testing"
# what the servers are (memory.py is an in-memory provider, not a server)
SERVER_MODULES = sorted(p for p in TESTING.glob("*.py") if p.name not in ("__init__.py", "memory.py"))
# client libraries the providers drive: a fake that imported one would be a client
CLIENT_LIBRARIES = {"googleapiclient", "google", "google_auth_httplib2", "httplib2", "msal", "exchangelib", "requests"}


def imports_of(path):
    """[(module, level)] a file imports, wherever the import stands (functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
    return found


def test_the_server_modules_are_found():
    names = {p.name for p in SERVER_MODULES}
    assert {"fake_google.py", "fake_graph.py", "fake_ews.py", "local_server.py"} <= names


def test_a_fake_imports_nothing_of_the_engine_nor_a_client_library():
    wrong = []
    for path in SERVER_MODULES:
        for module, level in imports_of(path):
            top = module.split(".")[0]
            if level > 1 or (level == 0 and ("engine" in module.split(".") or top in CLIENT_LIBRARIES)):
                wrong.append(f"{path.name}: {'.' * level}{module}")
    assert not wrong, wrong


def test_importing_the_fakes_loads_no_provider():
    # a process of its own, where the engine is imported alone (the addon's package would
    # load the Odoo layer and, with it, every provider)
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "from engine.testing import fake_ews, fake_google, fake_graph\n"
        "bad = sorted(n for n in sys.modules if n.startswith('engine.provider') or n.split('.')[0] in %r)\n"
        "assert not bad, bad\n"
    ) % (str(TESTING.parents[1]), sorted(CLIENT_LIBRARIES - {"google"}))
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_fakes_read_times_with_their_own_parser():
    from odoo.addons.webcrm_calendar_sync.engine.testing.wire_time import parse_time

    utc = dt.timezone.utc
    # Graph's seven digits, on the clock of a Windows zone id
    assert parse_time("2027-01-01T09:00:00.1234567", "Eastern Standard Time") == dt.datetime(
        2027, 1, 1, 14, 0, 0, 123456, tzinfo=utc
    )
    assert parse_time("2027-01-01T09:00:00+02:00", "Tokyo Standard Time") == dt.datetime(2027, 1, 1, 7, tzinfo=utc)
    assert parse_time("2027-01-01T09:00:00Z") == dt.datetime(2027, 1, 1, 9, tzinfo=utc)
