"""Exchange servers end to end: the addon against the local fake EWS server (exchangelib unmodified)."""

import datetime as dt
from zoneinfo import ZoneInfo

from odoo.exceptions import UserError

from ..engine.events import Window
from ..engine.testing.fake_google import FakeGoogle
from .common import ALICE, BOB, NOW, UTC, FakeEWSCase


class TestExchange(FakeEWSCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer = cls.env["res.partner"].create({"name": "Kim Customer", "email": "kim@client.test"})

    def setUp(self):
        super().setUp()
        self.server.add_mailbox(BOB, "bob-pw")

    def item(self, email, subject, start, hours=1, **kw):
        return self.server.add_item(email, subject=subject, start=start, end=start + dt.timedelta(hours=hours), **kw)

    # -- subscribe ---------------------------------------------------------
    def test_save_and_subscribe_checks_url_and_password(self):
        account = (
            self.env["calendar.sync.account"]
            .with_user(self.alice)
            .create(
                {"provider": "exchange", "email": ALICE, "ews_url": self.server.url.replace("/EWS/Exchange.asmx", "")}
            )
        )
        with self.assertRaisesRegex(UserError, "must end with /EWS/Exchange.asmx"):
            account.action_subscribe()
        account.ews_url = self.server.url.replace("https:", "http:")
        with self.assertRaisesRegex(UserError, "https://"):
            account.action_subscribe()
        account.write({"ews_url": self.server.url, "password": "wrong"})
        with self.assertRaisesRegex(UserError, "refused the e-mail address or password"):
            account.action_subscribe()
        self.assertEqual(account.state, "draft")
        account.invalidate_recordset(["password"])  # as a new request would read it
        self.assertFalse(account.password)  # write-only: never shown again
        account.write({"password": "alice-pw"})
        account.action_subscribe()
        self.assertEqual(account.state, "subscribed")
        self.assertEqual(account.ews_auth_type, "ntlm")  # the server offers NTLM first
        self.assertEqual(account.ews_server_build, "15.1.2507.6")
        # the password is in no field a user can read, own account included (a new request)
        account.invalidate_recordset()
        self.assertNotIn("alice-pw", str(account.with_user(self.alice).read()))

    def test_certificate_problem_is_reported(self):
        self.env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.exchange_ca_bundle", "")
        with self.assertRaisesRegex(UserError, "certificate"):
            self.subscribe(self.alice)

    # -- Exchange -> Odoo ------------------------------------------------------
    def test_sync_resync_change_and_removal(self):
        single = self.item(
            ALICE,
            "Board",
            NOW + dt.timedelta(days=2),
            attendees=[("kim@client.test", "Kim", "Accept"), (BOB, "Bob", "NoResponseReceived")],
            sensitivity="Private",
            tz="W. Europe Standard Time",
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
        self.assertEqual(event.synced_tz, "Europe/Berlin")
        self.assertEqual(event.user_id, self.alice)
        self.assertEqual(
            set(event.partner_ids.ids), {self.alice.partner_id.id, self.customer.id, self.bob.partner_id.id}
        )
        self.assertEqual(event.synced_provider, "exchange")

        before = self.server.requests
        account._sync()
        self.assertEqual(self.server.requests - before, 1)  # nothing changed: one SyncFolderItems

        self.server.update_item(
            ALICE,
            single,
            subject="Board (moved)",
            start=NOW + dt.timedelta(days=3),
            end=NOW + dt.timedelta(days=3, hours=1),
        )
        account._sync()
        self.assertEqual(event.name, "Board (moved)")
        self.server.remove_item(ALICE, single)
        account._sync()
        self.assertFalse(event.active)
        self.assertEqual(self.server.invitations, [])

    def test_rejected_sync_state_resyncs_without_duplicates(self):
        account = self.subscribe(self.alice)
        for i in range(3):
            self.item(ALICE, f"E{i}", NOW + dt.timedelta(days=i + 1))
        account._sync()
        account.sudo().sync_state = '{"sync_state": "Z2FyYmFnZQ==", "series": {}}'
        self.item(ALICE, "E3", NOW + dt.timedelta(days=6))
        account._sync()
        names = self.env["calendar.event"].search([("name", "=like", "E%"), ("is_synced", "=", True)]).mapped("name")
        self.assertEqual(sorted(names), ["E0", "E1", "E2", "E3"])

    def test_all_day_and_multi_day(self):
        self.item(
            ALICE,
            "Fair",
            dt.datetime(2026, 12, 7, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            hours=72,
            all_day=True,
            tz="W. Europe Standard Time",
        )
        self.patch_window(Window(dt.datetime(2026, 11, 1, tzinfo=UTC), dt.datetime(2027, 2, 1, tzinfo=UTC)))
        self.subscribe(self.alice)._sync()
        event = self.env["calendar.event"].search([("name", "=", "Fair")])
        self.assertTrue(event.allday)
        self.assertEqual((event.start_date, event.stop_date), (dt.date(2026, 12, 7), dt.date(2026, 12, 9)))

    def test_all_day_meetings_keep_their_days_west_and_east_of_utc(self):
        """An all-day item is midnight to midnight on its zone's clock; its days, in Odoo and back,
        are the same for Alice in Los Angeles and in Auckland (issue 20, point 3)."""
        first = (NOW + dt.timedelta(days=20)).date()
        account = self.subscribe(self.alice)
        for tz, windows in (
            ("America/Los_Angeles", "Pacific Standard Time"),
            ("Pacific/Auckland", "New Zealand Standard Time"),
        ):
            with self.subTest(tz=tz):
                self.alice.tz = tz
                clock = ZoneInfo(tz)
                fair = f"Fair {tz}"
                self.server.add_item(
                    ALICE,
                    subject=fair,
                    all_day=True,
                    tz=windows,
                    start=dt.datetime.combine(first, dt.time.min, tzinfo=clock),
                    end=dt.datetime.combine(first + dt.timedelta(days=3), dt.time.min, tzinfo=clock),
                )
                account._sync()
                event = self.env["calendar.event"].search([("name", "=", fair)])
                self.assertTrue(event.allday)
                self.assertEqual((event.start_date, event.stop_date), (first, first + dt.timedelta(days=2)))
                self.assertEqual(event.synced_tz, tz)
                leave_day = first + dt.timedelta(days=7)
                leave = f"Leave {tz}"
                self.env["calendar.event"].with_user(self.alice).create(
                    {
                        "name": leave,
                        "allday": True,
                        "start": dt.datetime.combine(leave_day, dt.time(8, 0)),
                        "stop": dt.datetime.combine(leave_day + dt.timedelta(days=1), dt.time(18, 0)),
                    }
                )
                self.push()
                stored = next(i for i in self.server.mailboxes[ALICE].items.values() if i["subject"] == leave)
                self.assertTrue(stored["all_day"])
                self.assertEqual(stored["tz"], windows)
                self.assertEqual(stored["start"], dt.datetime.combine(leave_day, dt.time.min, tzinfo=clock))
                self.assertEqual(
                    stored["end"], dt.datetime.combine(leave_day + dt.timedelta(days=2), dt.time.min, tzinfo=clock)
                )
                account._sync()
                back = self.env["calendar.event"].search([("name", "=", leave)])
                self.assertEqual((back.start_date, back.stop_date), (leave_day, leave_day + dt.timedelta(days=1)))

    def test_recurring_series_and_one_occurrence_edited_alone(self):
        start = (NOW + dt.timedelta(days=1)).replace(hour=10)
        master = self.item(ALICE, "Daily", start, recurrence={"pattern": "daily", "count": 4})
        self.server.modify_occurrence(
            ALICE,
            master,
            2,
            subject="Daily (moved)",
            start=start + dt.timedelta(days=1, hours=3),
            end=start + dt.timedelta(days=1, hours=4),
        )
        self.server.delete_occurrence(ALICE, master, 3)
        account = self.subscribe(self.alice)
        account._sync()
        events = self.env["calendar.event"].search([("name", "like", "Daily")], order="start")
        self.assertEqual(events.mapped("name"), ["Daily", "Daily (moved)", "Daily"])
        self.assertEqual(events[1].start, (start + dt.timedelta(days=1, hours=3)).replace(tzinfo=None))

        # edit the last occurrence in Odoo: only that instance changes in Exchange
        events[2].with_user(self.alice).write({"name": "Daily (special)"})
        self.push()
        box = self.server.mailboxes[ALICE]
        self.assertEqual(box.items[master]["modified"][4]["subject"], "Daily (special)")
        expanded = [o["subject"] for _i, o in self.server.occurrences(box.items[master])]
        self.assertEqual(expanded, ["Daily", "Daily (moved)", "Daily (special)"])
        # delete the first one in Odoo: only that instance goes
        events[0].with_user(self.alice).unlink()
        self.push()
        self.assertEqual(box.items[master]["deleted"], {1, 3})
        account._sync()
        self.assertEqual(
            self.env["calendar.event"].search([("name", "like", "Daily")], order="start").mapped("name"),
            ["Daily (moved)", "Daily (special)"],
        )

        # the organiser deletes one more occurrence in Outlook: it leaves Odoo at the next sync
        self.server.delete_occurrence(ALICE, master, 2)
        account._sync()
        self.assertEqual(
            self.env["calendar.event"].search([("name", "like", "Daily")]).mapped("name"), ["Daily (special)"]
        )

    def test_shared_meeting_is_one_meeting(self):
        uid = "shared-uid-1@corp"
        start = NOW + dt.timedelta(days=4)
        attendees = [(BOB, "Bob", "Accept")]
        self.item(ALICE, "Shared", start, uid=uid, attendees=attendees)
        self.item(BOB, "Shared", start, uid=uid, attendees=attendees, organizer=(ALICE, "Alice"))
        bob_account = self.subscribe(self.bob)
        bob_account._sync()
        alice_account = self.subscribe(self.alice)
        alice_account._sync()
        event = self.env["calendar.event"].search([("name", "=", "Shared")])
        self.assertEqual(len(event), 1)
        self.assertEqual(len(event.sync_binding_ids), 2)
        self.assertEqual(self.server.invitations, [])

    def test_meeting_shared_with_a_google_colleague_is_one_meeting(self):
        with FakeGoogle() as google:
            self.env["res.config.settings"].create(
                {
                    "calendar_sync_google_client_id": google.client_id,
                    "calendar_sync_google_client_secret": google.client_secret,
                    "calendar_sync_google_token_uri": google.token_uri,
                    "calendar_sync_google_api_endpoint": google.api_endpoint,
                }
            ).execute()
            uid = "kickoff-uid@corp"
            start = NOW + dt.timedelta(days=3)
            self.item(ALICE, "Kick-off", start, uid=uid, attendees=[(BOB, "Bob", "Accept")])
            google.add_user(BOB)
            iso = start.strftime("%Y-%m-%dT%H:%M:%SZ")
            end = (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
            google.add_event(
                BOB,
                {
                    "summary": "Kick-off",
                    "iCalUID": uid,
                    "start": {"dateTime": iso},
                    "end": {"dateTime": end},
                    "organizer": {"email": ALICE},
                    "attendees": [{"email": ALICE, "organizer": True}, {"email": BOB, "self": True}],
                },
            )
            bob_google = self.env["calendar.sync.account"].create(
                {"user_id": self.bob.id, "provider": "google", "email": BOB, "state": "subscribed"}
            )
            bob_google._set_credentials(token_data=google.issue_tokens(BOB))
            bob_google._sync()  # Google first, then Exchange: still one meeting
            self.subscribe(self.alice)._sync()
            event = self.env["calendar.event"].search([("name", "=", "Kick-off")])
            self.assertEqual(len(event), 1)
            self.assertEqual(set(event.sync_binding_ids.mapped("provider")), {"google", "exchange"})
            self.assertEqual((self.server.invitations, google.invitations), ([], []))

    # -- Odoo -> Exchange ------------------------------------------------------
    def test_create_plain_then_send_invitation_private_all_day_delete(self):
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
                    "privacy": "private",
                    "partner_ids": [(6, 0, [self.alice.partner_id.id, self.customer.id])],
                }
            )
        )
        box = self.server.mailboxes[ALICE]
        self.assertEqual(box.items, {})  # written after commit, by the push job
        self.push()
        [item] = box.items.values()
        self.assertEqual((item["subject"], item["sensitivity"]), ("Offer review", "Private"))
        self.assertEqual([a[0] for a in item["required"]], ["kim@client.test"])
        self.assertEqual(item["start"], NOW + dt.timedelta(days=3))
        self.assertEqual(self.server.invitations, [])  # a plain save sends nothing
        event.with_user(self.alice).action_save_and_send_invitation()
        self.assertEqual(self.server.invitations, [])  # queued, not sent inside the transaction
        self.push()
        self.assertEqual(self.server.invitations[-1][:3], ("update", ALICE, ["kim@client.test"]))

        day = (
            self.env["calendar.event"]
            .with_user(self.alice)
            .create(
                {
                    "name": "Trade fair",
                    "allday": True,
                    "start_date": dt.date(2026, 12, 14),
                    "stop_date": dt.date(2026, 12, 16),
                    "start": dt.datetime(2026, 12, 14, 8),
                    "stop": dt.datetime(2026, 12, 16, 18),
                }
            )
        )
        self.push()
        fair = next(i for i in box.items.values() if i["subject"] == "Trade fair")
        self.assertTrue(fair["all_day"])
        back = day.sync_binding_ids.account_id._get_provider().get_event(day.sync_binding_ids.external_id)
        self.assertEqual((back.start_date, back.end_date), (dt.date(2026, 12, 14), dt.date(2026, 12, 16)))

        item_id = event.sync_binding_ids.external_id
        event.with_user(self.alice).unlink()
        self.assertIn(item_id, box.items)
        self.push()
        self.assertNotIn(item_id, box.items)

    def test_booked_on_behalf_of_a_colleague_goes_to_her_calendar(self):
        self.subscribe(self.alice)
        self.subscribe(self.bob)
        start = (NOW + dt.timedelta(days=5)).replace(tzinfo=None)
        self.env["calendar.event"].with_user(self.bob).create(
            {
                "name": "Booked by Bob",
                "user_id": self.alice.id,
                "start": start,
                "stop": start + dt.timedelta(hours=1),
                "partner_ids": [(6, 0, [self.alice.partner_id.id])],
            }
        )
        self.push()
        self.assertEqual([i["subject"] for i in self.server.mailboxes[ALICE].items.values()], ["Booked by Bob"])
        self.assertEqual(self.server.mailboxes[BOB].items, {})

    def test_conflict_odoo_change_wins_and_the_overwritten_version_is_logged(self):
        item_id = self.item(ALICE, "Plan", NOW + dt.timedelta(days=2))
        account = self.subscribe(self.alice)
        account._sync()
        event = self.env["calendar.event"].search([("name", "=", "Plan")])
        self.server.update_item(ALICE, item_id, subject="Plan (Outlook)")  # new change key
        event.with_user(self.alice).write({"name": "Plan (Odoo)"})
        self.push()
        self.assertEqual(self.server.mailboxes[ALICE].items[item_id]["subject"], "Plan (Odoo)")
        self.assertIn("Plan (Outlook)", event.message_ids[0].body)

    # -- faults, scheduled action, free/busy -----------------------------------------
    def test_password_changed_and_busy_server_and_cron(self):
        alice_account = self.subscribe(self.alice)
        bob_account = self.subscribe(self.bob)
        self.item(BOB, "Bob's", NOW + dt.timedelta(days=1))
        self.server.fail_next(1, status=429, retry_after=0.02)
        bob_account._sync()
        self.assertEqual(bob_account.state, "synced", bob_account.last_error)
        self.assertTrue(self.env["calendar.event"].search([("name", "=", "Bob's")]))

        self.server.set_password(ALICE, "changed")
        self.item(BOB, "Bob's second", NOW + dt.timedelta(days=2))
        (alice_account | bob_account).sudo().next_sync_date = False  # both due for the scheduled sync
        self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(alice_account.state, "error")
        self.assertTrue(alice_account.needs_reauth)
        self.assertIn("enter the new one", alice_account.last_error)
        self.assertNotIn("changed", alice_account.last_error.replace("was changed", ""))
        # one failing account never stops the others
        self.assertTrue(self.env["calendar.event"].search([("name", "=", "Bob's second")]))

    def test_free_busy_from_get_user_availability(self):
        self.subscribe(self.bob)
        self.item(BOB, "Busy", NOW + dt.timedelta(hours=30))
        self.item(BOB, "Free", NOW + dt.timedelta(hours=33), free_busy="Free")
        busy = self.busy_of(self.bob, NOW + dt.timedelta(days=1), NOW + dt.timedelta(days=2), as_user=self.alice)
        self.assertEqual(len(busy[str(self.bob.id)]), 1)
