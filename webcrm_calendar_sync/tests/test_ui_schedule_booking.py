"""Tour of booking from the schedule view (issue 23): drag across free time to open the
booking form with those colleagues and that time."""

from datetime import datetime, timedelta, timezone

from odoo import fields
from odoo.tests import tagged

from .test_ui import CALENDAR_URL, CalendarUiCase

UTC = timezone.utc


@tagged("post_install", "-at_install")
class TestScheduleBookingUi(CalendarUiCase):
    def test_drag_across_free_time_books_with_those_people(self):
        # everyone in UTC, the browser's zone here
        (self.alice | self.bob | self.carol).write({"tz": "UTC"})
        self.make_account(self.alice).last_sync_date = fields.Datetime.now()
        for colleague in self.bob | self.carol:
            self.make_account(colleague).last_sync_date = fields.Datetime.now()
            self.env["calendar.filters"].create(
                {"user_id": self.alice.id, "partner_id": colleague.partner_id.id, "partner_checked": True}
            )
        today = datetime.now(UTC).date()

        def at(hour, minute=0):
            return datetime.combine(today, datetime.min.time()).replace(hour=hour, minute=minute)

        # Bob is busy 11:00-12:00: the picture shows free time around a meeting
        self.env["calendar.event"].create(
            {"name": "Customer call", "start": at(11), "stop": at(12), "partner_ids": [(6, 0, self.bob.partner_id.ids)]}
        )
        with self.memory_providers():
            self.start_tour(
                CALENDAR_URL,
                "webcrm_calendar_sync_schedule_booking_tour",
                login="alice",
                screenshot="schedule_booking",
            )
        Event = self.env["calendar.event"]
        alice, bob, carol = self.alice.partner_id, self.bob.partner_id, self.carol.partner_id

        days = Event.search([("name", "=", "Two days with Bob")])
        self.assertEqual(len(days), 1)
        self.assertTrue(days.allday, "whole days by week: an all-day meeting")
        self.assertEqual(days.stop_date - days.start_date, timedelta(days=1), "the two dragged days")
        self.assertLess(abs((days.start_date - today).days), 7, "a day of the shown week")
        self.assertEqual(days.partner_ids, alice | bob, "the dragged row's colleague and the user")

        planning = Event.search([("name", "=", "Planning with Bob")])
        self.assertEqual(len(planning), 1)
        self.assertFalse(planning.allday)
        self.assertEqual((planning.start, planning.stop), (at(13), at(15)), "the dragged span, by half hours")
        self.assertEqual(planning.partner_ids, alice | bob, "the rows dragged across, not Carol's")

        hour = Event.search([("name", "=", "An hour with Carol")])
        self.assertEqual(len(hour), 1)
        self.assertEqual((hour.start, hour.stop), (at(10), at(11)), "a click: a meeting of the default hour")
        self.assertEqual(hour.partner_ids, alice | carol)

        keyed = Event.search([("name", "=", "Keyed with Bob")])
        self.assertEqual(len(keyed), 1)
        self.assertEqual((keyed.start, keyed.stop), (at(9), at(10, 30)), "chosen with the keyboard")
        self.assertEqual(keyed.partner_ids, alice | bob)
