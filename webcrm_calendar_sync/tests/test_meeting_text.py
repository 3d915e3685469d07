"""N8: meeting text templates are merged in the form, editable, before anything is saved."""

import re

from odoo.tests import Form

from .common import CalendarSyncCase

PLACEHOLDER = re.compile(r"\{\{|\}\}|t-out|object\.|\$\{")


class TestMeetingText(CalendarSyncCase):
    def test_only_meeting_text_templates_are_offered(self):
        domain = self.env["calendar.event"]._fields["text_template_id"].domain
        offered = self.env["mail.template"].search(domain)
        self.assertIn(self.env.ref("webcrm_calendar_sync.mail_template_meeting_text"), offered)
        self.assertNotIn(self.env.ref("calendar.calendar_template_meeting_update"), offered, "an e-mail layout")
        self.assertNotIn(self.env.ref("webcrm_calendar_sync.mail_template_synced_meeting_overview"), offered)

    def test_choosing_a_template_shows_the_merged_text_to_edit_before_saving(self):
        company = self.env["res.partner"].create({"name": "Acme AB", "is_company": True})
        ann = self.env["res.partner"].create(
            {"name": "Ann Andersson", "email": "ann@acme.test", "parent_id": company.id}
        )
        template = self.env.ref("webcrm_calendar_sync.mail_template_meeting_text")
        form = Form(self.env["calendar.event"].with_user(self.alice))
        form.name = "Quarterly review"
        form.location = "Room Kiruna"
        form.partner_ids.add(ann)
        form.text_template_id = template
        merged = str(form.description)
        for value in ("Quarterly review", "Ann Andersson", "Acme AB", "Room Kiruna", "Alice"):
            self.assertIn(value, merged)
        self.assertFalse(PLACEHOLDER.search(merged), "a raw placeholder was left")
        self.assertFalse(self.env["calendar.event"].search([("name", "=", "Quarterly review")]), "nothing saved yet")
        form.description = merged.replace("You are invited", "Welcome")
        event = form.save()
        self.assertIn("Welcome", str(event.description), "the edited text is kept")
        self.assertTrue(event.text_template_applied, "sending will not merge it again over the edit")
