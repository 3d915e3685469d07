"""The engine's shared helpers: UID normal form, HTML to text, Retry-After, event checks."""

import datetime as dt
import struct

import pytest
from rigs import log_lines

from odoo.addons.webcrm_calendar_sync.engine import errors
from odoo.addons.webcrm_calendar_sync.engine import provider as provider_module
from odoo.addons.webcrm_calendar_sync.engine.events import (
    ChangeSet,
    RemoteEvent,
    html_to_text,
    invalid_reason,
    normalize_ical_uid,
    repair,
    vcal_global_object_id,
)
from odoo.addons.webcrm_calendar_sync.engine.provider import (
    call_with_retry,
    convert_each,
    delete_ignoring_missing,
    parse_retry_after,
)

UTC = dt.timezone.utc
CLASS_ID = bytes([0x04, 0x00, 0x00, 0x00, 0x82, 0x00, 0xE0, 0x00, 0x74, 0xC5, 0xB7, 0x10, 0x1A, 0x82, 0xE0, 0x08])


def goid(data: bytes, instance=b"\x00\x00\x00\x00", created=b"\x00" * 8) -> bytes:
    """A Global Object ID laid out as [MS-OXOCAL] 2.2.1.27 says, byte by byte."""
    return CLASS_ID + instance + created + b"\x00" * 8 + struct.pack("<I", len(data)) + data


# -- UID normal form --------------------------------------------------------------
def test_a_vcal_uid_global_object_id_gives_back_the_original_uid():
    uid = "3k8vb2hv6ocpsqp2o4rtv1m0ce@google.com"
    wrapped = goid(b"vCal-Uid" + b"\x01\x00\x00\x00" + uid.encode() + b"\x00").hex().upper()
    assert wrapped.startswith("040000008200E00074C5B7101A82E008")
    assert normalize_ical_uid(wrapped) == uid
    assert normalize_ical_uid(wrapped.lower()) == uid  # hex case does not matter
    # an occurrence's id (instance date 2027-03-04 in bytes 16-19) wraps the same UID
    occurrence = goid(b"vCal-Uid\x01\x00\x00\x00" + uid.encode() + b"\x00", instance=b"\x07\xeb\x03\x04")
    assert normalize_ical_uid(occurrence.hex()) == uid
    assert vcal_global_object_id(uid) == wrapped


def test_an_outlook_global_object_id_stays_hex_upper_case_without_instance_date():
    # Outlook's own ids carry a creation time and 16 bytes of its own data
    created = struct.pack("<Q", 133_000_000_000_000_000)
    data = bytes(range(16))
    master = goid(data, created=created).hex()
    occurrence = goid(data, instance=b"\x07\xeb\x03\x04", created=created).hex()
    assert normalize_ical_uid(master.lower()) == master.upper()
    assert normalize_ical_uid(occurrence) == master.upper()


@pytest.mark.parametrize(
    "uid",
    [
        "plain-uid@example.com",
        "040000008200E00074C5B7101A82E008",  # the class id alone: too short to be one
        "040000008200E00074C5B7101A82E008" + "ZZ" * 40,  # not hex
        "abcdef0123456789" * 6,  # hex, but another prefix
    ],
)
def test_other_uids_are_left_as_they_are(uid):
    assert normalize_ical_uid(uid) == uid
    assert normalize_ical_uid(f"  {uid} ") == uid


def test_a_truncated_global_object_id_is_not_decoded():
    whole = goid(b"vCal-Uid\x01\x00\x00\x00abc@x\x00").hex().upper()
    cut = whole[:-6]
    assert normalize_ical_uid(cut) == cut


# -- HTML ----------------------------------------------------------------------------
def test_html_to_text():
    html = (
        "<html><head><style>p {color: red}</style></head><body><!-- note -->"
        "<p>Agenda:&nbsp;<b>budget</b> &amp; plan</p><div>Room 4<br>Floor 2</div></body></html>"
    )
    assert html_to_text(html) == "Agenda: budget & plan\nRoom 4\nFloor 2"
    assert html_to_text("") == "" and html_to_text(None) == ""


