"""The addon ships Swedish: menus, views, templates and the messages of the Python code translate.

The translations are the module's own ``i18n/sv.po`` as Odoo loads it (no patched catalogue).
"""

import os
import re

import polib

from odoo.exceptions import UserError
from odoo.tests import tagged

from ..engine import errors as sync_errors
from .common import CalendarSyncCase
from .test_ui import CalendarUiCase

PLACEHOLDER = re.compile(r"\{\{|\}\}|t-out|object\.|\$\{")
FORMAT = re.compile(r"%\([a-z_]+\)s|%[sd]|\{\{.*?\}\}|\bt-[a-z]+=")
I18N = os.path.join(os.path.dirname(os.path.dirname(__file__)), "i18n")


class TestSwedish(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("sv_SE")
        cls.env["ir.module.module"].search([("name", "=", "webcrm_calendar_sync")])._update_translations(
            filter_lang=["sv_SE"]
        )
        cls.alice.lang = "sv_SE"
        company = cls.env["res.partner"].create({"name": "Acme AB", "is_company": True})
        cls.ann = cls.env["res.partner"].create(
            {"name": "Ann Andersson", "email": "ann@acme.test", "parent_id": company.id}
        )

    def test_menu_and_messages_in_swedish(self):
        menu = self.env.ref("webcrm_calendar_sync.menu_calendar_sync_accounts").with_context(lang="sv_SE")
        self.assertEqual(menu.name, "Synkroniserade kalendrar")
        self.env["res.config.settings"].create({"group_calendar_sync": False}).execute()
        Account = self.env["calendar.sync.account"].with_context(lang="sv_SE")
        with self.assertRaisesRegex(UserError, "Den synkroniserade kalendern är avstängd i Inställningar"):
            Account._check_enabled()

    def test_typed_sync_error_sentence_in_swedish(self):
        account = self.make_account(self.carol, provider="exchange")
        exc = sync_errors.ConfigurationError(code="exchange_no_mailbox", host="mail.corp.test", email="carol@corp.test")
        self.assertEqual(
            account.with_context(lang="sv_SE")._sync_error_message(exc),
            "Exchange-servern på mail.corp.test har ingen postlåda för carol@corp.test.",
        )
        self.assertEqual(
            account.with_context(lang="en_US")._sync_error_message(exc),
            "The Exchange server at mail.corp.test has no mailbox for carol@corp.test.",
        )
        throttled = sync_errors.RateLimited(code="exchange_busy")
        self.assertEqual(
            account.with_context(lang="sv_SE")._sync_error_message(throttled),
            "Exchange-servern är upptagen och bad oss sakta ner. Nästa synkronisering försöker igen.",
        )

    def test_meeting_form_buttons_in_swedish(self):
        arch = (
            self.env["calendar.event"]
            .with_user(self.alice)
            .with_context(lang="sv_SE")
            .get_views([(False, "form")])["views"]["form"]["arch"]
        )
        self.assertIn('string="Spara och skicka inbjudan"', arch)
        self.assertIn('string="Redigera mall"', arch)
        self.assertIn("Det här mötet tillhör kalendern för", arch)
        self.assertNotIn("Save and send invitation", arch)

    def test_calendar_view_texts_in_swedish(self):
        # the JavaScript's _t() strings, as the web client downloads them
        translations = self._webclient_translations()
        self.assertEqual(translations.get("Synchronize now"), "Synkronisera nu")
        self.assertEqual(translations.get("Synced colleagues"), "Synkroniserade kollegor")

    def _webclient_translations(self):
        result = (
            self.env["ir.http"]
            .with_context(lang="sv_SE")
            .get_translations_for_webclient(["webcrm_calendar_sync"], "sv_SE")
        )
        messages = {}
        for module in result[0].values():
            for message in module["messages"]:
                messages[message["id"]] = message["string"]
        return messages

    def test_meeting_text_template_merged_in_swedish(self):
        template = self.env.ref("webcrm_calendar_sync.mail_template_meeting_text")
        self.assertEqual(template.with_context(lang="sv_SE").name, "Synkroniserat möte: inbjudningstext")
        self.assertEqual(template.with_context(lang="en_US").name, "Synced meeting: invitation text")
        event = (
            self.env["calendar.event"]
            .with_user(self.alice)
            .new(
                {
                    "name": "Kvartalsgenomgång",
                    "user_id": self.alice.id,
                    "start": "2026-12-07 12:00:00",  # 13:00 in Stockholm, Alice's zone
                    "stop": "2026-12-07 13:00:00",
                }
            )
        )
        event.partner_ids = self.alice.partner_id | self.ann
        event.location = "Rum Kiruna"
        text = str(event._calendar_sync_merge_text(template))
        for value in ("Hej", "Ann Andersson", "Du är inbjuden till", "Kvartalsgenomgång", "med", "Acme AB"):
            self.assertIn(value, text)
        self.assertIn("Var: Rum Kiruna", text)
        # the time in words, in Alice's language and zone (not "2026-12-07 vid (13:00:00 Till 14:00:00)")
        self.assertIn("När: måndag 7 december 2026 13:00\u201314:00", text)
        self.assertIn("Organisatör: Alice", text)
        self.assertNotIn("You are invited", text)
        self.assertFalse(PLACEHOLDER.search(text), "a raw placeholder was left")

    def test_overview_template_in_the_organisers_language(self):
        template = self.env.ref("webcrm_calendar_sync.mail_template_synced_meeting_overview")
        event = self.env["calendar.event"].create(
            {
                "name": "Quarterly review",
                "start": "2026-12-10 09:00:00",
                "stop": "2026-12-10 10:30:00",
                "user_id": self.alice.id,
                "partner_ids": [(6, 0, [self.alice.partner_id.id, self.ann.id])],
            }
        )
        event.sync_binding_ids.unlink()  # not synced: the status says so
        body = template._render_field("body_html", event.ids, compute_lang=True)[event.id]
        subject = template._render_field("subject", event.ids, compute_lang=True)[event.id]
        for value in ("Börjar", "Slutar", "Längd", "Organisatör", "Deltagare", "Endast i Odoo", "1:30 tim"):
            self.assertIn(value, body)
        self.assertNotIn("Duration", body)
        # the meeting's time as Odoo's calendar words it in Swedish (not "... at (... To ...)")
        self.assertIn("Quarterly review", subject)
        self.assertNotIn(" To ", subject)
        self.assertFalse(PLACEHOLDER.search(body + subject))
        # an English-speaking organiser gets it in English
        self.alice.lang = "en_US"
        body = template._render_field("body_html", event.ids, compute_lang=True)[event.id]
        self.assertIn("Duration", body)
        self.assertNotIn("Längd", body)

    def test_swedish_catalogue_translates_every_exported_message(self):
        template = polib.pofile(os.path.join(I18N, "webcrm_calendar_sync.pot"))
        swedish = {entry.msgid: entry for entry in polib.pofile(os.path.join(I18N, "sv.po"))}
        untranslated = [e.msgid for e in template if not (e.msgid in swedish and swedish[e.msgid].msgstr)]
        self.assertFalse(untranslated, "messages of the .pot without a Swedish translation")
        for entry in template:
            translated = swedish[entry.msgid]
            self.assertFalse(translated.fuzzy, entry.msgid)
            # the same placeholders (and, in templates, the same QWeb directives) on both sides
            self.assertEqual(
                sorted(FORMAT.findall(entry.msgid)), sorted(FORMAT.findall(translated.msgstr)), entry.msgid
            )


@tagged("post_install", "-at_install")
class TestSwedishPages(CalendarUiCase):
    def test_refused_sign_in_answer_says_what_to_do_in_the_users_language(self):
        self.env["res.lang"]._activate_lang("sv_SE")
        self.alice.lang = "sv_SE"
        self.authenticate("alice", "alice")
        response = self.url_open("/webcrm_calendar_sync/oauth/google?state=forged&code=x")
        self.assertEqual(response.status_code, 400)
        self.assertIn("Det här inloggningssvaret kan inte användas", response.text)
        self.assertIn("prenumerera igen", response.text)
        self.assertNotIn("OAuth state", response.text, "the log's technical reason is not shown")
