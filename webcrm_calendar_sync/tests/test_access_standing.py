"""Issue 19, beyond the cases: the standing access test.

Every public method the addon defines on any model (its own and the ones it extends) and every
HTTP route of its controllers is listed FROM THE CODE when the test runs, and must have an entry
in METHODS or ROUTES below: a method or route the tables do not know fails
``test_every_public_method_has_an_entry`` / ``test_every_route_has_an_entry``, so a new one
cannot be forgotten. A method is public when Odoo lets RPC call it (``odoo.models.
check_method_name``: no leading ``_``, not ``init``), whether it takes records or is an
``@api.model`` method.

Each entry says how the door is attacked and what must happen, for four callers:

- ``portal``: a portal user of Alice's company;
- ``colleague``: a plain internal colleague of Alice's company (the synced calendar on, without
  the *Synced calendar administrator* group);
- ``other company``: an internal user of another company only, with a synced calendar there;
- ``anonymous``: over HTTP without a session for the routes; for the methods, Odoo's public user
  (what an ``auth="public"`` route would run them as: RPC itself needs a login).

The victim is Alice: her Google and Microsoft 365 accounts (with credentials, a sync state and a
push channel), her private meeting, the private invitation of an outside organiser mirrored into
her calendar (read-only in Odoo), her public meeting. A refusal is an AccessError or UserError
(403/404/400/redirect to the login over HTTP) after which nothing of Alice's has changed (the call
runs in a savepoint, rolled back on the refusal as an RPC call's transaction is) and whose message
names nothing of her private meetings. A door that answers must answer with the caller's own data
only.

``covered`` names, per caller, an existing test that already asserts that case: it is not
repeated here, and ``test_tests_the_tables_rely_on_exist`` fails if that test is renamed away.

To extend: add the new method or route to METHODS / ROUTES with ``how`` (the attack), ``expect``
(what must hold) and ``check`` (the name of a ``check_*`` method of the test class, called once
per caller as ``check(key, role, user)``); reuse a check when the door behaves like another.
"""

import contextlib
import importlib
import json
import re
from contextlib import contextmanager
from datetime import timedelta
from typing import NamedTuple

import odoo
from odoo import fields, http
from odoo.exceptions import AccessError, UserError
from odoo.models import check_method_name
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import get_db_name
from odoo.tools import mute_logger

from .common import CalendarSyncCase

MODULE_PREFIX = "odoo.addons.webcrm_calendar_sync."
TESTS_PACKAGE = "odoo.addons.webcrm_calendar_sync.tests"

PORTAL, COLLEAGUE, OTHER_COMPANY, ANONYMOUS = "portal", "colleague", "other company", "anonymous"
ROLES = (PORTAL, COLLEAGUE, OTHER_COMPANY, ANONYMOUS)

# what no refusal may name: Alice's private meetings' details
PRIVATE_TITLE = "Salary talk with Kim"
INVITATION_TITLE = "Board takeover plans"
OUTSIDE_ORGANIZER = "chair@boardroom.test"
PRIVATE_TEXTS = (PRIVATE_TITLE, INVITATION_TITLE, OUTSIDE_ORGANIZER)


class Door(NamedTuple):
    how: str  # the attack
    expect: str  # what must hold
    check: str  # the test class's method that attacks it, called per caller
    covered: dict = {}  # caller -> "test_module.TestClass.test_method" asserting it already


ACCOUNT_ACTION = "called on Alice's account (ids given as over RPC)"
ACCOUNT_REFUSED = "AccessError; her account, credentials, sync state and push channel unchanged"
ACTIONS_COVERED = {COLLEAGUE: "test_account_guards.TestAccountOwnership.test_actions_only_on_own_accounts"}

