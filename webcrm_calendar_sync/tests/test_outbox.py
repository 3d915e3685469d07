"""The outbox: saving a meeting in Odoo never calls a provider; the push job writes after commit."""

from unittest.mock import patch

from odoo.exceptions import UserError

from ..engine import errors
from ..engine.testing.memory import MemoryProvider
from .common import MemoryAccountsCase


class KeyedMemoryProvider(MemoryProvider):
    """A memory provider that honours the create key, as the real providers do (a create
    repeated with the same key returns the copy stored the first time)."""

    keys = None
    keeps_uid = True  # False: the calendar gives the event a UID of its own (as Graph does)

    def create_event(self, event, *, send_invitations=False):
        self.requests += 1
        key = event.idempotency_key
        known = self.keys.get(key)
        if known and known in self.calendar.events:
            return self.calendar.events[known]
        stored = self.calendar.put(event.replace(external_id=None, ical_uid=event.ical_uid if self.keeps_uid else None))
        if key:
            self.keys[key] = stored.external_id
        return stored


class TestOutbox(MemoryAccountsCase):
    def new_meeting(self, name="Booked", user=None, **vals):
        user = user or self.alice
        return (
            self.env["calendar.event"]
            .with_user(user)
            .create(
                {
                    "name": name,
                    "start": "2026-12-10 10:00:00",
                    "stop": "2026-12-10 11:00:00",
                    "partner_ids": [(6, 0, [user.partner_id.id, self.customer.id])],
                    **vals,
                }
            )
        )

    def requests(self):
        return sum(p.requests for p in self.providers)

    def test_create_write_unlink_call_no_provider_and_the_push_job_writes_after(self):
        cal = self.calendars[self.acc_alice.id]
        with self.memory_providers():
            event = self.new_meeting()
            binding = event.sync_binding_ids
            self.assertEqual(binding.state, "to_push")
            self.assertTrue(binding.push_key)
            self.assertTrue(binding.ical_uid)
            event.with_user(self.alice).write({"name": "Renamed"})
            self.assertEqual(self.providers, [])  # no provider was even built during the saves
        self.assertEqual(cal.events, {})
        self.assertEqual(event.sync_push_state, "waiting")
        self.assertIn("Waiting to be written to Google Calendar", event.sync_push_message)
        self.run_push()
        [stored] = cal.events.values()
        self.assertEqual(stored.summary, "Renamed")
        self.assertEqual(stored.ical_uid, binding.ical_uid)  # the UID chosen before the create
        self.assertEqual((binding.state, binding.external_id), ("synced", stored.external_id))
        self.assertFalse(event.sync_push_state)
        self.assertFalse(event.sync_push_message)

        with self.memory_providers():
            event.with_user(self.alice).write({"name": "Renamed again"})
            event.with_user(self.alice).unlink()
            self.assertEqual(self.providers, [])
        # the binding outlives the meeting: the delete still knows what to remove
        self.assertTrue(binding.exists())
        self.assertEqual(
            (binding.state, binding.external_id, binding.event_id.id), ("to_delete", stored.external_id, False)
        )
        self.assertIn(stored.external_id, cal.events)
        self.run_push()
        self.assertEqual(cal.events, {})
        self.assertFalse(binding.exists())

    def test_a_rolled_back_save_writes_nothing(self):
        cal = self.calendars[self.acc_alice.id]
        with self.memory_providers():
            event = self.new_meeting("Kept")
        self.run_push()
        [stored] = cal.events.values()

        class Boom(Exception):
            pass

        for change in (
            lambda: self.new_meeting("Never saved"),
            lambda: event.with_user(self.alice).write({"name": "Never renamed"}),
            lambda: event.with_user(self.alice).unlink(),
            lambda: event.with_user(self.alice).action_archive(),
        ):
            with self.memory_providers():
                with self.assertRaises(Boom), self.env.cr.savepoint():
                    change()
                    raise Boom()  # e.g. a later constraint of the same transaction
                self.assertEqual(self.requests(), 0)
            self.env.invalidate_all()
            self.run_push()
            self.assertEqual(self.requests(), 0)  # nothing was left to write
            self.assertEqual(list(cal.events), [stored.external_id])
            self.assertEqual(cal.events[stored.external_id].summary, "Kept")
            self.assertTrue(event.exists() and event.active)
            self.assertEqual(event.sync_binding_ids.state, "synced")

    def test_a_waiting_or_failed_write_shows_on_the_meeting_at_once(self):
        def unavailable(provider, event, **kw):
            provider.requests += 1
            raise errors.Unavailable()

        with self.memory_providers():
            event = self.new_meeting()
        with patch.object(MemoryProvider, "create_event", unavailable):
            self.run_push()
        binding = event.sync_binding_ids
        self.assertEqual((binding.state, binding.push_attempts), ("to_push", 1))
        self.assertEqual(event.sync_push_state, "waiting")
        self.assertIn("last try failed", event.sync_push_message)

        def forbidden(provider, event, **kw):
            raise errors.Forbidden()

        with patch.object(MemoryProvider, "create_event", forbidden):
            self.run_push()
        self.assertEqual(binding.state, "error")
        self.assertEqual(event.sync_push_state, "error")
        self.assertIn("Could not be written to Google Calendar", event.sync_push_message)
        # changing the meeting tries again
        with self.memory_providers():
            event.with_user(self.alice).write({"name": "Try again"})
        self.assertEqual((binding.state, binding.push_attempts), ("to_push", 0))
        self.run_push()
        self.assertEqual(binding.state, "synced")
        self.assertEqual([e.summary for e in self.calendars[self.acc_alice.id].events.values()], ["Try again"])

    def test_lost_answer_then_sync_links_the_copy_never_imports_it(self):
        cal = self.calendars[self.acc_alice.id]
        real_create = MemoryProvider.create_event

        def stored_but_answer_lost(provider, event, **kw):
            real_create(provider, event, **kw)
            raise errors.Unavailable()

        with self.memory_providers():
            event = self.new_meeting("Once")
        with patch.object(MemoryProvider, "create_event", stored_but_answer_lost):
            self.run_push()
        self.assertEqual(len(cal.events), 1)
        binding = event.sync_binding_ids
        self.assertFalse(binding.external_id)
        # the account's next sync sees the copy: it is the meeting being created, linked
        with self.memory_providers(), self.freeze_window():
            self.acc_alice._sync()
        self.assertEqual(binding.external_id, next(iter(cal.events)))
        self.assertEqual(self.env["calendar.event"].search_count([("name", "=", "Once")]), 1)
        # the push job finishes with an update of that copy, not a second create
        self.run_push()
        self.assertEqual(len(cal.events), 1)
        self.assertEqual(binding.state, "synced")
        with self.memory_providers(), self.freeze_window():
            self.acc_alice._sync()
        self.assertEqual(self.env["calendar.event"].search_count([("name", "=", "Once")]), 1)

    def test_lost_answer_then_retry_repeats_the_same_create(self):
        cal = self.calendars[self.acc_alice.id]
        keys, seen = {}, []
        real_create = KeyedMemoryProvider.create_event

        def stored_but_answer_lost(provider, event, *, send_invitations=False):
            seen.append((event.create_key, event.ical_uid))
            real_create(provider, event, send_invitations=send_invitations)
            raise errors.Unavailable()

        def keyed(account):
            provider = KeyedMemoryProvider(self.calendars[account.id])
            provider.keys = keys
            return provider

        with self.memory_providers():
            event = self.new_meeting("Once")
        Account = type(self.env["calendar.sync.account"])
        with patch.object(Account, "_get_provider", keyed):
            with patch.object(KeyedMemoryProvider, "create_event", stored_but_answer_lost):
                self.env["calendar.sync.binding"]._cron_push()
            self.env["calendar.sync.binding"]._cron_push()
        binding = event.sync_binding_ids
        self.assertEqual(seen, [(binding.push_key, binding.ical_uid)])
        self.assertEqual(len(cal.events), 1)
        self.assertEqual((binding.state, binding.external_id), ("synced", next(iter(cal.events))))

    def test_lost_answer_copy_imported_by_a_sync_is_merged_by_the_retry(self):
        # a calendar whose listing cannot tell the copy is ours (its own UID, no key listed):
        # the sync imports it; the retried create names that event, and the two become one
        cal = self.calendars[self.acc_alice.id]
        keys = {}
        real_create = KeyedMemoryProvider.create_event

        def stored_but_answer_lost(provider, event, *, send_invitations=False):
            real_create(provider, event, send_invitations=send_invitations)
            raise errors.Unavailable()

        def keyed(account):
            provider = KeyedMemoryProvider(self.calendars[account.id])
            provider.keys, provider.keeps_uid = keys, False
            return provider

        with self.memory_providers():
            event = self.new_meeting("Once")
        Account = type(self.env["calendar.sync.account"])
        with patch.object(Account, "_get_provider", keyed), self.freeze_window():
            with patch.object(KeyedMemoryProvider, "create_event", stored_but_answer_lost):
                self.env["calendar.sync.binding"]._cron_push()
            self.acc_alice._sync()
            self.assertEqual(self.env["calendar.event"].search_count([("name", "=", "Once")]), 2)
            self.env["calendar.sync.binding"]._cron_push()
            self.acc_alice._sync(full=True)
        self.assertEqual(len(cal.events), 1)
        self.assertEqual(self.env["calendar.event"].search([("name", "=", "Once")]), event)
        self.assertEqual(event.sync_binding_ids.external_id, next(iter(cal.events)))
        self.assertEqual(event.sync_binding_ids.state, "synced")

    def test_archived_or_restored_through_write(self):
        cal = self.calendars[self.acc_alice.id]
        with self.memory_providers():
            event = self.new_meeting("Archived by write")
        self.run_push()
        self.assertEqual(len(cal.events), 1)
        with self.memory_providers():
            event.with_user(self.alice).write({"active": False, "name": "Archived, renamed"})
            self.assertEqual(self.providers, [])
        self.assertEqual(event.sync_binding_ids.state, "to_delete")
        self.run_push()
        self.assertEqual(cal.events, {})
        self.assertFalse(event.sync_binding_ids)
        with self.memory_providers():
            event.with_user(self.alice).write({"active": True})
        self.run_push()
        self.assertEqual([e.summary for e in cal.events.values()], ["Archived, renamed"])
        self.assertEqual(event.sync_binding_ids.state, "synced")

    def test_push_job_is_bounded_and_goes_on_after_a_failing_meeting(self):
        with self.memory_providers():
            events = [self.new_meeting(f"M{i}") for i in range(3)]
        real_create = MemoryProvider.create_event

        def fail_first(provider, event, **kw):
            if event.summary == "M0":
                raise errors.Forbidden()
            return real_create(provider, event, **kw)

        with patch.object(MemoryProvider, "create_event", fail_first):
            self.run_push(limit=2)
        self.assertEqual([e.sync_binding_ids.state for e in events], ["error", "synced", "to_push"])
        self.run_push(limit=2)
        self.assertEqual(events[2].sync_binding_ids.state, "synced")
        self.assertEqual(sorted(e.summary for e in self.calendars[self.acc_alice.id].events.values()), ["M1", "M2"])

    def test_paused_or_revoked_account_waits(self):
        with self.memory_providers():
            event = self.new_meeting()
        self.acc_alice.needs_reauth = True
        self.run_push()
        self.assertEqual(self.requests(), 0)
        self.assertEqual(event.sync_binding_ids.state, "to_push")
        self.acc_alice.needs_reauth = False
        self.run_push()
        self.assertEqual(event.sync_binding_ids.state, "synced")

    def test_save_and_send_invitation_is_queued_and_says_so(self):
        cal = self.calendars[self.acc_alice.id]
        with self.memory_providers():
            event = self.new_meeting()
            action = event.with_user(self.alice).action_save_and_send_invitation()
            self.assertEqual(self.providers, [])
        self.assertNotIn("are sent", action["params"]["message"])
        self.assertTrue(event.sync_binding_ids.send_invitations)
        self.run_push()
        self.assertEqual(cal.invitations, [(event.sync_binding_ids.external_id, ["kim@client.test"])])
        self.assertFalse(event.sync_binding_ids.send_invitations)
        self.assertTrue(event.sync_binding_ids.invited)
        # a plain save afterwards invites nobody again
        with self.memory_providers():
            event.with_user(self.alice).write({"name": "Renamed"})
        self.run_push()
        self.assertEqual(len(cal.invitations), 1)

    def test_external_organisers_meeting_is_refused_at_save(self):
        self.calendars[self.acc_bob.id].put(
            self.remote("Boss", organizer_email="boss@elsewhere.test", attendees=[self.attendee("bob@example.com")])
        )
        with self.memory_providers(), self.freeze_window():
            self.acc_bob._sync()
        event = self.env["calendar.sync.binding"].search([("account_id", "=", self.acc_bob.id)]).event_id
        with self.memory_providers():
            with self.assertRaises(UserError):
                event.with_user(self.bob).write({"name": "Mine"})
            with self.assertRaises(UserError):
                event.with_user(self.bob).unlink()
            self.assertEqual(self.providers, [])
