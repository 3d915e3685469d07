"""Microsoft 365 end to end: the addon against the local fake identity platform + Graph."""

import datetime as dt

from odoo import fields

from .common import NOW, FakeGraphCase


def mbody(subject, start, hours=1, **kw):
    return {
        "subject": subject,
        "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        "end": {"dateTime": (start + dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
        **kw,
    }


class TestMicrosoft(FakeGraphCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({"name": "Kim Customer", "email": "kim@client.test"})

    def test_subscribe_sync_resync_and_removal(self):
        self.server.add_user("alice@example.com")
        stored = self.server.add_event(
            "alice@example.com",
            mbody(
                "Board",
                NOW + dt.timedelta(days=2),
                attendees=[{"emailAddress": {"address": "kim@client.test"}, "type": "required"}],
                sensitivity="private",
            ),
        )
        triggers = self.cron_triggers()
        account = self.subscribe(self.alice)
        # subscribing queued the first sync; the scheduled sync runs it, nobody presses Synchronise
        self.assert_first_sync_queued(account, triggers)
        self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(account.state, "synced", account.last_error)
        event = self.env["calendar.event"].search([("name", "=", "Board")])
        self.assertEqual(event.start, (NOW + dt.timedelta(days=2)).replace(tzinfo=None))
        self.assertEqual(event.privacy, "private")
        self.assertIn(self.customer, event.partner_ids)
        self.assertEqual(event.synced_provider, "microsoft")
        before = self.server.requests
        account._sync()
        self.assertEqual(self.server.requests - before, 1)
        self.server._remove("alice@example.com", stored["id"])
        account._sync()
        self.assertFalse(event.active)

    def test_rejected_delta_resyncs_without_duplicates(self):
        account = self.subscribe(self.alice)
        for i in range(3):
            self.server.add_event("alice@example.com", mbody(f"D{i}", NOW + dt.timedelta(days=i + 1)))
        account._sync()
        self.server.invalidate_delta_tokens("alice@example.com")
        self.server.add_event("alice@example.com", mbody("D3", NOW + dt.timedelta(days=6)))
        account._sync()
        names = self.env["calendar.event"].search([("name", "=like", "D%"), ("is_synced", "=", True)]).mapped("name")
        self.assertEqual(sorted(names), ["D0", "D1", "D2", "D3"])
        self.assertEqual(self.server.invitations, [])

    def test_recurring_occurrence_edited_alone(self):
        account = self.subscribe(self.alice)
        start = (NOW + dt.timedelta(days=1)).replace(hour=10)
        self.server.add_event(
            "alice@example.com",
            mbody(
                "Daily",
                start,
                recurrence={
                    "pattern": {"type": "daily", "interval": 1},
                    "range": {"type": "numbered", "startDate": start.date().isoformat(), "numberOfOccurrences": 3},
                },
            ),
        )
        account._sync()
        events = self.env["calendar.event"].search([("name", "=", "Daily")], order="start")
        self.assertEqual(len(events), 3)
        events[1].with_user(self.alice).write({"name": "Daily (special)"})
        self.push()
        account._sync()
        names = self.env["calendar.event"].search([("name", "like", "Daily")], order="start").mapped("name")
        self.assertEqual(names, ["Daily", "Daily (special)", "Daily"])
        master = [e for e in self.server.events_of("alice@example.com") if e["type"] == "seriesMaster"][0]
        self.assertEqual(
            [o["subject"] for o in self.server.occurrences_of("alice@example.com", master["id"])],
            ["Daily", "Daily (special)", "Daily"],
        )

    def test_plain_save_keeps_attendees_in_odoo_send_invitation_invites(self):
        self.subscribe(self.alice)
        start = (NOW + dt.timedelta(days=3)).replace(tzinfo=None)
        event = (
            self.env["calendar.event"]
            .with_user(self.alice)
            .create(
                {
                    "name": "Offer review",
                    "start": start,
                    "stop": start + dt.timedelta(hours=1),
                    "partner_ids": [(6, 0, [self.alice.partner_id.id, self.customer.id])],
                }
            )
        )
        self.push()
        self.assertEqual(self.server.invitations, [])
        self.assertEqual(self.server.events_of("alice@example.com")[0]["attendees"], [])
        # a sync does not take the attendees away from the Odoo meeting
        account = event.sync_binding_ids.account_id
        account._sync()
        self.assertIn(self.customer, event.partner_ids)
        event.with_user(self.alice).action_save_and_send_invitation()
        self.push()
        self.assertEqual(self.server.invitations[-1]["emails"], ["kim@client.test"])

    def test_revoked_grant_and_throttling(self):
        account = self.subscribe(self.alice)
        self.server.add_event("alice@example.com", mbody("Slow", NOW + dt.timedelta(days=1)))
        self.server.fail_next(2, status=429, retry_after=0)
        account._sync()
        self.assertEqual(account.state, "synced")
        self.server.revoke("alice@example.com")
        cache = account._get_credentials()[0]
        cache["AccessToken"] = {}
        account._set_credentials(token_data=cache)
        account._sync(raise_errors=False)
        self.assertEqual(account.state, "error")
        self.assertTrue(account.needs_reauth)
        self.assertIn("Subscribe again", account.last_error)

    def test_a_refused_access_token_is_refreshed_once_not_taken_for_a_revoked_grant(self):
        account = self.subscribe(self.alice)
        account._sync()
        stored = account._get_credentials()[0]
        # Graph refuses the access token msal still holds as valid (e.g. revoked sessions, clock skew)
        self.server.expire_access_tokens()
        self.server.add_event("alice@example.com", mbody("After refresh", NOW + dt.timedelta(days=1)))
        account.next_sync_date = fields.Datetime.now() - dt.timedelta(seconds=1)
        self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(account.state, "synced", account.last_error)
        self.assertFalse(account.needs_reauth)
        self.assertTrue(self.env["calendar.event"].search([("name", "=", "After refresh")]))
        self.assertNotEqual(account._get_credentials()[0], stored)  # the refreshed tokens were kept
        # a grant really revoked: the one refresh fails, and only then is the account marked
        self.server.revoke("alice@example.com")
        self.server.expire_access_tokens()
        account._sync(raise_errors=False)
        self.assertEqual(account.state, "error")
        self.assertTrue(account.needs_reauth)

    def test_long_outage_shows_an_error_and_the_next_run_resumes_from_the_delta(self):
        account = self.subscribe(self.alice)
        self.server.add_event("alice@example.com", mbody("Before", NOW + dt.timedelta(days=1)))
        account._sync()
        delta = account.sudo().sync_state
        self.server.fail_next(10, status=503, retry_after=0)
        account._sync(raise_errors=False)
        self.assertEqual(account.state, "error")
        self.assertFalse(account.needs_reauth)
        self.assertIn("will try again", account.last_error)
        self.assertEqual(account.sudo().sync_state, delta)  # kept
        self.assertEqual(account.sync_failures, 1)  # the scheduled sync waits a minute before trying again
        self.assertGreater(account.next_sync_date, fields.Datetime.now())
        self.server.clear_faults()
        account.next_sync_date = fields.Datetime.now() - dt.timedelta(seconds=1)  # the minute has passed
        self.server.add_event("alice@example.com", mbody("After", NOW + dt.timedelta(days=2)))
        before = self.server.requests
        self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(account.state, "synced")
        self.assertFalse(account.last_error)
        self.assertEqual(self.server.requests - before, 1)  # from the kept delta link, not a full listing
        self.assertTrue(self.env["calendar.event"].search([("name", "=", "After")]))

    def test_free_busy_from_get_schedule(self):
        self.subscribe(self.bob)
        self.server.add_event("bob@example.com", mbody("Busy", NOW + dt.timedelta(hours=30)))
        busy = self.busy_of(self.bob, NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=2), as_user=self.alice)
        self.assertEqual(len(busy[str(self.bob.id)]), 1)

    def _all_day_both_ways(self, tz, windows):
        """Alice in ``tz``: her Outlook three-day meeting stays on its days in Odoo, and one she
        makes in Odoo reaches Outlook on its days, midnight to midnight on her clock."""
        self.alice.tz = tz
        account = self.subscribe(self.alice)
        first = (NOW + dt.timedelta(days=20)).date()
        after = first + dt.timedelta(days=3)
        self.server.add_event(
            "alice@example.com",
            {
                "subject": "Fair",
                "isAllDay": True,
                "start": {"dateTime": f"{first}T00:00:00", "timeZone": windows},
                "end": {"dateTime": f"{after}T00:00:00", "timeZone": windows},
            },
        )
        account._sync()
        fair = self.env["calendar.event"].search([("name", "=", "Fair")])
        self.assertTrue(fair.allday)
        self.assertEqual((fair.start_date, fair.stop_date), (first, after - dt.timedelta(days=1)))
        self.assertEqual(fair.synced_tz, tz)
        leave_day = first + dt.timedelta(days=7)
        self.env["calendar.event"].with_user(self.alice).create(
            {
                "name": "Leave",
                "allday": True,
                "start": dt.datetime.combine(leave_day, dt.time(8, 0)),
                "stop": dt.datetime.combine(leave_day + dt.timedelta(days=1), dt.time(18, 0)),
            }
        )
        self.push()
        leave = next(e for e in self.server.events_of("alice@example.com") if e["subject"] == "Leave")
        self.assertTrue(leave["isAllDay"])
        self.assertEqual(leave["originalStartTimeZone"], windows)
        self.assertTrue(leave["start"]["dateTime"].startswith(f"{leave_day}T00:00:00"))
        self.assertTrue(leave["end"]["dateTime"].startswith(f"{leave_day + dt.timedelta(days=2)}T00:00:00"))
        account._sync()
        odoo_leave = self.env["calendar.event"].search([("name", "=", "Leave")])
        self.assertEqual((odoo_leave.start_date, odoo_leave.stop_date), (leave_day, leave_day + dt.timedelta(days=1)))

    def test_all_day_meetings_keep_their_days_west_of_utc(self):
        self._all_day_both_ways("America/Los_Angeles", "Pacific Standard Time")

    def test_all_day_meetings_keep_their_days_east_of_utc(self):
        self._all_day_both_ways("Pacific/Auckland", "New Zealand Standard Time")
