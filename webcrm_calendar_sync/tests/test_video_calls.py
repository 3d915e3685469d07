"""Online meeting links (issue 23): 'Add video call' while booking asks the organiser's calendar
for one (Google Meet, Microsoft Teams) after the save commits, as every write; the link comes back
with the write's answer into the meeting's video call field and its meeting text. Meetings made at
the provider with a link show it. Exchange keeps Odoo's own video call."""

import datetime as dt

from .common import NOW, UTC, FakeGoogleCase, FakeGraphCase


def _start():
    return (NOW + dt.timedelta(days=3)).replace(tzinfo=None)


class VideoCallCase:
    def book(self, **vals):
        start = _start()
        customer = self.env["res.partner"].create({"name": "Kim Customer", "email": "kim@client.test"})
        return (
            self.env["calendar.event"]
            .with_user(self.alice)
            .create(
                {
                    "name": "Demo",
                    "start": start,
                    "stop": start + dt.timedelta(hours=1),
                    "partner_ids": [(6, 0, [self.alice.partner_id.id, customer.id])],
                    **vals,
                }
            )
        )

    def text_template(self):
        return self.env.ref("webcrm_calendar_sync.mail_template_meeting_text")


class TestGoogleVideoCall(VideoCallCase, FakeGoogleCase):
    def test_add_video_call_while_booking_makes_a_meet_link_shown_in_odoo_and_the_text(self):
        self.subscribe(self.alice)
        event = self.book(text_template_id=self.text_template().id)
        event.with_user(self.alice).action_apply_text_template()
        self.assertEqual(event.synced_video_call_provider, "google")
        self.assertFalse(event.videocall_location)
        event.with_user(self.alice).write({"synced_video_call": True})
        self.assertEqual(self.server.events_of("alice@example.com"), [])  # asked after commit
        self.push()
        (stored,) = self.server.events_of("alice@example.com")
        link = stored["hangoutLink"]
        self.assertTrue(link.startswith("https://meet.google.com/"))
        self.assertEqual(event.videocall_location, link)
        # the meeting text the user has not edited shows the link, in Odoo and then in Google
        self.assertIn(link, event.description)
        self.push()
        (stored,) = self.server.events_of("alice@example.com")
        self.assertIn(link, stored["description"])
        self.assertEqual(stored["hangoutLink"], link)  # the same conference, not a new one

    def test_a_conference_google_is_still_making_shows_its_link_with_a_later_sync(self):
        account = self.subscribe(self.alice)
        self.server.meet_pending = True
        try:
            event = self.book(synced_video_call=True)
            self.push()
            self.assertFalse(event.videocall_location)  # Google answered "pending"
            self.assertEqual(event.synced_video_call_note[:26], "Google makes the Meet link")
            self.server.finish_conferences()
            account._sync()
        finally:
            self.server.meet_pending = False
        (stored,) = self.server.events_of("alice@example.com")
        self.assertEqual(event.videocall_location, stored["hangoutLink"])
        self.assertFalse(event.synced_video_call_note)

    def test_meeting_made_in_google_with_a_meet_link_shows_it(self):
        account = self.subscribe(self.alice)
        start = NOW + dt.timedelta(days=2)
        self.server.add_event(
            "alice@example.com",
            {
                "summary": "Made in Google",
                "start": {"dateTime": start.astimezone(UTC).isoformat()},
                "end": {"dateTime": (start + dt.timedelta(hours=1)).astimezone(UTC).isoformat()},
                "hangoutLink": "https://meet.google.com/abc-defg-hij",
                "conferenceData": {
                    "entryPoints": [{"entryPointType": "video", "uri": "https://meet.google.com/abc-defg-hij"}]
                },
            },
        )
        account._sync()
        event = self.env["calendar.event"].search([("name", "=", "Made in Google")])
        self.assertEqual(event.videocall_location, "https://meet.google.com/abc-defg-hij")

    def test_exchange_organiser_keeps_odoos_own_video_call(self):
        self.make_account(self.bob, provider="exchange", state="synced")
        start = _start()
        event = self.env["calendar.event"].new(
            {"name": "x", "start": start, "stop": start + dt.timedelta(hours=1), "user_id": self.bob.id}
        )
        self.assertFalse(event.synced_video_call_provider)
        event = self.env["calendar.event"].new(
            {"name": "x", "start": start, "stop": start + dt.timedelta(hours=1), "user_id": self.carol.id}
        )
        self.assertFalse(event.synced_video_call_provider)


class TestGraphVideoCall(VideoCallCase, FakeGraphCase):
    def test_add_video_call_while_booking_makes_a_teams_meeting(self):
        self.subscribe(self.alice)
        event = self.book(synced_video_call=True)
        self.assertEqual(event.synced_video_call_provider, "microsoft")
        self.push()
        (stored,) = self.server.events_of("alice@example.com")
        self.assertTrue(stored["isOnlineMeeting"])
        link = stored["onlineMeeting"]["joinUrl"]
        self.assertTrue(link.startswith("https://teams.microsoft.com/l/meetup-join/"))
        self.assertEqual(event.videocall_location, link)

    def test_meeting_made_in_outlook_as_a_teams_meeting_shows_its_link(self):
        account = self.subscribe(self.alice)
        start = NOW + dt.timedelta(days=2)
        self.server.add_event(
            "alice@example.com",
            {
                "subject": "Made in Outlook",
                "start": {"dateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
                "end": {
                    "dateTime": (start + dt.timedelta(hours=1)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "timeZone": "UTC",
                },
                "isOnlineMeeting": True,
                "onlineMeetingProvider": "teamsForBusiness",
            },
        )
        (stored,) = self.server.events_of("alice@example.com")
        account._sync()
        event = self.env["calendar.event"].search([("name", "=", "Made in Outlook")])
        self.assertEqual(event.videocall_location, stored["onlineMeeting"]["joinUrl"])


class TestGoogleVideoCallInput(VideoCallCase, FakeGoogleCase):
    def test_a_link_that_is_not_a_web_address_is_never_taken(self):
        # the link comes from whoever made the meeting (an outside organiser too): only an
        # https address becomes the meeting's video call (its 'Join' button opens it)
        account = self.subscribe(self.alice)
        start = NOW + dt.timedelta(days=2)
        for title, uri in (("Script", "javascript:alert(document.cookie)"), ("Plain", "http://meet.example/x y")):
            self.server.add_event(
                "alice@example.com",
                {
                    "summary": title,
                    "start": {"dateTime": start.astimezone(UTC).isoformat()},
                    "end": {"dateTime": (start + dt.timedelta(hours=1)).astimezone(UTC).isoformat()},
                    "conferenceData": {"entryPoints": [{"entryPointType": "video", "uri": uri}]},
                },
            )
        account._sync()
        events = self.env["calendar.event"].search([("name", "in", ("Script", "Plain"))])
        self.assertEqual(len(events), 2)
        self.assertEqual(events.mapped("videocall_location"), [False, False])
