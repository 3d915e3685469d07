"""Booking on behalf of a colleague (N3) stays inside the companies both work in: a user of another
company never makes a colleague's calendar create, change, cancel or invite, whichever door the
write comes by (create, write, archive, unlink, 'Save and send invitation'). Checked where the
write enters the outbox, end to end against the fake Google and the fake Microsoft Graph."""

import datetime as dt

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user

from .common import NOW, FakeGoogleCase, FakeGraphCase

START = (NOW + dt.timedelta(days=3)).replace(tzinfo=None)


class BookingCompaniesMixin:
    """Alice and Carol work in the main company, Dave only in Other Ltd, Erik in both."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.main = cls.env.company
        cls.other = cls.env["res.company"].create({"name": "Other Ltd"})
        cls.dave = new_test_user(
            cls.env,
            "dave",
            email="dave@other.test",
            name="Dave",
            company_id=cls.other.id,
            company_ids=[(6, 0, [cls.other.id])],
            groups="base.group_user,webcrm_calendar_sync.group_calendar_sync",
        )
        cls.erik = new_test_user(
            cls.env,
            "erik",
            email="erik@example.com",
            name="Erik",
            company_id=cls.other.id,
            company_ids=[(6, 0, [cls.other.id, cls.main.id])],
            groups="base.group_user,webcrm_calendar_sync.group_calendar_sync",
        )
        cls.customer = cls.env["res.partner"].create({"name": "Kim Customer", "email": "kim@client.test"})

    def book(self, as_user, organizer, name="Demo"):
        return (
            self.env["calendar.event"]
            .with_user(as_user)
            .create(
                {
                    "name": name,
                    "start": START,
                    "stop": START + dt.timedelta(hours=1),
                    "user_id": organizer.id,
                    "partner_ids": [(6, 0, [organizer.partner_id.id, self.customer.id])],
                }
            )
        )

    def assert_refused(self, call, in_words=True):
        with self.assertRaises(UserError) as caught, self.env.cr.savepoint():
            call()
        if in_words:  # else refused by an earlier rule (a removal by someone neither organiser nor guest)
            self.assertIsInstance(caught.exception, AccessError)
            self.assertIn("Alice's calendar is synced for a company you do not work in", str(caught.exception))

    def check_other_company_sends_nothing(self):
        account = self.subscribe(self.alice)
        self.assertEqual(account.company_id, self.main)
        # booked by Dave (Other Ltd only) with Alice as organiser: refused, nothing queued
        self.assert_refused(lambda: self.book(self.dave, self.alice, "From Dave"))
        self.push()
        self.assertEqual(self.subjects(self.alice), [])
        self.assertEqual(self.server.invitations, [])
        # booked before Alice subscribed (nothing to write then); 'Save and send invitation' now
        account.sudo().write({"state": "draft"})
        event = self.book(self.dave, self.alice, "Booked earlier")
        self.assertFalse(event.sync_binding_ids)
        account.sudo().write({"state": "synced"})
        self.assertFalse(event.with_user(self.dave).synced_can_send_invitations)
        self.assert_refused(event.with_user(self.dave).action_save_and_send_invitation)
        self.push()
        self.assertEqual(self.subjects(self.alice), [])
        self.assertEqual(self.server.invitations, [])
        # Alice's own meeting: Dave can neither change, move, archive nor delete it there
        own = self.book(self.alice, self.alice, "Alice's")
        self.push()
        self.assertEqual(self.subjects(self.alice), ["Alice's"])
        as_dave = own.with_user(self.dave)
        self.assert_refused(lambda: as_dave.write({"name": "Changed by Dave"}))
        self.assert_refused(lambda: as_dave.write({"user_id": self.dave.id}))
        self.assert_refused(as_dave.action_archive, in_words=False)
        self.assert_refused(as_dave.unlink, in_words=False)
        self.assert_refused(lambda: as_dave.write({"active": False}), in_words=False)
        self.push()
        self.assertEqual(self.subjects(self.alice), ["Alice's"])
        self.assertEqual(self.server.invitations, [])
        # a colleague of Alice's company, even working in another one too, still books for her
        event = self.book(self.erik, self.alice, "From Erik")
        event.with_user(self.erik).action_save_and_send_invitation()
        self.push()
        self.assertEqual(self.subjects(self.alice), ["Alice's", "From Erik"])
        self.assertEqual(self.server.invitations[-1]["emails"], ["kim@client.test"])


class TestBookingCompaniesGoogle(BookingCompaniesMixin, FakeGoogleCase):
    def test_another_company_cannot_send_from_a_google_calendar(self):
        self.check_other_company_sends_nothing()


class TestBookingCompaniesMicrosoft(BookingCompaniesMixin, FakeGraphCase):
    def test_another_company_cannot_send_from_a_microsoft_calendar(self):
        self.check_other_company_sends_nothing()