METHODS = {
    ("calendar.sync.account", "create"): Door(
        "create an account owned by Alice; the other company's user also one in Alice's company",
        "AccessError; Alice still has her two accounts and nobody else got one in her company",
        "check_account_create",
        {COLLEAGUE: "test_account_guards.TestAccountOwnership.test_nobody_creates_an_account_for_someone_else"},
    ),
    ("calendar.sync.account", "write"): Door(
        "write Alice's account: its EWS URL and e-mail (to send her secret elsewhere), its owner to the caller",
        ACCOUNT_REFUSED,
        "check_account_write",
    ),
    ("calendar.sync.account", "unlink"): Door(
        "delete Alice's account", ACCOUNT_REFUSED + "; it still exists", "check_account_unlink"
    ),
    ("calendar.sync.account", "action_subscribe"): Door(
        ACCOUNT_ACTION, ACCOUNT_REFUSED, "check_account_action", ACTIONS_COVERED
    ),
    ("calendar.sync.account", "action_synchronize"): Door(
        ACCOUNT_ACTION, ACCOUNT_REFUSED + "; no provider built", "check_account_action", ACTIONS_COVERED
    ),
    ("calendar.sync.account", "action_full_resync"): Door(
        ACCOUNT_ACTION, ACCOUNT_REFUSED + "; no full listing queued", "check_account_action", ACTIONS_COVERED
    ),
    ("calendar.sync.account", "action_pause"): Door(
        ACCOUNT_ACTION, ACCOUNT_REFUSED, "check_account_action", ACTIONS_COVERED
    ),
    ("calendar.sync.account", "action_resume"): Door(
        ACCOUNT_ACTION, ACCOUNT_REFUSED, "check_account_action", ACTIONS_COVERED
    ),
    ("calendar.sync.account", "action_unsubscribe"): Door(
        ACCOUNT_ACTION, ACCOUNT_REFUSED + "; her push channel not closed", "check_account_action", ACTIONS_COVERED
    ),
    ("calendar.sync.account", "action_view_events"): Door(
        ACCOUNT_ACTION, "AccessError (the action would name her account)", "check_account_action", ACTIONS_COVERED
    ),
    ("calendar.sync.account", "action_retry_now"): Door(
        ACCOUNT_ACTION, ACCOUNT_REFUSED + "; her account not made due", "check_account_action"
    ),
    ("calendar.sync.account", "get_sync_status"): Door(
        "asked with refresh='now' (queues a sync of the caller's calendars)",
        "portal, anonymous: {'enabled': False}; colleague, other company: their own account only, nothing of "
        "Alice's account (id, address, error), her account not queued; the other company's user is not offered "
        "Alice as a colleague",
        "check_sync_status",
    ),
    ("calendar.sync.account", "subscribe_exchange"): Door(
        "'Save and subscribe' with Alice's account id and an attacker's EWS URL; with no id and Alice as owner "
        "(the other company's user also with Alice's company)",
        "AccessError; nothing of Alice's changed, no account created",
        "check_subscribe_exchange",
    ),
    ("calendar.attendee", "write"): Door(
        "answer (accept / decline) for Alice on the invitation mirrored into her calendar and on her meetings",
        "portal, anonymous: AccessError. colleague, other company: Odoo lets employees change an attendee, but "
        "nothing is sent from Alice's calendar (only a guest's own answer is)",
        "check_attendee_answer",
    ),
    ("calendar.event", "create"): Door(
        "book a meeting with Alice as organiser (on her behalf) and 'Save and send invitation' it",
        "portal, anonymous: AccessError. other company: refused, or nothing queued to Alice's calendar (issue 19, "
        "point 3). colleague: allowed by design (N3, booking on behalf inside a shared company)",
        "check_event_create",
        {COLLEAGUE: "test_invitation_rights.TestInvitationRights.test_booked_on_behalf_the_booker_may_send"},
    ),
    ("calendar.event", "write"): Door(
        "rename Alice's private meeting and the private invitation mirrored from an outside organiser "
        "(read-only); the other company's user also her public meeting",
        "refused, the message naming none of the private meetings' details (issue 19, point 2); Alice's meetings "
        "and what is queued to her calendar unchanged (the public one: refused or not queued, point 3)",
        "check_event_change",
    ),
    ("calendar.event", "unlink"): Door("delete the same meetings", "as for write", "check_event_change"),
    ("calendar.event", "action_archive"): Door("archive the same meetings", "as for write", "check_event_change"),
    ("calendar.event", "action_apply_text_template"): Door(
        "'Edit template' on Alice's private meeting, with a stored meeting text template chosen on it",
        "portal, anonymous: AccessError; colleague, other company: refused or nothing done; her meeting's "
        "description unchanged",
        "check_event_apply_template",
    ),
    ("calendar.event", "action_save_and_send_invitation"): Door(
        "on Alice's private meeting; the other company's user also on her public meeting",
        "AccessError (not the organiser nor who booked it); nothing queued to Alice's calendar",
        "check_event_send",
        {
            COLLEAGUE: "test_account_guards.TestAccountOwnership.test_save_and_send_invitation_only_on_meetings_"
            "one_may_change"
        },
    ),
    ("calendar.event", "get_synced_busy_intervals"): Door(
        "Alice's busy times for a day",
        "portal, anonymous: AccessError. other company: Alice left out. colleague: allowed by design (N5), only "
        "start/stop of busy intervals",
        "check_busy",
        {
            PORTAL: "test_busy_access.TestBusyAccess.test_portal_user_gets_access_error",
            OTHER_COMPANY: "test_busy_access.TestBusyAccess.test_only_colleagues_of_the_callers_companies",
        },
    ),
    ("calendar.event", "get_synced_find_a_time"): Door(
        "the booking form's find-a-time panel with Alice as organiser and attendee, from the day of her meetings",
        "portal, anonymous: AccessError. other company: Alice left out. colleague: her busy times, naming none "
        "of her private meetings' details",
        "check_find_a_time",
    ),
    ("calendar.event", "get_synced_schedule"): Door(
        "the schedule view's rows for Alice on the day of her meetings",
        "portal, anonymous: AccessError. other company: no row for Alice. colleague: her private meetings as "
        "'Busy', without their details",
        "check_schedule",
        {
            PORTAL: "test_schedule.TestSchedule.test_access_and_bounds",
            COLLEAGUE: "test_schedule.TestSchedule.test_meetings_per_person_private_ones_busy",
        },
    ),
    ("calendar.event", "calendar_sync_removal_question"): Door(
        "the question before deleting Alice's private meeting, the private invitation and her public meeting",
        "portal, anonymous: AccessError; others: refused, or a question naming none of the private meetings' "
        "details; nothing of Alice's changed",
        "check_removal_question",
    ),
    ("res.config.settings", "set_values"): Door(
        "called directly (not through execute()) on no record, and on a settings record an administrator "
        "left with a new client secret, endpoint and the synced calendar switched off",
        "refused, or nothing changed: no system parameter, no group of the settings, no default",
        "check_settings_set_values",
    ),
    ("res.partner", "action_view_synced_meetings"): Door(
        "on Alice's contact",
        "refused for who may not read her contact (portal); else an action about that contact only, whose "
        "meetings are then read with the caller's own rights",
        "check_partner_meetings",
    ),
}

