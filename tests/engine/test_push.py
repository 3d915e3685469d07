"""Push notifications: Google watch channels and Graph change subscriptions, provider and fake.

The providers open, renew and close them against the fakes; the fakes call a local
receiver back as the real services do (Google's X-Goog-* headers, Graph's validation
handshake and JSON notifications).
"""

import datetime as dt
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from rigs import GoogleRig, GraphRig

from odoo.addons.webcrm_calendar_sync.engine import errors

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


class Receiver:
    """A subscriber's endpoint: records every request; echoes Graph's validation token unless told not to."""

    def __init__(self):
        self.requests = []
        self.echo = True
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
                with receiver.lock:
                    receiver.requests.append({"headers": self.headers, "body": body, "query": query})
                data = b""
                status = 202
                if "validationToken" in query:
                    status = 200
                    data = query["validationToken"].encode() if receiver.echo else b"nope"
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/notify"

    def notifications(self):
        with self.lock:
            return [r for r in self.requests if "validationToken" not in r["query"]]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def receiver():
    rec = Receiver()
    yield rec
    rec.stop()


@pytest.fixture
def google_rig(receiver):
    rig = GoogleRig()
    rig.reset()
    rig.server.push_allow_http = True
    receiver.requests.clear()
    yield rig
    rig.stop()


@pytest.fixture
def graph_rig(receiver):
    rig = GraphRig()
    rig.reset()
    rig.server.push_allow_http = True
    receiver.requests.clear()
    receiver.echo = True
    yield rig
    rig.stop()


# ---------------------------------------------------------------------------
# Google
# ---------------------------------------------------------------------------
def test_google_watch_sends_sync_then_exists_with_google_headers(google_rig, receiver):
    provider = google_rig.provider()
    channel = provider.watch("chan-1", receiver.url, "s3cret")
    assert channel["channel_id"] == "chan-1"
    assert channel["resource_id"]
    assert channel["expiration"] > dt.datetime.now(UTC) + dt.timedelta(days=6)
    assert google_rig.server.notifier.wait()
    google_rig.add("Planning", NOW + dt.timedelta(days=1))
    assert google_rig.server.notifier.wait()
    messages = receiver.notifications()
    assert [m["headers"]["X-Goog-Resource-State"] for m in messages] == ["sync", "exists"]
    assert [m["headers"]["X-Goog-Message-Number"] for m in messages] == ["1", "2"]
    for message in messages:
        assert message["headers"]["X-Goog-Channel-ID"] == "chan-1"
        assert message["headers"]["X-Goog-Channel-Token"] == "s3cret"
        assert message["headers"]["X-Goog-Resource-ID"] == channel["resource_id"]
        assert message["body"] == b""


def test_google_change_made_through_the_api_notifies(google_rig, receiver):
    provider = google_rig.provider()
    provider.watch("chan-2", receiver.url, "tok")
    other_client = google_rig.provider()
    event_id = google_rig.add("Review", NOW + dt.timedelta(days=2))
    google_rig.server.notifier.wait()
    receiver.requests.clear()
    other_client.delete_event(event_id)
    google_rig.server.notifier.wait()
    assert [m["headers"]["X-Goog-Resource-State"] for m in receiver.notifications()] == ["exists"]
    # reading changes nothing: no message
    provider.list_changes(None, google_rig_window())
    google_rig.server.notifier.wait()
    assert len(receiver.notifications()) == 1


def google_rig_window():
    from odoo.addons.webcrm_calendar_sync.engine.events import Window

    return Window(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=60))


def test_google_stop_watch_ends_the_messages(google_rig, receiver):
    provider = google_rig.provider()
    channel = provider.watch("chan-3", receiver.url, "tok")
    provider.stop_watch("chan-3", channel["resource_id"])
    assert "chan-3" not in google_rig.server.channels
    google_rig.server.notifier.wait()
    receiver.requests.clear()
    google_rig.add("After stop", NOW + dt.timedelta(days=1))
    google_rig.server.notifier.wait()
    assert receiver.notifications() == []
    provider.stop_watch("chan-3", channel["resource_id"])  # already gone: nothing to do


def test_google_refuses_plain_http_and_duplicate_ids(google_rig, receiver):
    provider = google_rig.provider()
    google_rig.server.push_allow_http = False
    with pytest.raises(errors.SyncError) as caught:
        provider.watch("chan-4", receiver.url, "tok")
    assert caught.value.status == 400
    google_rig.server.push_allow_http = True
    provider.watch("chan-4", receiver.url, "tok")
    with pytest.raises(errors.SyncError):
        provider.watch("chan-4", receiver.url, "tok")


def test_google_channel_life_is_capped_by_the_server(google_rig, receiver):
    google_rig.server.max_channel_ttl = 3600
    channel = google_rig.provider().watch("chan-5", receiver.url, "tok")
    assert channel["expiration"] < dt.datetime.now(UTC) + dt.timedelta(hours=1, minutes=1)


