"""The OAuth client secrets in Settings: written by system administrators, read by no one through
the settings (default_get, onchange, read), whoever asks; the form shows only whether one is set."""

from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from .common import CalendarSyncCase

SECRETS = {
    "calendar_sync_google_client_secret": "webcrm_calendar_sync.google_client_secret",
    "calendar_sync_microsoft_client_secret": "webcrm_calendar_sync.microsoft_client_secret",
}


class TestSettingsSecrets(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal = new_test_user(cls.env, "portal_sec", groups="base.group_portal", name="Portal")
        cls.admin = new_test_user(cls.env, "admin_sec", groups="base.group_user,base.group_system", name="Admin")
        cls.env["res.config.settings"].create(
            {
                "calendar_sync_google_client_id": "google-id",
                "calendar_sync_google_client_secret": "g-very-secret",
                "calendar_sync_microsoft_client_id": "ms-id",
                "calendar_sync_microsoft_client_secret": "ms-very-secret",
            }
        ).execute()

    def param(self, key):
        return self.env["ir.config_parameter"].sudo().get_param(key)

    def assert_no_secret(self, answer):
        self.assertNotIn("g-very-secret", str(answer))
        self.assertNotIn("ms-very-secret", str(answer))

    def test_no_one_reads_a_client_secret_back(self):
        Settings = self.env["res.config.settings"]
        for user in (self.portal, self.carol, self.admin):
            with self.subTest(user=user.name):
                as_user = Settings.with_user(user)
                self.assert_no_secret(as_user.default_get(list(SECRETS)))
                try:
                    answer = as_user.onchange({}, [], {name: {} for name in SECRETS})
                except AccessError:
                    answer = "refused"
                self.assert_no_secret(answer)
        # the administrator's form: read, its onchange on a saved record, the field's own value
        settings = Settings.with_user(self.admin).create({})
        self.assert_no_secret(settings.read(list(SECRETS)))
        self.assert_no_secret(settings.web_read({name: {} for name in SECRETS}))
        self.assertTrue(settings.calendar_sync_google_client_secret_set)
        self.assertTrue(settings.calendar_sync_microsoft_client_secret_set)

    def test_a_new_secret_replaces_the_old_and_an_empty_one_keeps_it(self):
        Settings = self.env["res.config.settings"].with_user(self.admin)
        Settings.create({"calendar_sync_google_client_id": "google-id-2"}).execute()
        self.assertEqual(self.param(SECRETS["calendar_sync_google_client_secret"]), "g-very-secret")
        self.assertEqual(self.param(SECRETS["calendar_sync_microsoft_client_secret"]), "ms-very-secret")
        Settings.create({"calendar_sync_google_client_secret": "  g-new  "}).execute()
        self.assertEqual(self.param(SECRETS["calendar_sync_google_client_secret"]), "g-new")
        self.assertEqual(self.param(SECRETS["calendar_sync_microsoft_client_secret"]), "ms-very-secret")
        # saved settings do not keep the secret typed in them
        self.assertFalse(
            self.env["res.config.settings"].sudo().search([]).filtered("calendar_sync_google_client_secret")
        )

    def test_only_system_administrators_may_write_a_secret(self):
        for user in (self.portal, self.carol):
            with self.subTest(user=user.name), self.assertRaises(AccessError):
                self.env["res.config.settings"].with_user(user).create(
                    {"calendar_sync_google_client_secret": "stolen"}
                ).execute()
        self.assertEqual(self.param(SECRETS["calendar_sync_google_client_secret"]), "g-very-secret")