# -- Retry-After -----------------------------------------------------------------------
def test_retry_after_in_seconds_or_as_a_date():
    assert parse_retry_after("7") == 7.0 and parse_retry_after("1.5") == 1.5
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = (dt.datetime.now(UTC) + dt.timedelta(seconds=30)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    assert 25 <= parse_retry_after(later) <= 31
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait


def test_call_with_retry_honours_retry_after():
    waits, calls = [], []

    def busy():
        calls.append(1)
        if len(calls) < 3:
            raise errors.RateLimited(retry_after=2)
        return "ok"

    assert call_with_retry(busy, sleep=waits.append, base_delay=0.01) == "ok"
    assert len(waits) == 2 and all(2 <= w < 2.01 for w in waits)


def test_delete_ignoring_missing():
    def gone():
        raise errors.NotFound()

    def refused():
        raise errors.Forbidden()

    delete_ignoring_missing(gone)
    with pytest.raises(errors.Forbidden):
        delete_ignoring_missing(refused)


# -- events that cannot be mirrored ------------------------------------------------------
T = dt.datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "event, reason",
    [
        (RemoteEvent(external_id="a", start=T, end=T + dt.timedelta(hours=1)), None),
        (RemoteEvent(external_id="a", start=T, end=T), None),  # no duration: fine
        (RemoteEvent(external_id="a", start=T, end=T - dt.timedelta(minutes=1)), "end_before_start"),
        (RemoteEvent(external_id="a"), "no_start"),
        (RemoteEvent(start=T, end=T), "no_id"),
        (RemoteEvent(external_id="a", status="cancelled"), None),  # a deletion needs no dates
        (RemoteEvent(external_id="a", all_day=True, start_date=T.date(), end_date=T.date()), None),
        (
            RemoteEvent(external_id="a", all_day=True, start_date=T.date(), end_date=T.date() - dt.timedelta(1)),
            "end_before_start",
        ),
    ],
)
def test_invalid_reason(event, reason):
    assert invalid_reason(event) == reason


def test_a_missing_end_is_the_start():
    assert repair(RemoteEvent(external_id="a", start=T)).end == T
    day = repair(RemoteEvent(external_id="a", all_day=True, start_date=T.date()))
    assert day.end_date == T.date() and invalid_reason(day) is None


def test_convert_each_isolates_bad_items():
    def convert(item):
        if item["id"] == "boom":
            raise KeyError("start")
        if item["id"] == "invalid":
            raise errors.InvalidEvent("bad_date", "invalid")
        return RemoteEvent(external_id=item["id"], start=T, end=T + dt.timedelta(hours=item["hours"]))

    items = [{"id": "ok", "hours": 1}, {"id": "boom"}, {"id": "back", "hours": -1}, {"id": "invalid"}]
    changes = ChangeSet()
    with log_lines(provider_module.__name__) as lines:
        good = list(convert_each(items, convert, changes, provider="Test", account="acct-7"))
    assert [e.external_id for e in good] == ["ok"]
    assert changes.invalid == [("boom", "unreadable"), ("back", "end_before_start"), ("invalid", "bad_date")]
    text = "\n".join(lines)
    assert "acct-7" in text and "boom" in text and "back" in text


def test_html_to_text_lays_out_as_a_browser():
    # a merged template: its indentation and line breaks are spaces, never breaks in a sentence
    merged = (
        "<div>\n    <p>Hello\n        Douglas Fletcher,</p>\n    <p>You are invited to <strong>Demo</strong>\n"
        "        with\n            Ready Mat.</p>\n    <ul>\n        <li>When: Tuesday 13:00</li>\n"
        '        <li>Join: <a href="https://meet.example/abc">the video call</a></li>\n    </ul>\n</div>'
    )
    assert html_to_text(merged) == (
        "Hello Douglas Fletcher,\nYou are invited to Demo with Ready Mat.\n- When: Tuesday 13:00\n"
        "- Join: the video call (https://meet.example/abc)"
    )
    # an empty paragraph (Odoo's editor) is a blank line; <br> breaks a line
    assert html_to_text("<p>Agenda</p><p><br></p><p>One<br>Two</p>") == "Agenda\n\nOne\nTwo"
