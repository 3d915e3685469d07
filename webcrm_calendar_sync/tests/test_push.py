"""Push notifications end to end: the fake services call the Odoo test server's routes.

A change in the fake Google or Graph calendar -> the fake POSTs a notification to
/webcrm_calendar_sync/notify/<provider> on the test server -> the account is due and the
scheduled sync woken -> the scheduled sync brings the meeting in. The fakes hold their
notifications until the test delivers them (``notifier.deliver()``): the test thread then
waits while the server thread answers, so the two never use the test cursor at once.
"""

import contextlib
import datetime as dt
import json
import re
import secrets
import threading
import urllib.parse
import uuid
from contextlib import closing
from time import monotonic
from unittest.mock import patch

import requests
from psycopg2.errors import LockNotAvailable

import odoo
from odoo import SUPERUSER_ID, api, fields
from odoo.exceptions import AccessError
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, HttpCase, tagged
from odoo.tests.common import get_db_name

from ..controllers import webhook
from ..engine import errors as sync_errors
from ..engine.events import Window
from .common import CalendarSyncCase, start_fake_google, start_fake_graph
from .test_google import gbody
from .test_microsoft import mbody

UTC = dt.timezone.utc
NOW = dt.datetime.now(UTC).replace(minute=0, second=0, microsecond=0)


class PushCase(HttpCase, CalendarSyncCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cron = cls.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync")

    def setUp(self):
        super().setUp()
        self.set_param("push_base_url", self.base_url())
        self.patch_window(Window(NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=200)))

    def set_param(self, key, value):
        self.env["ir.config_parameter"].sudo().set_param(f"webcrm_calendar_sync.{key}", value)

    def triggers(self):
        return self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", self.cron.id)])

    def not_due(self, account):
        """As after a regular sync: due again in an interval."""
        account.sudo().write({"next_sync_date": fields.Datetime.now() + dt.timedelta(minutes=8)})
        self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", self.cron.id)]).unlink()

    def is_due(self, account):
        account.invalidate_recordset(["next_sync_date"])
        return account.next_sync_date <= fields.Datetime.now()

    def deliver(self):
        """The fake sends its notifications now (the test's writes are in the database first)."""
        self.env.flush_all()
        statuses = self.server.notifier.deliver()
        self.env.invalidate_all()
        return statuses

    def url_open(self, *args, **kwargs):
        self.env.flush_all()
        answer = super().url_open(*args, **kwargs)
        self.env.invalidate_all()
        return answer

    def http_post(self, path, data, headers):
        """A POST even with an empty body (url_open makes that a GET)."""
        self.env.flush_all()
        answer = self.opener.post(self.base_url() + path, data=data, headers=headers, timeout=12)
        self.env.invalidate_all()
        return answer

    def meetings(self, account):
        return self.env["calendar.event"].search([("sync_binding_ids.account_id", "=", account.id)])

    def closes(self):
        """The channels waiting to be closed (the queue only server code reads)."""
        return self.env["calendar.sync.push.close"].sudo().search([])

    def run_job(self):
        self.env["calendar.sync.account"]._cron_sync()
        self.env.invalidate_all()

    def assert_queue_is_closed_to_users(self, admin):
        for user in (self.alice, admin):
            Close = self.env["calendar.sync.push.close"].with_user(user)
            with self.assertRaises(AccessError):
                Close.search_read([], ["token_data", "channel_id"])
            with self.assertRaises(AccessError):
                Close.browse(self.closes().ids).read(["token_data"])


