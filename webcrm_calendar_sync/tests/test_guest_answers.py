"""A guest's answer travels, and each account is the authority for its owner's answer.

Over the fake servers, end to end: Alice organises in Odoo, Bob (subscribed, on another service
where practical) and Kim (outside) are invited. The test plays the mail between services (an
invitation, an update, a reply reaching the organiser's calendar) as the services would deliver
it; everything else goes through the addon: the outbox writes Bob's answer from his own
calendar, the syncs read each calendar. At each step the Odoo meeting, each calendar's copy and
each attendee's answer are compared with what the services show.
"""

import datetime as dt
import urllib.parse

import requests
from exchangelib.protocol import CachingProtocol

from ..engine.testing.fake_ews import FakeEWS
from .common import FAKE_SERVER_WINDOW, NOW, UTC, CalendarSyncCase, start_fake_google, start_fake_graph

GOOGLE_WORDS = {"needsAction": "needsAction", "accepted": "accepted", "declined": "declined", "tentative": "tentative"}
GRAPH_WORDS = {
    "needsAction": "notResponded",
    "accepted": "accepted",
    "declined": "declined",
    "tentative": "tentativelyAccepted",
}
EWS_WORDS = {"needsAction": "NoResponseReceived", "accepted": "Accept", "declined": "Decline", "tentative": "Tentative"}


def _neutral(words, value):
    back = {v: k for k, v in words.items()}
    back.update({"none": "needsAction", "Unknown": "needsAction", "organizer": "accepted", "Organizer": "accepted"})
    return back.get(value, value)


