"""N8: meeting text templates are merged in the form, editable, before anything is saved."""

import re
from datetime import datetime

from odoo.exceptions import UserError
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


def text_of(value):
    """The text as a reader sees it (newer CLDR data puts a narrow space before AM/PM)."""
    return str(value).replace("\u202f", " ")


def click(form, action):
    """What the form's text buttons do (no save): set text_template_action, which runs its onchange."""
    form._values["text_template_action"] = action
    form._perform_onchange("text_template_action")


class TestLiveMeetingText(CalendarSyncCase):
    """Issue 23: the merged text is right when it leaves, and hand edits are never lost unasked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        acme = cls.env["res.partner"].create({"name": "Acme AB", "is_company": True})
        cls.ann = cls.env["res.partner"].create(
            {"name": "Ann Andersson", "email": "ann@acme.test", "parent_id": acme.id}
        )
        cls.template = cls.env.ref("webcrm_calendar_sync.mail_template_meeting_text")

    def _form(self):
        form = Form(self.env["calendar.event"].with_user(self.alice))
        form.partner_ids.add(self.ann)
        return form

    def test_the_merged_text_follows_the_meeting_until_edited_by_hand(self):
        form = self._form()
        # the template first, then the time and the subject (as in a booking from a free slot)
        form.text_template_id = self.template
        form.start = datetime(2026, 12, 7, 12, 0)  # 13:00 in Stockholm (Alice's zone)
        form.stop = datetime(2026, 12, 7, 13, 0)
        form.name = "Quarterly review"
        text = text_of(form.description)
        self.assertIn("You are invited to <strong>Quarterly review</strong> with Acme AB.", text)
        self.assertIn("When: Monday, December 7, 2026 1:00 PM\u20132:00 PM", text)
        self.assertFalse(form.text_template_stale)
        # edited by hand: kept as it is when the meeting changes, and the user is told
        form.description = text.replace("Hello", "Hi")
        self.assertFalse(form.text_template_stale, "the edit still matches the meeting")
        form.start = datetime(2026, 12, 8, 8, 0)
        form.stop = datetime(2026, 12, 8, 9, 0)
        self.assertIn("Hi", str(form.description), "a hand edit is never merged over")
        self.assertIn("December 7", str(form.description))
        self.assertTrue(form.text_template_stale, "the text no longer matches the time: the user is asked")
        # keep my text: no longer asked, until the meeting changes again
        click(form, "keep")
        self.assertIn("Hi", str(form.description))
        self.assertFalse(form.text_template_stale)
        form.name = "Budget review"
        self.assertTrue(form.text_template_stale)
        # merge again: the template's text for the meeting as it is now
        click(form, "merge")
        text = text_of(form.description)
        self.assertNotIn("Hi", text)
        self.assertIn("Budget review", text)
        self.assertIn("Tuesday, December 8, 2026 9:00 AM\u201310:00 AM", text)
        self.assertFalse(form.text_template_stale)
        self.assertFalse(self.env["calendar.event"].search([("name", "=", "Budget review")]), "nothing saved")

    def test_no_organisation_named_twice(self):
        form = self._form()
        form.name = "Meeting with Acme AB"
        form.text_template_id = self.template
        text = str(form.description)
        self.assertIn("Meeting with Acme AB</strong>.", text)
        self.assertEqual(text.count("Acme AB"), 1, text)

    def test_sending_merges_again_an_untouched_text_and_refuses_a_stale_edit(self):
        self.make_account(self.alice)
        form = self._form()
        form.name = "Quarterly review"
        form.start = datetime(2026, 12, 7, 12, 0)
        form.stop = datetime(2026, 12, 7, 13, 0)
        form.text_template_id = self.template
        event = form.save()
        # moved in the calendar view (a write, no form): the untouched text follows
        event.with_user(self.alice).write({"start": "2026-12-07 14:00:00", "stop": "2026-12-07 15:00:00"})
        self.assertIn("3:00 PM\u20134:00 PM", text_of(event.description))
        # a merge field changed elsewhere: the text is merged again when it leaves
        self.ann.name = "Ann Berg"
        event.with_user(self.alice).action_save_and_send_invitation()
        self.assertIn("Hello Ann Berg,", str(event.description))
        # edited by hand, then the time changes: nothing is sent until the user chose
        event.with_user(self.alice).description = "<p>My own words, see you at three</p>"
        event.with_user(self.alice).write({"start": "2026-12-07 15:00:00", "stop": "2026-12-07 16:00:00"})
        self.assertEqual(str(event.description), "<p>My own words, see you at three</p>")
        self.assertTrue(event.with_user(self.alice).text_template_stale)
        binding = event.sudo().sync_binding_ids
        binding.send_invitations = False
        with self.assertRaisesRegex(UserError, "edited by hand"):
            event.with_user(self.alice).action_save_and_send_invitation()
        self.assertFalse(binding.send_invitations, "no invitation queued with a stale text")
        self.assertEqual(str(event.description), "<p>My own words, see you at three</p>")


class TestEditTemplate(CalendarSyncCase):
    """Issue 23.3: 'Edit template' works in the form: it saves nothing and never overwrites hand edits."""

    def test_edit_template_neither_saves_nor_overwrites(self):
        self.make_account(self.alice)
        arch = self.env["calendar.event"].get_view(view_type="form")["arch"]
        self.assertNotIn('name="action_apply_text_template"', arch, "a button of type object saves the meeting")
        bindings = self.env["calendar.sync.binding"].search_count([])
        form = Form(self.env["calendar.event"].with_user(self.alice))
        form.name = "Quarterly review"
        # the user's own words first, then a template: not merged over them, the user is asked
        form.description = "<p>My own words</p>"
        form.text_template_id = self.env.ref("webcrm_calendar_sync.mail_template_meeting_text")
        self.assertEqual(str(form.description), "<p>My own words</p>")
        click(form, "edit")
        self.assertEqual(str(form.description), "<p>My own words</p>", "the hand-made text is not merged over")
        self.assertTrue(form.text_template_stale, "the user is asked instead")
        self.assertFalse(self.env["calendar.event"].search([("name", "=", "Quarterly review")]), "not saved")
        self.assertEqual(self.env["calendar.sync.binding"].search_count([]), bindings, "nothing queued")
        # an untouched (here empty) text is merged at once, still without saving
        form.description = False
        click(form, "edit")
        self.assertIn("You are invited to", str(form.description))
        self.assertFalse(self.env["calendar.event"].search([("name", "=", "Quarterly review")]))