OAUTH = Door(
    "GET with a state Alice's session holds and a code, logged in as the caller (anonymous: no session)",
    "anonymous: redirect to the login page; logged in: 400 (the state is not the caller's); Alice's account unchanged",
    "check_oauth_return",
)
GOOGLE_PUSH = Door(
    "POST a notification naming Alice's channel and resource with a wrong secret; the same address with another "
    "database's name; a GET",
    "200 and Alice's account not made due (nothing tells the caller whether the channel exists); 404 for a "
    "database that is not this one; 405 for the GET",
    "check_notify_google",
    {ANONYMOUS: "test_push.TestGooglePush.test_forged_wrong_id_replayed_and_unknown_do_nothing"},
)
GRAPH_PUSH = Door(
    "POST a notification naming Alice's subscription with a wrong clientState; a valid-looking body over the "
    "route's cap sent chunked; a GET without validationToken; another database's name",
    "202 and Alice's account not made due; 400/413 for the body over the cap (issue 19, point 5); 400 for the "
    "GET; 404 for a database that is not this one",
    "check_notify_microsoft",
)
ROUTES = {
    "/webcrm_calendar_sync/oauth/google": OAUTH,
    "/webcrm_calendar_sync/oauth/microsoft": OAUTH,
    "/webcrm_calendar_sync/notify/google": GOOGLE_PUSH,
    "/webcrm_calendar_sync/notify/google/<string:dbname>": GOOGLE_PUSH,
    "/webcrm_calendar_sync/notify/microsoft": GRAPH_PUSH,
    "/webcrm_calendar_sync/notify/microsoft/<string:dbname>": GRAPH_PUSH,
    "/webcrm_calendar_sync/notify/microsoft/lifecycle": GRAPH_PUSH,
    "/webcrm_calendar_sync/notify/microsoft/<string:dbname>/lifecycle": GRAPH_PUSH,
}


def addon_public_methods(env):
    """{(model, method)}: the methods RPC may call that a class of this addon defines, per model."""
    found = set()
    for model_name in env.registry:
        for cls in type(env[model_name]).__mro__:
            if not cls.__module__.startswith(MODULE_PREFIX):
                continue
            for name, value in vars(cls).items():
                if isinstance(value, (staticmethod, classmethod)):
                    value = value.__func__
                if not callable(value) or isinstance(value, type):
                    continue
                try:
                    check_method_name(name)
                except AccessError:
                    continue  # private: RPC refuses it
                found.add((model_name, name))
    return found


def addon_routes(env):
    """{rule: routing} of the routes whose endpoint a controller of this addon defines."""
    found = {}
    modules = sorted(env.registry._init_modules | set(odoo.conf.server_wide_modules))
    for url, endpoint in http._generate_routing_rules(modules, nodb_only=False):
        method = getattr(endpoint, "func", None)
        controller = getattr(method, "__self__", None)
        if controller is None:
            continue
        name = method.__name__
        if any(c.__module__.startswith(MODULE_PREFIX) and name in vars(c) for c in type(controller).__mro__):
            found[url] = endpoint.routing
    return found


def slug(text):
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


