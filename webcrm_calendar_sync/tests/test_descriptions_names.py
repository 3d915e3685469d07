"""What leaves Odoo as a meeting's text, and whose name an outside organiser gets."""

from datetime import datetime, timedelta, timezone

from ..engine.events import Window
from .common import CalendarSyncCase

UTC = timezone.utc
# a meeting text as a template merges it: indented source, a list, a link
MERGED = (
    "<div>\n    <p>Hello\n        Douglas Fletcher,</p>\n    <p>You are invited to <strong>Demo</strong>\n"
    "        with\n            Ready Mat.</p>\n    <ul>\n        <li>When: Tuesday 13:00</li>\n"
    '        <li>Join: <a href="https://meet.example/abc">the video call</a></li>\n    </ul>\n</div>'
)


class TestDescriptionsAndNames(CalendarSyncCase):
    def setUp(self):
        super().setUp()
        self.now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
        self.patch_window(Window.around(self.now, 30, 30))
        self.account = self.make_account(self.alice)

    def test_description_leaves_as_the_text_the_form_shows(self):
        start = self.now.replace(tzinfo=None) + timedelta(days=1)
        with self.memory_providers():
            self.env["calendar.event"].with_user(self.alice).create(
                {"name": "Demo", "start": start, "stop": start + timedelta(hours=1), "description": MERGED}
            )
            self.push()
        (remote,) = self.calendars[self.account.id].events.values()
        self.assertEqual(
            remote.description,
            "Hello Douglas Fletcher,\nYou are invited to Demo with Ready Mat.\n- When: Tuesday 13:00\n"
            "- Join: the video call (https://meet.example/abc)",
        )

    def test_outside_organizer_is_named_as_the_provider_names_them(self):
        # a contact that an earlier sync named by its address only
        self.env["res.partner"].create({"name": "olga@partner.example", "email": "olga@partner.example"})
        self.calendars[self.account.id].put(
            self.remote(
                "Partner pitch",
                start=self.now + timedelta(days=1),
                organizer_email="olga@partner.example",
                attendees=[
                    self.attendee("olga@partner.example", "accepted", "Olga Owner"),
                    self.attendee("alice@example.com", "accepted"),
                    self.attendee("pia@partner.example", "needsAction", "Pia Partner"),
                ],
            )
        )
        with self.memory_providers():
            self.account._sync()
        event = self.env["calendar.event"].search([("name", "=", "Partner pitch")])
        self.assertEqual(event.synced_organizer_name, "Olga Owner (olga@partner.example)")
        self.assertNotIn("olga@partner.example (olga@partner.example)", event.synced_owner or "")
        # a guest new to Odoo becomes a contact with the name the provider gives
        pia = event.partner_ids.filtered(lambda p: p.email == "pia@partner.example")
        self.assertEqual(pia.name, "Pia Partner")