class TestGooglePush(PushCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the test server is plain http on 127.0.0.1; the test delivers the notifications
        cls.server = start_fake_google(cls, push_allow_http=True)
        cls.server.notifier.hold = True

    def setUp(self):
        super().setUp()
        self.server.calendars.clear()
        self.server.channels.clear()
        self.server.log.clear()  # requests of this test only
        self.server.notifier.clear()
        self.server.add_user("alice@example.com")

    def subscribe(self, user):
        account = self.env["calendar.sync.account"].with_user(user).create({"provider": "google"})
        session = {}
        action = account._subscribe_google(session=session)
        answer = requests.get(action["url"], allow_redirects=False, timeout=10)
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
        self.env["calendar.sync.account"].with_user(user)._oauth_finish("google", params, session)
        self.assertEqual(account.state, "subscribed")
        return account

    def post(self, headers):
        return self.http_post("/webcrm_calendar_sync/notify/google", b"", headers)

    def headers_of(self, account, number, state="exists", **override):
        account = account.sudo()
        token = self.env["calendar.sync.credential"].sudo().search([("account_id", "=", account.id)]).push_token
        headers = {
            "X-Goog-Channel-ID": account.push_channel_id,
            "X-Goog-Channel-Token": token,
            "X-Goog-Resource-ID": account.push_resource_id,
            "X-Goog-Resource-State": state,
            "X-Goog-Message-Number": str(number),
        }
        headers.update(override)
        return headers

    def test_change_in_google_reaches_odoo_through_the_notification(self):
        account = self.subscribe(self.alice)
        # subscribing opened a watch channel towards this server's route
        self.assertEqual(len(self.server.channels), 1)
        channel_id, channel = next(iter(self.server.channels.items()))
        self.assertEqual(account.sudo().push_channel_id, channel_id)
        # the address names the database (the server may serve several)
        self.assertEqual(
            channel["address"], f"{self.base_url()}/webcrm_calendar_sync/notify/google/{self.env.cr.dbname}"
        )
        self.assertGreater(account.push_expiration_date, fields.Datetime.now() + dt.timedelta(days=6))
        account._sync(raise_errors=False)
        self.not_due(account)
        self.server.add_event("alice@example.com", gbody("Pushed demo", NOW + dt.timedelta(days=2)))
        self.assertFalse(self.meetings(account))
        # Google sends "sync" (the channel opened) then "exists" (the change), to the Odoo route
        statuses = self.deliver()
        self.assertEqual(statuses, [200, 200])
        self.assertEqual([m["headers"]["X-Goog-Resource-State"] for m in self.server.notifier.sent], ["sync", "exists"])
        self.assertTrue(self.is_due(account))
        self.assertEqual(self.triggers(), 1, "the scheduled sync is woken")
        self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(self.meetings(account).mapped("name"), ["Pushed demo"])

    def test_sync_message_alone_queues_nothing(self):
        account = self.subscribe(self.alice)
        self.not_due(account)
        self.assertEqual(self.deliver(), [200])
        self.assertFalse(self.is_due(account))
        self.assertEqual(self.triggers(), 0)

    def test_forged_wrong_id_replayed_and_unknown_do_nothing(self):
        account = self.subscribe(self.alice)
        self.deliver()  # the "sync" message, number 1
        self.not_due(account)
        requests_before = self.server.requests
        for headers in (
            self.headers_of(account, 5, **{"X-Goog-Channel-Token": "forged"}),
            self.headers_of(account, 5, **{"X-Goog-Channel-Token": ""}),
            self.headers_of(account, 5, **{"X-Goog-Resource-ID": "someone-else"}),
            self.headers_of(account, 5, **{"X-Goog-Channel-ID": "unknown-channel"}),
            self.headers_of(account, 1),  # the number of the message already seen: a replay
        ):
            self.assertEqual(self.post(headers).status_code, 200)
            self.assertFalse(self.is_due(account), headers)
        # not a number Google sends: malformed (see test_push_input.py)
        self.assertEqual(self.post(self.headers_of(account, 5, **{"X-Goog-Message-Number": "five"})).status_code, 400)
        self.assertFalse(self.is_due(account))
        self.assertEqual(self.triggers(), 0)
        self.assertEqual(self.server.requests, requests_before, "no call to Google")
        # a genuine message at an address naming another database than this server's: not here
        for dbname in ("another-db", "x" * 80):
            path = f"/webcrm_calendar_sync/notify/google/{dbname}"
            self.assertEqual(self.http_post(path, b"", self.headers_of(account, 2)).status_code, 404)
            self.assertFalse(self.is_due(account))
        # the genuine message is taken, and the same message again is a replay
        self.assertEqual(self.post(self.headers_of(account, 2)).status_code, 200)
        self.assertTrue(self.is_due(account))
        self.not_due(account)
        self.assertEqual(self.post(self.headers_of(account, 2)).status_code, 200)
        self.assertFalse(self.is_due(account))
        self.assertEqual(self.server.requests, requests_before)

    def test_a_refused_notification_costs_one_query(self):
        account = self.subscribe(self.alice)
        Account = self.env["calendar.sync.account"]
        headers = self.headers_of(account, 9)
        self.env.flush_all()
        with self.assertQueryCount(1):
            result = Account._push_receive("google", "unknown", "x", resource_id="y", message_number=9)
        self.assertEqual(result, "ignored")
        with self.assertQueryCount(1):
            result = Account._push_receive(
                "google",
                headers["X-Goog-Channel-ID"],
                "forged",
                resource_id=headers["X-Goog-Resource-ID"],
                message_number=9,
            )
        self.assertEqual(result, "ignored")
        # a genuine one: the SELECT, the UPDATE that makes the account due (in a savepoint with a
        # lock timeout: two round trips around it), and the cron's trigger (five)
        self.not_due(account)
        self.env.flush_all()
        with self.assertQueryCount(9):
            result = Account._push_receive(
                "google",
                headers["X-Goog-Channel-ID"],
                headers["X-Goog-Channel-Token"],
                resource_id=headers["X-Goog-Resource-ID"],
                message_number=9,
            )
        self.assertEqual(result, "queued")

    def test_account_being_synced_is_answered_busy_and_kept_for_the_redelivery(self):
        account = self.subscribe(self.alice)
        self.deliver()
        self.not_due(account)
        self.env.flush_all()
        headers = self.headers_of(account, 2)
        cr = self.env.cr
        execute = type(cr).execute

        def locked(cursor, query, params=None, log_exceptions=True):
            # what PostgreSQL answers after the lock timeout while a sync holds the row
            if "UPDATE calendar_sync_account a" in str(query):
                raise LockNotAvailable()
            return execute(cursor, query, params, log_exceptions)

        with patch.object(type(cr), "execute", locked):
            result = self.env["calendar.sync.account"]._push_receive(
                "google",
                headers["X-Goog-Channel-ID"],
                headers["X-Goog-Channel-Token"],
                resource_id=headers["X-Goog-Resource-ID"],
                message_number=2,
            )
        self.assertEqual(result, "busy")
        self.assertFalse(self.is_due(account))
        self.assertEqual(self.triggers(), 0)
        # the transaction goes on, and the same message, sent again once the sync is over, is taken
        self.assertEqual(self.post(headers).status_code, 200)
        self.assertTrue(self.is_due(account))

    def test_backing_off_account_keeps_its_next_try(self):
        account = self.subscribe(self.alice)
        self.deliver()
        later = fields.Datetime.now() + dt.timedelta(minutes=30)
        account.sudo().write({"sync_failures": 3, "next_sync_date": later, "state": "error"})
        self.not_due(account)  # the wake-up subscribing asked for is gone
        account.sudo().write({"next_sync_date": later})
        self.assertEqual(self.post(self.headers_of(account, 2)).status_code, 200)
        account.invalidate_recordset(["next_sync_date"])
        self.assertEqual(account.next_sync_date, later)
        self.assertEqual(self.triggers(), 0)

    def test_channel_renewed_before_it_ends_by_the_scheduled_sync(self):
        account = self.subscribe(self.alice)
        old_id = account.sudo().push_channel_id
        watches = len([p for _m, p, _q in self.server.log if p.endswith("/watch")])
        # far from its end: the scheduled sync leaves it alone (no watch request)
        self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(account.sudo().push_channel_id, old_id)
        self.assertEqual(len([p for _m, p, _q in self.server.log if p.endswith("/watch")]), watches)
        # within a day of its end: a new channel, the old one stopped
        account.sudo().write({"push_expiration_date": fields.Datetime.now() + dt.timedelta(hours=5)})
        account.sudo().write({"next_sync_date": False})
        self.env["calendar.sync.account"]._cron_sync()
        new_id = account.sudo().push_channel_id
        self.assertNotEqual(new_id, old_id)
        self.assertEqual(list(self.server.channels), [new_id])
        self.assertGreater(account.push_expiration_date, fields.Datetime.now() + dt.timedelta(days=6))

    def test_unsubscribe_stops_the_channel(self):
        account = self.subscribe(self.alice)
        self.assertEqual(len(self.server.channels), 1)
        account.with_user(self.alice).action_unsubscribe()
        self.assertEqual(self.server.channels, {})
        self.assertFalse(account.sudo().push_channel_id)
        self.assertFalse(account.push_expiration_date)

    def stops(self):
        return len([p for _m, p, _q in self.server.log if p.endswith("/channels/stop")])

    def test_deleted_account_channel_is_closed_after_the_commit_by_the_job(self):
        account = self.subscribe(self.alice)
        self.deliver()  # the "sync" message
        headers = self.headers_of(account, 2)
        channel_id = account.sudo().push_channel_id
        account.with_user(self.alice).unlink()
        # nothing was asked of Google inside the unlink's transaction
        self.assertEqual(self.stops(), 0)
        self.assertEqual(list(self.server.channels), [channel_id])
        close = self.closes()
        self.assertEqual(close.channel_id, channel_id)
        self.assertEqual(close.resource_id, headers["X-Goog-Resource-ID"])
        self.assertIn("refresh_token", close.token_data)
        self.assert_queue_is_closed_to_users(self.env.ref("base.user_admin"))
        self.assertGreaterEqual(self.triggers(), 1, "the job is woken to close it")
        # a notification of the closing channel does nothing
        self.assertEqual(self.post(headers).status_code, 200)
        self.run_job()
        self.assertEqual(self.stops(), 1)
        self.assertEqual(self.server.channels, {})
        self.assertFalse(self.closes())

    def test_failed_close_is_tried_again_later(self):
        account = self.subscribe(self.alice)
        account.with_user(self.alice).unlink()
        self.server.fail_next(count=4, status=503, retry_after=0)  # every try of the job's call
        self.run_job()
        self.assertEqual(len(self.server.channels), 1, "Google refused: still open")
        close = self.closes()
        self.assertEqual(close.failures, 1)
        self.assertGreater(close.next_try_date, fields.Datetime.now())
        self.run_job()  # not due yet: no new try
        self.assertEqual(self.stops(), 4)
        self.assertEqual(len(self.server.channels), 1)
        close.next_try_date = fields.Datetime.now() - dt.timedelta(seconds=1)
        self.run_job()
        self.assertEqual(self.server.channels, {})
        self.assertFalse(self.closes())

    def test_close_given_up_once_the_channel_ended_by_itself(self):
        account = self.subscribe(self.alice)
        account.with_user(self.alice).unlink()
        self.closes().write({"expiration_date": fields.Datetime.now() - dt.timedelta(seconds=1)})
        self.run_job()
        self.assertFalse(self.closes())
        self.assertEqual(self.stops(), 0, "no call for a channel that is over")

    def test_unsubscribe_without_google_closes_the_channel_later(self):
        account = self.subscribe(self.alice)
        self.server.fail_next(count=4, status=503, retry_after=0)
        account.with_user(self.alice).action_unsubscribe()
        self.assertEqual(len(self.server.channels), 1)
        self.assertFalse(account.sudo().push_channel_id, "its notifications are ignored from now on")
        self.assertEqual(len(self.closes()), 1)
        self.run_job()
        self.assertEqual(self.server.channels, {})

    def test_subscribed_again_closes_the_former_channel(self):
        account = self.subscribe(self.alice)
        old_id = account.sudo().push_channel_id
        self.subscribe_again(account)
        new_id = account.sudo().push_channel_id
        self.assertNotEqual(new_id, old_id)
        self.assertEqual(set(self.server.channels), {old_id, new_id})
        self.run_job()
        self.assertEqual(list(self.server.channels), [new_id])

    def test_closes_taken_in_bounded_batches(self):
        for user in (self.alice, self.bob, self.carol):
            self.server.add_user(user.email)
            self.subscribe(user).with_user(user).unlink()
        self.assertEqual(len(self.server.channels), 3)
        Close = self.env["calendar.sync.push.close"]
        self.assertEqual(Close._cron_close(limit=2), 2)
        self.assertEqual(len(self.server.channels), 1)
        self.assertEqual(len(self.closes()), 1)
        self.assertEqual(Close._cron_close(deadline=0.0), 0, "no time left: none taken")
        self.run_job()
        self.assertEqual(self.server.channels, {})

    def test_provider_changed_closes_the_channel_after_the_commit(self):
        account = self.subscribe(self.alice)
        channel_id = account.sudo().push_channel_id
        account.with_user(self.alice).write({"provider": "microsoft"})
        self.assertEqual(self.stops(), 0)
        self.assertEqual(list(self.server.channels), [channel_id])
        self.assertEqual(account.state, "draft")
        self.run_job()
        self.assertEqual(self.server.channels, {})

    def test_old_channel_not_stopped_at_renewal_is_closed_later(self):
        account = self.subscribe(self.alice)
        old_id = account.sudo().push_channel_id
        account.sudo().write({"push_expiration_date": fields.Datetime.now() + dt.timedelta(hours=5)})
        # channels.stop fails (a "get" for the fake's faults; the sync's listing is a "list")
        self.server.fail_next(count=4, status=503, retry_after=0, on="get")
        account._sync(raise_errors=False)
        new_id = account.sudo().push_channel_id
        self.assertNotEqual(new_id, old_id)
        self.assertEqual(set(self.server.channels), {old_id, new_id})
        self.assertEqual(self.server.faults_left(), 0)
        self.assertEqual(self.closes().channel_id, old_id)
        self.run_job()
        self.assertEqual(list(self.server.channels), [new_id])

    def subscribe_again(self, account):
        session = {}
        action = account.with_user(self.alice)._subscribe_google(session=session)
        answer = requests.get(action["url"], allow_redirects=False, timeout=10)
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
        self.env["calendar.sync.account"].with_user(self.alice)._oauth_finish("google", params, session)

    def synced_by_cron(self, account):
        account.sudo().write({"next_sync_date": False})
        self.env["calendar.sync.account"]._cron_sync()
        account.invalidate_recordset(["next_sync_date"])
        return account.next_sync_date - fields.Datetime.now()

    def test_open_channel_lengthens_the_safety_net_poll(self):
        Account = self.env["calendar.sync.account"]
        interval = Account._cron_interval_seconds()
        self.assertEqual(interval, 600, "the scheduled action's default: every 10 minutes")
        account = self.subscribe(self.alice)
        self.deliver()  # the channel's "sync" message
        # the channel is open: the scheduled sync comes back after about an hour (the default)
        wait = self.synced_by_cron(account)
        self.assertGreater(wait, dt.timedelta(minutes=55))
        self.assertLessEqual(wait, dt.timedelta(minutes=60))
        self.assertFalse(account.is_lagging)
        # a change in Google still makes it due at once
        self.server.add_event("alice@example.com", gbody("Pushed later", NOW + dt.timedelta(days=2)))
        self.assertEqual(self.deliver(), [200])
        self.assertTrue(self.is_due(account))
        Account._cron_sync()
        self.assertEqual(self.meetings(account).mapped("name"), ["Pushed later"])
        # the setting is respected
        self.set_param("push_poll_minutes", "30")
        wait = self.synced_by_cron(account)
        self.assertGreater(wait, dt.timedelta(minutes=25))
        self.assertLessEqual(wait, dt.timedelta(minutes=30))
        # not longer than the scheduled action's interval: the regular interval
        self.set_param("push_poll_minutes", "5")
        self.assertLessEqual(self.synced_by_cron(account), dt.timedelta(seconds=interval))
        self.set_param("push_poll_minutes", "0")
        self.assertLessEqual(self.synced_by_cron(account), dt.timedelta(seconds=interval))

    def test_without_a_channel_the_regular_interval_applies(self):
        self.set_param("push_base_url", "")  # web.base.url is plain http: no push
        account = self.subscribe(self.alice)
        self.assertFalse(account.sudo().push_channel_id)
        wait = self.synced_by_cron(account)
        self.assertLessEqual(wait, dt.timedelta(minutes=10))
        self.assertGreater(wait, dt.timedelta(minutes=7))

    def test_failed_ended_or_closed_channel_returns_to_the_regular_interval(self):
        account = self.subscribe(self.alice)
        regular = dt.timedelta(minutes=10)
        self.assertGreater(self.synced_by_cron(account), dt.timedelta(minutes=55))
        # refused at its renewal (its last day): due at the regular interval, and synced so after
        account.sudo().push_expiration_date = fields.Datetime.now() + dt.timedelta(hours=5)
        self.server.push_allow_http = False  # as the real Google: https only
        try:
            wait = self.synced_by_cron(account)
        finally:
            self.server.push_allow_http = True
        self.assertTrue(account.push_error)
        self.assertLessEqual(wait, regular)
        self.assertLessEqual(self.synced_by_cron(account), regular)
        # open again (its retry time passed): the longer interval from the next sync on
        account.sudo().push_retry_date = fields.Datetime.now() - dt.timedelta(seconds=1)
        self.synced_by_cron(account)  # renews the channel
        self.assertFalse(account.push_error)
        self.assertGreater(self.synced_by_cron(account), dt.timedelta(minutes=55))
        # a channel that ends within the hour: the safety net comes at its end at the latest
        end = fields.Datetime.now() + dt.timedelta(minutes=20)
        account.sudo().push_expiration_date = end
        self.assertEqual(account._next_regular_sync_date(), end)
        account.sudo().push_expiration_date = fields.Datetime.now() - dt.timedelta(minutes=1)
        self.assertLessEqual(account._next_regular_sync_date() - fields.Datetime.now(), regular)
        # closed: the regular interval again
        account.sudo().push_expiration_date = fields.Datetime.now() + dt.timedelta(days=5)
        self.assertGreater(self.synced_by_cron(account), dt.timedelta(minutes=55))
        account._push_stop()
        account.invalidate_recordset(["next_sync_date"])
        self.assertLessEqual(account.next_sync_date - fields.Datetime.now(), regular)
        # an account backing off keeps its next try
        account.sudo().write({"sync_failures": 2, "next_sync_date": fields.Datetime.now() + dt.timedelta(hours=2)})
        account._push_failed(sync_errors.Unavailable())
        account.invalidate_recordset(["next_sync_date"])
        self.assertGreater(account.next_sync_date, fields.Datetime.now() + dt.timedelta(minutes=100))

    def test_lagging_counts_the_longer_interval(self):
        Account = self.env["calendar.sync.account"]
        self.server.add_user("bob@example.com")
        pushed = self.subscribe(self.alice)
        self.set_param("push_base_url", "")
        polled = self.subscribe(self.bob)
        self.set_param("push_base_url", self.base_url())
        self.assertTrue(pushed.sudo().push_channel_id)
        self.assertFalse(polled.sudo().push_channel_id)
        forty_minutes_ago = fields.Datetime.now() - dt.timedelta(minutes=40)
        (pushed | polled).sudo().write({"state": "synced", "last_sync_date": forty_minutes_ago})
        self.assertEqual((pushed | polled).mapped("is_lagging"), [False, True])
        lagging = Account.search([("is_lagging", "=", True), ("id", "in", (pushed | polled).ids)])
        self.assertEqual(lagging, polled)
        self.assertEqual(Account.search([("is_lagging", "=", False), ("id", "in", (pushed | polled).ids)]), pushed)
        # three of its hours without a sync: lagging too
        pushed.sudo().write({"last_sync_date": fields.Datetime.now() - dt.timedelta(hours=4)})
        self.assertTrue(pushed.is_lagging)
        self.assertEqual(
            Account.search([("is_lagging", "=", True), ("id", "in", (pushed | polled).ids)]), pushed | polled
        )

    def test_first_sync_opens_a_missing_channel_and_a_refusal_is_shown(self):
        self.set_param("push_base_url", "")
        account = self.subscribe(self.alice)  # web.base.url is plain http: no push
        self.assertEqual(self.server.channels, {})
        account._sync(raise_errors=False)
        self.assertEqual(self.server.channels, {})
        self.set_param("push_base_url", self.base_url())
        self.server.push_allow_http = False  # as the real Google: https only
        try:
            account._sync(raise_errors=False)
            self.assertEqual(account.state, "synced", "the sync itself is not hurt")
            self.assertTrue(account.push_error)
            watches = len([p for _m, p, _q in self.server.log if p.endswith("/watch")])
            account._sync(raise_errors=False)  # not asked again before the retry time
            self.assertEqual(len([p for _m, p, _q in self.server.log if p.endswith("/watch")]), watches)
            self.server.push_allow_http = True
            account.sudo().push_retry_date = fields.Datetime.now() - dt.timedelta(seconds=1)
            account._sync(raise_errors=False)
        finally:
            self.server.push_allow_http = True
        self.assertEqual(len(self.server.channels), 1)
        self.assertFalse(account.push_error)


class TestMicrosoftPush(PushCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server = start_fake_graph(cls, push_allow_http=True)
        cls.server.notifier.hold = True

    def setUp(self):
        super().setUp()
        self.server.mailboxes.clear()
        self.server.subscriptions.clear()
        self.server.log.clear()  # requests of this test only
        self.server.notifier.clear()
        self.server.add_user("alice@example.com")

    def subscribe(self, user):
        account = (
            self.env["calendar.sync.account"].with_user(user).create({"provider": "microsoft", "email": user.email})
        )
        session = {}
        action = account._subscribe_microsoft(session=session)
        answer = requests.get(action["url"], allow_redirects=False, verify=self.server.ca_file, timeout=10)
        params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
        self.env["calendar.sync.account"].with_user(user)._oauth_finish("microsoft", params, session)
        self.assertEqual(account.state, "subscribed", account.last_error)
        return account

    def post(self, payload):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.http_post("/webcrm_calendar_sync/notify/microsoft", data, {"Content-Type": "application/json"})

    def test_change_in_outlook_reaches_odoo_through_the_notification(self):
        account = self.subscribe(self.alice)
        # Graph checked the address (validation handshake on this server) before subscribing
        self.assertEqual(len(self.server.subscriptions), 1)
        sub_id = account.sudo().push_channel_id
        self.assertIn(sub_id, self.server.subscriptions)
        self.assertEqual(
            self.server.subscriptions[sub_id]["url"],
            f"{self.base_url()}/webcrm_calendar_sync/notify/microsoft/{self.env.cr.dbname}",
        )
        account._sync(raise_errors=False)
        self.not_due(account)
        self.server.add_event("alice@example.com", mbody("Pushed review", NOW + dt.timedelta(days=3)))
        self.assertEqual(self.deliver(), [202])
        self.assertTrue(self.is_due(account))
        self.assertEqual(self.triggers(), 1)
        self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(self.meetings(account).mapped("name"), ["Pushed review"])

    def test_validation_token_is_echoed_as_plain_text(self):
        answer = self.url_open("/webcrm_calendar_sync/notify/microsoft?validationToken=abc%3A+123")
        self.assertEqual(answer.status_code, 200)
        self.assertEqual(answer.text, "abc: 123")
        self.assertTrue(answer.headers["Content-Type"].startswith("text/plain"))

    def test_forged_and_unknown_notifications_do_nothing(self):
        account = self.subscribe(self.alice)
        self.not_due(account)
        sub_id = account.sudo().push_channel_id
        secret = self.env["calendar.sync.credential"].sudo().search([("account_id", "=", account.id)]).push_token
        requests_before = self.server.requests
        for value in (
            {"subscriptionId": sub_id, "clientState": "forged"},
            {"subscriptionId": sub_id},
            {"subscriptionId": "00000000-0000-0000-0000-000000000000", "clientState": secret},
        ):
            self.assertEqual(self.post({"value": [dict(value, changeType="updated")]}).status_code, 202)
            self.assertFalse(self.is_due(account), value)
        self.assertEqual(self.post(b"not json").status_code, 400)
        self.assertEqual(self.triggers(), 0)
        self.assertEqual(self.server.requests, requests_before, "no call to Graph")
        self.assertEqual(self.post({"value": [{"subscriptionId": sub_id, "clientState": secret}]}).status_code, 202)
        self.assertTrue(self.is_due(account))

    def test_subscription_renewed_before_it_ends_and_deleted_on_unsubscribe(self):
        account = self.subscribe(self.alice)
        sub_id = account.sudo().push_channel_id
        soon = dt.datetime.now(UTC) + dt.timedelta(hours=3)
        self.server.subscriptions[sub_id]["expiration"] = soon
        account.sudo().write({"push_expiration_date": soon.replace(tzinfo=None), "next_sync_date": False})
        self.env["calendar.sync.account"]._cron_sync()
        self.assertEqual(account.sudo().push_channel_id, sub_id, "the same subscription, renewed")
        self.assertGreater(self.server.subscriptions[sub_id]["expiration"], dt.datetime.now(UTC) + dt.timedelta(days=2))
        self.assertGreater(account.push_expiration_date, fields.Datetime.now() + dt.timedelta(days=2))
        account.with_user(self.alice).action_unsubscribe()
        self.assertEqual(self.server.subscriptions, {})
        self.assertFalse(account.sudo().push_channel_id)

    def test_dropped_subscription_is_made_again(self):
        account = self.subscribe(self.alice)
        self.server.subscriptions.clear()  # Graph removed it
        account.sudo().write({"push_expiration_date": fields.Datetime.now() + dt.timedelta(hours=1)})
        account._sync(raise_errors=False)
        self.assertEqual(list(self.server.subscriptions), [account.sudo().push_channel_id])

    # subscriptions of deleted or reconnected accounts: deleted after the commit
    def deletes(self):
        return len([1 for m, p, _q in self.server.log if m == "DELETE" and "/subscriptions/" in p])

    def test_deleted_account_subscription_is_deleted_by_the_job(self):
        account = self.subscribe(self.alice)
        sub_id = account.sudo().push_channel_id
        account.with_user(self.alice).unlink()
        self.assertEqual(self.deletes(), 0, "no call to Graph inside the unlink")
        self.assertEqual(list(self.server.subscriptions), [sub_id])
        self.assertEqual(self.closes().channel_id, sub_id)
        self.assert_queue_is_closed_to_users(self.env.ref("base.user_admin"))
        self.run_job()
        self.assertEqual(self.server.subscriptions, {})
        self.assertFalse(self.closes())

    def test_failed_delete_is_tried_again(self):
        account = self.subscribe(self.alice)
        account.with_user(self.alice).unlink()
        self.server.fail_next(count=4, status=503, retry_after=0)
        self.run_job()
        self.assertEqual(len(self.server.subscriptions), 1)
        self.assertEqual(self.closes().failures, 1)
        self.closes().next_try_date = fields.Datetime.now() - dt.timedelta(seconds=1)
        self.run_job()
        self.assertEqual(self.server.subscriptions, {})

    def test_other_mailbox_closes_the_subscription_after_the_commit(self):
        account = self.subscribe(self.alice)
        self.server.add_user("alice.other@example.com")
        account.with_user(self.alice).write({"email": "alice.other@example.com"})
        self.assertEqual(self.deletes(), 0)
        self.assertEqual(len(self.server.subscriptions), 1)
        self.assertFalse(account.sudo().push_channel_id)
        self.run_job()
        self.assertEqual(self.server.subscriptions, {})

    # Graph's lifecycle notifications
    def lifecycle_post(self, payload):
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return self.http_post(
            "/webcrm_calendar_sync/notify/microsoft/lifecycle", data, {"Content-Type": "application/json"}
        )

    def synced_alice(self):
        account = self.subscribe(self.alice)
        account._sync(raise_errors=False)
        self.not_due(account)
        return account, account.sudo().push_channel_id

    def test_subscription_has_the_lifecycle_address_and_it_answers_the_validation(self):
        account = self.subscribe(self.alice)
        sub = self.server.subscriptions[account.sudo().push_channel_id]
        self.assertEqual(
            sub["lifecycle_url"],
            f"{self.base_url()}/webcrm_calendar_sync/notify/microsoft/{self.env.cr.dbname}/lifecycle",
        )
        answer = self.url_open("/webcrm_calendar_sync/notify/microsoft/lifecycle?validationToken=abc%3A+1")
        self.assertEqual((answer.status_code, answer.text), (200, "abc: 1"))

    def test_reauthorization_required_renews_at_the_next_sync(self):
        account, sub_id = self.synced_alice()
        self.server.send_lifecycle(sub_id, "reauthorizationRequired")
        self.assertEqual(self.deliver(), [202])
        self.assertEqual(
            json.loads(self.server.notifier.sent[-1]["body"])["value"][0]["lifecycleEvent"], "reauthorizationRequired"
        )
        self.assertTrue(self.is_due(account))
        self.assertTrue(account.sudo().push_renew_required)
        self.assertEqual(self.triggers(), 1)
        patches = len([1 for m, p, _q in self.server.log if m == "PATCH" and "/subscriptions/" in p])
        self.run_job()
        self.assertEqual(
            len([1 for m, p, _q in self.server.log if m == "PATCH" and "/subscriptions/" in p]),
            patches + 1,
            "renewed although far from its end",
        )
        self.assertFalse(self.server.subscriptions[sub_id]["reauthorize"])
        self.assertEqual(account.sudo().push_channel_id, sub_id)
        self.assertFalse(account.sudo().push_renew_required)

    def test_subscription_removed_is_forgotten_and_made_again(self):
        account, sub_id = self.synced_alice()
        self.server.send_lifecycle(sub_id, "subscriptionRemoved")
        self.assertEqual(self.server.subscriptions, {})
        self.assertEqual(self.deliver(), [202])
        self.assertFalse(account.sudo().push_channel_id)
        self.assertTrue(self.is_due(account))
        self.run_job()
        new_id = account.sudo().push_channel_id
        self.assertTrue(new_id)
        self.assertNotEqual(new_id, sub_id)
        self.assertEqual(list(self.server.subscriptions), [new_id])

    def test_missed_notifications_make_the_account_due(self):
        account, sub_id = self.synced_alice()
        # a change whose notification was lost
        self.server.add_event("alice@example.com", mbody("Lost notice", NOW + dt.timedelta(days=3)))
        self.server.notifier.clear()
        self.server.send_lifecycle(sub_id, "missed")
        self.assertEqual(self.deliver(), [202])
        self.assertTrue(self.is_due(account))
        self.assertEqual(account.sudo().push_channel_id, sub_id)
        self.run_job()
        self.assertEqual(self.meetings(account).mapped("name"), ["Lost notice"])

    def test_forged_and_unknown_lifecycle_notifications_do_nothing(self):
        account, sub_id = self.synced_alice()
        secret = self.env["calendar.sync.credential"].sudo().search([("account_id", "=", account.id)]).push_token
        requests_before = self.server.requests
        for value in (
            {"subscriptionId": sub_id, "clientState": "forged", "lifecycleEvent": "subscriptionRemoved"},
            {"subscriptionId": sub_id, "lifecycleEvent": "subscriptionRemoved"},
            {"subscriptionId": "unknown", "clientState": secret, "lifecycleEvent": "reauthorizationRequired"},
            {"subscriptionId": sub_id, "clientState": secret, "lifecycleEvent": "somethingElse"},
            {"subscriptionId": sub_id, "clientState": secret},
        ):
            self.assertEqual(self.lifecycle_post({"value": [value]}).status_code, 202)
            self.assertFalse(self.is_due(account), value)
            self.assertEqual(account.sudo().push_channel_id, sub_id, value)
            self.assertFalse(account.sudo().push_renew_required, value)
        self.assertEqual(self.lifecycle_post(b"not json").status_code, 400)
        self.assertEqual(self.triggers(), 0)
        self.assertEqual(self.server.requests, requests_before, "no call to Graph")
        Account = self.env["calendar.sync.account"]
        self.env.flush_all()
        with self.assertQueryCount(1):
            self.assertEqual(Account._push_receive("microsoft", sub_id, "forged", lifecycle="missed"), "ignored")
        with self.assertQueryCount(1):
            self.assertEqual(Account._push_receive("microsoft", "unknown", secret, lifecycle="missed"), "ignored")
        with self.assertQueryCount(0):
            self.assertEqual(Account._push_receive("microsoft", sub_id, secret, lifecycle="other"), "ignored")
        # a lifecycle event sent to the change route is a plain change notification
        self.assertEqual(
            self.post(
                {"value": [{"subscriptionId": sub_id, "clientState": secret, "lifecycleEvent": "subscriptionRemoved"}]}
            ).status_code,
            202,
        )
        self.assertEqual(account.sudo().push_channel_id, sub_id)
        self.assertTrue(self.is_due(account))


class TestPushSettings(CalendarSyncCase):
    def status(self, url):
        settings = self.env["res.config.settings"].create({"calendar_sync_push_base_url": url})
        return settings.calendar_sync_push_on, settings.calendar_sync_push_status

    def test_settings_say_whether_push_runs(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "http://odoo.example.com")
        on, message = self.status("")
        self.assertFalse(on)
        self.assertIn("Push notifications are off", message)
        self.assertIn("http://odoo.example.com is not an https:// address", message)
        on, message = self.status("https://crm.example.com/")
        self.assertTrue(on)
        self.assertIn("https://crm.example.com", message)
        self.assertIn("Push notifications are on", message)
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://odoo.example.com")
        on, message = self.status("")
        self.assertTrue(on)
        self.assertIn("https://odoo.example.com", message)
        self.assertIn("every 60 minutes as a safety net (the others every 10 minutes)", message)
        settings = self.env["res.config.settings"].create({"calendar_sync_push_poll_minutes": 90})
        self.assertIn("every 90 minutes as a safety net", settings.calendar_sync_push_status)
        settings.execute()
        self.assertEqual(self.env["calendar.sync.account"]._push_poll_seconds(), 90 * 60)
        self.assertNotIn("several databases", message)  # the tests' server serves this one only
        with patch.object(odoo.http, "db_list", lambda force=False, host=None: [self.env.cr.dbname, "other"]):
            _on, message = self.status("https://crm.example.com/")
            self.assertIn("serves several databases and does not choose this one for calls to crm.example.com", message)
            with patch.object(odoo.conf, "server_wide_modules", ["base", "web", "webcrm_calendar_sync"]):
                _on, message = self.status("https://crm.example.com/")
                self.assertNotIn("several databases", message)
        on, message = self.status("http://127.0.0.1:8069")
        self.assertTrue(on)
        self.assertIn("this machine only", message)
        on, _message = self.status("http://192.168.1.5:8069")
        self.assertFalse(on)

    def test_exchange_poll_interval(self):
        Account = self.env["calendar.sync.account"]
        cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync")
        exchange = self.make_account(self.alice, provider="exchange", email="alice@corp.test")
        google = self.make_account(self.bob, provider="google")
        cron.sudo().write({"nextcall": fields.Datetime.now() + dt.timedelta(minutes=10)})
        self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)]).unlink()
        with self.memory_providers():
            Account._cron_sync()
        interval = Account._cron_interval_seconds()
        for account in (exchange, google):
            self.assertGreater(account.next_sync_date, fields.Datetime.now() + dt.timedelta(seconds=interval * 0.7))
        self.assertFalse(self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)]))
        self.env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.exchange_poll_minutes", "2")
        (exchange | google).write({"next_sync_date": False})
        with self.memory_providers():
            Account._cron_sync()
        now = fields.Datetime.now()
        self.assertLessEqual(exchange.next_sync_date, now + dt.timedelta(minutes=2))
        self.assertGreater(google.next_sync_date, now + dt.timedelta(seconds=interval * 0.7))
        triggers = self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)])
        self.assertEqual(triggers.mapped("call_at"), [exchange.next_sync_date], "woken when Exchange is due")
        with self.memory_providers():
            Account._cron_sync()  # nothing due: no second trigger for the same moment
        self.assertEqual(len(self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)])), 1)