# ---------------------------------------------------------------------------
# Microsoft Graph
# ---------------------------------------------------------------------------
def test_graph_subscription_is_validated_then_notifies_each_change(graph_rig, receiver):
    provider = graph_rig.provider()
    expiration = dt.datetime.now(UTC) + dt.timedelta(days=2)
    sub = provider.subscribe_changes(receiver.url, "client-secret", expiration)
    assert sub["subscription_id"] in graph_rig.server.subscriptions
    assert abs((sub["expiration"] - expiration).total_seconds()) < 1
    validations = [r for r in receiver.requests if "validationToken" in r["query"]]
    assert len(validations) == 1
    assert validations[0]["headers"]["Content-Type"].startswith("text/plain")
    event_id = graph_rig.add("Standup", NOW + dt.timedelta(days=1))
    provider.delete_event(event_id)
    assert graph_rig.server.notifier.wait()
    values = [v for m in receiver.notifications() for v in json.loads(m["body"])["value"]]
    assert [v["changeType"] for v in values] == ["created", "deleted"]
    for value in values:
        assert value["subscriptionId"] == sub["subscription_id"]
        assert value["clientState"] == "client-secret"
        assert value["resourceData"]["id"] == event_id


def test_graph_refuses_an_endpoint_that_does_not_echo(graph_rig, receiver):
    receiver.echo = False
    with pytest.raises(errors.SyncError) as caught:
        graph_rig.provider().subscribe_changes(receiver.url, "x", dt.datetime.now(UTC) + dt.timedelta(days=1))
    assert caught.value.status == 400
    assert graph_rig.server.subscriptions == {}


def test_graph_refuses_too_long_a_subscription(graph_rig, receiver):
    with pytest.raises(errors.SyncError):
        graph_rig.provider().subscribe_changes(receiver.url, "x", dt.datetime.now(UTC) + dt.timedelta(days=8))


def test_graph_renew_and_delete(graph_rig, receiver):
    provider = graph_rig.provider()
    sub = provider.subscribe_changes(receiver.url, "x", dt.datetime.now(UTC) + dt.timedelta(hours=2))
    later = dt.datetime.now(UTC) + dt.timedelta(days=2)
    renewed = provider.renew_subscription(sub["subscription_id"], later)
    assert renewed["subscription_id"] == sub["subscription_id"]
    stored = graph_rig.server.subscriptions[sub["subscription_id"]]["expiration"]
    assert abs((stored - later).total_seconds()) < 1
    provider.delete_subscription(sub["subscription_id"])
    assert graph_rig.server.subscriptions == {}
    provider.delete_subscription(sub["subscription_id"])  # already gone: nothing to do
    with pytest.raises(errors.NotFound):
        provider.renew_subscription(sub["subscription_id"], later)


def test_graph_expired_subscription_is_gone(graph_rig, receiver):
    provider = graph_rig.provider()
    sub = provider.subscribe_changes(receiver.url, "x", dt.datetime.now(UTC) + dt.timedelta(seconds=2))
    time.sleep(2.2)
    receiver.requests.clear()
    graph_rig.add("Late", NOW + dt.timedelta(days=1))
    graph_rig.server.notifier.wait()
    assert receiver.notifications() == []
    with pytest.raises(errors.NotFound):
        provider.renew_subscription(sub["subscription_id"], dt.datetime.now(UTC) + dt.timedelta(days=1))


def test_graph_lifecycle_address_is_validated_and_receives_lifecycle_events(graph_rig, receiver):
    provider = graph_rig.provider()
    lifecycle_url = receiver.url + "/lifecycle"
    sub = provider.subscribe_changes(
        receiver.url, "client-secret", dt.datetime.now(UTC) + dt.timedelta(days=1), lifecycle_address=lifecycle_url
    )
    sub_id = sub["subscription_id"]
    validated = [r for r in receiver.requests if "validationToken" in r["query"]]
    assert len(validated) == 2, "both addresses checked"
    assert graph_rig.server.subscriptions[sub_id]["lifecycle_url"] == lifecycle_url
    graph_rig.server.send_lifecycle(sub_id, "reauthorizationRequired")
    assert graph_rig.server.subscriptions[sub_id]["reauthorize"]
    provider.renew_subscription(sub_id, dt.datetime.now(UTC) + dt.timedelta(days=2))
    assert not graph_rig.server.subscriptions[sub_id]["reauthorize"], "a renewal reauthorizes it"
    graph_rig.server.send_lifecycle(sub_id, "missed")
    graph_rig.server.send_lifecycle(sub_id, "subscriptionRemoved")
    assert graph_rig.server.subscriptions == {}
    assert graph_rig.server.notifier.wait()
    values = [json.loads(m["body"])["value"] for m in receiver.notifications()]
    assert [v[0]["lifecycleEvent"] for v in values] == ["reauthorizationRequired", "missed", "subscriptionRemoved"]
    for (value,) in values:
        assert value["subscriptionId"] == sub_id
        assert value["clientState"] == "client-secret"
        assert "changeType" not in value


def test_graph_without_lifecycle_address_sends_no_lifecycle_event(graph_rig, receiver):
    sub = graph_rig.provider().subscribe_changes(receiver.url, "x", dt.datetime.now(UTC) + dt.timedelta(days=1))
    with pytest.raises(ValueError):
        graph_rig.server.send_lifecycle(sub["subscription_id"], "missed")
