import urllib.parse
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

import requests

from odoo.tests import TransactionCase, new_test_user

from ..engine.events import Attendee, RemoteEvent, Window
from ..engine.testing.fake_ews import FakeEWS
from ..engine.testing.fake_google import FakeGoogle
from ..engine.testing.fake_graph import FakeGraph
from ..engine.testing.memory import MemoryCalendar, MemoryProvider
from ..models import calendar_sync_busy

UTC = timezone.utc
# the tests against the fake servers place their meetings around now, within this window
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
FAKE_SERVER_WINDOW = Window(NOW - timedelta(days=30), NOW + timedelta(days=200))
# the mailboxes of CalendarSyncCase's Alice and Bob on the fake Exchange server
ALICE, BOB = "alice@example.com", "bob@example.com"


class _Calendars(dict):
    """account id -> its in-memory external calendar, made on first use."""

    def __init__(self, env):
        super().__init__()
        self.env = env

    def __missing__(self, account_id):
        account = self.env["calendar.sync.account"].browse(account_id)
        self[account_id] = MemoryCalendar(account.email)
        return self[account_id]


class CalendarSyncCase(TransactionCase):
    """Users, the feature switched on, and accounts backed by in-memory calendars."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.env["res.config.settings"].create({"group_calendar_sync": True}).execute()
        # the fake servers listen on 127.0.0.1: allowed here as an administrator allows an
        # on-premise Exchange server on a private network
        cls.env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.allowed_private_hosts", "127.0.0.1")
        cls.alice = new_test_user(cls.env, "alice", email="alice@example.com", name="Alice", tz="Europe/Stockholm")
        cls.bob = new_test_user(cls.env, "bob", email="bob@example.com", name="Bob")
        cls.carol = new_test_user(cls.env, "carol", email="carol@example.com", name="Carol")

    def setUp(self):
        super().setUp()
        # fresh external calendars for every test (the database is rolled back too)
        self.calendars = _Calendars(self.env)
        # colleagues' busy times are cached per account id, and ids come back after a rollback
        calendar_sync_busy.clear()

    @classmethod
    def make_account(cls, user, provider="google", email=None, state="synced"):
        account = cls.env["calendar.sync.account"].create(
            {"user_id": user.id, "provider": provider, "email": email or user.email, "state": state}
        )
        return account

    @contextmanager
    def memory_providers(self):
        """Every account talks to its in-memory calendar (one provider object per call)."""
        calendars = self.calendars
        self.providers = []

        def build(account):
            provider = MemoryProvider(calendars[account.id])
            self.providers.append(provider)
            return provider

        with patch.object(type(self.env["calendar.sync.account"]), "_get_provider", build):
            yield

    def push(self):
        """Run the push job (the outbox), as the triggered cron does once the save committed."""
        self.env["calendar.sync.binding"]._cron_push()

    def cron_triggers(self):
        """The wake-ups asked of the scheduled sync (ir.cron.trigger rows), as ids."""
        cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync")
        return set(self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)]).ids)

    def assert_first_sync_queued(self, account, triggers_before):
        """Subscribing queued the first sync: the account is due, the scheduled sync woken, and
        nothing read yet (the request that subscribed does not sync)."""
        self.assertFalse(account.next_sync_date, "due at the next run of the scheduled sync")
        self.assertTrue(account.full_sync_running, "a full listing is queued")
        self.assertFalse(account.last_sync_date, "nothing was synced in the request")
        self.assertEqual(account.state, "subscribed")
        self.assertTrue(self.cron_triggers() - triggers_before, "the scheduled sync was woken")

    @staticmethod
    def remote(summary="Meeting", start=None, hours=1, **kw):
        start = start or datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
        return RemoteEvent(summary=summary, start=start, end=start + timedelta(hours=hours), **kw)

    @staticmethod
    def attendee(email, response="needsAction", name=""):
        return Attendee(email=email, response=response, name=name)

    def freeze_window(self):
        """A window around the test meetings' dates (a context manager)."""
        window = Window.around(datetime(2026, 12, 1, tzinfo=UTC), 60, 365)
        return patch.object(type(self.env["calendar.sync.account"]), "_window", lambda account, now=None: window)

    def patch_window(self, window):
        """Every sync of this test covers ``window``."""
        patcher = patch.object(type(self.env["calendar.sync.account"]), "_window", lambda account, now=None: window)
        patcher.start()
        self.addCleanup(patcher.stop)

    def busy_of(self, user, start, end, as_user):
        """Free/busy of ``user`` between aware datetimes, asked by ``as_user``."""
        return (
            self.env["calendar.event"]
            .with_user(as_user)
            .get_synced_busy_intervals(
                [user.id], start.replace(tzinfo=None).isoformat(" "), end.replace(tzinfo=None).isoformat(" ")
            )
        )


