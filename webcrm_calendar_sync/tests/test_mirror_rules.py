"""Mirror rules of the Odoo layer: bad events, collapsed listings, the organiser attends,
moving over (M1), a meeting deleted by its organiser."""

import json
from datetime import datetime, timedelta
from unittest.mock import patch

from odoo.tools import mute_logger

from .common import UTC, MemoryAccountsCase

LOGGER = "odoo.addons.webcrm_calendar_sync"


class TestMirrorRules(MemoryAccountsCase):
    # -- bad events ---------------------------------------------------------
    def test_one_bad_event_never_stops_the_account(self):
        cal = self.calendars[self.acc_alice.id]
        start = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
        self.sync(self.acc_alice)  # the first (full) listing; the bad events come in the next one
        cal.put(self.remote("Good"))
        backwards = cal.put(self.remote("Backwards", start=start).replace(end=start - timedelta(hours=2)))
        startless = cal.put(self.remote("No start", start=None).replace(all_day=True, start_date=None))
        with self.assertLogs(LOGGER, level="WARNING") as logs:
            summary = self.sync(self.acc_alice)
        self.assertEqual(self.acc_alice.state, "synced")
        self.assertEqual(summary["skipped_invalid"], 2)
        self.assertEqual(self.events_of(self.acc_alice).mapped("name"), ["Good"])
        # the account counts and lists them; the log names the account and the event
        self.assertEqual(self.acc_alice.skipped_event_count, 2)
        self.assertIn("2 events could not be mirrored", self.acc_alice.skipped_event_text)
        self.assertIn(backwards.external_id, self.acc_alice.skipped_event_text)
        self.assertIn("ends", json.loads(self.acc_alice.skipped_events)[backwards.external_id])
        self.assertTrue(
            any(f"account {self.acc_alice.id}" in line and startless.external_id in line for line in logs.output)
        )
        # the sync state advanced: the next sync is incremental and finds nothing new
        self.assertTrue(self.acc_alice.sudo().sync_state)
        self.assertEqual(self.sync(self.acc_alice), {})
        # once fixed in the calendar, it is mirrored and leaves the list
        cal.put(backwards.replace(end=start + timedelta(hours=1)))
        self.sync(self.acc_alice)
        self.assertIn("Backwards", self.events_of(self.acc_alice).mapped("name"))
        self.assertEqual(self.acc_alice.skipped_event_count, 1)

    def test_a_constraint_failing_in_the_batch_does_not_sink_the_page(self):
        cal = self.calendars[self.acc_alice.id]
        for i in range(3):
            cal.put(self.remote(f"M{i}", datetime(2026, 12, 3 + i, 9, 0, tzinfo=UTC)))
        Event = type(self.env["calendar.event"])
        real = Event._vals_from_remote

        def vals_from_remote(event, remote, account, partners, users):
            vals = real(event, remote, account, partners, users)
            if remote.summary == "M1":
                vals["partner_ids"] = [(6, 0, [-1])]  # a row the database refuses
            return vals

        with (
            patch.object(Event, "_vals_from_remote", vals_from_remote),
            self.assertLogs(LOGGER, level="WARNING"),
            mute_logger("odoo.sql_db"),  # the refused row's query, logged by Odoo before the rollback
        ):
            self.sync(self.acc_alice)
        self.assertEqual(sorted(self.events_of(self.acc_alice).mapped("name")), ["M0", "M2"])
        self.assertEqual(self.acc_alice.skipped_event_count, 1)
        self.assertEqual(self.acc_alice.state, "synced")

    # -- collapsed listings ------------------------------------------------------
    def test_a_collapsed_listing_removes_nothing_and_is_not_kept(self):
        cal = self.calendars[self.acc_alice.id]
        stored = [cal.put(self.remote(f"M{i}", datetime(2026, 12, 3 + i, 9, 0, tzinfo=UTC))) for i in range(12)]
        self.sync(self.acc_alice)
        events = self.events_of(self.acc_alice)
        self.assertEqual(len(events), 12)
        kept_state = self.acc_alice.sudo().sync_state
        # the provider suddenly lists nothing (a full listing, e.g. after its sync state expired)
        hidden = dict(cal.events)
        cal.events.clear()
        cal.version += 1  # the collapsed listing hands out a new sync state
        cal.expired_states.add(kept_state)
        with self.assertLogs(LOGGER, level="WARNING"):
            self.sync(self.acc_alice)
        self.assertEqual(len(self.events_of(self.acc_alice).filtered("active")), 12)
        self.assertEqual(self.acc_alice.sudo().sync_state, kept_state)  # not cemented
        self.assertIn("left out 12 meetings", self.acc_alice.sync_warning)
        # the next listing decides: the calendar is back, all is well again
        cal.events.update(hidden)
        self.sync(self.acc_alice)
        self.assertFalse(self.acc_alice.sync_warning)
        self.assertEqual(self.acc_alice.sudo().sync_state, f"v{cal.version}")
        self.assertEqual(len(self.events_of(self.acc_alice).filtered("active")), 12)
        # an explicit deletion is always applied
        cal.remove(stored[0].external_id)
        self.sync(self.acc_alice)
        self.assertEqual(len(self.events_of(self.acc_alice)), 11)

    def test_the_next_listing_decides_a_collapse_confirmed_removes(self):
        cal = self.calendars[self.acc_alice.id]
        for i in range(4):
            cal.put(self.remote(f"M{i}", datetime(2026, 12, 3 + i, 9, 0, tzinfo=UTC)))
        self.sync(self.acc_alice)
        cal.events.clear()  # really deleted, without the provider saying so
        cal.version += 1
        with self.assertLogs(LOGGER, level="WARNING"):
            self.sync(self.acc_alice, full=True)
        self.assertEqual(len(self.events_of(self.acc_alice)), 4)
        self.assertTrue(self.acc_alice.sudo().sync_held_ids)
        # the next full listing misses the very same meetings: believed, they are removed
        self.sync(self.acc_alice, full=True)
        self.assertFalse(self.events_of(self.acc_alice))
        self.assertFalse(self.acc_alice.sync_warning)
        self.assertFalse(self.acc_alice.sudo().sync_held_ids)
        self.assertEqual(self.acc_alice.sudo().sync_state, f"v{cal.version}")

    # -- the organiser attends ------------------------------------------------------
    def test_the_organiser_is_an_attendee_with_their_answer(self):
        cal = self.calendars[self.acc_bob.id]
        # Graph lists the organiser apart from the attendees
        cal.put(
            self.remote(
                "Bob's review",
                organizer_email="bob@example.com",
                attendees=[self.attendee("kim@client.test", "accepted")],
            )
        )
        # an outsider's meeting Bob attends: the organiser is a known contact
        cal.put(
            self.remote(
                "Customer call",
                datetime(2026, 12, 4, 9, 0, tzinfo=UTC),
                organizer_email="kim@client.test",
                attendees=[self.attendee("bob@example.com", "tentative")],
            )
        )
        self.sync(self.acc_bob)
        review = self.env["calendar.event"].search([("name", "=", "Bob's review")])
        self.assertEqual(review.user_id, self.bob)
        self.assertIn(self.bob.partner_id, review.partner_ids)
        states = {a.partner_id: a.state for a in review.attendee_ids}
        self.assertEqual(states[self.bob.partner_id], "accepted")
        call = self.env["calendar.event"].search([("name", "=", "Customer call")])
        states = {a.partner_id: a.state for a in call.attendee_ids}
        self.assertEqual(states, {self.customer: "accepted", self.bob.partner_id: "tentative"})
        # Odoo shows Bob's calendar by attendee: both are in it
        mine = self.env["calendar.event"].search([("partner_ids", "in", self.bob.partner_id.ids)])
        self.assertIn(review, mine)

    # -- M1 ----------------------------------------------------------------------
    def test_moving_over_links_meetings_the_user_only_attends(self):
        # a meeting Odoo's google_calendar synced for Alice as an attendee, organised by Carol who
        # does not sync; the old module's external id is simulated on an existing Char field
        legacy = self.env["calendar.event"].create(
            {
                "name": "Carol's meeting",
                "start": "2026-12-05 09:00:00",
                "stop": "2026-12-05 10:00:00",
                "user_id": self.carol.id,
                "partner_ids": [(6, 0, [self.carol.partner_id.id, self.alice.partner_id.id])],
            }
        )
        unrelated = self.env["calendar.event"].create(
            {"name": "Not Alice's", "start": "2026-12-05 09:00:00", "stop": "2026-12-05 10:00:00"}
        )
        cal = self.calendars[self.acc_alice.id]
        first = cal.put(
            self.remote(
                "Carol's meeting",
                datetime(2026, 12, 5, 9, 0, tzinfo=UTC),
                organizer_email="carol@example.com",
                attendees=[self.attendee("alice@example.com", "accepted")],
            )
        )
        second = cal.put(self.remote("Elsewhere", datetime(2026, 12, 6, 9, 0, tzinfo=UTC)))
        self.env.cr.execute("UPDATE calendar_event SET access_token = %s WHERE id = %s", (first.external_id, legacy.id))
        self.env.cr.execute(
            "UPDATE calendar_event SET access_token = %s WHERE id = %s", (second.external_id, unrelated.id)
        )
        self.env.invalidate_all()
        fields_patch = patch.dict(
            "odoo.addons.webcrm_calendar_sync.models.calendar_event.LEGACY_FIELDS", {"google": ("access_token",)}
        )
        with fields_patch:
            summary = self.sync(self.acc_alice)
        self.assertEqual((summary["link"], summary["create"]), (1, 1))
        self.assertEqual(legacy.sync_binding_ids.external_id, first.external_id)
        self.assertEqual(self.env["calendar.event"].search_count([("name", "=", "Carol's meeting")]), 1)
        # a meeting of someone else with that id is not taken over
        self.assertFalse(unrelated.sync_binding_ids)

    # -- the organiser deletes a shared meeting --------------------------------------
    def test_organiser_deletes_a_shared_meeting(self):
        shared = {
            "ical_uid": "shared-uid-9",
            "organizer_email": "alice@example.com",
            "attendees": [self.attendee("alice@example.com", "accepted"), self.attendee("bob@example.com")],
        }
        alice_copy = self.calendars[self.acc_alice.id].put(self.remote("Team", **shared))
        bob_copy = self.calendars[self.acc_bob.id].put(self.remote("Team", **shared))
        self.sync(self.acc_alice)
        self.sync(self.acc_bob)
        event = self.env["calendar.event"].search([("name", "=", "Team")])
        self.assertEqual(len(event.sync_binding_ids), 2)
        bob_binding = event.sync_binding_ids.filtered(lambda b: b.account_id == self.acc_bob)
        deletes = []
        from ..engine.testing.memory import MemoryProvider

        real_delete = MemoryProvider.delete_event

        def delete_event(provider, external_id, *, etag=None, send_invitations=False):
            deletes.append((provider.calendar.email, external_id, send_invitations))
            return real_delete(provider, external_id, etag=etag, send_invitations=send_invitations)

        with self.memory_providers():
            event.with_user(self.alice).unlink()
            self.assertEqual(self.providers, [])
        # no binding points at no meeting: Bob's is a tombstone now
        self.assertEqual((bob_binding.state, bob_binding.event_id.id), ("gone", False))
        with patch.object(MemoryProvider, "delete_event", delete_event):
            self.run_push()
        # deleted in the organiser's calendar, with the cancellation sent to the invited attendees
        self.assertEqual(deletes, [("alice@example.com", alice_copy.external_id, True)])
        self.assertFalse(self.env["calendar.sync.binding"].search([("event_id", "=", False), ("state", "!=", "gone")]))
        # Bob's calendar still lists its copy (changed, even): it does not bring the meeting back
        self.calendars[self.acc_bob.id].put(bob_copy.replace(summary="Team (updated)"))
        self.sync(self.acc_bob)
        self.sync(self.acc_bob, full=True)
        self.assertFalse(self.env["calendar.event"].with_context(active_test=False).search([("name", "like", "Team")]))
        # when the cancellation reaches Bob's calendar, the tombstone goes too
        self.calendars[self.acc_bob.id].remove(bob_copy.external_id)
        self.sync(self.acc_bob)
        self.assertFalse(bob_binding.exists())

    def test_archiving_a_shared_meeting_does_not_come_back_through_an_attendee(self):
        shared = {
            "ical_uid": "shared-uid-10",
            "organizer_email": "alice@example.com",
            "attendees": [self.attendee("alice@example.com", "accepted"), self.attendee("bob@example.com")],
        }
        self.calendars[self.acc_alice.id].put(self.remote("Team", **shared))
        bob_copy = self.calendars[self.acc_bob.id].put(self.remote("Team", **shared))
        self.sync(self.acc_alice)
        self.sync(self.acc_bob)
        event = self.env["calendar.event"].search([("name", "=", "Team")])
        with self.memory_providers():
            event.with_user(self.alice).action_archive()
        self.run_push()
        self.assertEqual(self.calendars[self.acc_alice.id].events, {})
        self.calendars[self.acc_bob.id].put(bob_copy.replace(summary="Team (moved)"))
        self.sync(self.acc_bob)
        self.assertFalse(event.active)
        self.assertFalse(self.env["calendar.event"].search([("name", "like", "Team")]))
        self.assertFalse(event.sync_binding_ids)