class StandingSetup(CalendarSyncCase):
    """Alice the victim, and the four callers."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Other Company Ltd"})
        cls.portal = new_test_user(
            cls.env, "standing_portal", email="portal@client.test", name="Pia Portal", groups="base.group_portal"
        )
        cls.stranger = new_test_user(
            cls.env,
            "standing_stranger",
            email="stranger@other.test",
            name="Stranger",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, cls.company_b.ids)],
        )
        cls.public = cls.env.ref("base.public_user")
        cls.callers = {PORTAL: cls.portal, COLLEAGUE: cls.bob, OTHER_COMPANY: cls.stranger, ANONYMOUS: cls.public}
        # the callers' own calendars (the colleague's and the other company's user's)
        cls.acc_bob = cls.make_account(cls.bob)
        cls.acc_stranger = cls.env["calendar.sync.account"].create(
            {
                "user_id": cls.stranger.id,
                "provider": "google",
                "email": cls.stranger.email,
                "state": "synced",
                "company_id": cls.company_b.id,
                "last_sync_date": fields.Datetime.now(),
            }
        )
        # Alice's calendars: Google (her meetings are written through it) and Microsoft 365
        later = fields.Datetime.now().replace(microsecond=0) + timedelta(hours=2)
        cls.acc_google = cls.make_account(cls.alice)
        cls.acc_graph = cls.make_account(cls.alice, provider="microsoft")
        for account, channel in ((cls.acc_google, "chan-alice-google"), (cls.acc_graph, "sub-alice-graph")):
            account.sudo().write(
                {
                    "sync_state": f"sync-token-{channel}",
                    "last_sync_date": fields.Datetime.now(),
                    "next_sync_date": later,
                    "push_channel_id": channel,
                    "push_resource_id": f"res-{channel}",
                }
            )
            account._set_credentials(token_data={"access_token": f"AT-{channel}", "refresh_token": f"RT-{channel}"})
            account._credential_record().push_token = f"push-secret-{channel}"
        cls.customer = cls.env["res.partner"].create({"name": "Kim Customer", "email": "kim@client.test"})
        Event = cls.env["calendar.event"].with_context(calendar_sync_from_remote=True)
        Binding = cls.env["calendar.sync.binding"]

        def mirrored(name, external_id, **vals):
            event = Event.create({"name": name, "start": "2026-12-03 09:00:00", "stop": "2026-12-03 10:00:00", **vals})
            Binding.create(
                {"account_id": cls.acc_google.id, "event_id": event.id, "external_id": external_id, "state": "synced"}
            )
            return cls.env["calendar.event"].browse(event.id)  # without the sync's context

        both = [(6, 0, [cls.alice.partner_id.id, cls.customer.id])]
        cls.private = mirrored(
            PRIVATE_TITLE,
            "ext-private",
            user_id=cls.alice.id,
            privacy="private",
            partner_ids=both,
            location="Room 12",
        )
        cls.invitation = mirrored(
            INVITATION_TITLE,
            "ext-invitation",
            user_id=False,
            privacy="private",
            synced_organizer_email=OUTSIDE_ORGANIZER,
            partner_ids=[(6, 0, [cls.alice.partner_id.id])],
        )
        cls.public_meeting = mirrored(
            "Team lunch", "ext-public", user_id=cls.alice.id, privacy="public", partner_ids=both
        )
        cls.alice_events = cls.private | cls.invitation | cls.public_meeting
        cls.template = cls.env["mail.template"].create(
            {
                "name": "Agenda",
                "model_id": cls.env["ir.model"]._get_id("calendar.event"),
                "calendar_sync_meeting_text": True,
                "body_html": "<p>Agenda</p>",
            }
        )
        cls.private.with_context(calendar_sync_from_remote=True).text_template_id = cls.template

    # ------------------------------------------------------------------
    # what the callers must leave alone, and how a refusal looks
    # ------------------------------------------------------------------
    ACCOUNT_FIELDS = (
        "user_id",
        "company_id",
        "provider",
        "email",
        "ews_url",
        "ews_auth_type",
        "state",
        "active",
        "needs_reauth",
        "last_error",
        "sync_requested_date",
        "next_sync_date",
        "full_sync_running",
        "sync_state",
        "push_channel_id",
        "push_resource_id",
    )

    def alice_state(self):
        """Everything of Alice's a caller could change: accounts, secrets, meetings, what is queued."""
        self.env.flush_all()
        self.env.invalidate_all()
        Account = self.env["calendar.sync.account"].sudo().with_context(active_test=False)
        accounts = Account.search([("user_id", "=", self.alice.id)])
        in_company = Account.search([("company_id", "=", self.company_a.id)])
        events = self.env["calendar.event"].sudo().with_context(active_test=False).browse(self.alice_events.ids)
        bindings = self.env["calendar.sync.binding"].sudo().search([("account_id", "in", accounts.ids)], order="id")
        closes = self.env["calendar.sync.push.close"].sudo().search_count([])
        return {
            "accounts": [
                (a.id, a.read([f for f in self.ACCOUNT_FIELDS if f in a._fields])[0], a._get_credentials())
                for a in accounts
            ],
            "accounts in her company": in_company.ids,
            "credentials": sorted(
                (c.account_id.id, c.token_data, c.push_token)
                for c in self.env["calendar.sync.credential"].sudo().search([("account_id", "in", accounts.ids)])
            ),
            "meetings": [
                (e.id, e.name, str(e.description), e.location, e.active, e.user_id.id, e.privacy, e.start)
                for e in events.exists()
            ],
            "queued": [
                (b.id, b.event_id.id, b.state, b.send_invitations, b.external_id, b.local_changed) for b in bindings
            ],
            "channels to close": closes,
        }

    def queued_for_alice(self):
        """The writes waiting for Alice's calendar (the outbox)."""
        self.env.flush_all()
        return (
            self.env["calendar.sync.binding"]
            .sudo()
            .search(
                [
                    ("account_id", "in", (self.acc_google | self.acc_graph).ids),
                    ("state", "in", ("to_push", "to_delete")),
                ]
            )
        )

    def assert_names_nothing_private(self, text, what):
        for secret in PRIVATE_TEXTS:
            self.assertNotIn(secret, str(text), f"{what} names a private meeting's detail ({secret!r})")

    @contextmanager
    def refused(self, what):
        """The body must be refused (AccessError / UserError) as an RPC call is: its transaction rolled
        back (here a savepoint), Alice's things unchanged, and the message naming nothing private."""
        before = self.alice_state()
        self.env.invalidate_all()  # a fresh cache, as a new RPC request has
        message = None
        try:
            with self.env.cr.savepoint():
                yield
        except (AccessError, UserError) as exc:
            message = str(exc)
        self.env.invalidate_all()
        self.assertIsNotNone(message, f"{what}: not refused")
        self.assert_names_nothing_private(message, f"{what}: the refusal")
        self.assertEqual(self.alice_state(), before, f"{what}: refused, but something of Alice's changed")

    @contextmanager
    def refused_or_unchanged(self, what):
        """As ``refused``, but the body may also answer without a refusal when it changed nothing
        of Alice's (a door that has nothing to do for this caller)."""
        before = self.alice_state()
        self.env.invalidate_all()
        try:
            with self.env.cr.savepoint():
                yield
        except (AccessError, UserError) as exc:
            self.assert_names_nothing_private(str(exc), f"{what}: the refusal")
        self.env.invalidate_all()
        self.assertEqual(self.alice_state(), before, f"{what}: something of Alice's changed")

    def run_door(self, table, key):
        """Attack ``key`` as every caller its entry does not leave to another test; report every failure."""
        door = table[key]
        failures = []
        for role in ROLES:
            if role in door.covered:
                continue
            try:
                getattr(self, door.check)(key, role, self.callers[role])
            except AssertionError as exc:
                failures.append(f"- as {role}: {exc}")
            finally:
                self.env.invalidate_all()
        if failures:
            self.fail(f"{key}: {door.how} -> expected {door.expect}\n" + "\n".join(failures))


