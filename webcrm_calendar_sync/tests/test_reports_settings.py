"""Meetings analysis (S2) and the settings block's setup help (redirect URIs)."""

from .common import CalendarSyncCase


class TestReportsSettings(CalendarSyncCase):
    def test_meetings_grouped_by_organisation_provider_and_month(self):
        acme = self.env["res.partner"].create({"name": "Acme AB", "is_company": True})
        ann = self.env["res.partner"].create({"name": "Ann", "email": "ann@acme.test", "parent_id": acme.id})
        account = self.make_account(self.alice)
        self.calendars[account.id].put(
            self.remote("Acme review", attendees=[self.attendee("ann@acme.test"), self.attendee("alice@example.com")])
        )
        with self.freeze_window(), self.memory_providers():
            account._sync()
        event = self.env["calendar.event"].search([("name", "=", "Acme review")])
        self.assertIn(ann, event.partner_ids)
        self.assertEqual(event.synced_organization_id, acme, "the attendees' company, not the organiser's own")
        groups = self.env["calendar.event"]._read_group(
            [("id", "=", event.id)], ["synced_organization_id", "synced_provider", "start:month"], ["__count"]
        )
        self.assertEqual(groups, [(acme, "google", groups[0][2], 1)])
        action = self.env.ref("webcrm_calendar_sync.calendar_event_action_report")
        views = self.env["calendar.event"].get_views([(v.view_id.id, v.view_mode) for v in action.view_ids])
        self.assertEqual(set(views["views"]), {"graph", "pivot", "list"})

    def test_settings_show_the_redirect_uris_to_register(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://crm.example.com")
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(
            settings.calendar_sync_google_redirect_uri, "https://crm.example.com/webcrm_calendar_sync/oauth/google"
        )
        self.assertEqual(
            settings.calendar_sync_microsoft_redirect_uri,
            "https://crm.example.com/webcrm_calendar_sync/oauth/microsoft",
        )
        # Odoo's own google_calendar / microsoft_calendar are not installed here: nothing syncs twice
        self.assertFalse(settings.calendar_sync_overlap_warning)

    def test_new_account_email_is_the_users_own(self):
        account = self.env["calendar.sync.account"].with_user(self.carol).new({"provider": "microsoft"})
        self.assertEqual(account.email, "carol@example.com")
