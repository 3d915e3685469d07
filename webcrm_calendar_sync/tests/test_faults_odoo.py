"""Odoo-level faults against the three local fake servers: a save makes no request (so a rolled
back transaction can no longer leave a write behind), and a create whose answer was lost
converges to one copy in the calendar and one meeting in Odoo, whether the push job retries
first or a sync lists the copy first."""

import datetime as dt
from unittest.mock import patch

from odoo import fields

from ..engine import errors
from ..engine.providers.exchange import ExchangeProvider
from ..engine.providers.google import GoogleProvider
from ..engine.providers.microsoft import MicrosoftProvider
from .common import ALICE, BOB, NOW, FakeEWSCase, FakeGoogleCase, FakeGraphCase


class Boom(Exception):
    pass


class FaultCases:
    """The cases, run against each provider's fake (see the classes below, whose case gives
    ``server``, ``subscribe`` and ``subjects``)."""

    provider_class = None

    def new_meeting(self, name, days=3):
        start = (NOW + dt.timedelta(days=days)).replace(tzinfo=None)
        return (
            self.env["calendar.event"]
            .with_user(self.alice)
            .create(
                {
                    "name": name,
                    "start": start,
                    "stop": start + dt.timedelta(hours=1),
                    "partner_ids": [(6, 0, [self.alice.partner_id.id])],
                }
            )
        )

    def test_saves_make_no_request_and_a_rolled_back_save_writes_nothing(self):
        account = self.subscribe(self.alice)
        account._sync()
        before = self.server.requests
        with self.assertRaises(Boom), self.env.cr.savepoint():
            self.new_meeting("Rolled back")
            raise Boom()  # a later constraint, a concurrent update, a crash...
        event = self.new_meeting("Kept")
        event.with_user(self.alice).write({"name": "Kept and renamed"})
        self.assertEqual(self.server.requests, before)  # nothing sent inside the transaction
        self.env.invalidate_all()
        self.push()
        self.assertEqual(self.subjects(self.alice), ["Kept and renamed"])
        self.assertEqual(event.sync_binding_ids.state, "synced")

        before = self.server.requests
        with self.assertRaises(Boom), self.env.cr.savepoint():
            event.with_user(self.alice).unlink()
            raise Boom()
        self.assertEqual(self.server.requests, before)
        self.env.invalidate_all()
        self.push()
        self.assertEqual(self.subjects(self.alice), ["Kept and renamed"])  # the meeting Odoo still has
        event.with_user(self.alice).unlink()
        self.assertEqual(self.server.requests, before)
        self.push()
        self.assertEqual(self.subjects(self.alice), [])

    def lose_create_answer(self):
        real = self.provider_class.create_event

        def stored_but_answer_lost(provider, event, **kw):
            real(provider, event, **kw)
            raise errors.Unavailable()

        return patch.object(self.provider_class, "create_event", stored_but_answer_lost)

    def assert_converged(self, account, name):
        account._sync()
        self.assertEqual(self.subjects(self.alice), [name])
        self.assertEqual(self.env["calendar.event"].search_count([("name", "=", name)]), 1)
        bindings = self.env["calendar.sync.binding"].search([("account_id", "=", account.id)])
        self.assertEqual(len(bindings), 1)
        self.assertEqual(bindings.state, "synced")
        account._sync(full=True)
        self.assertEqual(self.env["calendar.event"].search_count([("name", "=", name)]), 1)

    def lose_answer(self, method):
        real = getattr(self.provider_class, method)

        def done_but_answer_lost(provider, *args, **kw):
            real(provider, *args, **kw)
            raise errors.Unavailable()

        return patch.object(self.provider_class, method, done_but_answer_lost)

    def test_lost_answer_on_update_and_delete_converges(self):
        account = self.subscribe(self.alice)
        account._sync()
        event = self.new_meeting("Before")
        self.push()
        binding = event.sync_binding_ids
        event.with_user(self.alice).write({"name": "After"})
        with self.lose_answer("update_event"):
            self.push()
        self.assertEqual((binding.state, binding.push_attempts), ("to_push", 1))
        self.push()
        self.assert_converged(account, "After")
        external_id = binding.external_id
        event.with_user(self.alice).unlink()
        with self.lose_answer("delete_event"):
            self.push()
        self.assertEqual((binding.state, binding.external_id), ("to_delete", external_id))
        self.push()  # deleting what is gone already is what was wanted
        self.assertFalse(binding.exists())
        self.assertEqual(self.subjects(self.alice), [])
        account._sync(full=True)
        self.assertFalse(self.env["calendar.event"].search([("name", "in", ("Before", "After"))]))

    def test_lost_answer_on_create_then_retry(self):
        account = self.subscribe(self.alice)
        account._sync()
        event = self.new_meeting("Once")
        with self.lose_create_answer():
            self.push()
        self.assertEqual(self.subjects(self.alice), ["Once"])
        self.assertEqual(event.sync_binding_ids.state, "to_push")
        self.push()  # the retry carries the same key: the calendar keeps one copy
        self.assert_converged(account, "Once")

    def test_lost_answer_on_create_then_sync_first(self):
        account = self.subscribe(self.alice)
        account._sync()
        event = self.new_meeting("Once")
        with self.lose_create_answer():
            self.push()
        account._sync()  # lists the copy before the retry: linked, not imported
        self.assertEqual(self.env["calendar.event"].search_count([("name", "=", "Once")]), 1)
        self.assertTrue(event.sync_binding_ids.external_id)
        event.with_user(self.alice).write({"name": "Once, renamed"})
        self.push()
        self.assert_converged(account, "Once, renamed")

    def test_a_request_refused_as_invalid_is_not_retried(self):
        account = self.subscribe(self.alice)
        account._sync()
        # a write refused as invalid (HTTP 400): failed at once, never sent again by the push job
        event = self.new_meeting("Refused")
        self.server.fail_next(count=5, status=400, on="create")
        self.push()
        binding = event.sync_binding_ids
        self.assertEqual((binding.state, binding.push_attempts), ("error", 1))
        self.assertIn("refused a request as invalid", binding.last_error)
        self.assertEqual(self.server.faults_left(), 4, "the create was sent once")
        self.push()
        self.assertEqual(self.server.faults_left(), 4, "and not again by the next push")
        self.server.clear_faults()
        # a listing refused as invalid: the account says so and what to do, and the scheduled
        # sync backs off as after any failure
        self.server.fail_next(count=5, status=400, on="list")
        account.sudo().write({"next_sync_date": False})
        self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(self.server.faults_left(), 4, "the listing was sent once")
        self.assertEqual((account.state, account.sync_failures), ("error", 1))
        self.assertIn("refused a request as invalid", account.last_error)
        self.assertIn("tell your administrator", account.last_error)
        self.assertGreater(account.next_sync_date, fields.Datetime.now())
        self.server.clear_faults()


