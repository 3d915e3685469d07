"""Issue 23, point 4: find-a-time names who cannot be seen, offers only future slots within
everyone's working hours (in each one's zone) over several days, and shows the organiser."""

from datetime import datetime
from unittest.mock import patch

from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from ..engine import errors as sync_errors
from ..engine.testing.memory import MemoryProvider
from .common import UTC, CalendarSyncCase

# Monday 11 January 2027, 10:10 UTC (11:10 in Stockholm, 05:10 in New York)
NOW = datetime(2027, 1, 11, 10, 10)
MONDAY = "2027-01-11"
# a whole working day in Stockholm, in UTC: an hour's meeting may start 08:00-11:00 and 13:00-16:00 local
WHOLE_DAY = ["07:00", "07:30", "08:00", "08:30", "09:00", "09:30", "10:00"] + [
    "12:00",
    "12:30",
    "13:00",
    "13:30",
    "14:00",
    "14:30",
    "15:00",
]


class TestFindATime(CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bob.tz = "Europe/Stockholm"
        cls.carol.tz = "Europe/Stockholm"
        cls.acc_bob = cls.make_account(cls.bob)
        cls.customer = cls.env["res.partner"].create({"name": "Kim Customer", "email": "kim@client.test"})

    def setUp(self):
        super().setUp()
        patcher = patch.object(type(self.env["calendar.event"]), "_find_time_now", lambda model: NOW)
        patcher.start()
        self.addCleanup(patcher.stop)

    def find(self, partners, organizer=None, as_user=None, **kw):
        as_user = as_user or self.alice
        kw.setdefault("day", MONDAY)
        kw.setdefault("tz", "Europe/Stockholm")
        return (
            self.env["calendar.event"]
            .with_user(as_user)
            .get_synced_find_a_time(partners.ids, (organizer or as_user).id, duration=kw.pop("duration", 60), **kw)
        )

    @staticmethod
    def free_starts(answer, day=MONDAY):
        found = next(d for d in answer["days"] if d["date"] == day)
        return [s["start"][11:16] for s in found["slots"] if s["free"]]

    @staticmethod
    def cells_of(answer, user, day=MONDAY):
        index = [p["user_id"] for p in answer["people"]].index(user.id)
        found = next(d for d in answer["days"] if d["date"] == day)
        return {s["start"][11:16]: s["cells"][index] for s in found["slots"]}

    def test_a_colleague_whose_access_was_revoked_is_named_and_nothing_is_free_for_everyone(self):
        self.acc_bob.write({"state": "error", "needs_reauth": True, "last_error": "revoked"})
        with self.memory_providers():
            answer = self.find(self.alice.partner_id | self.bob.partner_id)
        self.assertEqual(self.providers, [], "a revoked grant is not even tried")
        bob = next(p for p in answer["people"] if p["user_id"] == self.bob.id)
        self.assertIn("revoked", bob["unknown"])
        self.assertFalse(answer["all_known"])
        self.assertEqual(len(answer["unknown"]), 1)
        self.assertIn("Bob's calendar could not be read", answer["unknown"][0])
        self.assertIn("unknown", answer["unknown"][0])
        self.assertIn("unknown", set(self.cells_of(answer, self.bob).values()))
        alice = next(p for p in answer["people"] if p["user_id"] == self.alice.id)
        self.assertFalse(alice["unknown"], "Alice has no external calendar: her meetings in Odoo are all there is")

    def test_a_calendar_that_does_not_answer_or_is_paused_is_named_too(self):
        def down(provider, emails, start, end):
            raise sync_errors.Unavailable()

        with self.memory_providers(), patch.object(MemoryProvider, "free_busy", down):
            answer = self.find(self.bob.partner_id)
        self.assertIn("did not answer", answer["people"][1]["unknown"])
        self.assertFalse(answer["all_known"])
        self.acc_bob.state = "paused"
        with self.memory_providers():
            answer = self.find(self.bob.partner_id)
        self.assertIn("paused", answer["people"][1]["unknown"])
        # subscribed and answering: known
        self.acc_bob.state = "synced"
        with self.memory_providers():
            answer = self.find(self.bob.partner_id)
        self.assertTrue(answer["all_known"])
        self.assertEqual(answer["unknown"], [])

    def test_only_future_slots_within_working_hours_over_five_working_days(self):
        with self.memory_providers():
            answer = self.find(self.alice.partner_id | self.bob.partner_id)
        # (times in UTC) 11:10 in Stockholm: nothing before 11:30; the company's hours are 08-12 and
        # 13-17 in Stockholm: an hour from 11:30 would run into lunch, the first is at 13:00
        self.assertEqual(self.free_starts(answer), ["12:00", "12:30", "13:00", "13:30", "14:00", "14:30", "15:00"])
        monday = next(d for d in answer["days"] if d["date"] == MONDAY)
        self.assertTrue(all(s["past"] for s in monday["slots"] if s["start"] < "2027-01-11 10:00:00"))
        # the next four working days, whole
        self.assertEqual([d["date"] for d in answer["days"]], [f"2027-01-{n}" for n in range(11, 16)])
        self.assertEqual(self.free_starts(answer, "2027-01-12"), WHOLE_DAY)
        self.assertEqual(answer["next_day"], "2027-01-18", "the weekend is skipped")
        # the next page starts there
        with self.memory_providers():
            later = self.find(self.alice.partner_id, day=answer["next_day"], days=2)
        self.assertEqual([d["date"] for d in later["days"]], ["2027-01-18", "2027-01-19"])
        # a day in the past is never shown: today is the first
        with self.memory_providers():
            earlier = self.find(self.alice.partner_id, day="2027-01-04", days=1)
        self.assertEqual([d["date"] for d in earlier["days"]], [MONDAY])

    def test_each_in_their_own_zone_and_working_hours(self):
        self.carol.tz = "America/New_York"  # the company's 08-17 there is 14-23 in Stockholm
        with self.memory_providers():
            answer = self.find(self.alice.partner_id | self.carol.partner_id, day="2027-01-12")
        self.assertEqual(self.free_starts(answer, "2027-01-12"), ["13:00", "13:30", "14:00", "14:30", "15:00"])
        cells = self.cells_of(answer, self.carol, "2027-01-12")
        self.assertEqual(cells["08:00"], "off")
        self.assertEqual(cells["13:00"], "free")
        # Bob's own working hours: Tuesday mornings only, 09:00-11:00 in Stockholm
        part_time = self.env["resource.calendar"].create(
            {
                "name": "Bob's mornings",
                "tz": "Europe/Stockholm",
                "attendance_ids": [
                    (0, 0, {"name": "Tue", "dayofweek": "1", "hour_from": 9, "hour_to": 11, "day_period": "morning"})
                ],
            }
        )
        self.env["resource.resource"].create({"name": "Bob", "user_id": self.bob.id, "calendar_id": part_time.id})
        self.assertEqual(self.bob.resource_calendar_id, part_time)
        with self.memory_providers():
            answer = self.find(self.alice.partner_id | self.bob.partner_id, day="2027-01-12")
        self.assertEqual(self.free_starts(answer, "2027-01-12"), ["08:00", "08:30", "09:00"])
        self.assertEqual(self.free_starts(answer, "2027-01-13"), [], "Bob does not work on Wednesdays")

    def test_the_organiser_is_shown_with_their_busy_times_and_private_meetings_stay_busy(self):
        # Alice books on Bob's behalf, for the customer: Bob is not among the attendees
        self.env["calendar.event"].create(
            {
                "name": "Salary talk",
                "privacy": "private",
                "user_id": self.bob.id,
                "partner_ids": [(6, 0, [self.bob.partner_id.id])],
                "start": "2027-01-12 12:00:00",
                "stop": "2027-01-12 13:00:00",
            }
        )
        # and a meeting only in his external calendar
        self.calendars[self.acc_bob.id].put(self.remote("Dentist", datetime(2027, 1, 12, 8, 0, tzinfo=UTC)))
        with self.memory_providers():
            answer = self.find(self.customer, organizer=self.bob, day="2027-01-12")
        self.assertEqual([p["user_id"] for p in answer["people"]], [self.bob.id])
        self.assertTrue(answer["people"][0]["organizer"])
        cells = self.cells_of(answer, self.bob, "2027-01-12")
        self.assertEqual((cells["08:00"], cells["12:00"], cells["12:30"], cells["13:00"]), ("busy",) * 3 + ("free",))
        expected = ["07:00", "09:00", "09:30", "10:00", "13:00", "13:30", "14:00", "14:30", "15:00"]
        self.assertEqual(self.free_starts(answer, "2027-01-12"), expected)
        self.assertNotIn("Salary", str(answer), "only busy time, never a title")
        self.assertNotIn("Dentist", str(answer))

    def test_the_meeting_being_edited_does_not_block_its_own_time(self):
        meeting = self.env["calendar.event"].create(
            {
                "name": "Planning",
                "user_id": self.alice.id,
                "partner_ids": [(6, 0, [self.alice.partner_id.id])],
                "start": "2027-01-12 09:00:00",
                "stop": "2027-01-12 10:00:00",
            }
        )
        with self.memory_providers():
            answer = self.find(self.alice.partner_id, day="2027-01-12", days=1)
            self.assertNotIn("09:00", self.free_starts(answer, "2027-01-12"))
            answer = self.find(self.alice.partner_id, day="2027-01-12", days=1, event_id=meeting.id)
        self.assertEqual(self.free_starts(answer, "2027-01-12"), WHOLE_DAY)

    def test_only_internal_users_of_the_synced_calendar_and_only_colleagues(self):
        portal = new_test_user(self.env, "portalfind", email="pf@client.test", groups="base.group_portal")
        with self.memory_providers(), self.assertRaises(AccessError):
            self.find(self.bob.partner_id, as_user=portal)
        other = self.env["res.company"].create({"name": "Elsewhere Ltd"})
        stranger = new_test_user(
            self.env, "strangerfind", email="s@else.test", company_id=other.id, company_ids=[(6, 0, [other.id])]
        )
        with self.memory_providers():
            answer = self.find(stranger.partner_id | self.bob.partner_id, organizer=stranger)
        self.assertEqual([p["user_id"] for p in answer["people"]], [self.bob.id])
