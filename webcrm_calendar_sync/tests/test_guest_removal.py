"""A guest's delete is a decline in the guest's own calendar; only the organiser cancels for all.

Per provider over the fakes: Alice organises in Odoo with her calendar subscribed and invites Bob
(subscribed on the same service, so the service itself carries his answer to her calendar) and
Kim (outside). Bob deletes or archives the meeting in Odoo: he declines it from his own calendar
(Google: his copy's own attendee ``responseStatus``; Graph: ``POST /me/events/{id}/decline``;
Exchange: a ``DeclineItem``), Alice's calendar keeps the meeting and cancels nothing, and Odoo
keeps it for everyone else. Alice's delete cancels it for all. The question asked before says
which of the two is about to happen.
"""

import datetime as dt

from odoo.exceptions import UserError

from .common import ALICE, BOB, FakeEWSCase, FakeGoogleCase, FakeGraphCase
from .test_guest_answers import _GuestMeeting, _ThreeServicesCase  # the guest scenario's meeting and services

KIM = "kim@client.test"


class _GuestRemoval(_GuestMeeting):
    def book(self):
        """Alice's meeting, invitations sent and pushed (called on the across-services case too)."""
        meeting = _GuestMeeting.book(self)
        meeting.with_user(self.alice).action_save_and_send_invitation()
        self.push()
        return meeting.with_env(self.env)  # read as the test's superuser (bindings are not the users')

    def invited_meeting(self):
        """Alice's meeting, invitations sent, Bob's copy bound to it by his sync."""
        acc_a, acc_b = self.subscribe(self.alice), self.subscribe(self.bob)
        meeting = self.book()
        binding_a = meeting.sync_binding_ids
        self.assertEqual(binding_a.state, "synced", binding_a.last_error)
        uid = binding_a.ical_uid
        self.deliver_copy(uid)
        acc_b._sync()
        meeting.invalidate_recordset()
        binding_b = meeting.sync_binding_ids - binding_a
        self.assertEqual(binding_b.account_id, acc_b)
        self.assertEqual(self.states(meeting), {ALICE: "accepted", BOB: "needsAction", KIM: "needsAction"})
        return meeting, acc_a, acc_b, binding_a, binding_b, uid

    def assert_declined_by_bob_only(self, meeting, acc_a, acc_b, binding_a, binding_b, uid):
        # in Odoo: the meeting stays for everyone else, Bob's attendee declined; nothing sent yet
        self.assertTrue(meeting.exists() and meeting.active)
        self.assertEqual(self.states(meeting), {ALICE: "accepted", BOB: "declined", KIM: "needsAction"})
        self.assertEqual(binding_a.state, "synced", "the organiser's calendar is not asked to delete it")
        self.assertEqual(binding_b.state, "to_push", "Bob's calendar sends his decline after commit")
        self.assertEqual(self.own_answer(BOB, uid), "needsAction")
        cancellations = self.cancellations()
        self.push()
        # at the services: Bob's copy declined, Alice's event kept and showing his decline, no cancellation
        self.assertEqual(self.own_answer(BOB, uid), "declined")
        self.assertTrue(self.organiser_has(uid))
        self.assertEqual(self.organiser_answer(uid, BOB), "declined")
        self.assertEqual(self.organiser_answer(uid, KIM), "needsAction")
        self.assertEqual(self.cancellations(), cancellations)
        self.assertFalse(meeting.sync_binding_ids.filtered(lambda b: b.state != "synced"))
        # the calendars read again agree
        acc_a._sync()
        acc_b._sync()
        self.assertTrue(meeting.active)
        self.assertEqual(self.states(meeting), {ALICE: "accepted", BOB: "declined", KIM: "needsAction"})
        self.assertEqual(self.env["calendar.event"].search_count([("name", "=", "Offer review")]), 1)

    # ------------------------------------------------------------------
    def test_a_guests_delete_declines_for_him_only_and_the_organisers_cancels_for_all(self):
        meeting, acc_a, acc_b, binding_a, binding_b, uid = self.invited_meeting()
        # the question says which of the two is about to happen
        asked_bob = meeting.with_user(self.bob).calendar_sync_removal_question()
        self.assertEqual(asked_bob["kind"], "decline")
        self.assertIn("Alice", asked_bob["body"])
        self.assertIn("only the organiser can cancel it for everyone", asked_bob["body"])
        asked_alice = meeting.with_user(self.alice).calendar_sync_removal_question()
        self.assertEqual(asked_alice["kind"], "cancel")
        self.assertIn("cancellation", asked_alice["body"])

        meeting.with_user(self.bob).unlink()
        self.assert_declined_by_bob_only(meeting, acc_a, acc_b, binding_a, binding_b, uid)

        # a colleague who neither organises nor attends it cannot cancel it for everyone
        self.assertEqual(meeting.with_user(self.carol).calendar_sync_removal_question()["kind"], "refuse")
        with self.assertRaisesRegex(UserError, "Only the organiser"):
            meeting.with_user(self.carol).unlink()

        # the organiser's delete cancels it for all
        meeting.with_user(self.alice).unlink()
        self.push()
        self.assertFalse(self.organiser_has(uid))
        self.assertFalse(meeting.exists())

    def test_a_guests_archive_from_the_calendar_view_declines_for_him_only(self):
        meeting, *rest = self.invited_meeting()
        meeting.with_user(self.bob).action_archive()
        self.assert_declined_by_bob_only(meeting, *rest)
        # archived through a write (list view): the same
        meeting.with_user(self.bob).write({"active": False})
        self.assertTrue(meeting.active)


