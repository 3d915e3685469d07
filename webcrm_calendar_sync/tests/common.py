from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from odoo.tests import TransactionCase, new_test_user

from ..engine.events import Attendee, RemoteEvent, Window
from ..engine.testing.memory import MemoryCalendar, MemoryProvider
from ..models import calendar_sync_busy

UTC = timezone.utc


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
