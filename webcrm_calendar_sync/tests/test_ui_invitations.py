"""Tours of the meeting text template and of 'Save and send invitation' in the quick-create dialog."""

import re
from datetime import datetime, timedelta, timezone

from odoo import fields
from odoo.tests import new_test_user, tagged
from odoo.tools import html2plaintext

from ..engine.events import Window
from .test_ui import CALENDAR_URL, CalendarUiCase

UTC = timezone.utc
PLACEHOLDER = re.compile(r"\{\{|\}\}|t-out|t-if|object\.|\$\{")


@tagged("post_install", "-at_install")
class TestInvitationUi(CalendarUiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        acme = cls.env["res.partner"].create({"name": "Acme AB", "is_company": True})
        cls.ann = cls.env["res.partner"].create(
            {"name": "Ann Andersson", "email": "ann@acme.test", "parent_id": acme.id}
        )

    def setUp(self):
        super().setUp()
        self.patch_window(Window.around(datetime.now(UTC), 30, 30))
        self.account = self.make_account(self.alice)
        self.account.last_sync_date = fields.Datetime.now()

    def _binding(self, event):
        binding = event.sync_binding_ids.filtered(lambda b: b.account_id == self.account)
        self.assertEqual(len(binding), 1)
        return binding

    def test_meeting_text_template_merged_edited_and_sent(self):
        # a meeting text a user added: offered too (Odoo's e-mail layouts are not)
        self.env["mail.template"].create(
            {
                "name": "Partner meeting text",
                "model_id": self.env["ir.model"]._get_id("calendar.event"),
                "calendar_sync_meeting_text": True,
                "body_html": "<p>Agenda for <t t-out='object.name'/></p>",
            }
        )
        with self.memory_providers():
            self.start_tour(CALENDAR_URL, "webcrm_calendar_sync_meeting_text_tour", login="alice")
        event = self.env["calendar.event"].search([("name", "=", "Quarterly review")])
        self.assertEqual(len(event), 1)
        self.assertEqual(event.text_template_id, self.env.ref("webcrm_calendar_sync.mail_template_meeting_text"))
        self.assertTrue(event.text_template_applied, "sending does not merge again over the edit")
        stored = str(event.description)
        for value in ("Hi Ann, here is the plan:", "You are invited to", "Quarterly review", "Acme AB", "Alice"):
            self.assertIn(value, stored)
        self.assertNotIn("Hello", stored, "the hand-made greeting replaced the merged one")
        self.assertFalse(PLACEHOLDER.search(stored), "a raw placeholder was stored")
        # the tour's notification said "will be sent ... as soon as the meeting is written there"
        binding = self._binding(event)
        self.assertEqual(binding.state, "to_push")
        calendar = self.calendars[self.account.id]
        self.assertFalse(calendar.invitations, "nothing is sent before the write")
        with self.memory_providers():
            self.push()
        self.assertEqual(binding.state, "synced")
        (remote,) = calendar.events.values()
        for value in ("Hi Ann, here is the plan:", "You are invited to", "Acme AB"):
            self.assertIn(value, remote.description)
        self.assertFalse(PLACEHOLDER.search(remote.description), "a raw placeholder was written to the calendar")
        self.assertEqual([guests for _id, guests in calendar.invitations], [["ann@acme.test"]])

    def test_live_meeting_text_follows_the_meeting_until_edited(self):
        self.alice.tz = "UTC"  # the browser's zone here: the form's times read as the text's
        with self.memory_providers():
            self.start_tour(
                CALENDAR_URL,
                "webcrm_calendar_sync_live_text_tour",
                login="alice",
                screenshot=("meeting_text_live", "meeting_text_stale"),
            )
        event = self.env["calendar.event"].search([("name", "=", "Quarterly review with Acme AB")])
        self.assertEqual(len(event), 1, "saved once, by Save and send invitation")
        self.assertEqual(event.stop - event.start, timedelta(minutes=90))
        stored = str(event.description)
        # the time in words as it was when it left: the end of the last change (an hour and a half)
        when = event.with_user(self.alice).synced_text_when
        self.assertIn(f"When: {when}</li>", stored)
        self.assertIn(event.stop.strftime("%-I:%M"), when)  # Alice's zone is UTC here
        self.assertEqual(stored.count("Acme AB"), 1, "no 'with Acme AB' after a subject that names it")
        self.assertNotIn("Hi Ann", stored, "the user chose to merge again")
        self.assertFalse(PLACEHOLDER.search(stored))
        self.assertFalse(event.with_user(self.alice).text_template_stale)
        with self.memory_providers():
            self.push()
        (remote,) = self.calendars[self.account.id].events.values()
        self.assertIn(html2plaintext(f"<p>When: {when}</p>"), remote.description)

    def test_quick_create_save_and_send_invitation(self):
        with self.memory_providers():
            self.start_tour(CALENDAR_URL, "webcrm_calendar_sync_quick_create_send_tour", login="alice")
        event = self.env["calendar.event"].search([("name", "=", "Steering group")])
        self.assertEqual(len(event), 1)
        self.assertEqual(event.user_id, self.alice)
        self.assertEqual(
            sorted(event.partner_ids.mapped("email")),
            ["alice@example.com", "ann@acme.test", "bob@example.com", "carol@example.com"],
        )
        # the notification said the invitations "will be sent" once written: nothing sent yet
        binding = self._binding(event)
        self.assertEqual(binding.state, "to_push")
        self.assertTrue(binding.send_invitations)
        calendar = self.calendars[self.account.id]
        self.assertFalse(calendar.invitations)
        with self.memory_providers():
            self.push()
        self.assertEqual(binding.state, "synced")
        self.assertEqual(
            [sorted(guests) for _id, guests in calendar.invitations],
            [["ann@acme.test", "bob@example.com", "carol@example.com"]],
            "the organiser's calendar invited the three attendees",
        )

    def test_quick_create_without_synced_calendar_offers_no_send(self):
        new_test_user(self.env, "dora", email="dora@example.com", name="Dora")
        self.start_tour(CALENDAR_URL, "webcrm_calendar_sync_quick_create_no_send_tour", login="dora")
        event = self.env["calendar.event"].search([("name", "=", "Coffee")])
        self.assertEqual(len(event), 1)
        self.assertFalse(event.sync_binding_ids, "Dora has no synced calendar: nothing to write")