class TestStandingAccessMethods(StandingSetup):
    """The public methods (see the module's docstring)."""

    def test_every_public_method_has_an_entry(self):
        found = addon_public_methods(self.env)
        self.assertTrue(found, "no public method found: the introspection is broken")
        unknown = sorted(found - set(METHODS))
        self.assertFalse(
            unknown,
            "public methods (callable over RPC) the standing access test does not know: add each to METHODS in "
            "tests/test_access_standing.py with how it is attacked and what must hold",
        )
        gone = sorted(set(METHODS) - found)
        self.assertFalse(gone, "METHODS lists methods that are no longer public methods of the addon: remove them")

    def test_tests_the_tables_rely_on_exist(self):
        doors = [(TestStandingAccessMethods, d) for d in METHODS.values()]
        doors += [(TestStandingAccessRoutes, d) for d in ROUTES.values()]
        for test_case, door in doors:
            self.assertTrue(callable(getattr(test_case, door.check, None)), f"{door.check} does not exist")
            for reference in door.covered.values():
                module, cls, method = reference.split(".")
                test_class = getattr(importlib.import_module(f"{TESTS_PACKAGE}.{module}"), cls)
                self.assertTrue(callable(getattr(test_class, method, None)), f"{reference} does not exist")

    # ------------------------------------------------------------------
    # calendar.sync.account
    # ------------------------------------------------------------------
    def check_account_create(self, key, role, user):
        Account = self.env["calendar.sync.account"].with_user(user)
        with self.refused(f"{key} as {role}, for Alice"):
            Account.create({"user_id": self.alice.id, "provider": "google", "email": self.alice.email})
        if role == OTHER_COMPANY:
            with self.refused(f"{key} as {role}, in Alice's company"):
                Account.create({"provider": "google", "email": user.email, "company_id": self.company_a.id})

    def check_account_write(self, key, role, user):
        account = self.acc_google.with_user(user)
        for vals in (
            {"provider": "exchange", "ews_url": "https://attacker.example.net/EWS/Exchange.asmx"},
            {"email": "attacker@example.net"},
            {"user_id": user.id},
        ):
            with self.refused(f"{key} as {role}: {vals}"):
                account.write(vals)

    def check_account_unlink(self, key, role, user):
        with self.refused(f"{key} as {role}"):
            self.acc_google.with_user(user).unlink()

    def check_account_action(self, key, role, user):
        method = key[1]
        with self.memory_providers():
            for account in (self.acc_google, self.acc_graph):
                with self.refused(f"{key} as {role} on {account.provider}"):
                    getattr(account.with_user(user), method)()
            self.assertEqual(self.providers, [], "a provider was built for Alice's account")

    def check_sync_status(self, key, role, user):
        before = self.alice_state()
        status = self.env["calendar.sync.account"].with_user(user).get_sync_status(refresh="now")
        self.assertEqual(self.alice_state(), before, "Alice's accounts changed (queued?)")
        if role in (PORTAL, ANONYMOUS):
            self.assertEqual(status, {"enabled": False})
            return
        own = self.env["calendar.sync.account"].sudo().search([("user_id", "=", user.id)])
        self.assertTrue({a["id"] for a in status["accounts"]} <= set(own.ids), status["accounts"])
        self.assertNotIn(self.alice.email, json.dumps(status, default=str))
        names = {c["id"] for c in status["colleagues"]}
        if role == OTHER_COMPANY:
            self.assertNotIn(self.alice.id, names, "Alice offered to a user of another company")

    def check_subscribe_exchange(self, key, role, user):
        Account = self.env["calendar.sync.account"].with_user(user)
        attacker = {"ews_url": "https://attacker.example.net/EWS/Exchange.asmx", "password": "x"}
        for account in (self.acc_google, self.acc_graph):
            with self.refused(f"{key} as {role} on Alice's {account.provider} account"):
                Account.subscribe_exchange(account.id, dict(attacker, provider="exchange"))
        with self.refused(f"{key} as {role}, a new account for Alice"):
            Account.subscribe_exchange(False, dict(attacker, user_id=self.alice.id, email=self.alice.email))
        if role == OTHER_COMPANY:
            with self.refused(f"{key} as {role}, a new account in Alice's company"):
                Account.subscribe_exchange(False, dict(attacker, email=user.email, company_id=self.company_a.id))

    # ------------------------------------------------------------------
    # calendar.event
    # ------------------------------------------------------------------
    def book_for_alice(self, user):
        event = (
            self.env["calendar.event"]
            .with_user(user)
            .create(
                {
                    "name": "Booked for Alice",
                    "start": "2026-12-04 09:00:00",
                    "stop": "2026-12-04 10:00:00",
                    "user_id": self.alice.id,
                    "partner_ids": [(6, 0, [self.alice.partner_id.id, self.customer.id])],
                }
            )
        )
        event.action_save_and_send_invitation()
        return event

    def check_event_create(self, key, role, user):
        if role in (PORTAL, ANONYMOUS):
            with self.refused(f"{key} as {role}"):
                self.book_for_alice(user)
            return
        # the other company's user: refused, or nothing leaves from Alice's calendar
        before = self.queued_for_alice()
        try:
            with self.env.cr.savepoint():
                self.book_for_alice(user)
        except (AccessError, UserError) as exc:
            self.assert_names_nothing_private(exc, f"{key} as {role}: the refusal")
            return
        self.assertEqual(
            self.queued_for_alice(), before, "a meeting booked from another company is queued to Alice's calendar"
        )

    def check_attendee_answer(self, key, role, user):
        attendees = self.alice_events.attendee_ids.filtered(lambda a: a.partner_id == self.alice.partner_id)
        self.assertEqual(len(attendees), 3)
        for attendee in attendees:
            what = f"{key} as {role} on Alice's answer to meeting {attendee.event_id.id}"
            if role in (PORTAL, ANONYMOUS):
                with self.refused(what):
                    attendee.with_user(user).write({"state": "declined"})
                continue
            before = self.queued_for_alice()
            try:
                with self.env.cr.savepoint():
                    attendee.with_user(user).write({"state": "declined"})
                    self.assertEqual(self.queued_for_alice(), before, f"{what}: sent from Alice's calendar")
            except (AccessError, UserError) as exc:
                self.assert_names_nothing_private(exc, f"{what}: the refusal")

    def check_event_change(self, key, role, user):
        method = key[1]

        def call(event):
            records = event.with_user(user)
            if method == "write":
                return records.write({"name": "Hijacked", "location": "Elsewhere"})
            return getattr(records, method)()

        for event in (self.private, self.invitation):
            with self.refused(f"{key} as {role} on Alice's private meeting {event.id}"):
                call(event)
        if role != OTHER_COMPANY:
            return  # a colleague of her company may change her public meeting: Odoo's calendar says so
        before = self.queued_for_alice()
        try:
            with self.env.cr.savepoint():
                call(self.public_meeting)
        except (AccessError, UserError):
            return
        self.assertEqual(self.queued_for_alice(), before, f"{key} from another company is queued to Alice's calendar")

    def check_event_apply_template(self, key, role, user):
        # who may read the meeting but not change it: refused, or nothing to do (a private
        # meeting's template is not the colleague's to read)
        guard = self.refused if role in (PORTAL, ANONYMOUS) else self.refused_or_unchanged
        with guard(f"{key} as {role}"):
            self.private.with_user(user).action_apply_text_template()

    def check_event_send(self, key, role, user):
        events = [self.private] + ([self.public_meeting] if role == OTHER_COMPANY else [])
        for event in events:
            with self.refused(f"{key} as {role} on Alice's meeting {event.id}"):
                event.with_user(user).action_save_and_send_invitation()

    def check_busy(self, key, role, user):
        day = ("2026-12-03 00:00:00", "2026-12-04 00:00:00")
        Event = self.env["calendar.event"].with_user(user)
        with self.memory_providers():
            if role in (PORTAL, ANONYMOUS):
                with self.refused(f"{key} as {role}"):
                    Event.get_synced_busy_intervals([self.alice.id], *day)
                self.assertEqual(self.providers, [], "a provider was built")
                return
            busy = Event.get_synced_busy_intervals([self.alice.id], *day)
        if role == OTHER_COMPANY:
            self.assertNotIn(str(self.alice.id), busy)
        for intervals in busy.values():
            for interval in intervals:
                self.assertEqual(set(interval), {"start", "stop"})

    def check_find_a_time(self, key, role, user):
        Event = self.env["calendar.event"].with_user(user).with_context(tz="UTC")
        args = ([self.alice.partner_id.id, self.customer.id], self.alice.id, "2026-12-03")
        if role in (PORTAL, ANONYMOUS):
            with self.refused(f"{key} as {role}"):
                Event.get_synced_find_a_time(*args, days=2, tz="UTC")
            return
        before = self.alice_state()
        with self.memory_providers():
            answer = Event.get_synced_find_a_time(*args, days=2, tz="UTC")
        self.assertEqual(self.alice_state(), before)
        if role == OTHER_COMPANY:
            self.assertNotIn(self.alice.id, [p["user_id"] for p in answer["people"]], "Alice, of another company")
        self.assert_names_nothing_private(json.dumps(answer, default=str), f"{key} as {role}")

    def check_schedule(self, key, role, user):
        day = ("2026-12-03 00:00:00", "2026-12-04 00:00:00")
        Event = self.env["calendar.event"].with_user(user).with_context(tz="UTC")
        if role in (PORTAL, ANONYMOUS):
            with self.refused(f"{key} as {role}"):
                Event.get_synced_schedule([self.alice.id], *day)
            return
        with self.memory_providers():
            result = Event.get_synced_schedule([self.alice.id], *day, outside=True)
        rows = {row["user_id"]: row for row in result["rows"]}
        if role == OTHER_COMPANY:
            self.assertEqual(set(rows), {user.id}, "a row for Alice, of another company")
        self.assert_names_nothing_private(json.dumps(result, default=str), f"{key} as {role}")

    def check_removal_question(self, key, role, user):
        for event in (self.private, self.invitation, self.public_meeting):
            what = f"{key} as {role} on Alice's meeting {event.id}"
            if role in (PORTAL, ANONYMOUS):
                with self.refused(what):
                    event.with_user(user).calendar_sync_removal_question()
                continue
            before = self.alice_state()
            self.env.invalidate_all()
            try:
                answer = event.with_user(user).calendar_sync_removal_question()
            except (AccessError, UserError) as exc:
                answer = str(exc)
            self.assert_names_nothing_private(json.dumps(answer, default=str), what)
            self.assertEqual(self.alice_state(), before, what)

    # ------------------------------------------------------------------
    # res.config.settings
    # ------------------------------------------------------------------
    def settings_state(self):
        self.env.flush_all()
        self.env.invalidate_all()
        params = self.env["ir.config_parameter"].sudo().search_read([], ["key", "value"], order="key")
        defaults = self.env["ir.default"].sudo().search_read([], ["field_id", "json_value", "user_id", "company_id"])
        implied = self.env.ref("base.group_user").sudo().implied_ids.ids
        return {"params": params, "defaults": defaults, "implied by employees": sorted(implied)}

    def check_settings_set_values(self, key, role, user):
        left = (
            self.env["res.config.settings"]
            .sudo()
            .create(
                {
                    "group_calendar_sync": False,
                    "calendar_sync_google_client_secret": "EVIL-SECRET",
                    "calendar_sync_google_token_uri": "https://attacker.example.net/token",
                    "calendar_sync_days_back": 3,
                }
            )
        )
        for records, what in ((left.browse(), "no record"), (left, "the administrator's record")):
            before = self.settings_state()
            # refused (rolled back, then suppressed), or answered without changing anything
            with contextlib.suppress(AccessError, UserError), self.env.cr.savepoint():
                records.with_user(user).set_values()
                self.assertEqual(self.settings_state(), before, f"{key} as {role} on {what} changed the settings")
            self.env.invalidate_all()

    # ------------------------------------------------------------------
    # res.partner
    # ------------------------------------------------------------------
    def check_partner_meetings(self, key, role, user):
        partner = self.alice.partner_id.with_user(user)
        try:
            partner.check_access("read")
        except AccessError:
            with self.refused(f"{key} as {role}"):
                partner.action_view_synced_meetings()
            return
        before = self.alice_state()
        action = partner.action_view_synced_meetings()
        self.assertEqual(self.alice_state(), before)
        self.assertIn(("partner_ids", "child_of", self.alice.partner_id.id), action["domain"])
        self.assert_names_nothing_private(json.dumps(action, default=str), f"{key} as {role}")
        # what the action lists is read with the caller's own rights
        found = self.env["calendar.event"].with_user(user).search_read(action["domain"], ["name", "location"])
        self.assert_names_nothing_private(json.dumps(found, default=str), f"{key} as {role}: the meetings listed")


