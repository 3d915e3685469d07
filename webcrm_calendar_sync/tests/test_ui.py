"""Tours of the calendar UI in headless Chromium (HttpCase)."""

import base64
import os
import threading
from datetime import datetime, timedelta, timezone
from unittest.mock import patch

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import ChromeBrowser

from ..engine import errors as sync_errors
from ..engine.events import Window
from .common import CalendarSyncCase

UTC = timezone.utc
CALENDAR_URL = "/web#action=calendar.action_calendar_event"


class CronRunner:
    """Plays Odoo's cron runner in the test: when a request triggers the requested-sync cron
    (``ir.cron._trigger``), it runs the cron's method in its own test cursor, as a cron worker
    would after the page's request committed. It touches the database only once woken by a
    trigger, i.e. while the test waits for the browser."""

    def __init__(self, case, before_run=None):
        self.case = case
        self.before_run = before_run
        self.runs = 0
        self._woken = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="calendar-sync-test-cron", daemon=True)
        cron_id = case.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync_requested").id
        trigger = type(case.env["ir.cron"])._trigger
        woken = self._woken

        def spy(cron, at=None):
            result = trigger(cron, at)
            if cron_id in cron.ids:
                woken.set()
            return result

        self._patch = patch.object(type(case.env["ir.cron"]), "_trigger", spy)

    def __enter__(self):
        self._patch.start()
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._woken.set()
        self._thread.join(30)
        self._patch.stop()

    def _loop(self):
        while True:
            self._woken.wait()
            if self._stop.is_set():
                return
            self._woken.clear()
            with self.case.registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                cron = env.ref("webcrm_calendar_sync.ir_cron_calendar_sync_requested")
                env["ir.cron.trigger"].search([("cron_id", "=", cron.id)]).unlink()
                if self.before_run:
                    self.before_run(self.runs)
                env["calendar.sync.account"]._cron_sync_requested()
                self.runs += 1


#: A tour logs this to have the page captured at that step (its end may look different); the
#: capture done, ``data-webcrm-screenshot="taken"`` is set on the body, which the tour waits for.
SCREENSHOT_SIGNAL = "webcrm_calendar_sync: screenshot"


class CalendarUiCase(HttpCase, CalendarSyncCase):
    def start_tour(self, url_path, tour_name, screenshot=None, **kwargs):
        """With WEBCRM_SCREENSHOTS=<dir> set and ``screenshot`` given, keep a PNG of the page the
        tour ended on, or of the step that logged SCREENSHOT_SIGNAL (the README's pictures are
        taken this way). ``screenshot`` may be a tuple of names: one per signal, in order."""
        target = os.environ.get("WEBCRM_SCREENSHOTS")
        names = (screenshot,) if isinstance(screenshot, str) else tuple(screenshot or ())
        capture = bool(target and names)
        taken = []

        def save(result):
            name = names[min(len(taken), len(names) - 1)]
            os.makedirs(target, exist_ok=True)
            with open(os.path.join(target, f"{name}.png"), "wb") as png:
                png.write(base64.b64decode(result["data"]))
            taken.append(name)

        handle_console = ChromeBrowser._handle_console

        def handle_console_signal(browser, type, args=None, stackTrace=None, **kw):  # noqa: A002 - CDP's name
            handle_console(browser, type, args=args, stackTrace=stackTrace, **kw)
            if not args or str(browser._from_remoteobject(args[0])) != SCREENSHOT_SIGNAL:
                return
            mark = {"expression": "document.body.dataset.webcrmScreenshot = 'taken'"}
            if not capture:
                browser._websocket_send("Runtime.evaluate", params=mark)
                return
            # in the browser's receiver thread: never wait here, go on when the capture arrives
            future = browser._websocket_send("Page.captureScreenshot", with_future=True)

            def captured(done):
                try:
                    save(done.result())
                finally:
                    browser._websocket_send("Runtime.evaluate", params=mark)

            future.add_done_callback(captured)

        stop = ChromeBrowser.stop

        def capture_then_stop(browser):
            try:
                if capture and not taken:
                    save(browser._websocket_send("Page.captureScreenshot", with_future=True).result(timeout=20))
            finally:
                stop(browser)

        with (
            patch.object(ChromeBrowser, "_handle_console", handle_console_signal),
            patch.object(ChromeBrowser, "stop", capture_then_stop),
        ):
            return super().start_tour(url_path, tour_name, **kwargs)