class MemoryAccountsCase(CalendarSyncCase):
    """Alice's Google and Bob's Microsoft 365 account, both on in-memory calendars, and a customer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acc_alice = cls.make_account(cls.alice)
        cls.acc_bob = cls.make_account(cls.bob, provider="microsoft")
        cls.customer = cls.env["res.partner"].create({"name": "Kim Customer", "email": "kim@client.test"})

    def sync(self, account, **kw):
        with self.memory_providers(), self.freeze_window():
            return account._sync(**kw)

    def run_push(self, **kw):
        with self.memory_providers():
            self.env["calendar.sync.binding"]._cron_push(**kw)

    def events_of(self, account):
        return self.env["calendar.sync.binding"].search([("account_id", "=", account.id)]).event_id


def start_fake_google(cls, **attrs):
    """Start a fake Google for a test class (stopped with it) and point the addon's settings at it.

    ``attrs`` are set on the server before it is used (e.g. ``push_allow_http=True``).
    """
    server = FakeGoogle().start()
    cls.addClassCleanup(server.stop)
    for name, value in attrs.items():
        setattr(server, name, value)
    cls.env["res.config.settings"].create(
        {
            "calendar_sync_google_client_id": server.client_id,
            "calendar_sync_google_client_secret": server.client_secret,
            "calendar_sync_google_auth_uri": server.auth_uri,
            "calendar_sync_google_token_uri": server.token_uri,
            "calendar_sync_google_api_endpoint": server.api_endpoint,
        }
    ).execute()
    return server


def start_fake_graph(cls, **attrs):
    """Start a fake identity platform + Graph for a test class and point the addon's settings at it."""
    server = FakeGraph().start()
    cls.addClassCleanup(server.stop)
    for name, value in attrs.items():
        setattr(server, name, value)
    cls.env["res.config.settings"].create(
        {
            "calendar_sync_microsoft_client_id": server.client_id,
            "calendar_sync_microsoft_client_secret": server.client_secret,
            "calendar_sync_microsoft_tenant": "organizations",
            "calendar_sync_microsoft_authority_host": server.url,
            "calendar_sync_microsoft_graph_endpoint": server.graph_endpoint,
        }
    ).execute()
    cls.env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.microsoft_ca_bundle", server.ca_file)
    return server


class FakeGoogleCase(CalendarSyncCase):
    """The addon configured for the local fake Google server (a fresh server state per test)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = start_fake_google(cls)

    def setUp(self):
        super().setUp()
        # the database is rolled back after every test: so is the server
        self.server.calendars.clear()
        self.server.invitations.clear()
        self.server.clear_faults()
        self.patch_window(FAKE_SERVER_WINDOW)

    def subscribe(self, user):
        """The whole 'Authenticate and subscribe' round trip, as the browser does it."""
        account = self.env["calendar.sync.account"].with_user(user).create({"provider": "google"})
        session = {}
        action = account._subscribe_google(session=session)
        self.assertEqual(action["type"], "ir.actions.act_url")
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(action["url"]).query))
        self.assertEqual(query["access_type"], "offline")
        self.assertEqual(query["code_challenge_method"], "S256")
        answer = requests.get(action["url"], allow_redirects=False, timeout=10)
        self.assertEqual(answer.status_code, 302)
        location = urllib.parse.urlsplit(answer.headers["Location"])
        self.assertTrue(location.path.endswith("/webcrm_calendar_sync/oauth/google"))
        params = dict(urllib.parse.parse_qsl(location.query))
        self.env["calendar.sync.account"].with_user(user)._oauth_finish("google", params, session)
        self.assertEqual(account.state, "subscribed")
        self.assertEqual(account.email, user.email)
        return account

    def subjects(self, user):
        """The titles of the events in ``user``'s calendar on the server, sorted."""
        return sorted(e["summary"] for e in self.server.events_of(user.email))


