"""Issue 11, point 8 and privacy: what providers send is checked before it becomes Odoo data."""

import logging

from odoo.tools import mute_logger

from ..models.res_partner import valid_email
from .common import CalendarSyncCase


class TestProviderInput(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acc_alice = cls.make_account(cls.alice)

    def sync(self, account):
        with self.memory_providers(), self.freeze_window():
            return account._sync()

    def test_invalid_attendee_addresses_are_skipped_with_a_log_line(self):
        bad = ['evil"<script>@client.test', "Kim <kim@client.test>", "a b@client.test", "x@", "many@a.test, b@b.test"]
        self.calendars[self.acc_alice.id].put(
            self.remote(
                "Meeting with odd guests",
                attendees=[self.attendee("alice@example.com", "accepted"), self.attendee("good@client.test")]
                + [self.attendee(e) for e in bad],
                organizer_email="alice@example.com",
            )
        )
        Partner = self.env["res.partner"].with_context(active_test=False)
        before = Partner.search_count([])
        # logging.INFO, not "INFO": Odoo names its RUNBOT level (25) "INFO" too
        with self.assertLogs("odoo.addons.webcrm_calendar_sync.models.res_partner", logging.INFO) as logs:
            self.sync(self.acc_alice)
        self.assertIn("not valid e-mail addresses", "\n".join(logs.output))
        event = self.env["calendar.event"].search([("name", "=", "Meeting with odd guests")])
        self.assertEqual(len(event), 1)
        self.assertEqual(set(event.partner_ids.mapped("email")), {"alice@example.com", "good@client.test"})
        self.assertEqual(Partner.search_count([]), before + 1)  # only good@client.test is new
        self.assertFalse(Partner.search([("name", "ilike", "script")]))
        self.assertFalse(Partner.search([("email", "ilike", "<")]))

    def test_a_bad_organiser_address_makes_no_contact(self):
        self.calendars[self.acc_alice.id].put(
            self.remote("From a bad organiser", organizer_email='evil"<script>@client.test')
        )
        with mute_logger("odoo.addons.webcrm_calendar_sync.models.res_partner"):
            self.sync(self.acc_alice)
        self.assertFalse(self.env["res.partner"].with_context(active_test=False).search([("name", "ilike", "script")]))
        self.assertTrue(self.env["calendar.event"].search([("name", "=", "From a bad organiser")]))

    def test_valid_email(self):
        for good in ("kim@client.test", "O'Brien@Example.ie", "a+tag@sub.example.com"):
            self.assertEqual(valid_email(good), good.lower())
        for bad in ('evil"<script>@client.test', "kim@client.test\n", " kim@client.test", "kim@localhost", ""):
            self.assertIsNone(valid_email(bad), bad)

    def test_default_visibility_follows_the_calendar_it_came_from(self):
        self.alice.with_user(self.alice).calendar_default_privacy = "private"
        cal = self.calendars[self.acc_alice.id]
        cal.put(
            self.remote(
                "Customer's meeting",
                organizer_email="kim@client.test",
                attendees=[self.attendee("kim@client.test", "accepted"), self.attendee("alice@example.com")],
                privacy="default",
            )
        )
        cal.put(self.remote("Alice's own", organizer_email="alice@example.com", privacy="default"))
        cal.put(self.remote("Public one", organizer_email="kim@client.test", privacy="public"))
        self.sync(self.acc_alice)
        Event = self.env["calendar.event"]
        outside = Event.search([("name", "=", "Customer's meeting")])
        own = Event.search([("name", "=", "Alice's own")])
        self.assertEqual(outside.privacy, "private")  # Alice's calendar default, not "every employee"
        self.assertFalse(own.privacy)  # Odoo's default: the organiser's (Alice's) default privacy
        self.assertEqual(Event.search([("name", "=", "Public one")]).privacy, "public")
        # what a colleague who does not attend sees of the outside organiser's meeting
        outside.invalidate_recordset()
        seen = outside.with_user(self.bob).read(["name", "description"])[0]
        self.assertEqual(seen["name"], "Busy")

    def test_a_provider_error_text_is_never_kept_unbounded(self):
        account = self.acc_alice.with_user(self.alice)
        account.sudo().state = "draft"
        session = {}
        state = account._oauth_remember(session, {"verifier": "v"})
        huge = "x" * 20000 + "\x1b[31m"
        account._oauth_finish("google", {"state": state, "error": huge}, session)
        self.assertEqual(self.acc_alice.state, "error")
        self.assertIn("Subscribe again", self.acc_alice.last_error)
        self.assertLess(len(self.acc_alice.last_error), 400)
        self.assertNotIn("\x1b", self.acc_alice.last_error)
        # an error a provider built from an answer (e.g. a Graph error code) is bounded too
        from ..engine import errors as sync_errors

        self.acc_alice._record_error(sync_errors.SyncError("Microsoft Graph refused the request (400 %s)." % huge))
        self.assertLessEqual(len(self.acc_alice.last_error), 1000)
