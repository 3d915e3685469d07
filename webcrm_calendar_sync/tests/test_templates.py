import re

from .common import CalendarSyncCase

PLACEHOLDER = re.compile(r"\{\{|\}\}|t-out|object\.|\$\{")


class TestTemplates(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        company = cls.env["res.partner"].create({"name": "Acme AB", "is_company": True})
        cls.contact = cls.env["res.partner"].create(
            {"name": "Ann Andersson", "email": "ann@acme.test", "parent_id": company.id}
        )
        cls.event = cls.env["calendar.event"].create(
            {
                "name": "Quarterly review",
                "start": "2026-12-10 09:00:00",
                "stop": "2026-12-10 10:30:00",
                "location": "Room Kiruna",
                "user_id": cls.alice.id,
                "partner_ids": [(6, 0, [cls.alice.partner_id.id, cls.contact.id])],
            }
        )

    def test_overview_template_merges_synced_meeting_fields(self):
        template = self.env.ref("webcrm_calendar_sync.mail_template_synced_meeting_overview")
        body = template._render_field("body_html", self.event.ids)[self.event.id]
        subject = template._render_field("subject", self.event.ids)[self.event.id]
        for value in ("Quarterly review", "Room Kiruna", "Ann Andersson", "Acme AB", "Alice", "1:30"):
            self.assertIn(value, body)
        self.assertIn("Quarterly review", subject)
        self.assertFalse(PLACEHOLDER.search(body + subject), "a raw placeholder was left in the template")

    def test_text_template_fills_description_and_can_be_edited(self):
        self.event.text_template_id = self.env.ref("webcrm_calendar_sync.mail_template_meeting_text")
        self.event.action_apply_text_template()
        text = str(self.event.description)
        for value in ("Ann Andersson", "Acme AB", "Room Kiruna", "Alice"):
            self.assertIn(value, text)
        self.assertFalse(PLACEHOLDER.search(text))
        self.assertTrue(self.event.text_template_applied)
        # edited by hand, then sent: the hand-made text is kept
        self.event.description = "<p>My own words</p>"
        self.event.action_save_and_send_invitation()
        self.assertIn("My own words", str(self.event.description))
