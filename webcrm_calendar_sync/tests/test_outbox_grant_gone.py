"""The outbox at the edges of access and existence, per provider over the fakes.

* A write refused because the grant was revoked (Google / Microsoft ``invalid_grant``, an Exchange
  password refused) waits for the new grant and goes out once the calendar is subscribed again.
* A write answered "not found" (Google 404, Graph 404 ``ErrorItemNotFound``, EWS
  ``ErrorItemNotFound``) means the event is gone from that calendar: the binding is settled as a
  removal there and the meeting says so, never a lasting error.
"""

import datetime as dt
import urllib.parse

import requests

from .common import BOB, NOW, FakeEWSCase, FakeGoogleCase, FakeGraphCase


class _OutboxEdges:
    """The same story on each provider; the subclasses say how the provider is driven."""

    def meeting(self, name="Planning", user=None, guests=()):
        user = user or self.alice
        return (
            self.env["calendar.event"]
            .with_user(user)
            .create(
                {
                    "name": name,
                    "start": (NOW + dt.timedelta(days=2)).replace(tzinfo=None),
                    "stop": (NOW + dt.timedelta(days=2, hours=1)).replace(tzinfo=None),
                    "partner_ids": [(6, 0, [user.partner_id.id, *[g.id for g in guests]])],
                }
            )
        )

    def consent_again(self, account, provider, verify=True):
        """``account``'s owner going through ``provider``'s consent again, as the browser does."""
        Account = self.env["calendar.sync.account"].with_user(account.user_id)
        session = {}
        action = getattr(account.with_user(account.user_id), f"_subscribe_{provider}")(session=session)
        answer = requests.get(action["url"], allow_redirects=False, verify=verify, timeout=10)
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
        Account._oauth_finish(provider, params, session)
        self.assertEqual(account.state, "subscribed", account.last_error)

    def push_cron_triggers(self):
        cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync_push")
        return set(self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)]).ids)

    # -- item 4 ----------------------------------------------------------------
    def test_a_write_refused_for_a_revoked_grant_goes_out_after_the_new_grant(self):
        account = self.subscribe(self.alice)
        event = self.meeting()
        self.push()
        binding = event.sync_binding_ids
        self.assertEqual(binding.state, "synced", binding.last_error)
        self.assertEqual(self.titles(self.alice), ["Planning"])

        self.revoke(account)
        event.with_user(self.alice).write({"name": "Planning (moved)"})
        self.push()
        # the outbox met the revoked grant first: the account asks for a new grant, the write waits
        self.assertTrue(account.needs_reauth)
        self.assertEqual(binding.state, "to_push")
        self.assertEqual(event.sync_push_state, "waiting")
        self.assertIn("subscribed again", event.sync_push_message)
        self.assertEqual(self.titles(self.alice), ["Planning"])
        # nothing goes out meanwhile, however often the job runs
        self.push()
        self.assertEqual(binding.state, "to_push")
        self.assertEqual(binding.push_attempts, 0)

        triggers = self.push_cron_triggers()
        self.subscribe_again(account)
        self.assertFalse(account.needs_reauth)
        self.assertTrue(self.push_cron_triggers() - triggers, "the push job was woken")
        self.push()
        self.assertEqual(binding.state, "synced", binding.last_error)
        self.assertFalse(event.sync_push_state)
        self.assertEqual(self.titles(self.alice), ["Planning (moved)"])

    def test_a_removal_refused_for_a_revoked_grant_goes_out_after_the_new_grant(self):
        account = self.subscribe(self.alice)
        event = self.meeting("Dropped")
        self.push()
        self.assertEqual(self.titles(self.alice), ["Dropped"])
        self.revoke(account)
        binding = event.sync_binding_ids
        event.with_user(self.alice).unlink()
        self.push()
        self.assertEqual(binding.state, "to_delete")
        self.subscribe_again(account)
        self.push()
        self.assertFalse(binding.exists())
        self.assertEqual(self.titles(self.alice), [])

    # -- item 5 ----------------------------------------------------------------
    def test_a_guest_edit_of_a_meeting_gone_at_the_organiser_settles_as_a_removal(self):
        alice_acc = self.subscribe(self.alice)
        self.subscribe(self.bob)
        event = self.meeting("Review", guests=[self.bob.partner_id])
        self.push()
        organiser = event.sync_binding_ids.filtered(lambda b: b.account_id == alice_acc)
        self.assertEqual(organiser.state, "synced", organiser.last_error)
        # gone from the organiser's calendar before any sync of hers saw it
        self.remove_at_server(self.alice, organiser.external_id)
        event.with_user(self.bob).write({"location": "Room 2"})
        self.push()
        # settled as a removal at that calendar: no binding left in error, the meeting says so
        self.assertFalse(organiser.exists())
        self.assertFalse(event.sync_binding_ids.filtered(lambda b: b.state == "error"))
        self.assertFalse(event.sync_push_state)
        self.assertFalse(event.active, "no calendar holds the meeting any more")
        logged = event.message_ids.mapped("body")
        self.assertTrue(any("no longer exists in the calendar of Alice" in str(body) for body in logged), logged)
        # a full resync of the organiser's calendar brings no error back
        alice_acc._sync(full=True)
        self.assertFalse(self.env["calendar.sync.binding"].search([("state", "=", "error")]))

    def test_gone_at_the_organiser_while_a_guests_calendar_holds_it(self):
        alice_acc = self.subscribe(self.alice)
        bob_acc = self.subscribe(self.bob)
        event = self.meeting("Review", guests=[self.bob.partner_id])
        event.with_user(self.alice).action_save_and_send_invitation()
        self.push()
        organiser = event.sync_binding_ids.filtered(lambda b: b.account_id == alice_acc)
        self.deliver_copy(organiser)
        bob_acc._sync()
        guest = event.sync_binding_ids.filtered(lambda b: b.account_id == bob_acc)
        self.assertTrue(guest)
        self.remove_at_server(self.alice, organiser.external_id)
        event.with_user(self.bob).write({"location": "Room 2"})
        self.push()
        # a removal at the organiser's calendar only: Bob's calendar still holds the meeting
        self.assertFalse(organiser.exists())
        self.assertTrue(event.active)
        self.assertEqual(event.sync_binding_ids, guest)
        self.assertFalse(event.sync_push_state)
        logged = [str(body) for body in event.message_ids.mapped("body")]
        self.assertTrue(any("The other calendars keep it" in body for body in logged), logged)