@tagged("post_install", "-at_install")
class TestPushOverRealHttp(BaseCase):
    """Notifications over real HTTP on real transactions: the server's requests run on their own
    database connections (no shared test cursor), so another connection can hold the account's row
    as the scheduled sync does. The set-up is committed and removed at the end.

    As in ``test_concurrent_sync.py``, the registries' lock is replaced while these tests run:
    under Odoo's own runner the main thread holds it, and the server thread takes it to open the
    database's registry.
    """

    def setUp(self):
        super().setUp()
        server = odoo.service.server.server
        if server is None or not getattr(server, "httpd", None):
            self.skipTest("no HTTP server in this test run")
        self.url = f"http://127.0.0.1:{server.httpd.server_port}"
        self.startPatcher(patch.object(Registry, "_lock", threading.RLock()))
        self.startPatcher(patch.dict(webhook._databases, at=None))  # the databases of this test, read afresh
        self.registry = Registry(get_db_name())
        self.tag = uuid.uuid4().hex[:8]
        self.token = secrets.token_urlsafe(32)
        self.channel = f"chan-{self.tag}"
        self.resource = f"res-{self.tag}"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cr.execute("SELECT coalesce(max(id), 0) FROM ir_cron_trigger")
            self.last_trigger_id = cr.fetchone()[0]
            user = (
                env["res.users"]
                .with_context(no_reset_password=True, tracking_disable=True)
                .create({"name": f"Push {self.tag}", "login": f"push-{self.tag}", "email": f"{self.tag}@push.test"})
            )
            self.user_id = user.id
            account = env["calendar.sync.account"].create(
                {"user_id": user.id, "provider": "google", "email": user.email, "state": "synced"}
            )
            self.account_id = account.id
            end = fields.Datetime.now() + dt.timedelta(days=5)
            account._push_store(
                self.channel, self.resource, f"{self.url}/webcrm_calendar_sync/notify/google", end, self.token
            )
            # synced a moment ago: not due for an hour
            account.write({"next_sync_date": fields.Datetime.now() + dt.timedelta(hours=1)})
        self.addCleanup(self.cleanup)

    def cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
            env["calendar.sync.account"].browse(self.account_id).exists().unlink()
            cr.execute("DELETE FROM ir_cron_trigger WHERE id > %s", (self.last_trigger_id,))
            user = env["res.users"].browse(self.user_id).exists()
            partner = user.partner_id
            try:
                with cr.savepoint():
                    user.unlink()
                    partner.unlink()
            except Exception:  # noqa: BLE001 - a user that cannot be deleted is archived
                user.write({"active": False})

    @contextlib.contextmanager
    def several_databases(self, *names, server_wide=True):
        """The server as one serving the test database and ``names`` with no dbfilter choosing one:
        Odoo picks no database for a request without a session, and serves the routes of the
        server-wide modules only (this addon among them when ``server_wide``)."""
        allowed = "^(%s)$" % "|".join(re.escape(name) for name in (get_db_name(), *names))
        modules = [*odoo.conf.server_wide_modules, "webcrm_calendar_sync"] if server_wide else []
        root = odoo.http.root
        with (
            patch.dict(odoo.tools.config.options, {"dbfilter": allowed}),
            patch.object(odoo.conf, "server_wide_modules", modules or odoo.conf.server_wide_modules),
        ):
            root.__dict__.pop("nodb_routing_map", None)  # built again with these modules
            try:
                yield
            finally:
                root.__dict__.pop("nodb_routing_map", None)

    def empty_database(self, name):
        """A database that exists (for the dbfilter's listing) without Odoo in it; dropped at the end."""
        with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
            cr._cnx.autocommit = True
            cr.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cr.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')

        def drop():
            odoo.sql_db.close_db(name)
            with closing(odoo.sql_db.db_connect("postgres").cursor()) as cr:
                cr._cnx.autocommit = True
                cr.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        self.addCleanup(drop)

    def headers(self, number):
        return {
            "X-Goog-Channel-ID": self.channel,
            "X-Goog-Channel-Token": self.token,
            "X-Goog-Resource-ID": self.resource,
            "X-Goog-Resource-State": "exists",
            "X-Goog-Message-Number": str(number),
        }

    def post(self, path, number):
        started = monotonic()
        answer = requests.post(self.url + path, data=b"", headers=self.headers(number), timeout=30)
        return answer.status_code, monotonic() - started

    def account_state(self):
        """(due now, last message number, triggers made), as committed."""
        with self.registry.cursor() as cr:
            cr.execute(
                "SELECT next_sync_date <= (now() AT TIME ZONE 'UTC'), COALESCE(push_message_number, 0)"
                "  FROM calendar_sync_account WHERE id = %s",
                (self.account_id,),
            )
            due, number = cr.fetchone()
            cr.execute("SELECT count(*) FROM ir_cron_trigger WHERE id > %s", (self.last_trigger_id,))
            return due, number, cr.fetchone()[0]

    def test_account_held_by_a_sync_is_answered_busy_then_taken(self):
        path = "/webcrm_calendar_sync/notify/google"
        self.assertEqual(self.account_state(), (False, 0, 0))
        holder = self.registry.cursor()
        try:
            # as the scheduled sync holds the account it syncs (_cron_lock_next_due)
            holder.execute("SELECT id FROM calendar_sync_account WHERE id = %s FOR NO KEY UPDATE", (self.account_id,))
            with self.assertNoLogs("odoo.sql_db", level="ERROR"):
                status, seconds = self.post(path, 2)
            self.assertEqual(status, 503)
            self.assertLess(seconds, 5, "the lock timeout (1 s), not a wait for the sync's end")
        finally:
            holder.rollback()
            holder.close()
        self.assertEqual(self.account_state(), (False, 0, 0), "nothing kept of the refused message")
        # the sync is over: Google sends the same message again, and it is taken
        status, _seconds = self.post(path, 2)
        self.assertEqual(status, 200)
        self.assertEqual(self.account_state(), (True, 2, 1))
        # and once only: the same message again is a replay
        with self.registry.cursor() as cr:
            cr.execute(
                "UPDATE calendar_sync_account SET next_sync_date = (now() AT TIME ZONE 'UTC') + interval '1 hour'"
                " WHERE id = %s",
                (self.account_id,),
            )
        self.assertEqual(self.post(path, 2)[0], 200)
        self.assertEqual(self.account_state(), (False, 2, 1))

    def test_notification_while_the_sync_commits_is_taken(self):
        """The sync ends (writes its next date, commits) while a notification waits for the row: the
        request is retried on a fresh snapshot and makes the account due again (the change may have
        come after the sync's listing)."""
        path = "/webcrm_calendar_sync/notify/google"
        holder = self.registry.cursor()
        answers = []
        try:
            holder.execute("SELECT id FROM calendar_sync_account WHERE id = %s FOR NO KEY UPDATE", (self.account_id,))
            thread = threading.Thread(target=lambda: answers.append(self.post(path, 2)))
            thread.start()
            threading.Event().wait(0.3)
            holder.execute(
                "UPDATE calendar_sync_account SET next_sync_date = (now() AT TIME ZONE 'UTC') + interval '1 hour',"
                " last_sync_date = (now() AT TIME ZONE 'UTC') WHERE id = %s",
                (self.account_id,),
            )
            holder.commit()
            thread.join(30)
        finally:
            holder.rollback()
            holder.close()
        self.assertEqual(len(answers), 1)
        status, seconds = answers[0]
        self.assertEqual(status, 200)
        self.assertLess(seconds, 10)
        self.assertEqual(self.account_state(), (True, 2, 1))

    def test_address_names_the_database_on_a_server_of_several(self):
        db = get_db_name()
        other, missing = f"{db}_other", f"{db}_missing"
        self.empty_database(other)
        address = f"/webcrm_calendar_sync/notify/google/{db}"
        # without the addon among the server-wide modules, Odoo serves no route of it then
        with self.several_databases(other, missing, server_wide=False):
            self.assertEqual(self.post(address, 2)[0], 404)
        self.assertEqual(self.account_state(), (False, 0, 0))
        with self.several_databases(other, missing):
            # an address without the database: nothing says which
            self.assertEqual(self.post("/webcrm_calendar_sync/notify/google", 2)[0], 404)
            # a database refused by the filter, one without the addon (without Odoo), one that does
            # not exist, a name no database can have: 404 at once, no registry loaded, nothing done
            loaded = set(Registry.registries)
            with self.assertNoLogs("odoo.sql_db", level="ERROR"):
                for dbname in ("postgres", f"{db}-elsewhere", other, missing, "x" * 80, ".hidden"):
                    status, seconds = self.post(f"/webcrm_calendar_sync/notify/google/{dbname}", 2)
                    self.assertEqual(status, 404, dbname)
                    self.assertLess(seconds, 3, dbname)
            self.assertEqual(set(Registry.registries), loaded)
            self.assertEqual(self.account_state(), (False, 0, 0))
            # the address naming this database: the route opens it and queues the account
            self.assertEqual(self.post(address, 2)[0], 200)
            self.assertEqual(self.account_state(), (True, 2, 1))
            # Graph's validation handshake at such an address (and none at a refused one)
            url = f"{self.url}/webcrm_calendar_sync/notify/microsoft/%s?validationToken=abc"
            answer = requests.get(url % db, timeout=10)
            self.assertEqual((answer.status_code, answer.text), (200, "abc"))
            self.assertEqual(requests.get(url % other, timeout=10).status_code, 404)
            lifecycle = f"{self.url}/webcrm_calendar_sync/notify/microsoft/{db}/lifecycle?validationToken=abc"
            answer = requests.get(lifecycle, timeout=10)
            self.assertEqual((answer.status_code, answer.text), (200, "abc"))
        # one database again (as the tests run): the address naming it works as well
        with self.registry.cursor() as cr:
            cr.execute(
                "UPDATE calendar_sync_account SET next_sync_date = (now() AT TIME ZONE 'UTC') + interval '1 hour'"
                " WHERE id = %s",
                (self.account_id,),
            )
        self.assertEqual(self.post(address, 3)[0], 200)
        self.assertEqual(self.account_state(), (True, 3, 2))

    def test_refused_database_names_cost_and_answer_the_same(self):
        """Whatever a refused name is (refused by the filter, a database without Odoo, no database,
        a name no database can have), the route does the same work and answers the same: its
        answer and its time do not tell which databases exist."""
        db = get_db_name()
        other, missing = f"{db}_other", f"{db}_missing"
        self.empty_database(other)
        address = self.url + "/webcrm_calendar_sync/notify/google/%s"
        real_connect = odoo.sql_db.db_connect
        opened = []

        def counting_connect(name, *args, **kwargs):
            opened.append(name)
            return real_connect(name, *args, **kwargs)

        with self.several_databases(other, missing):
            self.assertEqual(self.post(f"/webcrm_calendar_sync/notify/google/{db}", 2)[0], 200)
            answers, work = {}, {}
            with patch.object(odoo.sql_db, "db_connect", counting_connect):
                for dbname in ("postgres", f"{db}-elsewhere", other, missing, "x" * 80, ".hidden"):
                    opened.clear()
                    answer = requests.post(address % dbname, data=b"", headers=self.headers(3), timeout=30)
                    headers = sorted((k, v) for k, v in answer.headers.items() if k.lower() != "date")
                    answers[dbname] = (answer.status_code, answer.content, headers)
                    work[dbname] = list(opened)
            self.assertEqual({repr(a) for a in answers.values()}, {repr(answers[missing])}, answers)
            self.assertEqual(answers[missing][0], 404)
            self.assertEqual({repr(w) for w in work.values()}, {repr(work[missing])}, work)
            # what is malformed is refused before the name is looked at, whatever the name
            for dbname in (db, missing):
                headers = dict(self.headers(4), **{"X-Goog-Message-Number": "-1"})
                self.assertEqual(
                    requests.post(address % dbname, data=b"", headers=headers, timeout=30).status_code, 400
                )
        self.assertEqual(self.account_state(), (True, 2, 1))
