"""Typed errors carry a stable code and the data of their sentence (translated by the Odoo layer)."""

import ast
from pathlib import Path

import pytest

from odoo.addons.webcrm_calendar_sync.engine import errors

ENGINE = Path(errors.__file__).resolve().parent


def _error_calls():
    """(file, line, call) of every ``errors.<Class>(...)`` call in the engine's providers and helpers."""
    for path in sorted(ENGINE.rglob("*.py")):
        if "testing" in path.parts or path.name == "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "errors"
                and node.func.attr[:1].isupper()
            ):
                yield path.name, node.lineno, node


def test_engine_errors_carry_a_code_not_a_ready_sentence():
    calls = list(_error_calls())
    assert len(calls) > 30  # the scan finds the providers' errors
    with_sentence = [f"{name}:{line}" for name, line, call in calls if call.args and call.func.attr != "InvalidEvent"]
    assert not with_sentence, "errors raised with a sentence instead of a code: " + ", ".join(with_sentence)
    codes = {
        (name, line, kw.value.value)
        for name, line, call in calls
        for kw in call.keywords
        if kw.arg == "code" and isinstance(kw.value, ast.Constant)
    }
    unknown = [f"{name}:{line} {code}" for name, line, code in codes if code not in errors.MESSAGES]
    assert not unknown, unknown


def test_every_class_has_its_default_sentence():
    classes = [c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, errors.SyncError)]
    assert len(classes) >= 12
    for cls in classes:
        assert cls.code in errors.MESSAGES, cls
        if cls is not errors.InvalidEvent:
            exc = cls()
            assert (exc.code, exc.message) == (cls.code, errors.MESSAGES[cls.code])


def test_code_and_params_make_the_english_sentence():
    exc = errors.ConfigurationError(code="exchange_no_mailbox", host="mail.corp.test", email="ann@corp.test")
    assert exc.code == "exchange_no_mailbox"
    assert exc.params == {"host": "mail.corp.test", "email": "ann@corp.test"}
    assert exc.message == "The Exchange server at mail.corp.test has no mailbox for ann@corp.test."
    refused = errors.BadRequest(code="google_refused", status=400, error="badRequest")
    assert refused.message == (
        "Google Calendar refused a request as invalid (400 badRequest), so Odoo did not send it again. "
        "If this message stays after the next synchronisation, tell your administrator."
    )
    assert refused.params == {"status": 400, "error": "badRequest"}
    assert not refused.retryable


def test_only_passing_trouble_is_retryable():
    """Throttling, outages and races pass; a refusal of the request as it is does not."""
    assert errors.RateLimited.retryable and errors.Unavailable.retryable and errors.Conflict.retryable
    assert not errors.BadRequest.retryable
    assert issubclass(errors.BadRequest, errors.SyncError)  # callers catching SyncError still catch it


def test_a_ready_sentence_has_no_code():
    exc = errors.AuthRevoked("Det gick inte.")
    assert exc.code is None and exc.message == "Det gick inte."


@pytest.mark.parametrize("code", sorted(errors.MESSAGES))
def test_every_sentence_is_complete(code):
    text = errors.MESSAGES[code]
    assert text[:1].isupper() and text.endswith("."), code


class _GraphAnswer:
    """What ``microsoft._typed`` reads of a ``requests`` response."""

    def __init__(self, status, body, headers=None):
        self.status_code, self._body, self.headers = status, body, headers or {}

    def json(self):
        if isinstance(self._body, Exception):
            raise self._body
        return self._body


class _GoogleAnswer(dict):
    """What ``google._typed`` reads of an ``HttpError``'s response (``status``, headers as a dict)."""

    def __init__(self, status):
        super().__init__()
        self.status, self.reason = status, "Bad Request"


@pytest.mark.parametrize(
    "body", [ValueError("not JSON"), ["a", "list"], {"error": "a text"}, {"error": {"code": 7}}, {"error": None}]
)
def test_a_refusal_whatever_the_body_is_a_bad_request_of_graph(body):
    from odoo.addons.webcrm_calendar_sync.engine.providers import microsoft

    exc = microsoft._typed(_GraphAnswer(400, body))
    assert type(exc) is errors.BadRequest and not exc.retryable
    assert "(400 Bad Request)" in exc.message
    assert type(microsoft._typed(_GraphAnswer(503, body))) is errors.Unavailable
    assert type(microsoft._typed(_GraphAnswer(429, body))) is errors.RateLimited


@pytest.mark.parametrize(
    "content", [b"<html>Bad Request</html>", b'["a"]', b'{"error": "text"}', b'{"error": {"errors": 3}}']
)
def test_a_refusal_whatever_the_body_is_a_bad_request_of_google(content):
    from googleapiclient.errors import HttpError

    from odoo.addons.webcrm_calendar_sync.engine.providers import google

    exc = google._typed(HttpError(_GoogleAnswer(400), content))
    assert type(exc) is errors.BadRequest and not exc.retryable
    assert "(400 Bad Request)" in exc.message
    assert type(google._typed(HttpError(_GoogleAnswer(500), content))) is errors.Unavailable
    reasons = b'{"error": {"errors": [{"reason": "invalid", "message": "Invalid start time for ann@corp.test"}]}}'
    exc = google._typed(HttpError(_GoogleAnswer(400), reasons))
    assert "(400 invalid)" in exc.message and "ann@corp.test" not in exc.message  # the keyword, never the text
