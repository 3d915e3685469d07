"""The Odoo layer applying change sets, against in-memory calendars (no HTTP)."""

from datetime import date, datetime, timedelta
from unittest.mock import patch

from odoo.exceptions import UserError

from .common import UTC, MemoryAccountsCase


class TestSyncApply(MemoryAccountsCase):
    def mails(self):
        return self.env["mail.mail"].sudo().search_count([]), self.env["mail.message"].sudo().search_count(
            [("message_type", "in", ("email", "notification"))]
        )

    def test_first_sync_creates_meetings_with_attendees_and_sends_nothing(self):
        cal = self.calendars[self.acc_alice.id]
        cal.put(
            self.remote(
                "Demo",
                location="Room 1",
                description="Agenda",
                attendees=[
                    self.attendee("alice@example.com", "accepted"),
                    self.attendee("KIM@client.test", "tentative"),
                    self.attendee("new.person@else.test", "declined", name="New Person"),
                ],
                organizer_email="alice@example.com",
                timezone="Europe/Stockholm",
            )
        )
        before = self.mails()
        summary = self.sync(self.acc_alice)
        self.assertEqual(summary["create"], 1)
        event = self.events_of(self.acc_alice)
        self.assertEqual(event.name, "Demo")
        self.assertEqual(event.start, datetime(2026, 12, 3, 9, 0))
        self.assertEqual(event.user_id, self.alice)
        self.assertEqual(event.synced_tz, "Europe/Stockholm")
        states = {a.partner_id.email: a.state for a in event.attendee_ids}
        self.assertEqual(states["kim@client.test"], "tentative")
        self.assertEqual(states["new.person@else.test"], "declined")
        self.assertIn(self.customer, event.partner_ids)
        self.assertIn(self.alice.partner_id, event.partner_ids)
        self.assertTrue(event.is_synced)
        self.assertEqual(event.synced_provider, "google")
        self.assertEqual(self.mails(), before)
        self.assertEqual(self.acc_alice.state, "synced")
        self.assertTrue(self.acc_alice.last_sync_date)

    def test_second_sync_with_nothing_changed_writes_nothing(self):
        cal = self.calendars[self.acc_alice.id]
        for i in range(5):
            cal.put(self.remote(f"M{i}", datetime(2026, 12, 3 + i, 9, 0, tzinfo=UTC)))
        self.sync(self.acc_alice)
        events = self.events_of(self.acc_alice)
        write_dates = events.mapped("write_date")
        summary = self.sync(self.acc_alice)
        self.assertEqual(summary, {})
        self.assertEqual(self.events_of(self.acc_alice), events)
        self.assertEqual(events.mapped("write_date"), write_dates)

    def test_first_sync_gives_stored_computed_values_with_the_create(self):
        acme = self.env["res.partner"].create({"name": "Acme", "is_company": True})
        self.customer.parent_id = acme
        cal = self.calendars[self.acc_alice.id]
        cal.put(
            self.remote(
                "With a customer",
                attendees=[self.attendee("alice@example.com", "accepted"), self.attendee("kim@client.test")],
                organizer_email="alice@example.com",
            )
        )
        cal.put(
            self.remote("Offsite", all_day=True, start_date=date(2026, 12, 7), end_date=date(2026, 12, 9), start=None)
        )
        cal.put(self.remote("Alone"))
        self.env.flush_all()
        updates = []
        execute = type(self.env.cr).execute

        def spy(cr, query, params=None, log_exceptions=True):
            text = str(query.code if hasattr(query, "code") else query)
            if text.lstrip().upper().startswith("UPDATE"):
                updates.append(text.split("SET")[0].strip())
            return execute(cr, query, params, log_exceptions)

        with patch.object(type(self.env.cr), "execute", spy):
            self.sync(self.acc_alice)
            self.env.flush_all()
        events = self.events_of(self.acc_alice)
        self.assertEqual(len(events), 3)
        # no UPDATE of the new meetings, their attendees or their bindings after their INSERTs
        touched = " ".join(updates)
        self.assertIn("calendar_sync_account", touched)  # the spy sees UPDATEs: the account's bookkeeping
        for table in ("calendar_event", "calendar_attendee", "calendar_sync_binding"):
            self.assertNotIn(f'"{table}"', touched)
        # and the values given are those the computes give
        Event, Attendee, Binding = (
            self.env[m] for m in ("calendar.event", "calendar.attendee", "calendar.sync.binding")
        )
        checks = [
            (events, [*Event.STORED_AT_CREATE, "synced_organization_id"]),
            (events.attendee_ids, ["common_name"]),
            (events.sync_binding_ids, ["user_id", "provider", "company_id", "ical_uid_key"]),
        ]
        stored = [(records, names, {n: records.mapped(n) for n in names}) for records, names in checks]
        for records, names, before in stored:
            for name in names:
                self.env.add_to_compute(records._fields[name], records)
            records.invalidate_recordset(names, flush=False)
            for name in names:
                self.assertEqual(records.mapped(name), before[name], name)
        offsite = events.filtered(lambda e: e.name == "Offsite")
        self.assertEqual((offsite.start_date, offsite.stop_date), (date(2026, 12, 7), date(2026, 12, 9)))
        self.assertEqual(offsite.start, datetime(2026, 12, 7, 8, 0))
        self.assertEqual(events.filtered(lambda e: e.name == "With a customer").synced_organization_id, acme)

    def test_all_day_and_multi_day(self):
        cal = self.calendars[self.acc_alice.id]
        cal.put(self.remote("Fair", all_day=True, start_date=date(2026, 12, 7), end_date=date(2026, 12, 9), start=None))
        self.sync(self.acc_alice)
        event = self.events_of(self.acc_alice)
        self.assertTrue(event.allday)
        self.assertEqual((event.start_date, event.stop_date), (date(2026, 12, 7), date(2026, 12, 9)))
        remote = event._to_remote(self.acc_alice)
        self.assertEqual((remote.start_date, remote.end_date), (date(2026, 12, 7), date(2026, 12, 9)))

    def test_remote_change_and_delete(self):
        cal = self.calendars[self.acc_alice.id]
        stored = cal.put(self.remote("Before"))
        self.sync(self.acc_alice)
        event = self.events_of(self.acc_alice)
        cal.put(
            stored.replace(
                summary="After", start=stored.start + timedelta(hours=2), end=stored.end + timedelta(hours=2)
            )
        )
        self.sync(self.acc_alice)
        self.assertEqual(event.name, "After")
        self.assertEqual(event.start, datetime(2026, 12, 3, 11, 0))
        cal.remove(stored.external_id)
        self.sync(self.acc_alice)
        self.assertFalse(event.active)
        self.assertFalse(event.sync_binding_ids)

    def test_shared_meeting_is_one_meeting_whichever_syncs_first(self):
        shared = {
            "ical_uid": "shared-uid-1",
            "organizer_email": "alice@example.com",
            "attendees": [
                self.attendee("alice@example.com", "accepted"),
                self.attendee("bob@example.com", "needsAction"),
            ],
        }
        self.calendars[self.acc_bob.id].put(self.remote("Team", **shared))
        self.calendars[self.acc_alice.id].put(self.remote("Team", **shared))
        self.sync(self.acc_bob)
        self.sync(self.acc_alice)
        events = self.env["calendar.event"].search([("name", "=", "Team")])
        self.assertEqual(len(events), 1)
        self.assertEqual(len(events.sync_binding_ids), 2)
        self.assertEqual(events.user_id, self.alice)
        self.assertEqual(events.synced_account_id, self.acc_alice)
        # the attendee's copy removed (declined) does not delete the organiser's meeting
        bob_copy = self.calendars[self.acc_bob.id]
        bob_copy.remove(next(iter(bob_copy.events)))
        self.sync(self.acc_bob)
        self.assertTrue(events.active)
        self.assertEqual(len(events.sync_binding_ids), 1)

    def test_expired_sync_state_resyncs_without_duplicates(self):
        cal = self.calendars[self.acc_alice.id]
        cal.put(self.remote("One"))
        self.sync(self.acc_alice)
        cal.put(self.remote("Two", datetime(2026, 12, 4, 9, 0, tzinfo=UTC)))
        cal.expired_states.add(self.acc_alice.sudo().sync_state)
        self.sync(self.acc_alice)
        names = sorted(self.events_of(self.acc_alice).mapped("name"))
        self.assertEqual(names, ["One", "Two"])
        self.assertTrue(self.acc_alice.last_full_sync_date)

    def test_odoo_meeting_goes_to_the_organisers_calendar_without_invitations(self):
        with self.memory_providers():
            event = (
                self.env["calendar.event"]
                .with_user(self.alice)
                .create(
                    {
                        "name": "Booked in Odoo",
                        "start": "2026-12-10 10:00:00",
                        "stop": "2026-12-10 11:00:00",
                        "partner_ids": [(6, 0, [self.alice.partner_id.id, self.customer.id])],
                        "privacy": "private",
                    }
                )
            )
        cal = self.calendars[self.acc_alice.id]
        self.assertEqual(cal.events, {})  # nothing written inside the transaction
        self.assertEqual(event.sync_push_state, "waiting")
        with self.memory_providers():
            self.push()
        self.assertFalse(event.sync_push_state)
        self.assertEqual(len(cal.events), 1)
        stored = next(iter(cal.events.values()))
        self.assertEqual(stored.summary, "Booked in Odoo")
        self.assertEqual(stored.privacy, "private")
        self.assertEqual(cal.invitations, [])
        self.assertEqual(event.sync_binding_ids.external_id, stored.external_id)
        # 'Save and send invitation' lets the calendar invite the attendees
        with self.memory_providers():
            event.with_user(self.alice).action_save_and_send_invitation()
            self.assertEqual(cal.invitations, [])
            self.push()
        self.assertEqual(cal.invitations, [(stored.external_id, ["kim@client.test"])])
        # a change is written through, a delete removes it
        with self.memory_providers():
            event.with_user(self.alice).write({"name": "Renamed"})
            self.push()
        self.assertEqual(cal.events[stored.external_id].summary, "Renamed")
        with self.memory_providers():
            event.with_user(self.alice).unlink()
            self.push()
        self.assertEqual(cal.events, {})

    def test_booking_on_behalf_of_a_colleague_goes_to_their_calendar(self):
        with self.memory_providers():
            self.env["calendar.event"].with_user(self.alice).create(
                {
                    "name": "For Bob",
                    "start": "2026-12-11 10:00:00",
                    "stop": "2026-12-11 11:00:00",
                    "user_id": self.bob.id,
                }
            )
            self.push()
        self.assertEqual(len(self.calendars[self.acc_bob.id].events), 1)
        self.assertEqual(len(self.calendars[self.acc_alice.id].events), 0)

    def test_changing_a_meeting_organised_elsewhere_is_refused(self):
        cal = self.calendars[self.acc_bob.id]
        cal.put(
            self.remote(
                "External boss meeting",
                organizer_email="boss@elsewhere.test",
                attendees=[self.attendee("bob@example.com")],
            )
        )
        self.sync(self.acc_bob)
        event = self.events_of(self.acc_bob)
        with self.memory_providers(), self.assertRaises(UserError):
            event.with_user(self.bob).write({"name": "Mine now"})

    def test_conflict_keeps_newest_and_logs_the_other(self):
        cal = self.calendars[self.acc_alice.id]
        stored = cal.put(self.remote("Original", organizer_email="alice@example.com"))
        self.sync(self.acc_alice)
        event = self.events_of(self.acc_alice)
        binding = event.sync_binding_ids
        # Odoo changed it (push failed, so it waits) and the provider changed it later
        binding.write({"local_changed": True})
        self.env.cr.execute("UPDATE calendar_event SET write_date = %s WHERE id = %s", (datetime(2026, 1, 1), event.id))
        event.invalidate_recordset(["write_date"])
        cal.put(stored.replace(summary="Changed remotely", updated=datetime(2026, 6, 1, tzinfo=UTC)))
        self.sync(self.acc_alice)
        self.assertEqual(event.name, "Changed remotely")
        self.assertIn("Original", event.message_ids[:1].body)

    def test_cron_continues_after_a_failing_account(self):
        from ..engine import errors

        self.calendars[self.acc_bob.id].put(self.remote("Bob's"))
        self.calendars[self.acc_alice.id].expired_states.add("boom")
        self.acc_alice.sudo().sync_state = "boom"

        with self.memory_providers():

            def failing_list(state, window):
                raise errors.AuthRevoked()

            from unittest.mock import patch

            from ..engine.testing.memory import MemoryProvider

            real = MemoryProvider.list_changes

            def list_changes(provider, state, window):
                if provider.calendar is self.calendars[self.acc_alice.id]:
                    return failing_list(state, window)
                return real(provider, state, window)

            with patch.object(MemoryProvider, "list_changes", list_changes), self.freeze_window():
                self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(self.acc_alice.state, "error")
        self.assertIn("grant access", self.acc_alice.last_error)
        self.assertEqual(self.acc_bob.state, "synced")
        self.assertEqual(len(self.events_of(self.acc_bob)), 1)

    def test_free_busy_of_colleagues(self):
        self.calendars[self.acc_bob.id].put(self.remote("Busy", datetime(2026, 12, 3, 13, 0, tzinfo=UTC)))
        with self.memory_providers():
            busy = (
                self.env["calendar.event"]
                .with_user(self.alice)
                .get_synced_busy_intervals([self.bob.id, self.carol.id], "2026-12-03 00:00:00", "2026-12-04 00:00:00")
            )
        self.assertEqual(busy, {str(self.bob.id): [{"start": "2026-12-03 13:00:00", "stop": "2026-12-03 14:00:00"}]})

    def test_bulk_create_gives_defaults_and_respects_user_defaults(self):
        cal = self.calendars[self.acc_alice.id]
        attendees = [self.attendee("alice@example.com", "accepted"), self.attendee("kim@client.test")]
        cal.put(self.remote("One", attendees=attendees, organizer_email="alice@example.com"))
        cal.put(self.remote("Two", attendees=attendees, organizer_email="alice@example.com"))
        self.sync(self.acc_alice)
        events = self.events_of(self.acc_alice)
        tokens = events.attendee_ids.mapped("access_token")
        self.assertEqual(len(set(tokens)), 4)  # every attendee its own invitation token
        self.assertTrue(all(events.mapped("active")))
        self.assertEqual(set(events.mapped("recurrence_update")), {"self_only"})
        # a default an admin set for meetings still applies: the short cut is not taken then
        tag = self.env["calendar.event.type"].create({"name": "Customer meeting"})
        self.env["ir.default"].set("calendar.event", "categ_ids", [tag.id])
        cal.put(self.remote("Three", organizer_email="alice@example.com"))
        self.sync(self.acc_alice)
        three = self.events_of(self.acc_alice).filtered(lambda e: e.name == "Three")
        self.assertEqual(three.categ_ids, tag)

    def test_account_without_access_asks_to_subscribe_not_revoked(self):
        # subscribed once, but its password is gone: nothing was revoked, it must be subscribed
        account = self.make_account(self.carol, provider="exchange", state="synced")
        account.ews_url = "https://mail.example.com/EWS/Exchange.asmx"
        from ..engine import errors

        with self.assertRaises(errors.NotSubscribed):
            account._get_provider()
        self.assertIsNone(account._sync(raise_errors=False))
        self.assertEqual(account.state, "error")
        self.assertTrue(account.needs_reauth)
        self.assertIn("not subscribed yet", account.last_error)
        self.assertNotIn("revoked", account.last_error)