class TestGuestRemovalGoogle(_GuestRemoval, FakeGoogleCase):
    def setUp(self):
        super().setUp()
        self.server.add_user(BOB)  # Google makes Bob's copy when Alice invites him

    def deliver_copy(self, uid):
        pass

    def copy_of(self, email, uid):
        [found] = [e for e in self.server.events_of(email) if e.get("iCalUID") == uid]
        return found

    def own_answer(self, email, uid):
        return next(a["responseStatus"] for a in self.copy_of(email, uid)["attendees"] if a["email"] == email)

    def organiser_has(self, uid):
        return any(e.get("iCalUID") == uid for e in self.server.events_of(ALICE))

    def organiser_answer(self, uid, email):
        return next(a["responseStatus"] for a in self.copy_of(ALICE, uid)["attendees"] if a["email"] == email)

    def cancellations(self):
        return [i for i in self.server.invitations if i["method"] == "cancel"]


class TestGuestRemovalGraph(_GuestRemoval, FakeGraphCase):
    def deliver_copy(self, uid):
        pass  # Graph makes Bob's copy in his mailbox when Alice invites him

    def copy_of(self, email, uid):
        found = [e for e in self.server.events_of(email) if e.get("iCalUId") == uid and not e.get("_deleted")]
        return found[0] if found else None

    def own_answer(self, email, uid):
        response = self.copy_of(email, uid)["responseStatus"]["response"]
        return {"notResponded": "needsAction", "none": "needsAction"}.get(response, response)

    def organiser_has(self, uid):
        return self.copy_of(ALICE, uid) is not None

    def organiser_answer(self, uid, email):
        event = self.copy_of(ALICE, uid)
        [attendee] = [a for a in event["attendees"] if a["emailAddress"]["address"] == email]
        response = attendee["status"]["response"]
        return {"notResponded": "needsAction", "none": "needsAction"}.get(response, response)

    def cancellations(self):
        return [m for m, p, _q in self.server.log if m == "DELETE"]


class TestGuestRemovalExchange(_GuestRemoval, FakeEWSCase):
    WORDS = {"NoResponseReceived": "needsAction", "Unknown": "needsAction", "Accept": "accepted"}
    WORDS.update(Decline="declined", Tentative="tentative", Organizer="accepted")

    def setUp(self):
        super().setUp()
        self.server.add_mailbox(BOB, "bob-pw")

    def deliver_copy(self, uid):
        self.deliver_invitation(uid)

    def copy_of(self, email, uid):
        found = [i for i in self.server.mailboxes[email].items.values() if i.get("uid") == uid]
        return found[0] if found else None

    def own_answer(self, email, uid):
        return self.WORDS[self.copy_of(email, uid)["my_response"]]

    def organiser_has(self, uid):
        item = self.copy_of(ALICE, uid)
        return bool(item and not item.get("cancelled"))

    def organiser_answer(self, uid, email):
        [attendee] = [a for a in self.copy_of(ALICE, uid)["required"] if a[0] == email]
        return self.WORDS[attendee[2]]

    def cancellations(self):
        return [i for i in self.server.invitations if i[0] == "cancel"]


class TestGuestRemovalAcrossServices(_ThreeServicesCase):
    """The guest scenario's last steps, organiser and guest on different services: Bob deletes the
    meeting in Odoo (a decline from his calendar, carried to Alice's as a reply between services),
    then Alice deletes it (cancelled for all)."""

    def scenario(self, organizer_provider, guest_provider):
        A, B = self.sides[organizer_provider], self.sides[guest_provider]
        acc_a = self.subscribe(self.alice, organizer_provider)
        acc_b = self.subscribe(self.bob, guest_provider)
        meeting = _GuestRemoval.book(self)
        [binding_a] = meeting.sync_binding_ids
        uid = binding_a.ical_uid
        start = A.start(ALICE, uid)
        B.deliver(BOB, uid, "Offer review", start, start + dt.timedelta(hours=1), ALICE, [BOB, KIM])
        acc_b._sync()
        meeting.invalidate_recordset()
        binding_b = meeting.sync_binding_ids - binding_a
        self.assertEqual(binding_b.account_id, acc_b)

        # 5. Bob deletes the meeting in Odoo: a decline from his own calendar, the meeting stays
        meeting.with_user(self.bob).unlink()
        self.assertTrue(meeting.exists() and meeting.active)
        self.assertEqual(binding_a.state, "synced")
        self.push()
        self.assertEqual(B.own(BOB, uid), "declined")
        for organizer, ical_uid, email, response in B.take_replies():  # the reply travels between services
            A.reply(organizer, ical_uid, email, response)
        self.assertEqual(A.answers(ALICE, uid)[BOB], "declined")
        self.assertEqual(A.answers(ALICE, uid)[KIM], "needsAction")
        acc_a._sync()
        acc_b._sync()
        self.assertTrue(meeting.active)
        self.assertEqual(self.states(meeting), {ALICE: "accepted", BOB: "declined", KIM: "needsAction"})

        # 6. Alice deletes it: cancelled for everyone, from her calendar
        meeting.with_user(self.alice).unlink()
        self.push()
        self.assertFalse(meeting.exists())
        with self.assertRaises(AssertionError):
            A.copy_of(ALICE, uid)  # gone from her calendar

    def test_google_organiser_microsoft_guest(self):
        self.scenario("google", "microsoft")

    def test_microsoft_organiser_exchange_guest(self):
        self.scenario("microsoft", "exchange")

    def test_exchange_organiser_google_guest(self):
        self.scenario("exchange", "google")
