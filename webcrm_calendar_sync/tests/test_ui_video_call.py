"""Tour of 'Add video call' (issue 23): a Google Meet link from the organiser's calendar."""

import datetime as dt

from odoo.tests import tagged

from .common import NOW, FakeGoogleCase
from .test_ui import CALENDAR_URL, CalendarUiCase


@tagged("post_install", "-at_install")
class TestVideoCallUi(CalendarUiCase, FakeGoogleCase):
    def test_add_google_meet_from_the_form_then_the_link_shows(self):
        self.subscribe(self.alice)
        customer = self.env["res.partner"].create({"name": "Kim Customer", "email": "kim@client.test"})
        start = (NOW + dt.timedelta(days=3)).replace(hour=9, tzinfo=None)
        event = (
            self.env["calendar.event"]
            .with_user(self.alice)
            .create(
                {
                    "name": "Product demo",
                    "start": start,
                    "stop": start + dt.timedelta(hours=1),
                    "partner_ids": [(6, 0, [self.alice.partner_id.id, customer.id])],
                    "text_template_id": self.env.ref("webcrm_calendar_sync.mail_template_meeting_text").id,
                }
            )
        )
        event.with_user(self.alice).action_apply_text_template()
        self.push()
        self.assertFalse(self.server.events_of("alice@example.com")[0].get("hangoutLink"))
        url = f"/web#action=calendar.action_calendar_event&id={event.id}&model=calendar.event&view_type=form"
        self.start_tour(url, "webcrm_calendar_sync_video_call_tour", login="alice")
        self.assertTrue(event.synced_video_call)
        self.assertFalse(event.videocall_location)  # the calendar is asked after the save committed
        self.push()
        link = self.server.events_of("alice@example.com")[0]["hangoutLink"]
        self.assertEqual(event.videocall_location, link)
        self.push()  # the meeting text with the link, written out
        self.assertIn(link, self.server.events_of("alice@example.com")[0]["description"])
        self.start_tour(url, "webcrm_calendar_sync_video_call_link_tour", login="alice", screenshot="meet_link")

    def test_add_google_meet_while_booking_in_the_quick_create_dialog(self):
        self.subscribe(self.alice)
        self.start_tour(CALENDAR_URL, "webcrm_calendar_sync_video_call_quick_create_tour", login="alice")
        event = self.env["calendar.event"].search([("name", "=", "Kick-off with Meet")])
        self.assertEqual(len(event), 1)
        self.assertTrue(event.synced_video_call)
        self.push()
        (stored,) = self.server.events_of("alice@example.com")
        self.assertTrue(stored["hangoutLink"].startswith("https://meet.google.com/"))
        self.assertEqual(event.videocall_location, stored["hangoutLink"])