@tagged("post_install", "-at_install")
class TestCalendarUi(CalendarUiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.refresh_threshold", "60")

    def setUp(self):
        super().setUp()
        now = datetime.now(UTC)
        self.today_10 = now.replace(hour=10, minute=0, second=0, microsecond=0)
        self.patch_window(Window.around(now, 30, 30))

    def _meeting(self, summary, hour):
        start = self.today_10.replace(hour=hour)
        return self.remote(
            summary,
            start=start,
            attendees=[self.attendee("alice@example.com", "accepted", "Alice")],
            organizer_email="alice@example.com",
        )

    def test_status_mark_page_load_sync_and_refresh(self):
        account = self.make_account(self.alice)
        account.last_sync_date = fields.Datetime.now() - timedelta(minutes=10)
        calendar = self.calendars[account.id]
        calendar.put(self._meeting("Board review", 10))

        def before_run(run):
            if run == 1:  # the refresh button's sync finds one more meeting
                calendar.put(self._meeting("Budget follow-up", 13))

        with self.memory_providers(), CronRunner(self, before_run) as runner:
            self.start_tour(
                CALENDAR_URL, "webcrm_calendar_sync_status_tour", login="alice", screenshot="calendar_sync_mark"
            )
        self.assertEqual(runner.runs, 2, "one sync queued by the page load, one by the refresh button")
        self.assertEqual(len(self.providers), 2, "each queued sync ran once")
        self.assertFalse(account.sync_requested_date)
        self.assertEqual(account.state, "synced")
        events = self.env["calendar.event"].search([("name", "in", ("Board review", "Budget follow-up"))])
        self.assertEqual(len(events), 2)

    def test_status_mark_shows_error_with_link(self):
        self.make_account(self.alice, state="error").write(
            {
                "last_error": sync_errors.AuthRevoked.user_message,
                "needs_reauth": True,
                "last_sync_date": fields.Datetime.now() - timedelta(hours=3),
            }
        )
        self.start_tour(CALENDAR_URL, "webcrm_calendar_sync_error_tour", login="alice")

    def test_invitation_to_subscribe(self):
        new_test_user(self.env, "dora", email="dora@example.com", name="Dora")
        self.start_tour(CALENDAR_URL, "webcrm_calendar_sync_invite_tour", login="dora", screenshot="account_setup")

    def test_save_and_send_invitation_says_what_happened(self):
        account = self.make_account(self.alice)
        account.last_sync_date = fields.Datetime.now()
        with self.memory_providers():
            self.start_tour(CALENDAR_URL, "webcrm_calendar_sync_send_invitation_tour", login="alice")
        event = self.env["calendar.event"].search([("name", "=", "Project kick-off")])
        self.assertEqual(len(event), 1)
        binding = event.sync_binding_ids.filtered(lambda b: b.account_id == account)
        self.assertEqual(len(binding), 1)
        invited = [emails for _id, emails in self.calendars[account.id].invitations]
        if binding.state == "synced":  # written at once: the provider sent the invitations
            # the notification said "sent": the provider must have invited exactly these two
            self.assertEqual([sorted(guests) for guests in invited], [["bob@example.com", "carol@example.com"]])
        else:  # queued in the outbox: nothing may have been sent yet
            self.assertEqual(binding.state, "to_push")
            self.assertFalse(invited)

    def test_save_and_send_not_offered_without_subscription(self):
        new_test_user(self.env, "dora", email="dora@example.com", name="Dora")
        self.start_tour(CALENDAR_URL, "webcrm_calendar_sync_no_send_invitation_tour", login="dora")

    def test_external_organizer_meeting_opens_read_only(self):
        account = self.make_account(self.alice)
        account.last_sync_date = fields.Datetime.now()
        self.env["res.partner"].create({"name": "Olga Owner", "email": "olga@partner.example"})
        self.calendars[account.id].put(
            self.remote(
                "Partner pitch",
                start=self.today_10.replace(hour=15),
                organizer_email="olga@partner.example",
                attendees=[
                    self.attendee("olga@partner.example", "accepted"),
                    self.attendee("alice@example.com", "accepted"),
                ],
            )
        )
        with self.memory_providers():
            account._sync()
            event = self.env["calendar.event"].search([("name", "=", "Partner pitch")])
            self.assertTrue(event.synced_readonly)
            self.start_tour(CALENDAR_URL, "webcrm_calendar_sync_readonly_tour", login="alice")
        self.assertEqual(event.name, "Partner pitch")

    def test_synced_colleagues_in_the_side_panel(self):
        mine = self.make_account(self.alice)
        mine.last_sync_date = fields.Datetime.now()
        bobs = self.make_account(self.bob)
        calendar = self.calendars[bobs.id]
        bob = [self.attendee("bob@example.com", "accepted", "Bob")]
        calendar.put(self.remote("Bob's demo", start=self.today_10.replace(hour=9), attendees=bob, privacy="public"))
        calendar.put(self.remote("Salary talk", start=self.today_10.replace(hour=14), attendees=bob, privacy="private"))
        with self.memory_providers():
            bobs._sync()
            self.assertEqual(bobs.state, "synced")
            self.start_tour(
                CALENDAR_URL, "webcrm_calendar_sync_colleagues_tour", login="alice", screenshot="calendar_colleagues"
            )

    def test_colleague_filter_and_schedule_view(self):
        mine = self.make_account(self.alice)
        mine.last_sync_date = fields.Datetime.now()
        bobs = self.make_account(self.bob)
        calendar = self.calendars[bobs.id]
        bob = [self.attendee("bob@example.com", "accepted", "Bob")]
        calendar.put(self.remote("Bob's demo", start=self.today_10.replace(hour=9), attendees=bob, privacy="public"))
        calendar.put(self.remote("Salary talk", start=self.today_10.replace(hour=14), attendees=bob, privacy="private"))
        with self.memory_providers():
            bobs._sync()
            self.assertEqual(bobs.state, "synced")
            # then a meeting only in Bob's external calendar: never synced into Odoo
            calendar.put(self.remote("Dentist", start=self.today_10.replace(hour=11), hours=2))
            self.start_tour(
                CALENDAR_URL, "webcrm_calendar_sync_schedule_tour", login="alice", screenshot="schedule_view"
            )
        self.assertFalse(self.env["calendar.event"].search([("name", "=", "Dentist")]), "never copied into Odoo")
        chosen = self.env["calendar.filters"].search(
            [("user_id", "=", self.alice.id), ("partner_id", "=", self.bob.partner_id.id)]
        )
        self.assertTrue(chosen.partner_checked, "chosen again in the schedule: chosen in the calendar too")

    def _working_days_from(self, first, count=21):
        """The next ``count`` days from ``first`` that the company's hours make working days (Mon-Fri)."""
        return [first + timedelta(days=n) for n in range(count) if (first + timedelta(days=n)).weekday() < 5]

    def _default_start_day(self):
        """The day of the tour's new meeting: the form's default start is the next half hour,
        whose day is tomorrow from 23:30 (UTC, the browser's zone here)."""
        soon = datetime.now(UTC) + timedelta(minutes=2)
        return (soon + (datetime.min.replace(tzinfo=UTC) - soon) % timedelta(minutes=30)).date()

    def test_booking_shows_busy_times_and_a_free_slot_sets_the_time(self):
        # everyone in UTC, the browser's zone here: the company's hours are 08-12 and 13-17
        (self.alice | self.bob).write({"tz": "UTC"})
        bobs = self.make_account(self.bob)
        bobs.last_sync_date = fields.Datetime.now()
        # a meeting that exists only in Bob's external calendar (never synced into Odoo), 09-11
        # every working day
        first_day = self._default_start_day()
        for day in self._working_days_from(first_day):
            start = datetime.combine(day, datetime.min.time(), UTC).replace(hour=9)
            self.calendars[bobs.id].put(self.remote("Dentist", start=start, hours=2))
        with self.memory_providers():
            self.start_tour(
                CALENDAR_URL, "webcrm_calendar_sync_busy_times_tour", login="alice", screenshot="booking_busy_times"
            )
        self.assertFalse(self.env["calendar.event"].search([("name", "=", "Dentist")]), "never copied into Odoo")
        booked = self.env["calendar.event"].search([("name", "=", "Planning")])
        # 11:00 on the first working day where it had not begun when the tour looked
        looked = datetime.now(UTC) - timedelta(minutes=5)
        expected = next(
            datetime.combine(day, datetime.min.time()).replace(hour=11)
            for day in self._working_days_from(first_day)
            if datetime.combine(day, datetime.min.time(), UTC).replace(hour=11) > looked
        )
        self.assertEqual(booked.start, expected, "the first free 11:00 chosen")
        self.assertGreater(booked.start, booked.create_date, "a slot that had not begun")

    def test_find_a_time_names_a_colleague_whose_calendar_cannot_be_read(self):
        (self.alice | self.bob | self.carol).write({"tz": "UTC"})
        self.make_account(self.bob, state="error").write(
            {"last_error": sync_errors.AuthRevoked.user_message, "needs_reauth": True}
        )
        carols = self.make_account(self.carol)
        for day in self._working_days_from(self._default_start_day() - timedelta(days=1), 30):
            start = datetime.combine(day, datetime.min.time(), UTC).replace(hour=9)
            self.calendars[carols.id].put(self.remote("Dentist", start=start, hours=2))
        with self.memory_providers():
            self.start_tour(
                CALENDAR_URL, "webcrm_calendar_sync_find_a_time_tour", login="alice", screenshot="find_a_time"
            )
        booked = self.env["calendar.event"].search([("name", "=", "Demo for Ready Mat")])
        self.assertEqual(len(booked), 1)
        self.assertGreater(booked.start, booked.create_date, "the first slot offered had not begun")
        self.assertLess(booked.start.weekday(), 5, "on a working day")
        hours = (booked.start.hour, booked.stop.hour + booked.stop.minute / 60)
        morning, afternoon = hours[0] >= 8 and hours[1] <= 12, hours[0] >= 13 and hours[1] <= 17
        self.assertTrue(morning or afternoon, f"in working hours: {hours}")
        self.assertFalse(9 <= booked.start.hour < 11, "not while Carol is at the dentist")
