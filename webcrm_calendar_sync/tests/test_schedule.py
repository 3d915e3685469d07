"""The schedule view's data: a row per person, Odoo's privacy, outside-only busy times (C7)."""

from datetime import datetime, timedelta

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from ..engine.events import UTC, Window
from .common import CalendarSyncCase

DAY = datetime(2026, 12, 3)


@tagged("post_install", "-at_install")
class TestSchedule(CalendarSyncCase):
    def setUp(self):
        super().setUp()
        self.patch_window(Window.around(datetime(2026, 12, 1, tzinfo=UTC), 60, 365))
        self.Event = self.env["calendar.event"]

    def schedule(self, as_user, user_ids, start=DAY, stop=DAY + timedelta(days=1), **kw):
        return (
            self.Event.with_user(as_user)
            .with_context(tz="UTC")
            .get_synced_schedule(user_ids, str(start), str(stop), **kw)
        )

    def meeting(self, name, hour, partners, hours=1, **vals):
        start = DAY.replace(hour=hour)
        return self.Event.create(
            {
                "name": name,
                "start": start,
                "stop": start + timedelta(hours=hours),
                "partner_ids": [(6, 0, partners.ids)],
                "user_id": vals.pop("user_id", self.bob.id),
                **vals,
            }
        )

    def row(self, result, user):
        [row] = [r for r in result["rows"] if r["user_id"] == user.id]
        return row

    def test_rows_the_user_first_then_colleagues(self):
        result = self.schedule(self.alice, [self.carol.id, self.bob.id, self.alice.id])
        self.assertEqual([r["user_id"] for r in result["rows"]], [self.alice.id, self.carol.id, self.bob.id])
        self.assertTrue(result["rows"][0]["is_me"])
        self.assertFalse(result["rows"][1]["is_me"])

    def test_meetings_per_person_private_ones_busy(self):
        self.meeting("Demo", 9, self.bob.partner_id | self.carol.partner_id, privacy="public")
        self.meeting("Salary talk", 14, self.bob.partner_id, privacy="private")
        self.meeting("Tomorrow", 9, self.bob.partner_id).write(
            {"start": DAY + timedelta(days=1, hours=9), "stop": DAY + timedelta(days=1, hours=10)}
        )
        result = self.schedule(self.alice, [self.bob.id, self.carol.id])
        bob = self.row(result, self.bob)
        self.assertEqual([e["name"] for e in bob["events"]], ["Demo", "Busy"])
        private = bob["events"][1]
        self.assertTrue(private["private"])
        self.assertEqual(private["start"], "2026-12-03 14:00:00")
        self.assertNotIn("Salary", str(result))
        self.assertEqual([e["name"] for e in self.row(result, self.carol)["events"]], ["Demo"])
        self.assertEqual(self.row(result, self.alice)["events"], [])
        # an attendee of the private meeting sees its title
        bob_sees = self.row(self.schedule(self.bob, []), self.bob)
        self.assertEqual([e["name"] for e in bob_sees["events"]], ["Demo", "Salary talk"])

    def test_declined_meetings_left_out(self):
        event = self.meeting("Declined", 9, self.bob.partner_id | self.carol.partner_id)
        event.attendee_ids.filtered(lambda a: a.partner_id == self.carol.partner_id).state = "declined"
        result = self.schedule(self.alice, [self.bob.id, self.carol.id])
        self.assertEqual(len(self.row(result, self.bob)["events"]), 1)
        self.assertEqual(self.row(result, self.carol)["events"], [])

    def test_all_day_meetings_by_date(self):
        self.Event.create(
            {
                "name": "Offsite",
                "allday": True,
                "start_date": DAY.date(),
                "stop_date": DAY.date() + timedelta(days=1),
                "partner_ids": [(6, 0, self.bob.partner_id.ids)],
            }
        )

        def in_stockholm(start):
            return (
                self.Event.with_user(self.alice)
                .with_context(tz="Europe/Stockholm")
                .get_synced_schedule([self.bob.id], str(start), str(start + timedelta(days=1)))
            )

        # the second day of the offsite, in Stockholm (the range is that day's UTC bounds there)
        start = DAY + timedelta(days=1) - timedelta(hours=1)
        [offsite] = self.row(in_stockholm(start), self.bob)["events"]
        self.assertTrue(offsite["allday"])
        self.assertEqual((offsite["start_date"], offsite["stop_date"]), ("2026-12-03", "2026-12-04"))
        # the day after the offsite: nothing
        self.assertEqual(self.row(in_stockholm(start + timedelta(days=1)), self.bob)["events"], [])

    def test_outside_only_busy_times(self):
        account = self.make_account(self.bob)
        calendar = self.calendars[account.id]
        bob = [self.attendee("bob@example.com", "accepted", "Bob")]
        calendar.put(self.remote("Synced demo", start=datetime(2026, 12, 3, 9, tzinfo=UTC), attendees=bob))
        with self.memory_providers():
            account._sync()
            # then, only in the external calendar: never synced into Odoo
            calendar.put(self.remote("Dentist", start=datetime(2026, 12, 3, 11, tzinfo=UTC), hours=2))
            without = self.schedule(self.alice, [self.bob.id])
            self.assertEqual(len(self.providers), 1, "no provider is asked unless the outside busy times are")
            result = self.schedule(self.alice, [self.bob.id], outside=True)
        row = self.row(result, self.bob)
        self.assertEqual([e["name"] for e in row["events"]], ["Synced demo"])
        self.assertEqual(self.row(without, self.bob)["outside"], [])
        # the synced meeting's busy time is shown by the meeting; the dentist only as busy
        self.assertEqual(row["outside"], [{"start": "2026-12-03 11:00:00", "stop": "2026-12-03 13:00:00"}])
        self.assertTrue(row["synced"])
        self.assertTrue(row["outside_asked"])
        self.assertNotIn("Dentist", str(result))
        self.assertFalse(self.row(result, self.alice)["synced"])
        self.assertFalse(result["outside_error"])

    def test_spent_budget_is_said_not_raised(self):
        self.make_account(self.bob)
        self.env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.busy_calls_per_minute", "1")
        with self.memory_providers():
            self.schedule(self.alice, [self.bob.id], outside=True)
            later = DAY + timedelta(days=1)
            result = self.schedule(self.alice, [self.bob.id], later, later + timedelta(days=1), outside=True)
        self.assertIn("Too many busy-time lookups", result["outside_error"])
        self.assertEqual(len(result["rows"]), 2)

    def test_access_and_bounds(self):
        portal = new_test_user(self.env, "pia", groups="base.group_portal")
        with self.assertRaises(AccessError):
            self.schedule(portal, [])
        with self.assertRaises(UserError):
            self.schedule(self.alice, [self.bob.id], DAY, DAY + timedelta(days=40))
        with self.assertRaises(UserError):
            self.schedule(self.alice, ["1"])
        with self.assertRaises(UserError):
            self.schedule(self.alice, list(range(1, 40)))
        # a portal user is not a colleague: no row for them
        result = self.schedule(self.alice, [portal.id])
        self.assertEqual([r["user_id"] for r in result["rows"]], [self.alice.id])

    def test_other_company_colleague_has_no_row(self):
        other = self.env["res.company"].create({"name": "Elsewhere"})
        stranger = new_test_user(self.env, "stan", company_id=other.id, company_ids=[(6, 0, other.ids)])
        result = self.schedule(self.alice, [stranger.id, self.bob.id])
        self.assertEqual([r["user_id"] for r in result["rows"]], [self.alice.id, self.bob.id])
