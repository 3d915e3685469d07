"""Issue 11, point 6: with DEBUG on for every client library, no secret reaches the log."""

import base64
import datetime as dt
import logging
import urllib.parse

import pytest
import requests
from exchangelib.protocol import CachingProtocol

from odoo.addons.webcrm_calendar_sync.engine import logredact
from odoo.addons.webcrm_calendar_sync.engine.events import Window
from odoo.addons.webcrm_calendar_sync.engine.providers import exchange as ex
from odoo.addons.webcrm_calendar_sync.engine.providers import google
from odoo.addons.webcrm_calendar_sync.engine.providers import microsoft as ms
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_ews import FakeEWS
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_google import FakeGoogle
from odoo.addons.webcrm_calendar_sync.engine.testing.fake_graph import FakeGraph

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
WINDOW = Window(NOW - dt.timedelta(days=3), NOW + dt.timedelta(days=30))
SENTINEL = "S3NT1NEL-pw-9f8e7d"


class Capture(logging.Handler):
    """Everything logged anywhere, formatted as a log file would have it (tracebacks included)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))

    @property
    def text(self):
        return "\n".join(self.lines)

    def names(self):
        return {line.split(" ", 1)[0] for line in self.lines}


@pytest.fixture
def log():
    """DEBUG on for the root logger and every library logger; all records captured."""
    capture = Capture()
    root = logging.getLogger()
    saved = {}
    for name in ("",) + logredact.COVERED:
        logger = logging.getLogger(name)
        saved[name] = (logger.level, logger.disabled)
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    root.addHandler(capture)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for name, (level, disabled) in saved.items():
            logging.getLogger(name).setLevel(level)
            logging.getLogger(name).disabled = disabled


def test_redact_covers_the_usual_shapes():
    samples = [
        "Authorization: Basic dXNlcjpTM05UMU5FTC1wdw==",
        "{'Authorization': 'NTLM TlRMTVNTUAADAAAAGAAYAEgAAAA='}",
        "NTLM step output: TlRMTVNTUAADAAAAGAAYAEgAAAA=",
        'GET /calendar/v3/calendars/primary/events?syncToken=CPjS_SECRET&maxResults=2500 HTTP/1.1" 200',
        "GET /v1.0/me/calendarView/delta?$deltatoken=SECRET_DELTA HTTP/1.1",
        '"GET /webcrm_calendar_sync/oauth/google?state=STATE_SECRET&code=4/0SECRET HTTP/1.1" 302 -',
        'event={"data": {"code": "SECRET_CODE", "code_verifier": "SECRET_VERIFIER"}}',
        "{'refresh_token': 'SECRET_R', 'access_token': 'SECRET_A'}",
        "<m:SyncState>H4sSECRETSTATE</m:SyncState>",
    ]
    for sample in samples:
        redacted = logredact.redact(sample)
        assert "SECRET" not in redacted and "dXNlcjpTM05UMU5F" not in redacted, redacted
        assert "TlRMTVNTUA" not in redacted, redacted
        assert "[redacted]" in redacted


def test_exchange_ntlm_messages_and_password_stay_out_of_the_log(log):
    with FakeEWS(auth=("ntlm",)) as server:
        server.add_mailbox("ann@corp.test", SENTINEL)
        CachingProtocol.clear_cache()
        provider = ex.ExchangeProvider(
            service_endpoint=server.url, email="ann@corp.test", password=SENTINEL, verify=server.ca_file
        )
        provider.check_connection()
        provider.list_changes(None, WINDOW)
    assert {"spnego._ntlm", "exchangelib.util"} & log.names() or any(n.startswith("spnego") for n in log.names())
    assert any(n.startswith("exchangelib") for n in log.names())  # the libraries did log at DEBUG
    text = log.text
    assert SENTINEL not in text
    assert "TlRMTVNTUA" not in text  # no NTLM negotiate/challenge/authenticate message
    assert base64.b64encode(SENTINEL.encode()).decode()[:12] not in text


def test_exchange_basic_header_stays_out_of_the_log(log):
    with FakeEWS(auth=("basic",)) as server:
        server.add_mailbox("ann@corp.test", SENTINEL)
        CachingProtocol.clear_cache()
        ex.ExchangeProvider(
            service_endpoint=server.url, email="ann@corp.test", password=SENTINEL, verify=server.ca_file
        ).check_connection()
    basic = base64.b64encode(f"ann@corp.test:{SENTINEL}".encode()).decode()
    assert any(n.startswith("exchangelib") for n in log.names())
    assert basic not in log.text, [line[:300] for line in log.lines if basic in line]
    assert basic[-16:] not in log.text and SENTINEL not in log.text


def test_msal_authorization_code_and_pkce_verifier_stay_out_of_the_log(log):
    with FakeGraph() as server:
        authority = server.authority("organizations")
        flow = ms.build_auth_flow(
            server.client_id,
            server.client_secret,
            authority,
            "http://odoo.test/cb",
            "ann@example.com",
            verify=server.ca_file,
        )
        answer = requests.get(flow["auth_uri"], allow_redirects=False, verify=server.ca_file, timeout=5)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
        cache, _who = ms.complete_auth_flow(
            flow, query, server.client_id, server.client_secret, authority, verify=server.ca_file
        )
        provider = ms.MicrosoftProvider(
            cache,
            client_id=server.client_id,
            client_secret=server.client_secret,
            email="ann@example.com",
            authority=authority,
            graph_endpoint=server.graph_endpoint,
            verify=server.ca_file,
        )
        changes = provider.list_changes(None, WINDOW)
        provider.list_changes(changes.next_state, WINDOW)
    assert any(n.startswith("msal") for n in log.names())
    text = log.text
    secrets = [query["code"], flow["code_verifier"], server.client_secret]
    secrets += [t["secret"] for t in provider.cache.search(provider.cache.CredentialType.ACCESS_TOKEN)]
    secrets += [t["secret"] for t in provider.cache.search(provider.cache.CredentialType.REFRESH_TOKEN)]
    delta = urllib.parse.parse_qs(urllib.parse.urlsplit(changes.next_state).query)
    secrets += [v for values in delta.values() for v in values if len(v) > 8]
    for secret in secrets:
        assert secret and secret not in text, f"a secret of {len(secret)} characters is in the log"


def test_google_sync_and_page_tokens_stay_out_of_the_log(log, monkeypatch):
    import googleapiclient.model

    # googleapiclient's own switch for logging whole requests and answers (headers, bodies)
    monkeypatch.setattr(googleapiclient.model, "dump_request_response", True)
    with FakeGoogle() as server:
        tokens = server.issue_tokens("ann@example.com")
        for i in range(3):
            start = NOW + dt.timedelta(days=i + 1)
            server.add_event(
                "ann@example.com",
                {
                    "summary": f"E{i}",
                    "start": {"dateTime": start.isoformat().replace("+00:00", "Z")},
                    "end": {"dateTime": (start + dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")},
                },
            )
        provider = google.GoogleProvider(
            tokens,
            client_id=server.client_id,
            client_secret=server.client_secret,
            token_uri=server.token_uri,
            api_endpoint=server.api_endpoint,
            page_size=2,
        )
        full = provider.list_changes(None, WINDOW)
        provider.list_changes(full.next_state, WINDOW)
    assert any(n.startswith("googleapiclient") for n in log.names())
    assert "syncToken" in log.text  # the incremental request was logged, its token redacted
    for secret in (full.next_state, tokens["access_token"], tokens["refresh_token"], server.client_secret):
        assert secret and secret not in log.text and urllib.parse.quote(secret, safe="") not in log.text


def test_oauth_code_in_the_access_log_is_redacted(log):
    from werkzeug._internal import _log

    _log(
        "info",
        '%s - - [%s] "%s" %s %s',
        "127.0.0.1",
        "25/Nov/2026 17:00:00",
        f"GET /webcrm_calendar_sync/oauth/google?state=ST-{SENTINEL}&code=4/{SENTINEL} HTTP/1.1",
        "302",
        "-",
    )
    assert "/webcrm_calendar_sync/oauth/google" in log.text
    assert SENTINEL not in log.text


def test_child_loggers_and_tracebacks_are_covered(log):
    child = logging.getLogger("urllib3.connectionpool.some.deep.child")
    try:
        raise ValueError(f"https://x.test/token?refresh_token={SENTINEL}")
    except ValueError:
        child.debug("failed", exc_info=True)
    assert "failed" in log.text and SENTINEL not in log.text