@tagged("post_install", "-at_install")
class TestStandingAccessRoutes(HttpCase, StandingSetup):
    """The HTTP routes (see the module's docstring), over real HTTP on the test server."""

    def setUp(self):
        super().setUp()
        self.dbname = get_db_name()

    def test_every_route_has_an_entry(self):
        found = addon_routes(self.env)
        self.assertTrue(found, "no route found: the introspection is broken")
        unknown = sorted(set(found) - set(ROUTES))
        self.assertFalse(
            unknown,
            "routes the standing access test does not know: add each to ROUTES in tests/test_access_standing.py "
            "with how it is attacked and what must hold",
        )
        gone = sorted(set(ROUTES) - set(found))
        self.assertFalse(gone, "ROUTES lists routes the addon no longer has: remove them")
        # and what the table assumes of them
        for path, routing in found.items():
            auth = routing.get("auth")
            if ROUTES[path].check == "check_oauth_return":
                self.assertEqual(auth, "user", path)
            else:
                self.assertEqual(auth, "none", path)

    def login(self, role, user):
        if role == ANONYMOUS:
            self.authenticate(None, None)
        else:
            self.authenticate(user.login, user.login)

    def url(self, path):
        return path.replace("<string:dbname>", self.dbname)

    def http(self, method, path, **kwargs):
        self.env.flush_all()
        kwargs.setdefault("timeout", 20)
        kwargs.setdefault("allow_redirects", False)
        answer = self.opener.request(method, self.base_url() + path, **kwargs)
        self.env.invalidate_all()
        return answer

    def check_oauth_return(self, path, role, user):
        # a state only Alice's session holds (as after her 'Authenticate and subscribe')
        account = self.acc_google if path.endswith("google") else self.acc_graph
        state = account.with_user(self.alice)._oauth_remember({}, {"verifier": "v"})
        self.login(role, user)
        before = self.alice_state()
        with mute_logger("odoo.addons.webcrm_calendar_sync.controllers.main", "odoo.http"):
            answer = self.http("GET", self.url(path), params={"state": state, "code": "stolen-code"})
        if role == ANONYMOUS:
            self.assertIn(answer.status_code, (302, 303), answer.text[:300])
            self.assertIn("/web/login", answer.headers.get("Location", ""))
        else:
            self.assertEqual(answer.status_code, 400, answer.text[:300])
        self.assertEqual(self.alice_state(), before)

    def check_notify_google(self, path, role, user):
        self.login(role, user)
        account = self.acc_google.sudo()
        headers = {
            "X-Goog-Channel-ID": account.push_channel_id,
            "X-Goog-Channel-Token": "forged-secret",
            "X-Goog-Resource-ID": account.push_resource_id,
            "X-Goog-Resource-State": "exists",
            "X-Goog-Message-Number": "7",
        }
        before = self.alice_state()
        if "<string:dbname>" not in path:
            self.assertEqual(self.http("POST", path, headers=headers, data=b"").status_code, 200)
        else:
            self.assertEqual(self.http("POST", self.url(path), headers=headers, data=b"").status_code, 200)
            other = path.replace("<string:dbname>", self.dbname + "_other")
            self.assertEqual(self.http("POST", other, headers=headers, data=b"").status_code, 404)
        self.assertEqual(self.http("GET", self.url(path), headers=headers).status_code, 405)
        self.assertEqual(self.alice_state(), before, "a forged notification made Alice's account due")

    def check_notify_microsoft(self, path, role, user):
        self.login(role, user)
        account = self.acc_graph.sudo()
        item = {"subscriptionId": account.push_channel_id, "clientState": "forged", "changeType": "updated"}
        if path.endswith("lifecycle"):
            item["lifecycleEvent"] = "missed"
        headers = {"Content-Type": "application/json"}
        url = self.url(path)
        before = self.alice_state()
        answer = self.http("POST", url, data=json.dumps({"value": [item]}), headers=headers)
        self.assertEqual(answer.status_code, 202)
        self.assertEqual(self.http("GET", url).status_code, 400)
        if "<string:dbname>" in path:
            other = path.replace("<string:dbname>", self.dbname + "_other")
            self.assertEqual(
                self.http("POST", other, data=json.dumps({"value": [item]}), headers=headers).status_code, 404
            )
        self.assertEqual(self.alice_state(), before, "a forged notification made Alice's account due")
        # a body over the cap, chunked (no Content-Length): refused whatever the transfer encoding
        secret = self.env["calendar.sync.credential"].sudo().search([("account_id", "=", account.id)]).push_token
        genuine = dict(item, clientState=secret)
        body = json.dumps({"value": [genuine], "padding": "x" * (300 * 1024)}).encode()
        chunks = (body[i : i + 65536] for i in range(0, len(body), 65536))
        answer = self.http("POST", url, data=chunks, headers=headers)
        self.assertIn(answer.status_code, (400, 413), "a body over the route's cap, sent chunked, was taken")
        self.assertEqual(self.alice_state(), before, "a body over the route's cap made Alice's account due")


def _door_test(table, key):
    def test(self):
        self.run_door(table, key)

    test.__doc__ = f"{key}: {table[key].how}"
    return test


for _key in METHODS:
    setattr(TestStandingAccessMethods, f"test_method_{slug('_'.join(_key))}", _door_test(METHODS, _key))
for _key in ROUTES:
    setattr(TestStandingAccessRoutes, f"test_route_{slug(_key)}", _door_test(ROUTES, _key))
