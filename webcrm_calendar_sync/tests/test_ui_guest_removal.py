"""Tours of a synced meeting's Delete in the form: the question says which of the two happens."""

from datetime import datetime, timedelta, timezone

from odoo.tests import tagged

from ..engine.events import Window
from .test_ui import CALENDAR_URL, CalendarUiCase

UTC = timezone.utc


@tagged("post_install", "-at_install")
class TestGuestRemovalUi(CalendarUiCase):
    def setUp(self):
        super().setUp()
        self.patch_window(Window.around(datetime.now(UTC), 30, 30))
        # today at 10:00 (UTC, the browser's zone here): in the calendar view's week
        start = datetime.now(UTC).replace(tzinfo=None, hour=10, minute=0, second=0, microsecond=0)
        self.meeting = (
            self.env["calendar.event"]
            .with_context(calendar_sync_from_remote=True)
            .create(
                {
                    "name": "Offer review",
                    "start": start,
                    "stop": start + timedelta(hours=1),
                    "user_id": self.alice.id,
                    "partner_ids": [(6, 0, [self.alice.partner_id.id, self.bob.partner_id.id])],
                }
            )
        )
        # Alice's calendar holds the meeting she organises; Bob's holds his invitation's copy
        Binding = self.env["calendar.sync.binding"].sudo()
        self.binding_a = Binding.create(
            {
                "account_id": self.make_account(self.alice).id,
                "event_id": self.meeting.id,
                "external_id": "alice-event",
                "ical_uid": "offer-review@odoo",
                "invited": True,  # the invitations went out from her calendar
            }
        )
        self.binding_b = Binding.create(
            {
                "account_id": self.make_account(self.bob, provider="microsoft").id,
                "event_id": self.meeting.id,
                "external_id": "bob-copy",
                "ical_uid": "offer-review@odoo",
            }
        )

    def url(self):
        return f"/web#model=calendar.event&id={self.meeting.id}&view_type=form"

    def test_a_guests_delete_asks_to_decline_and_declines_for_him_only(self):
        with self.memory_providers():
            self.start_tour(self.url(), "webcrm_calendar_sync_guest_removal_tour", login="bob")
        self.assertTrue(self.meeting.exists() and self.meeting.active)
        bob = self.meeting.attendee_ids.filtered(lambda a: a.partner_id == self.bob.partner_id)
        self.assertEqual(bob.state, "declined")
        self.assertEqual(len(self.meeting.attendee_ids), 2, "Bob stays invited: he declined")
        self.assertEqual(self.binding_a.state, "synced")
        self.assertEqual(self.binding_b.state, "to_push")

    def test_the_organisers_delete_asks_to_cancel_for_everyone(self):
        self.start_tour(self.url(), "webcrm_calendar_sync_organiser_removal_tour", login="alice")
        self.assertTrue(self.meeting.exists() and self.meeting.active, "kept: the tour answered Keep it")
        self.assertEqual(self.binding_a.state, "synced")
        # no invitations went out from her calendar: the question does not promise cancellations
        self.binding_a.invited = False
        asked = self.meeting.with_env(self.env).with_user(self.alice).calendar_sync_removal_question()
        self.assertEqual((asked["kind"], asked["title"]), ("cancel", "Delete the meeting?"))
        self.assertIn("nobody gets a cancellation", asked["body"])

    def test_a_guests_delete_from_the_calendar_view_asks_to_decline(self):
        with self.memory_providers():
            self.start_tour(CALENDAR_URL, "webcrm_calendar_sync_guest_removal_calendar_tour", login="bob")
        self.assertTrue(self.meeting.exists() and self.meeting.active)
        bob = self.meeting.attendee_ids.filtered(lambda a: a.partner_id == self.bob.partner_id)
        self.assertEqual(bob.state, "declined")
        self.assertEqual(self.binding_a.state, "synced")
        self.assertEqual(self.binding_b.state, "to_push")
