"""A meeting's text template is one its chooser may read: a colleague cannot put on a meeting a
template only its organiser may read, and have it merged as the organiser (the online meeting's
link arriving merges the text again as the organiser) to read its text in the description."""

import json
from types import SimpleNamespace

from odoo.exceptions import AccessError

from .common import CalendarSyncCase
from .test_private_meetings import BOSS, ROOM, TITLE, PrivateMeetingCase

PRIVATE_TEXT = "Alice's own notes 4e1b"


class TestTextTemplateChooser(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Template = cls.env["mail.template"]
        # a rule an administrator may add: this template is read by its author only
        cls.env["ir.rule"].create(
            {
                "name": "Alice's meeting text: hers only",
                "model_id": cls.env["ir.model"]._get_id("mail.template"),
                "domain_force": "['|', ('name', '!=', 'Alice only'), ('create_uid', '=', user.id)]",
                "groups": [(4, cls.env.ref("base.group_user").id)],
                "perm_read": True,
                "perm_write": False,
                "perm_create": False,
                "perm_unlink": False,
            }
        )
        cls.alices_template = Template.with_user(cls.alice).create(
            {
                "name": "Alice only",
                "model_id": cls.env["ir.model"]._get_id("calendar.event"),
                "calendar_sync_meeting_text": True,
                "body_html": f"<p>{PRIVATE_TEXT}</p>",
            }
        )
        cls.meeting = (
            cls.env["calendar.event"]
            .with_user(cls.alice)
            .create(
                {
                    "name": "Planning",
                    "start": "2026-12-10 10:00:00",
                    "stop": "2026-12-10 11:00:00",
                    "partner_ids": [(4, cls.carol.partner_id.id)],
                }
            )
        )

    def test_a_template_the_writer_may_not_read_is_refused(self):
        self.assertFalse(self.alices_template.with_user(self.carol).has_access("read"))
        with self.assertRaises(AccessError):
            self.meeting.with_user(self.carol).write(
                {
                    "text_template_id": self.alices_template.id,
                    "description": "<p>a</p>",
                    "text_template_merged": "<p>a</p>",
                }
            )
        with self.assertRaises(AccessError):
            self.env["calendar.event"].with_user(self.carol).create(
                {
                    "name": "Mine",
                    "start": "2026-12-11 10:00:00",
                    "stop": "2026-12-11 11:00:00",
                    "text_template_id": self.alices_template.id,
                }
            )
        # the online meeting's link merges the text as the organiser: nothing of hers comes out
        self.meeting.sudo()._synced_take_video_link(SimpleNamespace(video_url="https://meet.google.com/abc-defg-hij"))
        self.assertNotIn(PRIVATE_TEXT, str(self.meeting.with_user(self.carol).description or ""))

    def test_the_organiser_and_readable_templates_still_choose(self):
        self.meeting.with_user(self.alice).write({"text_template_id": self.alices_template.id})
        shared = self.env.ref("webcrm_calendar_sync.mail_template_meeting_text")
        self.meeting.with_user(self.carol).write({"text_template_id": shared.id})
        self.assertEqual(self.meeting.text_template_id, shared)
        self.meeting.with_user(self.carol).write({"text_template_id": False})
        self.assertFalse(self.meeting.text_template_id)


class TestTextTemplateOnPrivateMeeting(PrivateMeetingCase):
    """The form's text merge (an onchange) on a colleague's private meeting, which the caller sees as
    "Busy": the template is not merged, so its text cannot name the meeting's title, place, organiser
    or attendees."""

    def test_a_private_meeting_of_others_is_never_merged_for_the_caller(self):
        event = self.private_meeting()
        template = self.env.ref("webcrm_calendar_sync.mail_template_meeting_text")
        spec = {"description": {}, "text_template_merged": {}, "text_template_action": {}}
        triggers = {
            "text_template_id": {"text_template_id": template.id, "description": False},
            "text_template_action": {"text_template_id": template.id, "text_template_action": "merge"},
            "name": {"text_template_id": template.id, "name": "Other subject"},
        }
        for trigger, values in triggers.items():
            with self.subTest(trigger=trigger):
                result = json.dumps(event.with_user(self.carol).onchange(values, [trigger], spec), default=str)
                for secret in (TITLE, ROOM, BOSS, "Kim Customer"):
                    self.assertNotIn(secret, result)
        # its attendee still gets the merged text
        result = event.with_user(self.alice).onchange(triggers["text_template_id"], ["text_template_id"], spec)
        self.assertIn(ROOM, str(result["value"]["description"]))
        self.assertIn("Kim Customer", str(result["value"]["description"]))
