"""Sync errors reach users as sentences in their language (Odoo's translation), logs keep class and code."""

from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tools.translate import code_translations

from ..engine import errors
from ..models.calendar_sync_account_messages import SYNC_ERROR_MESSAGES
from .common import CalendarSyncCase

SOURCE = errors.MESSAGES["exchange_no_mailbox"]
SWEDISH = "Exchange-servern på %(host)s har ingen brevlåda för %(email)s."
IN_SWEDISH = "Exchange-servern på mail.corp.test har ingen brevlåda för carol@corp.test."
IN_ENGLISH = "The Exchange server at mail.corp.test has no mailbox for carol@corp.test."


class TestErrorMessages(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("sv_SE")
        cls.carol.lang = "sv_SE"

    def swedish(self):
        """A Swedish translation of one sentence, as a loaded sv.po would give."""
        key = ("webcrm_calendar_sync", "sv_SE")
        loaded = dict(code_translations.get_python_translations(*key))
        return patch.dict(code_translations.python_translations, {key: {**loaded, SOURCE: SWEDISH}})

    def failing(self, account, exc):
        """Sync ``account`` with a provider that fails with ``exc``."""

        def build(acc):
            class Failing:
                def list_changes(self, state, window):
                    raise exc

                def list_page(self, state, window, page=None):
                    raise exc

            return Failing()

        return patch.object(type(self.env["calendar.sync.account"]), "_get_provider", build)

    def test_odoo_sentences_are_the_engine_sentences(self):
        # the translatable sentences (exported to the .pot file) are the engine's English ones
        self.assertEqual(set(SYNC_ERROR_MESSAGES), set(errors.MESSAGES))
        for code, lazy in SYNC_ERROR_MESSAGES.items():
            self.assertEqual(
                self.env["calendar.sync.account"].with_context(lang="en_US").env._(lazy), errors.MESSAGES[code]
            )

    def test_error_shown_in_the_account_users_language_with_its_data(self):
        account = self.make_account(self.carol, provider="exchange")
        exc = errors.ConfigurationError(code="exchange_no_mailbox", host="mail.corp.test", email="carol@corp.test")
        with self.swedish(), self.failing(account, exc):
            account.with_context(lang="en_US")._sync(raise_errors=False)
        self.assertEqual(account.last_error, IN_SWEDISH)
        # the log line names the error's class and code
        label = account._sync_error_label(exc)
        self.assertEqual(label, "ConfigurationError[exchange_no_mailbox]")
        # raised to a user: in that user's language
        with self.swedish(), self.failing(account, exc), self.assertRaises(UserError) as raised:
            account.with_context(lang="sv_SE")._sync()
        self.assertEqual(str(raised.exception), IN_SWEDISH)
        with self.failing(account, exc), self.assertRaises(UserError) as raised:
            account.with_context(lang="en_US")._sync()
        self.assertEqual(str(raised.exception), IN_ENGLISH)

    def test_a_ready_sentence_is_shown_as_it_is(self):
        account = self.make_account(self.carol, provider="exchange")
        with self.failing(account, errors.NotSubscribed("Redan översatt.")):
            account._sync(raise_errors=False)
        self.assertEqual(account.last_error, "Redan översatt.")
        self.assertTrue(account.needs_reauth)
