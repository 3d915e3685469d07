"""Google Calendar end to end: the addon against the local fake Google server."""

import datetime as dt
import json

from odoo.exceptions import UserError

from .common import NOW, UTC, FakeGoogleCase


def gbody(summary, start, hours=1, tz="UTC", **kw):
    iso = lambda d: d.astimezone(UTC).isoformat().replace("+00:00", "Z")  # noqa: E731
    return {
        "summary": summary,
        "start": {"dateTime": iso(start), "timeZone": tz},
        "end": {"dateTime": iso(start + dt.timedelta(hours=hours)), "timeZone": tz},
        **kw,
    }


class TestGoogle(FakeGoogleCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({"name": "Kim Customer", "email": "kim@client.test"})

    def gevents(self, user):
        return self.server.events_of(user.email)

    def test_subscribe_sync_and_resync_with_nothing_changed(self):
        self.server.add_user("alice@example.com")
        self.server.add_event(
            "alice@example.com",
            gbody(
                "Customer demo",
                NOW + dt.timedelta(days=2, hours=3),
                tz="Europe/Stockholm",
                location="Room 1",
                attendees=[
                    {"email": "alice@example.com", "responseStatus": "accepted"},
                    {"email": "kim@client.test", "responseStatus": "tentative"},
                ],
            ),
        )
        self.server.add_event(
            "alice@example.com", {"summary": "Fair", "start": {"date": "2030-01-01"}, "end": {"date": "2030-01-03"}}
        )
        triggers = self.cron_triggers()
        account = self.subscribe(self.alice)
        # the token is stored protected, never readable by the user
        token, _password = account._get_credentials()
        self.assertTrue(token["refresh_token"])
        # subscribing queued the first sync; the scheduled sync runs it, nobody presses Synchronise
        self.assert_first_sync_queued(account, triggers)
        self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(account.state, "synced")
        event = self.env["calendar.event"].search([("name", "=", "Customer demo")])
        self.assertEqual(len(event), 1)
        self.assertEqual(event.start, (NOW + dt.timedelta(days=2, hours=3)).replace(tzinfo=None))
        self.assertEqual(event.synced_tz, "Europe/Stockholm")
        self.assertEqual(event.location, "Room 1")
        self.assertIn(self.customer, event.partner_ids)
        self.assertEqual(event.user_id, self.alice)
        # the all-day event is outside the window: not synced
        self.assertFalse(self.env["calendar.event"].search([("name", "=", "Fair")]))
        # resync with nothing changed: one request, no write
        requests_before = self.server.requests
        with self.assertQueryCount(__system__=25):
            account._sync()
        self.assertEqual(self.server.requests - requests_before, 1)

    def test_created_changed_cancelled_in_google(self):
        account = self.subscribe(self.alice)
        stored = self.server.add_event("alice@example.com", gbody("One", NOW + dt.timedelta(days=1)))
        account._sync()
        event = self.env["calendar.event"].search([("name", "=", "One")])
        self.server.handle(
            "PATCH",
            f"/calendar/v3/calendars/primary/events/{stored['id']}",
            {},
            {"Authorization": "Bearer " + account._get_credentials()[0]["access_token"]},
            b'{"summary": "One renamed"}',
        )
        account._sync()
        self.assertEqual(event.name, "One renamed")
        self.server.calendars["alice@example.com"][stored["id"]]["status"] = "cancelled"
        self.server._stamp(self.server.calendars["alice@example.com"][stored["id"]])
        account._sync()
        self.assertFalse(event.active)

    def test_rejected_sync_token_resyncs_without_duplicates_or_mail(self):
        account = self.subscribe(self.alice)
        for i in range(3):
            self.server.add_event("alice@example.com", gbody(f"M{i}", NOW + dt.timedelta(days=i + 1)))
        account._sync()
        self.server.add_event("alice@example.com", gbody("M3", NOW + dt.timedelta(days=5)))
        self.server.invalidate_sync_tokens("alice@example.com")
        mails = self.env["mail.mail"].sudo().search_count([])
        account._sync()
        names = self.env["calendar.event"].search([("name", "=like", "M%"), ("is_synced", "=", True)]).mapped("name")
        self.assertEqual(sorted(names), ["M0", "M1", "M2", "M3"])
        self.assertEqual(self.env["mail.mail"].sudo().search_count([]), mails)
        self.assertEqual(self.server.invitations, [])

    def test_recurring_series_occurrence_edit_and_delete(self):
        account = self.subscribe(self.alice)
        start = (NOW + dt.timedelta(days=1)).replace(hour=8)
        master = self.server.add_event(
            "alice@example.com", gbody("Standup", start, recurrence=["RRULE:FREQ=DAILY;COUNT=5"])
        )
        account._sync()
        events = self.env["calendar.event"].search([("name", "=", "Standup")], order="start")
        self.assertEqual(len(events), 5)
        self.assertEqual(events[2].start, (start + dt.timedelta(days=2)).replace(tzinfo=None))
        # one occurrence moved in Odoo: only that instance changes in Google
        events[1].with_user(self.alice).write(
            {"start": events[1].start + dt.timedelta(hours=1), "stop": events[1].stop + dt.timedelta(hours=1)}
        )
        # another deleted in Odoo
        third_id = events[2].sync_binding_ids.external_id
        events[2].with_user(self.alice).unlink()
        self.push()
        instances = {i["id"]: i for i in self.server.instances_of("alice@example.com", master["id"])}
        self.assertEqual(instances[third_id]["status"], "cancelled")
        moved = instances[events[1].sync_binding_ids.external_id]
        self.assertEqual(
            moved["start"]["dateTime"][:16], (start + dt.timedelta(days=1, hours=1)).strftime("%Y-%m-%dT%H:%M")
        )
        self.assertEqual(
            self.server.calendars["alice@example.com"][master["id"]]["recurrence"], ["RRULE:FREQ=DAILY;COUNT=5"]
        )
        # the next sync keeps 4 occurrences, the moved one where it was moved
        account._sync()
        events = self.env["calendar.event"].search([("name", "=", "Standup")], order="start")
        self.assertEqual(len(events), 4)

    def test_shared_meeting_is_one_meeting_whichever_account_syncs_first(self):
        self.server.add_user("bob@example.com")
        alice_acc = self.subscribe(self.alice)
        bob_acc = self.subscribe(self.bob)
        self.server.add_event(
            "alice@example.com",
            gbody(
                "Shared",
                NOW + dt.timedelta(days=3),
                attendees=[{"email": "bob@example.com"}, {"email": "alice@example.com", "responseStatus": "accepted"}],
            ),
        )
        mails = self.env["mail.mail"].sudo().search_count([])
        bob_acc._sync()
        alice_acc._sync()
        bob_acc._sync()
        # a colleague subscribing later invites nobody and sends no mail
        self.assertEqual(self.server.invitations, [])
        self.assertEqual(self.env["mail.mail"].sudo().search_count([]), mails)
        shared = self.env["calendar.event"].search([("name", "=", "Shared")])
        self.assertEqual(len(shared), 1)
        self.assertEqual(len(shared.sync_binding_ids), 2)
        self.assertEqual(shared.user_id, self.alice)

    def test_meeting_booked_in_odoo_plain_save_and_send_invitation(self):
        self.server.add_user("bob@example.com")
        self.subscribe(self.alice)
        bob_acc = self.subscribe(self.bob)
        start = (NOW + dt.timedelta(days=4)).replace(tzinfo=None)
        event = (
            self.env["calendar.event"]
            .with_user(self.alice)
            .create(
                {
                    "name": "Booked for Bob",
                    "start": start,
                    "stop": start + dt.timedelta(hours=1),
                    "user_id": self.bob.id,
                    "partner_ids": [(6, 0, [self.bob.partner_id.id, self.customer.id])],
                }
            )
        )
        self.assertEqual(self.gevents(self.bob), [])  # nothing written inside the transaction
        self.push()
        # written to Bob's calendar (the organiser), not Alice's, and nobody invited
        self.assertEqual([e["summary"] for e in self.gevents(self.bob)], ["Booked for Bob"])
        self.assertEqual(self.gevents(self.alice), [])
        self.assertNotIn("visibility", self.gevents(self.bob)[0])
        self.assertEqual(self.server.invitations, [])
        self.assertEqual(
            self.env["mail.mail"].sudo().search_count([("model", "=", "calendar.event"), ("res_id", "=", event.id)]), 0
        )
        event.with_user(self.bob).action_save_and_send_invitation()
        self.assertEqual(self.server.invitations, [])  # queued: sent once the save committed
        self.push()
        self.assertEqual(self.server.invitations[-1]["emails"], ["kim@client.test"])
        # private and all-day, written through
        event.with_user(self.bob).write(
            {
                "privacy": "private",
                "allday": True,
                "start_date": start.date(),
                "stop_date": start.date() + dt.timedelta(days=1),
            }
        )
        self.push()
        stored = self.gevents(self.bob)[0]
        self.assertEqual(stored["visibility"], "private")
        self.assertEqual(stored["start"], {"date": start.date().isoformat()})
        self.assertEqual(stored["end"], {"date": (start.date() + dt.timedelta(days=2)).isoformat()})
        # a later sync of Bob's account does not duplicate what Odoo wrote
        bob_acc._sync()
        self.assertEqual(self.env["calendar.event"].search_count([("name", "=", "Booked for Bob")]), 1)
        event.with_user(self.bob).unlink()
        self.push()
        self.assertEqual(self.gevents(self.bob), [])

    def test_conflict_on_write_keeps_odoo_change_and_logs_google_version(self):
        account = self.subscribe(self.alice)
        stored = self.server.add_event(
            "alice@example.com", gbody("Plan", NOW + dt.timedelta(days=2), attendees=[{"email": "alice@example.com"}])
        )
        account._sync()
        event = self.env["calendar.event"].search([("name", "=", "Plan")])
        # changed in Google after our last sync
        self.server.calendars["alice@example.com"][stored["id"]]["summary"] = "Plan (Google)"
        self.server._stamp(self.server.calendars["alice@example.com"][stored["id"]])
        event.with_user(self.alice).write({"name": "Plan (Odoo)"})
        self.push()
        self.assertEqual(self.gevents(self.alice)[0]["summary"], "Plan (Odoo)")
        self.assertIn("Plan (Google)", event.message_ids[0].body)

    def test_meeting_organised_elsewhere_is_not_writable(self):
        account = self.subscribe(self.alice)
        self.server.add_user("boss@elsewhere.test")
        self.server.add_event(
            "boss@elsewhere.test",
            gbody("Boss meeting", NOW + dt.timedelta(days=2), attendees=[{"email": "alice@example.com"}]),
        )
        account._sync()
        event = self.env["calendar.event"].search([("name", "=", "Boss meeting")])
        self.assertFalse(event.user_id)
        with self.assertRaises(UserError):
            event.with_user(self.alice).write({"name": "Mine"})

    def test_revoked_grant_puts_account_in_error_and_cron_goes_on(self):
        self.server.add_user("bob@example.com")
        alice_acc = self.subscribe(self.alice)
        bob_acc = self.subscribe(self.bob)
        self.server.add_event("bob@example.com", gbody("Bob only", NOW + dt.timedelta(days=1)))
        self.server.revoke("alice@example.com")
        self.server.expire_access_tokens()
        self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(alice_acc.state, "error")
        self.assertTrue(alice_acc.needs_reauth)
        self.assertIn("grant access", alice_acc.last_error)
        self.assertNotIn(alice_acc._get_credentials()[0]["refresh_token"], alice_acc.last_error)
        self.assertEqual(bob_acc.state, "synced")
        self.assertTrue(self.env["calendar.event"].search([("name", "=", "Bob only")]))

    def test_scheduled_pass_costs_one_request_and_two_statements_per_unchanged_account(self):
        Account = self.env["calendar.sync.account"]
        accounts = []
        for user in (self.alice, self.bob, self.carol):
            self.server.add_user(user.email)
            self.server.add_event(user.email, gbody(f"Meeting of {user.name}", NOW + dt.timedelta(days=1)))
            accounts.append(self.subscribe(user))
        self.assertEqual(Account._cron_sync(), 3)  # the first syncs
        self.assertEqual({a.state for a in accounts}, {"synced"})

        def unchanged_pass(some):
            Account.browse([a.id for a in some]).write({"next_sync_date": False})
            self.env.flush_all()
            queries, requests = self.env.cr.sql_log_count, self.server.requests
            self.assertEqual(Account._cron_sync(), len(some))
            return self.env.cr.sql_log_count - queries, self.server.requests - requests

        sql_one, http_one = unchanged_pass(accounts[:1])
        sql_three, http_three = unchanged_pass(accounts)
        self.assertEqual((http_one, http_three), (1, 3))
        # each account more: one statement locks it and reads its row and credentials, one
        # UPDATE writes its bookkeeping (the pass's own statements are paid once per call)
        self.assertEqual(sql_three - sql_one, 2 * 2)
        self.assertTrue(all(a.next_sync_date and a.last_sync_date for a in accounts))
        self.assertEqual({a.state for a in accounts}, {"synced"})

    def test_only_a_sync_that_wrote_nothing_but_its_bookkeeping_commits_without_waiting_for_the_disk(self):
        Account = self.env["calendar.sync.account"]
        self.server.add_user(self.alice.email)
        self.server.add_event(self.alice.email, gbody("Weekly", NOW + dt.timedelta(days=1)))
        # push on (this fake refuses plain-http channels: each try writes the refusal)
        self.env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.push_base_url", "http://127.0.0.1:9")
        account = self.subscribe(self.alice)
        self.assertEqual(Account._cron_sync(), 1)  # the first sync
        self.assertTrue(account.sudo().push_error)  # tried again in an hour

        def durable_after_pass():
            self.env.cr.execute("SET LOCAL synchronous_commit TO on")
            account.write({"next_sync_date": False})
            self.env.flush_all()
            self.assertEqual(Account._cron_sync(), 1)
            self.env.cr.execute("SHOW synchronous_commit")
            return self.env.cr.fetchone()[0]

        # nothing new: only the account's bookkeeping, which a crash may lose harmlessly
        self.assertEqual(durable_after_pass(), "off")
        # a meeting changed in Google: applied to Odoo, committed durably
        event = self.server.calendars[self.alice.email]
        next(iter(event.values()))["summary"] = "Weekly (moved)"
        self.server._stamp(next(iter(event.values())))
        self.assertEqual(durable_after_pass(), "on")
        self.assertTrue(self.env["calendar.event"].search([("name", "=", "Weekly (moved)")]))
        # nothing new, but the access token was refreshed (credentials written): durably
        self.server.expire_access_tokens()
        self.assertEqual(durable_after_pass(), "on")
        # nothing new, but the push channel is tried again after the bookkeeping was written: durably
        self.assertEqual(durable_after_pass(), "off")
        account.sudo().write({"push_retry_date": False, "push_error": False})
        self.assertEqual(durable_after_pass(), "on")
        self.assertTrue(account.sudo().push_error)
        # and outside the scheduled pass (a user's Synchronise), never
        self.env.cr.execute("SET LOCAL synchronous_commit TO on")
        account._sync()
        self.env.cr.execute("SHOW synchronous_commit")
        self.assertEqual(self.env.cr.fetchone()[0], "on")

    def test_rate_limit_is_retried_during_sync(self):
        account = self.subscribe(self.alice)
        self.server.add_event("alice@example.com", gbody("Busy day", NOW + dt.timedelta(days=1)))
        self.server.fail_next(1, status=429, retry_after=0)
        self.server.fail_next(1, status=403)
        account._sync()
        self.assertEqual(account.state, "synced")
        self.assertTrue(self.env["calendar.event"].search([("name", "=", "Busy day")]))

    def test_free_busy_from_google(self):
        self.server.add_user("bob@example.com")
        self.subscribe(self.bob)
        self.server.add_event("bob@example.com", gbody("External only", NOW + dt.timedelta(hours=30)))
        busy = self.busy_of(self.bob, NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=2), as_user=self.alice)
        self.assertEqual(len(busy[str(self.bob.id)]), 1)

    def test_all_day_moved_occurrence_and_token_refresh(self):
        account = self.subscribe(self.alice)
        day = (NOW + dt.timedelta(days=10)).date()
        self.server.add_event(
            "alice@example.com",
            {
                "summary": "Trade fair",
                "start": {"date": day.isoformat()},
                "end": {"date": (day + dt.timedelta(days=3)).isoformat()},
            },
        )
        start = (NOW + dt.timedelta(days=1)).replace(hour=15)
        master = self.server.add_event(
            "alice@example.com",
            gbody("Weekly 1:1", start, tz="America/New_York", recurrence=["RRULE:FREQ=WEEKLY;COUNT=3"]),
        )
        # the second occurrence was moved in Google, the third cancelled
        instances = self.server.instances_of("alice@example.com", master["id"])
        token = {"Authorization": "Bearer " + account._get_credentials()[0]["access_token"]}
        path = "/calendar/v3/calendars/primary/events/"
        moved_start = start + dt.timedelta(days=8, hours=1)
        self.server.handle(
            "PATCH",
            path + instances[1]["id"],
            {},
            token,
            json.dumps(gbody("Weekly 1:1 (moved)", moved_start, tz="America/New_York")).encode(),
        )
        self.server.handle("DELETE", path + instances[2]["id"], {}, token, b"")
        # the access token expired meanwhile: it is refreshed and the new one stored
        old_access = account._get_credentials()[0]["access_token"]
        self.server.expire_access_tokens()
        account._sync()
        self.assertEqual(account.state, "synced")
        self.assertNotEqual(account._get_credentials()[0]["access_token"], old_access)
        fair = self.env["calendar.event"].search([("name", "=", "Trade fair")])
        self.assertTrue(fair.allday)
        self.assertEqual((fair.start_date, fair.stop_date), (day, day + dt.timedelta(days=2)))
        series = self.env["calendar.event"].search([("name", "like", "Weekly 1:1")], order="start")
        self.assertEqual(series.mapped("name"), ["Weekly 1:1", "Weekly 1:1 (moved)"])
        self.assertEqual(series[0].start, start.replace(tzinfo=None))
        self.assertEqual(series[1].start, moved_start.replace(tzinfo=None))
        self.assertEqual(series[0].synced_tz, "America/New_York")