class _GoogleSide:
    """Google Calendar, as the test reads and plays it (times are aware UTC datetimes)."""

    name = "google"

    def __init__(self, server):
        self.server = server

    def copy_of(self, email, uid):
        found = [e for e in self.server.events_of(email) if e.get("iCalUID") == uid]
        assert len(found) == 1, found
        return found[0]

    def answers(self, email, uid):
        attendees = self.copy_of(email, uid).get("attendees", [])
        return {a["email"]: a.get("responseStatus", "needsAction") for a in attendees}

    def own(self, email, uid):
        return self.answers(email, uid)[email]

    def start(self, email, uid):
        return dt.datetime.fromisoformat(self.copy_of(email, uid)["start"]["dateTime"].replace("Z", "+00:00"))

    def deliver(self, email, uid, summary, start, end, organizer, guests):
        self.server.add_user(email)
        self.server.add_event(
            email,
            {
                "summary": summary,
                "iCalUID": uid,
                "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%SZ")},
                "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%SZ")},
                "organizer": {"email": organizer},
                "attendees": [{"email": organizer, "organizer": True, "responseStatus": "accepted"}]
                + [{"email": g, "responseStatus": "needsAction"} for g in guests],
            },
        )

    def deliver_update(self, email, uid, start, end):
        with self.server.lock:
            event = next(e for e in self.server.calendars[email].values() if e.get("iCalUID") == uid)
            event["start"] = {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%SZ")}
            event["end"] = {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%SZ")}
            self.server._stamp(event)

    def retitle(self, email, uid, title):
        """The organiser changes the meeting in the service's own client."""
        with self.server.lock:
            event = next(e for e in self.server.calendars[email].values() if e.get("iCalUID") == uid)
            event["summary"] = title
            self.server._stamp(event)

    def reply(self, organizer, uid, email, response):
        self.server.reply(organizer, uid, email, GOOGLE_WORDS[response])

    def take_replies(self):
        replies = [(r["organizer"], r["iCalUID"], r["email"], r["response"]) for r in self.server.replies]
        self.server.replies.clear()
        return replies


class _GraphSide:
    name = "microsoft"

    def __init__(self, server):
        self.server = server

    def copy_of(self, email, uid):
        found = [e for e in self.server.events_of(email) if e.get("iCalUId") == uid]
        assert len(found) == 1, found
        return found[0]

    def answers(self, email, uid):
        event = self.copy_of(email, uid)
        answers = {
            a["emailAddress"]["address"]: _neutral(GRAPH_WORDS, a["status"]["response"]) for a in event["attendees"]
        }
        answers[email] = _neutral(GRAPH_WORDS, event["responseStatus"]["response"])
        return answers

    def own(self, email, uid):
        return _neutral(GRAPH_WORDS, self.copy_of(email, uid)["responseStatus"]["response"])

    def start(self, email, uid):
        return dt.datetime.fromisoformat(self.copy_of(email, uid)["start"]["dateTime"][:19]).replace(tzinfo=UTC)

    def deliver(self, email, uid, summary, start, end, organizer, guests):
        def node(value):
            return {"dateTime": value.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"}

        body = {
            "subject": summary,
            "start": node(start),
            "end": node(end),
            "attendees": [{"emailAddress": {"address": g, "name": g}, "type": "required"} for g in guests],
        }
        self.server.deliver_invitation(email, body, organizer, uid)

    def deliver_update(self, email, uid, start, end):
        with self.server.lock:
            event = next(e for e in self.server.mailboxes[email].values() if e.get("iCalUId") == uid)
            event["start"] = {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}
            event["end"] = {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}
            self.server._stamp(event)

    def retitle(self, email, uid, title):
        with self.server.lock:
            event = next(e for e in self.server.mailboxes[email].values() if e.get("iCalUId") == uid)
            event["subject"] = title
            self.server._stamp(event)

    def reply(self, organizer, uid, email, response):
        self.server.reply(organizer, uid, email, GRAPH_WORDS[response])

    def take_replies(self):
        replies = [
            (r["organizer"], r["iCalUId"], r["email"], _neutral(GRAPH_WORDS, r["response"]))
            for r in self.server.replies
        ]
        self.server.replies.clear()
        return replies


class _EwsSide:
    name = "exchange"

    def __init__(self, server):
        self.server = server

    def copy_of(self, email, uid):
        found = [i for i in self.server.mailboxes[email].items.values() if i.get("uid") == uid]
        assert len(found) == 1, found
        return found[0]

    def answers(self, email, uid):
        item = self.copy_of(email, uid)
        answers = {a[0]: _neutral(EWS_WORDS, a[2]) for a in item["required"] + item["optional"]}
        if item["organizer"][0] != email:
            answers[email] = _neutral(EWS_WORDS, item["my_response"])
        return answers

    def own(self, email, uid):
        return _neutral(EWS_WORDS, self.copy_of(email, uid)["my_response"])

    def start(self, email, uid):
        return self.copy_of(email, uid)["start"]

    def deliver(self, email, uid, summary, start, end, organizer, guests):
        self.server.add_item(
            email,
            subject=summary,
            start=start,
            end=end,
            attendees=[(g, g, "Unknown") for g in guests],
            uid=uid,
            organizer=(organizer, organizer),
        )

    def deliver_update(self, email, uid, start, end):
        self.server.update_item(email, self.copy_of(email, uid)["id"], start=start, end=end)

    def retitle(self, email, uid, title):
        self.server.update_item(email, self.copy_of(email, uid)["id"], subject=title)

    def reply(self, organizer, uid, email, response):
        self.server.reply(organizer, uid, email, EWS_WORDS[response])

    def take_replies(self):
        replies = [(o, u, e, _neutral(EWS_WORDS, r)) for o, u, e, r in self.server.replies]
        self.server.replies.clear()
        return replies


class _GuestMeeting:
    """Alice's meeting with Bob and Kim (outside), and each guest's answer as Odoo has it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kim = cls.env["res.partner"].create({"name": "Kim Customer", "email": "kim@client.test"})

    def book(self, days=3):
        start = (NOW + dt.timedelta(days=days)).replace(tzinfo=None)
        return (
            self.env["calendar.event"]
            .with_user(self.alice)
            .create(
                {
                    "name": "Offer review",
                    "start": start,
                    "stop": start + dt.timedelta(hours=1),
                    "partner_ids": [(6, 0, [self.alice.partner_id.id, self.bob.partner_id.id, self.kim.id])],
                }
            )
        )

    def states(self, meeting):
        meeting.invalidate_recordset()
        return {a.email: a.state for a in meeting.attendee_ids}


class _ThreeServicesCase(_GuestMeeting, CalendarSyncCase):
    """The fake Google, Graph and Exchange servers side by side (a fresh state per test), Kim
    outside, and Alice and Bob subscribing on any of them: the guest scenarios between services."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.google = start_fake_google(cls)
        cls.graph = start_fake_graph(cls)
        cls.ews = FakeEWS(auth=("ntlm", "basic")).start()
        cls.addClassCleanup(cls.ews.stop)
        cls.env["res.config.settings"].create({"calendar_sync_exchange_ca_bundle": cls.ews.ca_file}).execute()
        cls.sides = {
            "google": _GoogleSide(cls.google),
            "microsoft": _GraphSide(cls.graph),
            "exchange": _EwsSide(cls.ews),
        }

    def setUp(self):
        super().setUp()
        self.google.calendars.clear()
        self.graph.mailboxes.clear()
        self.ews.mailboxes.clear()
        for server in (self.google, self.graph, self.ews):
            server.invitations.clear()
            server.replies.clear()
            server.clear_faults()
        CachingProtocol.clear_cache()
        self.patch_window(FAKE_SERVER_WINDOW)

    def subscribe(self, user, provider):
        """``user``'s calendar on ``provider``, subscribed (the account, as sudo)."""
        if provider == "google":
            account = self.env["calendar.sync.account"].create(
                {"user_id": user.id, "provider": "google", "email": user.email, "state": "subscribed"}
            )
            account._set_credentials(token_data=self.google.issue_tokens(user.email))
            return account
        Account = self.env["calendar.sync.account"].with_user(user)
        if provider == "microsoft":
            account = Account.create({"provider": "microsoft", "email": user.email})
            session = {}
            action = account._subscribe_microsoft(session=session)
            answer = requests.get(action["url"], allow_redirects=False, verify=self.graph.ca_file, timeout=10)
            params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
            Account._oauth_finish("microsoft", params, session)
        else:
            self.ews.add_mailbox(user.email, f"{user.login}-pw")
            vals = {"provider": "exchange", "email": user.email, "ews_url": self.ews.url}
            account = Account.create(dict(vals, password=f"{user.login}-pw"))
            account.action_subscribe()
        self.assertEqual(account.state, "subscribed", account.last_error)
        return account.sudo()


class TestGuestAnswers(_ThreeServicesCase):
    def push(self):
        self.env["calendar.sync.binding"]._cron_push()

    def mail(self, source, target):
        """The replies ``source``'s service sent reach the organiser's calendar at ``target``."""
        for organizer, uid, email, response in source.take_replies():
            target.reply(organizer, uid, email, response)

    # -- the guest scenario, one organiser's service and one guest's service each -------
    def scenario(self, organizer_provider, guest_provider):
        A, B = self.sides[organizer_provider], self.sides[guest_provider]
        alice, bob, kim = self.alice.email, self.bob.email, self.kim.email
        acc_a = self.subscribe(self.alice, organizer_provider)
        acc_b = self.subscribe(self.bob, guest_provider)
        acc_a._sync()
        acc_b._sync()

        # Alice books in Odoo and sends the invitations from her calendar
        meeting = self.book().sudo()
        meeting.with_user(self.alice).action_save_and_send_invitation()
        self.push()
        [binding_a] = meeting.sync_binding_ids
        uid = binding_a.ical_uid
        self.assertEqual(A.answers(alice, uid)[bob], "needsAction")
        self.assertEqual(A.answers(alice, uid)[kim], "needsAction")
        # the invitation reaches Bob's calendar; his sync binds his copy to the same meeting
        start, end = A.start(alice, uid), A.start(alice, uid) + dt.timedelta(hours=1)
        B.deliver(bob, uid, "Offer review", start, end, alice, [bob, kim])
        acc_b._sync()
        meeting.invalidate_recordset()
        self.assertEqual(len(meeting.sudo().sync_binding_ids), 2)
        self.assertEqual(self.env["calendar.event"].search_count([("name", "=", "Offer review")]), 1)
        self.assertEqual(self.states(meeting), {alice: "accepted", bob: "needsAction", kim: "needsAction"})
        self.assertEqual(B.own(bob, uid), "needsAction")

        # 1. Bob answers Yes in Odoo: written from his own calendar after commit, not before
        attendee_b = meeting.attendee_ids.filtered(lambda a: a.partner_id == self.bob.partner_id)
        attendee_b.with_user(self.bob).do_accept()
        self.assertEqual(B.own(bob, uid), "needsAction", "nothing is sent inside the transaction")
        binding_b = meeting.sudo().sync_binding_ids.filtered(lambda b: b.account_id == acc_b)
        self.assertEqual(binding_b.state, "to_push")
        self.assertEqual(meeting.sync_push_state, "waiting")
        self.push()
        self.assertEqual(B.own(bob, uid), "accepted")
        self.assertEqual(binding_b.state, "synced")
        self.assertFalse(meeting.sync_push_state)
        # before his answer reaches Alice's calendar, Alice changes the meeting there and her
        # calendar is read: it does not bring Bob's old answer back
        A.retitle(alice, uid, "Offer review (draft)")
        acc_a._sync()
        self.assertEqual(meeting.name, "Offer review (draft)")
        self.assertEqual(self.states(meeting)[bob], "accepted")
        # the answer reaches Alice's calendar
        self.mail(B, A)
        self.assertEqual(A.answers(alice, uid)[bob], "accepted")
        acc_a._sync()
        acc_b._sync()
        self.assertEqual(self.states(meeting), {alice: "accepted", bob: "accepted", kim: "needsAction"})

        # 2. Bob answers Maybe in his own calendar
        acc_b._get_provider().respond_event(binding_b.external_id, "tentative")
        self.mail(B, A)
        acc_b._sync()
        self.assertEqual(self.states(meeting)[bob], "tentative")
        acc_a._sync()
        self.assertEqual(self.states(meeting), {alice: "accepted", bob: "tentative", kim: "needsAction"})
        self.assertEqual((A.answers(alice, uid)[bob], B.own(bob, uid)), ("tentative", "tentative"))

        # 3. Kim, outside, declines: her reply reaches Alice's calendar
        A.reply(alice, uid, kim, "declined")
        acc_a._sync()
        self.assertEqual(self.states(meeting)[kim], "declined")
        acc_b._sync()  # Bob's copy does not know Kim's answer: it does not change it
        self.assertEqual(self.states(meeting), {alice: "accepted", bob: "tentative", kim: "declined"})

        # 4. Alice moves the meeting in Odoo; the update reaches Bob's calendar
        later = meeting.start + dt.timedelta(days=1)
        meeting.with_user(self.alice).write({"start": later, "stop": later + dt.timedelta(hours=1)})
        self.push()
        self.assertEqual(A.start(alice, uid), later.replace(tzinfo=UTC))
        B.deliver_update(bob, uid, later.replace(tzinfo=UTC), later.replace(tzinfo=UTC) + dt.timedelta(hours=1))
        acc_a._sync()
        acc_b._sync()
        meeting.invalidate_recordset()
        self.assertEqual(meeting.start, later)
        self.assertEqual(B.start(bob, uid), later.replace(tzinfo=UTC))
        self.assertEqual(self.states(meeting), {alice: "accepted", bob: "tentative", kim: "declined"})
        self.assertEqual(A.answers(alice, uid)[bob], "tentative")
        self.assertEqual(A.answers(alice, uid)[kim], "declined")
        self.assertEqual(B.own(bob, uid), "tentative")
        self.assertEqual(len(meeting.sudo().sync_binding_ids), 2)

    def test_scenario_google_organiser_microsoft_guest(self):
        self.scenario("google", "microsoft")

    def test_scenario_microsoft_organiser_exchange_guest(self):
        self.scenario("microsoft", "exchange")

    def test_scenario_exchange_organiser_google_guest(self):
        self.scenario("exchange", "google")

    # -- one service for both: the service itself tells the organiser -------------------
    def test_microsoft_guest_sync_keeps_the_answers_his_copy_lists_as_none(self):
        acc_a = self.subscribe(self.alice, "microsoft")
        acc_b = self.subscribe(self.bob, "microsoft")
        meeting = self.book().sudo()
        meeting.with_user(self.alice).action_save_and_send_invitation()
        self.push()
        uid = meeting.sync_binding_ids.ical_uid
        side = self.sides["microsoft"]
        side.reply(self.alice.email, uid, self.kim.email, "accepted")
        acc_a._sync()
        self.assertEqual(self.states(meeting)[self.kim.email], "accepted")
        # Bob's copy lists every attendee as "none"; his sync binds it and changes no one's answer
        acc_b._sync()
        self.assertEqual(len(meeting.sudo().sync_binding_ids), 2)
        self.assertEqual(side.copy_of(self.bob.email, uid)["attendees"][0]["status"]["response"], "none")
        self.assertEqual(
            self.states(meeting),
            {self.alice.email: "accepted", self.bob.email: "needsAction", self.kim.email: "accepted"},
        )
        # Alice renames the meeting in Odoo: her event changes, and so does Bob's copy (which lists
        # everyone as "none"); neither of their syncs changes anyone's answer
        meeting.with_user(self.alice).write({"name": "Offer review, v2"})
        self.push()
        self.assertEqual(side.copy_of(self.bob.email, uid)["subject"], "Offer review, v2")
        acc_b._sync()
        acc_a._sync()
        self.assertEqual(
            self.states(meeting),
            {self.alice.email: "accepted", self.bob.email: "needsAction", self.kim.email: "accepted"},
        )
        # Bob declines in Odoo: Graph's decline on his copy, and Alice's event shows it
        meeting.attendee_ids.filtered(lambda a: a.partner_id == self.bob.partner_id).with_user(self.bob).do_decline()
        self.push()
        posts = [p for m, p, _q in self.graph.log if m == "POST" and p.endswith("/decline")]
        self.assertEqual(len(posts), 1)
        self.assertEqual(side.own(self.bob.email, uid), "declined")
        self.assertEqual(side.answers(self.alice.email, uid)[self.bob.email], "declined")
        # his copy changed (and lists everyone as "none" still): the answers stay
        acc_b._sync()
        acc_a._sync()
        self.assertEqual(
            self.states(meeting),
            {self.alice.email: "accepted", self.bob.email: "declined", self.kim.email: "accepted"},
        )

    def test_answer_on_a_meeting_organised_outside_odoo(self):
        """Olga, outside, organises; Bob's copy is the only one Odoo reads. His answer in Odoo
        goes to Olga as a reply, and his copy stays the authority for it."""
        olga = "olga@else.test"
        for provider in ("google", "microsoft", "exchange"):
            # a failing provider leaves nothing behind for the next one
            with self.subTest(provider=provider), self.env.cr.savepoint():
                side = self.sides[provider]
                acc_b = self.subscribe(self.bob, provider)
                uid = f"outside-{provider}@else.test"
                start = NOW + dt.timedelta(days=5)
                side.deliver(
                    self.bob.email,
                    uid,
                    f"Visit {provider}",
                    start,
                    start + dt.timedelta(hours=1),
                    olga,
                    [self.bob.email],
                )
                acc_b._sync()
                meeting = self.env["calendar.event"].search([("name", "=", f"Visit {provider}")])
                self.assertEqual(self.states(meeting)[self.bob.email], "needsAction")
                meeting.attendee_ids.filtered(lambda a: a.partner_id == self.bob.partner_id).with_user(
                    self.bob
                ).do_tentative()
                self.push()
                self.assertEqual(side.own(self.bob.email, uid), "tentative")
                self.assertEqual(side.take_replies(), [(olga, uid, self.bob.email, "tentative")])
                # Olga moves it: the update keeps Bob's answer, in his copy and in Odoo
                side.deliver_update(self.bob.email, uid, start + dt.timedelta(hours=2), start + dt.timedelta(hours=3))
                acc_b._sync()
                self.assertEqual(meeting.start, (start + dt.timedelta(hours=2)).replace(tzinfo=None))
                self.assertEqual(self.states(meeting)[self.bob.email], "tentative")
                acc_b.unlink()

    def test_a_copy_answered_before_the_first_sync_brings_its_owner_answer(self):
        """Bob accepted in his own calendar before it was subscribed: the copy's own answer (kept
        apart from the attendees, which it lists without answers) is his answer in Odoo."""
        olga = "olga@else.test"
        for provider in ("microsoft", "exchange"):
            # a failing provider leaves nothing behind for the next one
            with self.subTest(provider=provider), self.env.cr.savepoint():
                side = self.sides[provider]
                uid = f"early-{provider}@else.test"
                start = NOW + dt.timedelta(days=6)
                if provider == "exchange":
                    self.ews.add_mailbox(self.bob.email, f"{self.bob.login}-pw")
                end = start + dt.timedelta(hours=1)
                side.deliver(self.bob.email, uid, f"Early {provider}", start, end, olga, [self.bob.email])
                copy = side.copy_of(self.bob.email, uid)
                if provider == "exchange":
                    self.ews.update_item(self.bob.email, copy["id"], my_response="Accept")
                else:
                    with self.graph.lock:
                        stored = self.graph.mailboxes[self.bob.email][copy["id"]]
                        stored["responseStatus"] = {"response": "accepted", "time": "2026-01-01T00:00:00Z"}
                        self.graph._stamp(stored)
                if provider == "exchange":
                    # the mailbox exists already: subscribe without adding it again
                    acc_b = (
                        self.env["calendar.sync.account"]
                        .with_user(self.bob)
                        .create(
                            {
                                "provider": "exchange",
                                "email": self.bob.email,
                                "ews_url": self.ews.url,
                                "password": f"{self.bob.login}-pw",
                            }
                        )
                        .sudo()
                    )
                    acc_b.action_subscribe()
                else:
                    acc_b = self.subscribe(self.bob, provider)
                acc_b._sync()
                meeting = self.env["calendar.event"].search([("name", "=", f"Early {provider}")])
                self.assertEqual(self.states(meeting)[self.bob.email], "accepted")
                acc_b.unlink()

    def test_organiser_change_written_over_a_reply_keeps_the_reply(self):
        """Kim's reply reached Alice's calendar after its last sync; Alice then moves the meeting
        in Odoo. The write meets a newer version (the reply): it keeps Kim's answer, in Alice's
        calendar and in Odoo."""
        for provider in ("google", "microsoft", "exchange"):
            # a failing provider leaves nothing behind for the next one
            with self.subTest(provider=provider), self.env.cr.savepoint():
                side = self.sides[provider]
                acc_a = self.subscribe(self.alice, provider)
                meeting = self.book().sudo()
                meeting.with_user(self.alice).action_save_and_send_invitation()
                self.push()
                uid = meeting.sync_binding_ids.ical_uid
                side.reply(self.alice.email, uid, self.kim.email, "declined")
                later = meeting.start + dt.timedelta(hours=2)
                meeting.with_user(self.alice).write({"start": later, "stop": later + dt.timedelta(hours=1)})
                self.push()
                self.assertEqual(side.start(self.alice.email, uid), later.replace(tzinfo=UTC))
                self.assertEqual(side.answers(self.alice.email, uid)[self.kim.email], "declined")
                acc_a._sync()
                self.assertEqual(self.states(meeting)[self.kim.email], "declined")
                meeting.with_context(calendar_sync_from_remote=True).unlink()
                acc_a.unlink()

    def test_organiser_change_keeps_a_guest_answer_not_yet_read(self):
        """Bob (Microsoft 365) answers Maybe in Outlook; his reply reaches Alice's calendar (Google,
        then Exchange) before any sync reads it, and Alice moves the meeting in Odoo, where Bob's
        answer is still Yes. Alice's calendar keeps Bob's newer answer, and so does Odoo."""
        acc_b = self.subscribe(self.bob, "microsoft")
        B = self.sides["microsoft"]
        alice, bob = self.alice.email, self.bob.email
        for provider in ("google", "exchange"):
            # a failing provider leaves nothing behind for the next one
            with self.subTest(provider=provider), self.env.cr.savepoint():
                A = self.sides[provider]
                acc_a = self.subscribe(self.alice, provider)
                meeting = self.book().sudo()
                meeting.with_user(self.alice).action_save_and_send_invitation()
                self.push()
                uid = meeting.sync_binding_ids.ical_uid
                start = A.start(alice, uid)
                B.deliver(bob, uid, "Offer review", start, start + dt.timedelta(hours=1), alice, [bob, self.kim.email])
                acc_b._sync()
                meeting.attendee_ids.filtered(lambda a: a.partner_id == self.bob.partner_id).with_user(
                    self.bob
                ).do_accept()
                self.push()
                self.mail(B, A)
                acc_a._sync()
                self.assertEqual(A.answers(alice, uid)[bob], "accepted")
                # Maybe in Outlook; the reply reaches Alice's calendar; nothing is read yet
                binding_b = meeting.sync_binding_ids.filtered(lambda b: b.account_id == acc_b)
                acc_b._get_provider().respond_event(binding_b.external_id, "tentative")
                self.mail(B, A)
                later = meeting.start + dt.timedelta(hours=3)
                meeting.with_user(self.alice).write({"start": later, "stop": later + dt.timedelta(hours=1)})
                self.push()
                self.assertEqual(A.start(alice, uid), later.replace(tzinfo=UTC))
                self.assertEqual(A.answers(alice, uid)[bob], "tentative")
                acc_a._sync()
                acc_b._sync()
                self.assertEqual(self.states(meeting)[bob], "tentative")
                self.assertEqual(A.answers(alice, uid)[bob], "tentative")
                meeting.with_context(calendar_sync_from_remote=True).unlink()
                acc_a.unlink()