class TestOutboxEdgesGoogle(_OutboxEdges, FakeGoogleCase):
    def setUp(self):
        super().setUp()
        self.server.add_user(BOB)

    def titles(self, user):
        return self.subjects(user)

    def revoke(self, account):
        self.server.revoke(account.email)
        self.server.expire_access_tokens()

    def subscribe_again(self, account):
        self.consent_again(account, "google")

    def deliver_copy(self, binding):
        pass  # Google made Bob's copy when Alice invited him

    def remove_at_server(self, user, external_id):
        # an event Google no longer has at all (deleted and purged, or never there): GET/PATCH answer 404
        with self.server.lock:
            del self.server.calendars[user.email][external_id]


class TestOutboxEdgesGraph(_OutboxEdges, FakeGraphCase):
    def titles(self, user):
        return self.subjects(user)

    def revoke(self, account):
        self.server.revoke(account.email)
        # the access token msal keeps is dropped too (as once it expires): the refresh meets the revocation
        cache = account._get_credentials()[0]
        cache["AccessToken"] = {}
        account._set_credentials(token_data=cache)

    def subscribe_again(self, account):
        self.consent_again(account, "microsoft", verify=self.server.ca_file)

    def deliver_copy(self, binding):
        pass  # Graph made Bob's copy when Alice invited him

    def remove_at_server(self, user, external_id):
        self.server._remove(user.email, external_id)


class TestOutboxEdgesExchange(_OutboxEdges, FakeEWSCase):
    def setUp(self):
        super().setUp()
        self.server.add_mailbox(BOB, "bob-pw")

    def titles(self, user):
        return self.subjects(user)

    def revoke(self, account):
        # the password was changed on the server: Exchange refuses the stored one
        self.server.set_password(account.email, "changed-pw")

    def subscribe_again(self, account):
        account.with_user(account.user_id).write({"password": "changed-pw"})
        account.with_user(account.user_id).action_subscribe()
        self.assertEqual(account.state, "subscribed", account.last_error)

    def deliver_copy(self, binding):
        self.deliver_invitation(binding.ical_uid)

    def remove_at_server(self, user, external_id):
        self.server.remove_item(user.email, external_id)
