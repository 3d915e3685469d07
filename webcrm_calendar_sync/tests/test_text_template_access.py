"""Issue 19.1: a meeting's text template is rendered only from the database, never from what a
caller sends (an onchange's values make a new, never-stored ``mail.template`` whose body the
caller wrote)."""

import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user
from odoo.tools import mute_logger

from .common import CalendarSyncCase

SECRET = "db-secret-7f3a9c1e"
# QWeb a caller writes: reads a system parameter as superuser
EVIL_QWEB = "<p>Hi <t t-out=\"object.env['ir.config_parameter'].sudo().get_param('database.secret')\"/></p>"
EVIL_INLINE = "{{ object.env['ir.config_parameter'].sudo().get_param('database.secret') }}"
FIELDS_SPEC = {
    "name": {},
    "description": {},
    "text_template_applied": {},
    "text_template_id": {"fields": {"display_name": {}}},
}


class TestTextTemplateAccess(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].sudo().set_param("database.secret", SECRET)
        cls.portal = new_test_user(cls.env, "portal_tt", email="portal@client.test", groups="base.group_portal")
        cls.template = cls.env.ref("webcrm_calendar_sync.mail_template_meeting_text")

    def _onchange(self, user, template_value):
        Event = self.env["calendar.event"].with_user(user)
        values = {
            "name": "Quarterly review",
            "description": False,
            "text_template_applied": False,
            "text_template_id": template_value,
        }
        try:
            with mute_logger("odoo.addons.mail.models.mail_render_mixin"):
                result = Event.onchange(values, ["text_template_id"], FIELDS_SPEC)
        except (AccessError, UserError) as error:
            self.assertNotIn(SECRET, str(error))
            return None
        self.assertNotIn(SECRET, json.dumps(result, default=str), "the caller's code ran")
        return result.get("value", {})

    def _assert_nothing_merged(self, value):
        if value is None:  # refused
            return
        self.assertFalse(value.get("description"), "a template the caller sent was merged")
        self.assertFalse(value.get("text_template_applied"))

    def test_a_template_body_sent_by_the_caller_is_never_rendered(self):
        for user in (self.alice, self.portal):
            for body in (EVIL_QWEB, EVIL_INLINE):
                with self.subTest(user=user.login, body=body):
                    sent = {
                        "name": "Mine",
                        "model_id": self.env["ir.model"]._get_id("calendar.event"),
                        "model": "calendar.event",
                        "calendar_sync_meeting_text": True,
                        "body_html": body,
                    }
                    self._assert_nothing_merged(self._onchange(user, sent))

    def test_a_stored_templates_body_overridden_by_the_caller_is_not_used(self):
        # the caller names a real template and sends another body for it
        sent = {"id": self.template.id, "body_html": EVIL_QWEB}
        value = self._onchange(self.alice, sent)
        self.assertIsNotNone(value, "Alice may use the shipped meeting text")
        self.assertIn("Quarterly review", str(value["description"]), "the stored body is merged instead")
        self.assertIn("You are invited", str(value["description"]))
        # a portal user may not read templates: refused or ignored
        self._assert_nothing_merged(self._onchange(self.portal, sent))

    def test_a_stored_template_the_caller_may_not_read_is_not_rendered(self):
        self._assert_nothing_merged(self._onchange(self.portal, self.template.id))

    def test_only_meeting_text_templates_are_rendered(self):
        # an e-mail layout of calendar.event, readable by Alice, is not a meeting text
        layout = self.env.ref("calendar.calendar_template_meeting_update")
        self._assert_nothing_merged(self._onchange(self.alice, layout.id))

    def test_a_new_record_cannot_be_merged_with_an_unsaved_template(self):
        event = self.env["calendar.event"].with_user(self.alice).new({"name": "Quarterly review"})
        unsaved = (
            self.env["mail.template"]
            .with_user(self.alice)
            .new({"model_id": self.env["ir.model"]._get_id("calendar.event"), "body_html": EVIL_QWEB})
        )
        text = event._calendar_sync_merge_text(unsaved)
        self.assertFalse(text)

    def test_synced_and_typed_text_is_merged_as_text_never_evaluated(self):
        # a subject, place and attendee name that came from a provider (or a caller) and look like
        # template code or HTML: the stored template outputs them as text (t-out escapes)
        guest = self.env["res.partner"].create({"name": "<script>alert(1)</script>", "email": "x@client.test"})
        event = (
            self.env["calendar.event"]
            .with_user(self.alice)
            .new(
                {
                    "name": EVIL_INLINE,
                    "location": EVIL_QWEB,
                    "start": "2026-12-07 12:00:00",
                    "stop": "2026-12-07 13:00:00",
                    "partner_ids": [(6, 0, [self.alice.partner_id.id, guest.id])],
                }
            )
        )
        text = str(event._calendar_sync_merge_text(self.template))
        self.assertNotIn(SECRET, text)
        self.assertIn("{{ object.env[", text, "the subject is shown as it was typed")
        self.assertIn("&lt;script&gt;", text)
        self.assertNotIn("<script>", text)
        self.assertIn("&lt;p&gt;Hi &lt;t t-out=", text, "the place is text, not markup")