class SharedMeetingCases:
    """For providers whose fake keeps the attendees' copies in line with the organiser's event
    (Google, Graph): a shared meeting its organiser deletes in Odoo."""

    def test_organiser_deletes_a_shared_meeting_in_odoo(self):
        self.server.add_user(self.bob.email)
        alice_account, bob_account = self.subscribe(self.alice), self.subscribe(self.bob)
        start = (NOW + dt.timedelta(days=3)).replace(tzinfo=None)
        event = (
            self.env["calendar.event"]
            .with_user(self.alice)
            .create(
                {
                    "name": "Shared",
                    "start": start,
                    "stop": start + dt.timedelta(hours=1),
                    "partner_ids": [(6, 0, [self.alice.partner_id.id, self.bob.partner_id.id])],
                }
            )
        )
        event.with_user(self.alice).action_save_and_send_invitation()
        self.push()
        self.assertEqual(self.subjects(self.bob), ["Shared"])  # the invitation reached Bob's calendar
        bob_account._sync()
        self.assertEqual(len(event.sync_binding_ids), 2)
        before = self.server.requests
        event.with_user(self.alice).unlink()
        self.assertEqual(self.server.requests, before)
        self.push()
        self.assertEqual(self.subjects(self.alice), [])
        self.assertEqual(self.subjects(self.bob), [])  # cancelled for the invited attendee
        bob_account._sync()
        alice_account._sync()
        bob_account._sync(full=True)
        self.assertFalse(self.env["calendar.event"].with_context(active_test=False).search([("name", "=", "Shared")]))
        self.assertFalse(
            self.env["calendar.sync.binding"].search([("account_id", "in", (alice_account | bob_account).ids)])
        )


class TestGoogleFaults(FaultCases, SharedMeetingCases, FakeGoogleCase):
    provider_class = GoogleProvider


class TestMicrosoftFaults(FaultCases, SharedMeetingCases, FakeGraphCase):
    provider_class = MicrosoftProvider


class TestExchangeFaults(FaultCases, FakeEWSCase):
    provider_class = ExchangeProvider

    def test_organiser_deletes_a_shared_meeting_the_attendees_copy_goes(self):
        self.server.add_mailbox(BOB, "bob-pw")
        uid = "shared-uid-2@corp"
        start = NOW + dt.timedelta(days=4)
        attendees = [(BOB, "Bob", "Accept")]
        self.server.add_item(
            ALICE, subject="Shared", start=start, end=start + dt.timedelta(hours=1), uid=uid, attendees=attendees
        )
        self.server.add_item(
            BOB,
            subject="Shared",
            start=start,
            end=start + dt.timedelta(hours=1),
            uid=uid,
            attendees=attendees,
            organizer=(ALICE, "Alice"),
        )
        alice_account, bob_account = self.subscribe(self.alice), self.subscribe(self.bob)
        alice_account._sync()
        bob_account._sync()
        event = self.env["calendar.event"].search([("name", "=", "Shared")])
        self.assertEqual(len(event.sync_binding_ids), 2)
        event.with_user(self.alice).unlink()
        self.push()
        # the organiser's calendar cancelled it for the invited attendee
        self.assertEqual(self.server.invitations[-1][:3], ("cancel", ALICE, [BOB]))
        self.assertEqual(self.subjects(self.alice), [])
        bob_account._sync()
        bob_account._sync(full=True)
        self.assertFalse(self.env["calendar.event"].with_context(active_test=False).search([("name", "=", "Shared")]))
        # Bob's copy was cancelled by Exchange: no binding of it is left
        self.assertFalse(self.env["calendar.sync.binding"].search([("account_id", "=", bob_account.id)]))
