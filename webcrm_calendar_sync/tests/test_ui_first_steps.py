"""Tours of what a new user meets first: booking for a colleague, the account form following its
sync, a revoked calendar, the calendar mark, the agenda and the settings."""

import threading
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import tagged
from odoo.tests.common import ChromeBrowser

from ..engine import errors as sync_errors
from ..engine.events import Window
from .test_ui import CALENDAR_URL, CalendarUiCase

UTC = timezone.utc
#: a tour logs this once it saw what it must see before the test goes on in the background
GO_ON_SIGNAL = "webcrm_calendar_sync: go on"


@tagged("post_install", "-at_install")
class TestFirstStepsUi(CalendarUiCase):
    def setUp(self):
        super().setUp()
        self.now = datetime.now(UTC)
        self.patch_window(Window.around(self.now, 30, 30))

    def _form_url(self, account):
        # the address the OAuth return sends the browser to
        return account._form_url()

    def _when_signalled(self, work):
        """Run ``work(env)`` in its own cursor once the tour logged GO_ON_SIGNAL, as a background
        job would while the page stays open."""
        signalled = threading.Event()
        handle_console = ChromeBrowser._handle_console

        def spy(browser, type, args=None, stackTrace=None, **kw):  # noqa: A002 - CDP's name
            handle_console(browser, type, args=args, stackTrace=stackTrace, **kw)
            if args and str(browser._from_remoteobject(args[0])) == GO_ON_SIGNAL:
                signalled.set()

        def run():
            if not signalled.wait(60):
                return
            with self.registry.cursor() as cr:
                work(api.Environment(cr, SUPERUSER_ID, {}))

        thread = threading.Thread(target=run, name="calendar-sync-test-job", daemon=True)
        return patch.object(ChromeBrowser, "_handle_console", spy), thread

    def test_book_for_a_colleague_and_add_an_attendee(self):
        bobs = self.make_account(self.bob)
        bobs.last_sync_date = fields.Datetime.now()
        with self.memory_providers():
            tour = "webcrm_calendar_sync_book_for_colleague_tour"
            self.start_tour(CALENDAR_URL, tour, login="alice", screenshot="book_for_colleague")
        event = self.env["calendar.event"].search([("name", "=", "Demo for Bob")])
        self.assertEqual(len(event), 1)
        self.assertEqual(event.user_id, self.bob, "booked on Bob's behalf")
        self.assertEqual(event.create_uid, self.alice)
        self.assertIn(self.carol.partner_id, event.partner_ids)
        # it goes into Bob's calendar, not Alice's (she has none)
        self.assertEqual(event.sync_binding_ids.account_id, bobs)

    def test_account_form_follows_the_first_sync(self):
        account = self.make_account(self.alice, state="subscribed")
        account._queue_after_subscribe()
        self.assertEqual(account.sync_progress_text, "Waiting for the background sync to start")
        self.calendars[account.id].put(
            self.remote("Board review", start=self.now + timedelta(days=1), organizer_email="alice@example.com")
        )

        def first_sync(env):
            env["calendar.sync.account"].browse(account.id)._sync()

        spy, thread = self._when_signalled(first_sync)
        with self.memory_providers(), spy:
            thread.start()
            self.start_tour(self._form_url(account), "webcrm_calendar_sync_account_follows_sync_tour", login="alice")
            thread.join(30)
        self.assertEqual(account.state, "synced")
        self.assertFalse(account.full_sync_running)

    def test_revoked_account_offers_subscribe_again(self):
        account = self.make_account(self.alice, state="error")
        account.write(
            {
                "needs_reauth": True,
                "last_error": sync_errors.AuthRevoked.user_message,
                "last_sync_date": fields.Datetime.now() - timedelta(hours=3),
                "next_sync_date": fields.Datetime.now() + timedelta(minutes=20),
                "sync_failures": 1,
            }
        )
        self.start_tour(
            self._form_url(account), "webcrm_calendar_sync_revoked_account_tour", login="alice", screenshot="revoked"
        )

    def test_error_mark_and_last_sync_both_shown(self):
        self.make_account(self.alice, state="error").write(
            {
                "last_error": sync_errors.AuthRevoked.user_message,
                "needs_reauth": True,
                "last_sync_date": fields.Datetime.now() - timedelta(hours=3),
            }
        )
        self.start_tour(
            CALENDAR_URL, "webcrm_calendar_sync_error_and_last_sync_tour", login="alice", screenshot="mark_error"
        )

    def test_agenda_upcoming_leaves_out_finished_meetings(self):
        Event = self.env["calendar.event"].with_user(self.alice)
        today = self.now.replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
        Event.create({"name": "Finished standup", "start": today, "stop": today + timedelta(minutes=5)})
        now = self.now.replace(second=0, microsecond=0, tzinfo=None)
        Event.create({"name": "Running workshop", "start": now - timedelta(hours=1), "stop": now + timedelta(hours=1)})
        Event.create({"name": "Company day", "allday": True, "start_date": today.date(), "stop_date": today.date()})
        Event.create(
            {"name": "Next review", "start": today + timedelta(days=2), "stop": today + timedelta(days=2, hours=1)}
        )
        action = self.env.ref("webcrm_calendar_sync.calendar_event_action_agenda")
        self.start_tour(f"/web#action={action.id}", "webcrm_calendar_sync_agenda_upcoming_tour", login="alice")

    def test_settings_name_our_google_fields_and_show_the_redirect_uri(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://crm.customer-domain.example.com")
        self.start_tour(
            "/web#action=base_setup.action_general_configuration",
            "webcrm_calendar_sync_settings_tour",
            login="admin",
            screenshot="settings_google",
        )
