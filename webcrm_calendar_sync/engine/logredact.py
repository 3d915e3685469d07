"""Keep secrets out of the log, whatever level the client libraries log at.

With DEBUG on, the libraries the providers use write secrets into their log records: the
NTLM/SPNEGO tokens (``spnego``), the authorization code and PKCE verifier (``msal``'s token
cache events), Google sync and page tokens in request URLs (``googleapiclient``, ``urllib3``),
``Authorization`` headers (``exchangelib``), and the access log prints the OAuth return's
``code`` and ``state`` (``werkzeug``).

A logger's filter does not see the records of its child loggers, and libraries log through
many children (``exchangelib.util``, ``msal.token_cache``...). So the redaction is done where
every record is made: :func:`install` wraps ``logging.Logger.makeRecord``, and each record of a
covered logger (by name prefix, children included) has its message and traceback text redacted
before any filter, handler or formatter sees it.

Never imports ``odoo``.
"""

from __future__ import annotations

import logging
import re
import threading

#: loggers (and all their children) whose records are redacted
COVERED = (
    "exchangelib",
    "spnego",
    "ntlm_auth",
    "requests_ntlm",
    "msal",
    "googleapiclient",
    "google",  # google.auth, google.oauth2, google_auth_httplib2 logs under google.auth too
    "google_auth_httplib2",
    "httplib2",
    "oauthlib",
    "requests_oauthlib",
    "requests",
    "urllib3",
    "werkzeug",  # the access log: the OAuth return's code and state
    "odoo.http.rpc",  # --log-level=debug_rpc prints call arguments (an account's new password)
    "odoo.addons.webcrm_calendar_sync",
)

REDACTED = "[redacted]"
_SECRET_NAMES = (
    r"code|state|code_verifier|session_state|access_token|refresh_token|id_token|client_secret|"
    r"client_assertion|assertion|password|passwd|token|token_data|secret|"
    r"sync_?token|next_?sync_?token|page_?token|next_?page_?token|(?:%24|\$)?deltatoken|(?:%24|\$)?skiptoken"
)
_PATTERNS = (
    # Authorization: Basic/NTLM/Negotiate/Bearer <token>, in header dumps of any shape
    (re.compile(r"(?i)\b(basic|ntlm|negotiate|bearer)\s+[A-Za-z0-9+/=._~-]{6,}"), r"\1 " + REDACTED),
    # base64 NTLMSSP messages wherever they appear, and the SPNEGO family's step tokens
    (re.compile(r"TlRMTVNTUA[A-Za-z0-9+/=]*"), REDACTED),
    (
        re.compile(r"(?i)((?:ntlm|spnego|gssapi|sspi|credssp|kerberos)[\w ]*?(?:input|output|token)s?:?\s*)\S{6,}"),
        r"\1" + REDACTED,
    ),
    # name=value in URLs, forms and header-like text
    (re.compile(rf"(?i)((?:^|[?&;,\s(\"'])(?:{_SECRET_NAMES})=)[^&\s'\",;)]+"), r"\1" + REDACTED),
    # "name": "value" / 'name': 'value' in JSON and Python reprs
    (
        re.compile(
            rf"(?i)([\"'](?:{_SECRET_NAMES}|nextsynctoken|nextpagetoken|@odata\.deltalink|@odata\.nextlink)[\"']"
            r"\s*:\s*[bu]?[\"'])[^\"']*"
        ),
        r"\1" + REDACTED,
    ),
    # EWS sync states in SOAP bodies
    (re.compile(r"(?i)(<(?:\w+:)?SyncState>)[^<]*"), r"\1" + REDACTED),
)


def redact(text: str) -> str:
    """``text`` with every secret-looking part replaced by ``[redacted]``."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def covered(name: str) -> bool:
    return bool(name) and any(name == prefix or name.startswith(prefix + ".") for prefix in COVERED)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact ``record`` in place (message, arguments and traceback text)."""
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a record that cannot format: drop its arguments
        message = str(record.msg)
    redacted = redact(message)
    if redacted != message or record.args:
        record.msg, record.args = redacted, None
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    return record


class RedactFilter(logging.Filter):
    """The same redaction as a filter, for a handler that must not trust the record factory."""

    def filter(self, record):
        redact_record(record)
        return True


_lock = threading.Lock()


def install() -> None:
    """Redact every record as it is made, once per process (idempotent, thread-safe).

    ``logging.Logger.makeRecord`` is wrapped rather than the log-record factory: Odoo's
    ``netsvc.init_logger`` (run again by every ``config.parse_config``) replaces the factory.
    """
    with _lock:
        if getattr(logging.Logger.makeRecord, "webcrm_calendar_sync_redacts", False):
            return
        original = logging.Logger.makeRecord

        def make_record(self, *args, **kwargs):
            record = original(self, *args, **kwargs)
            if covered(record.name):
                try:
                    redact_record(record)
                except Exception:  # noqa: BLE001 - logging must never fail because of us
                    record.msg, record.args = "[a log record was dropped: it could not be redacted]", None
            return record

        make_record.webcrm_calendar_sync_redacts = True
        logging.Logger.makeRecord = make_record