class FakeGraphCase(CalendarSyncCase):
    """The addon configured for the local fake identity platform + Graph (a fresh state per test)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = start_fake_graph(cls)

    def setUp(self):
        super().setUp()
        self.server.mailboxes.clear()
        self.server.invitations.clear()
        self.server.clear_faults()
        self.patch_window(FAKE_SERVER_WINDOW)

    def subscribe(self, user):
        """The whole 'Authenticate and subscribe' round trip, as the browser does it."""
        account = (
            self.env["calendar.sync.account"].with_user(user).create({"provider": "microsoft", "email": user.email})
        )
        session = {}
        action = account._subscribe_microsoft(session=session)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(action["url"]).query))
        self.assertEqual(query["login_hint"], user.email)
        self.assertEqual(query["code_challenge_method"], "S256")
        answer = requests.get(action["url"], allow_redirects=False, verify=self.server.ca_file, timeout=10)
        location = urllib.parse.urlsplit(answer.headers["Location"])
        self.assertTrue(location.path.endswith("/webcrm_calendar_sync/oauth/microsoft"))
        params = dict(urllib.parse.parse_qsl(location.query))
        self.env["calendar.sync.account"].with_user(user)._oauth_finish("microsoft", params, session)
        self.assertEqual(account.state, "subscribed", account.last_error)
        return account

    def subjects(self, user):
        """The titles of the events in ``user``'s mailbox on the server, sorted."""
        return sorted(e["subject"] for e in self.server.events_of(user.email))


class FakeEWSCase(CalendarSyncCase):
    """The addon configured for the local fake Exchange server, with Alice's mailbox (a fresh
    server state per test)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = FakeEWS(auth=("ntlm", "basic")).start()
        cls.addClassCleanup(cls.server.stop)
        cls.env["res.config.settings"].create({"calendar_sync_exchange_ca_bundle": cls.server.ca_file}).execute()

    def setUp(self):
        super().setUp()
        self.server.mailboxes.clear()
        self.server.invitations.clear()
        self.server.clear_faults()
        self.server.add_mailbox(ALICE, "alice-pw")
        self.patch_window(FAKE_SERVER_WINDOW)

    def subscribe(self, user, password=None, url=None):
        """'Save and subscribe' with the user's mailbox password (``<login>-pw`` on the fake)."""
        account = (
            self.env["calendar.sync.account"]
            .with_user(user)
            .create(
                {
                    "provider": "exchange",
                    "email": user.email,
                    "ews_url": url or self.server.url,
                    "password": password or f"{user.login}-pw",
                }
            )
        )
        account.action_subscribe()
        return account

    def subjects(self, user):
        """The titles of the items in ``user``'s mailbox on the server, sorted."""
        return sorted(i["subject"] for i in self.server.mailboxes[user.email].items.values())

    def deliver_invitation(self, uid, guest=BOB):
        """Alice's invitation ``uid`` reaching ``guest``'s mailbox (the fake's calendar attendant
        does not make copies)."""
        [item] = [i for i in self.server.mailboxes[ALICE].items.values() if i.get("uid") == uid]
        self.server.add_item(
            guest,
            subject=item["subject"],
            start=item["start"],
            end=item["end"],
            attendees=[(a[0], a[1], "Unknown") for a in item["required"]],
            uid=uid,
            organizer=(ALICE, "Alice"),
        )
