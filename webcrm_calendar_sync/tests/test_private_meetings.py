"""Private meetings stay private through the addon's own doors: its error messages, the notes
the sync posts on a conflict, and searches (a count, a group, an order) on the fields the addon
adds to calendar.event. A colleague who sees a private meeting as "Busy" learns nothing more."""

from datetime import datetime

from odoo.exceptions import UserError
from odoo.tests import new_test_user

from .common import UTC, MemoryAccountsCase

TITLE, ROOM, BOSS = "Layoffs review", "Room 7", "boss@elsewhere.test"
ADDON = "webcrm_calendar_sync"


class PrivateMeetingCase(MemoryAccountsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.acme = cls.env["res.partner"].create({"name": "Acme AB", "is_company": True})
        cls.customer.parent_id = cls.acme

    def private_meeting(self, organizer=BOSS, account=None, **kw):
        """A private meeting in Alice's calendar, organised by ``organizer``, synced into Odoo."""
        account = account or self.acc_alice
        owner = account.user_id.email
        self.calendars[account.id].put(
            self.remote(
                TITLE,
                location=ROOM,
                privacy="private",
                organizer_email=organizer,
                timezone="Europe/Stockholm",
                attendees=[self.attendee(owner, "accepted"), self.attendee("kim@client.test", "accepted")],
                **kw,
            )
        )
        self.sync(account)
        event = self.events_of(account)
        self.assertEqual(event.privacy, "private")
        return event


class TestPrivateMeetingMessages(PrivateMeetingCase):
    def assert_tells_nothing(self, text):
        for secret in (TITLE, ROOM, BOSS):
            self.assertNotIn(secret, text)

    def test_refused_changes_name_a_private_meeting_only_to_its_attendees(self):
        event = self.private_meeting()  # organised outside Odoo: read-only here
        as_carol = event.with_user(self.carol)
        doors = {
            "write": lambda e: e.write({"start": datetime(2026, 12, 3, 10, 0), "stop": datetime(2026, 12, 3, 11, 0)}),
            "archive": lambda e: e.action_archive(),
            "archive by write": lambda e: e.write({"active": False}),
            "unlink": lambda e: e.unlink(),
        }
        for door, call in doors.items():
            with self.subTest(door=door), self.memory_providers():
                with self.assertRaises(UserError) as caught:
                    call(as_carol)
                self.assert_tells_nothing(str(caught.exception))
        # an attendee may read it: the message names it
        with self.memory_providers(), self.assertRaises(UserError) as caught:
            event.with_user(self.alice).write({"start": datetime(2026, 12, 3, 10, 0)})
        self.assertIn(TITLE, str(caught.exception))
        self.assertIn(BOSS, str(caught.exception))

    def test_the_organiser_shown_on_a_private_meeting_is_its_public_one(self):
        event = self.private_meeting()
        event.invalidate_model()
        values = event.with_user(self.carol).read(["name", "synced_owner", "synced_organizer_name", "sync_error"])[0]
        self.assert_tells_nothing(str(values))
        self.assertEqual(values["name"], "Busy")
        event.invalidate_model()
        self.assertIn(BOSS, str(event.with_user(self.alice).read(["synced_organizer_name"])))

    def visible_to(self, user, event):
        """The bodies of the meeting's messages that ``user`` may read (chatter and notifications)."""
        messages = (
            self.env["mail.message"]
            .with_user(user)
            .search([("model", "=", "calendar.event"), ("res_id", "=", event.id)])
        )
        return " ".join(str(body) for body in messages.mapped("body"))

    def conflict_remote_wins(self, account):
        event = self.private_meeting(organizer=account.user_id.email, account=account)
        binding = event.sync_binding_ids
        binding.write({"local_changed": True})
        self.env.cr.execute("UPDATE calendar_event SET write_date = %s WHERE id = %s", (datetime(2026, 1, 1), event.id))
        event.invalidate_recordset(["write_date"])
        cal = self.calendars[account.id]
        stored = next(iter(cal.events.values()))
        cal.put(stored.replace(summary="Renamed", location="Hall", updated=datetime(2026, 6, 1, tzinfo=UTC)))
        self.sync(account)
        self.assertEqual(event.name, "Renamed")
        return event

    def test_conflict_note_on_a_private_meeting_tells_the_details_to_its_owner_only(self):
        for account in (self.acc_alice, self.acc_bob):  # Google and Microsoft 365
            with self.subTest(provider=account.provider):
                event = self.conflict_remote_wins(account)
                owner = account.user_id
                self.assertIn("changed in Odoo and in", self.visible_to(self.carol, event))
                self.assert_tells_nothing(self.visible_to(self.carol, event))
                self.assertIn(TITLE, self.visible_to(owner, event), "the organiser still learns what was replaced")
                self.assertIn(ROOM, self.visible_to(owner, event))

    def test_conflict_note_on_a_public_meeting_is_unchanged(self):
        self.calendars[self.acc_alice.id].put(
            self.remote("Open day", location=ROOM, privacy="public", organizer_email="alice@example.com")
        )
        self.sync(self.acc_alice)
        event = self.events_of(self.acc_alice)
        event.sync_binding_ids.write({"local_changed": True})
        self.env.cr.execute("UPDATE calendar_event SET write_date = %s WHERE id = %s", (datetime(2026, 1, 1), event.id))
        event.invalidate_recordset(["write_date"])
        cal = self.calendars[self.acc_alice.id]
        stored = next(iter(cal.events.values()))
        cal.put(stored.replace(summary="Open day (moved)", updated=datetime(2026, 6, 1, tzinfo=UTC)))
        self.sync(self.acc_alice)
        self.assertIn("Open day", self.visible_to(self.carol, event))

    def test_odoo_version_kept_the_overwritten_private_version_is_told_to_its_owner_only(self):
        event = self.private_meeting(organizer="alice@example.com")
        cal = self.calendars[self.acc_alice.id]
        # changed in the calendar after the last sync (a new etag), then in Odoo
        stored = next(iter(cal.events.values()))
        cal.put(stored.replace(summary="Secret offsite", updated=datetime(2026, 6, 1, tzinfo=UTC)))
        with self.memory_providers():
            event.with_user(self.alice).write({"location": "Room 9"})
        self.run_push()
        self.assertEqual(next(iter(cal.events.values())).location, "Room 9")
        self.assertNotIn("Secret offsite", self.visible_to(self.carol, event))
        self.assertIn("Secret offsite", self.visible_to(self.alice, event))

    def test_local_winner_note_on_a_private_meeting_tells_its_owner_only(self):
        event = self.private_meeting(organizer="alice@example.com")
        cal = self.calendars[self.acc_alice.id]
        event.sync_binding_ids.write({"local_changed": True})
        # Odoo's change is the newer one
        self.env.cr.execute("UPDATE calendar_event SET write_date = %s WHERE id = %s", (datetime(2027, 1, 1), event.id))
        event.invalidate_recordset(["write_date"])
        stored = next(iter(cal.events.values()))
        cal.put(stored.replace(summary="Secret offsite", updated=datetime(2026, 6, 1, tzinfo=UTC)))
        self.sync(self.acc_alice)
        self.assertNotIn("Secret offsite", self.visible_to(self.carol, event))
        self.assertIn("Secret offsite", self.visible_to(self.alice, event))


class TestPrivateMeetingSearch(PrivateMeetingCase):
    """Searching a colleague's private meeting by the addon's fields answers as for a meeting whose
    fields are empty (as reading them does), whatever their real values."""

    def setUp(self):
        super().setUp()
        self.dave = new_test_user(self.env, "dave", email="dave@example.com", name="Dave")
        self.event = self.private_meeting()
        template = self.env.ref(f"{ADDON}.mail_template_meeting_text")
        self.event.sudo().with_context(calendar_sync_from_remote=True).write(
            {"text_template_id": template.id, "text_template_applied": True}
        )
        self.event.sync_binding_ids.sudo().write({"state": "error", "last_error": "refused"})

    def addon_fields(self):
        """The fields this addon adds to calendar.event (not Odoo's), that a domain can name."""
        Event = self.env["calendar.event"]
        names = {
            name
            for name, field in Event._fields.items()
            if ADDON in (field._modules or ()) and "calendar" not in field._modules and (field.store or field.search)
        }
        # the ones known today, so that the list cannot come out empty
        self.assertLessEqual(
            {
                "synced_organizer_email",
                "synced_account_id",
                "synced_provider",
                "is_synced",
                "sync_binding_ids",
                "synced_partner_company_ids",
                "synced_organization_id",
                "synced_tz",
                "sync_push_state",
            },
            names,
        )
        return sorted(names)

    def real_value(self, name):
        value = self.event.sudo()[name]
        if hasattr(value, "ids"):
            return value.ids[0] if value._name != "calendar.sync.binding" else value.ids
        return str(value) if self.event._fields[name].type == "html" else value

    def test_every_addon_field_of_a_private_meeting_matches_as_if_empty_for_colleagues(self):
        Event = self.env["calendar.event"]
        names = self.addon_fields()
        filler = {"boolean": True, "char": "private text", "text": "private text", "html": "<p>private text</p>"}
        for name in names:
            if not self.event.sudo()[name] and Event._fields[name].type in filler:
                self.event.sudo().with_context(calendar_sync_from_remote=True)[name] = filler[Event._fields[name].type]
        for name in names:
            value = self.real_value(name)
            self.assertTrue(value, f"{name} has a value in this test")
            operator = "in" if isinstance(value, list) else "="
            domain = [("id", "=", self.event.id), (name, operator, value)]
            with self.subTest(field=name):
                self.assertEqual(Event.with_user(self.alice).search_count(domain), 1, "an attendee finds it")
                self.assertEqual(Event.with_user(self.carol).search_count(domain), 0, "a colleague does not")
                self.assertEqual(Event.with_user(self.carol).search(domain).ids, [])

    def test_a_guessed_organiser_answers_as_a_wrong_guess(self):
        Event = self.env["calendar.event"].with_user(self.carol)
        Attendee = self.env["calendar.attendee"].with_user(self.carol)
        Partner = self.env["res.partner"].with_user(self.carol)

        def answers(guess):
            domain = [("synced_organizer_email", "ilike", guess)]
            return (
                Event.search_count(domain),
                Event.search(domain).ids,
                Event.search_read(domain, ["id"]),
                [g["user_id_count"] for g in Event.read_group(domain, ["user_id"], ["user_id"])],
                Event.web_read_group(domain, ["user_id"], ["user_id"])["length"],
                Event.read_progress_bar(
                    [("id", "=", self.event.id)],
                    "user_id",
                    {"field": "synced_organizer_email", "colors": {guess: "danger"}},
                ),
                Attendee.search_count([("event_id.synced_organizer_email", "ilike", guess)]),
                Partner.search_count([("meeting_ids.synced_organizer_email", "ilike", guess)]),
                Event.search_count(["!", ("synced_organizer_email", "not ilike", guess), ("id", "=", self.event.id)]),
            )

        self.assertEqual(answers(BOSS), answers("nobody@nowhere.test"))
        self.assertEqual(answers("boss@"), answers("zzz@"))

    def test_grouping_by_an_addon_field_puts_a_private_meeting_with_the_empty_ones(self):
        domain = [("id", "=", self.event.id)]
        for name in ("synced_account_id", "synced_provider", "synced_organizer_email", "synced_organization_id"):
            with self.subTest(field=name):
                for user, expected in ((self.carol, False), (self.alice, self.real_value(name))):
                    groups = (
                        self.env["calendar.event"].with_user(user)._read_group(domain, [name], ["__count"], order=name)
                    )
                    value = groups[0][0]
                    self.assertEqual([(value.id if hasattr(value, "ids") else value, groups[0][1])], [(expected, 1)])

    def test_ordering_by_an_addon_field_tells_nothing_of_a_private_meeting(self):
        Event = self.env["calendar.event"]
        own = Event.with_user(self.carol).create(
            {"name": "Carol's", "start": "2026-12-04 09:00:00", "stop": "2026-12-04 10:00:00"}
        )
        own.sudo().with_context(calendar_sync_from_remote=True).synced_organizer_email = "m@example.com"
        ids = [own.id, self.event.id]

        def orders():
            return [
                Event.with_user(self.carol).search([("id", "in", ids)], order=f"synced_organizer_email {d}").ids
                for d in ("asc", "desc")
            ]

        Sudo = self.event.sudo().with_context(calendar_sync_from_remote=True)
        Sudo.synced_organizer_email = "a@example.com"
        before = orders()
        Sudo.synced_organizer_email = "z@example.com"
        self.assertEqual(orders(), before)

    def test_public_meetings_and_own_private_ones_stay_searchable(self):
        Event = self.env["calendar.event"]
        domain = [("synced_organizer_email", "=", BOSS)]
        self.assertEqual(Event.with_user(self.alice).search(domain), self.event, "an attendee")
        self.assertEqual(Event.search(domain), self.event, "the superuser")
        Sudo = self.event.sudo().with_context(calendar_sync_from_remote=True)
        Sudo.privacy = "public"
        self.assertEqual(Event.with_user(self.carol).search(domain), self.event, "a public meeting")
        Sudo.privacy = "confidential"
        self.assertEqual(Event.with_user(self.carol).search(domain), self.event, "an internal users' meeting")
        # the organiser's default privacy decides a meeting without its own
        Sudo.write({"privacy": False, "user_id": self.dave.id})
        self.dave.with_user(self.dave).calendar_default_privacy = "private"
        self.assertFalse(Event.with_user(self.carol).search(domain))
        self.dave.with_user(self.dave).calendar_default_privacy = "public"
        self.assertEqual(Event.with_user(self.carol).search(domain), self.event)
