"""'Save and send invitation' only for the organiser or the colleague who booked the meeting for
them (N3, N9): the button's visibility and the server's check follow one rule."""

from odoo.exceptions import AccessError

from .common import CalendarSyncCase


class TestInvitationRights(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acc_bob = cls.make_account(cls.bob)
        cls.customer = cls.env["res.partner"].create({"name": "Kim", "email": "kim@client.test"})

    def meeting(self, as_user, organizer):
        return (
            self.env["calendar.event"]
            .with_user(as_user)
            .create(
                {
                    "name": "Demo",
                    "start": "2026-12-10 10:00:00",
                    "stop": "2026-12-10 11:00:00",
                    "user_id": organizer.id,
                    "partner_ids": [(6, 0, [organizer.partner_id.id, self.customer.id])],
                }
            )
        )

    def test_a_colleague_gets_no_button_and_is_refused_on_the_organisers_meeting(self):
        event = self.meeting(self.bob, self.bob)
        self.assertTrue(event.with_user(self.bob).synced_can_send_invitations)
        as_alice = event.with_user(self.alice)
        self.assertFalse(as_alice.synced_can_send_invitations)
        with self.assertRaises(AccessError):
            as_alice.action_save_and_send_invitation()
        self.assertFalse(event.sync_binding_ids.send_invitations)
        # the organiser may
        event.with_user(self.bob).action_save_and_send_invitation()
        self.assertTrue(event.sync_binding_ids.send_invitations)

    def test_booked_on_behalf_the_booker_may_send(self):
        event = self.meeting(self.alice, self.bob)
        self.assertEqual(event.user_id, self.bob)
        self.assertTrue(event.with_user(self.alice).synced_can_send_invitations)
        self.assertFalse(event.with_user(self.carol).synced_can_send_invitations)
        with self.assertRaises(AccessError):
            event.with_user(self.carol).action_save_and_send_invitation()
        event.with_user(self.alice).action_save_and_send_invitation()
        self.assertTrue(event.sync_binding_ids.send_invitations)

    def test_a_new_meeting_being_booked_offers_the_button(self):
        new = self.env["calendar.event"].with_user(self.alice).new({"name": "Draft", "user_id": self.bob.id})
        self.assertTrue(new.synced_can_send_invitations)
