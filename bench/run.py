#!/usr/bin/env python3
"""Sync benchmark: our addon against Odoo 18's own calendar sync, on the same data.

    make bench PROVIDER=google EVENTS=1000
    python3 bench/run.py --provider google --events 200 1000 3000

For each N it generates a calendar (fixed seed, realistic mix), serves it from the
local fake server of the provider, and measures a first full sync and a resync with
nothing changed: seconds, events per second, HTTP requests, SQL queries. For Google
it measures Odoo's ``google_calendar`` module syncing the same calendar from the same
server, in its own database, and prints Odoo's time over ours (``vs_odoo``).

Databases ``webcrm_bench_ours`` and ``webcrm_bench_odoo_<provider>`` are created on
the first run (a minute or two each) and reused; ``--fresh`` recreates them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import odoo.addons

ROOT = Path(__file__).resolve().parent.parent
ADDON_DIR = ROOT / "webcrm_calendar_sync"
# the engine is imported under the addon's name only, as the addon and its tests import it
if str(ROOT) not in odoo.addons.__path__:
    odoo.addons.__path__.append(str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generate import generate  # noqa: E402

PGHOST = os.environ.get("PGHOST", "127.0.0.1")
PGUSER = os.environ.get("PGUSER", "root")
OWNER = "owner@bench.test"
# the bench databases are <prefix>_ours and <prefix>_odoo_<provider> (BENCH_DB_PREFIX)
DB_PREFIX = os.environ.get("BENCH_DB_PREFIX", "webcrm_bench")
UTC = dt.timezone.utc


def addons_path():
    import odoo

    pkg = Path(odoo.__file__).resolve().parent
    paths = [p for p in (pkg.parent / "addons", pkg / "addons") if p.is_dir()]
    return ",".join(str(p) for p in paths + [ROOT])


def _psql(db, sql):
    return subprocess.run(
        ["psql", "-h", PGHOST, "-U", PGUSER, "-tAc", sql, db], capture_output=True, text=True
    ).stdout.strip()


def addon_stamp():
    """A fingerprint of the addon's code and data: a bench database older than it is updated."""
    digest = hashlib.sha1()
    for path in sorted(Path(ROOT, "webcrm_calendar_sync").rglob("*")):
        if path.suffix in (".py", ".xml", ".csv") and "tests" not in path.parts:
            digest.update(path.read_bytes())
    return digest.hexdigest()


def ensure_db(name, modules, fresh):
    """Create ``name`` with ``modules`` installed (once), through Odoo's own CLI; update this addon when it changed."""
    exists = _psql("postgres", f"SELECT 1 FROM pg_database WHERE datname='{name}'")
    ours = "webcrm_calendar_sync" in modules
    stamp_key = "webcrm_calendar_sync.bench_stamp"
    if exists and not fresh:
        if not ours or _psql(name, f"SELECT value FROM ir_config_parameter WHERE key='{stamp_key}'") == addon_stamp():
            return
        print(f"# updating webcrm_calendar_sync in {name} (the addon changed)", flush=True)
        _odoo_cli(name, ["-u", "webcrm_calendar_sync"])
    else:
        if exists:
            subprocess.run(["dropdb", "-h", PGHOST, "-U", PGUSER, name], check=True)
        print(f"# creating database {name} with {','.join(modules)} (once)", flush=True)
        _odoo_cli(name, ["-i", ",".join(modules)])
    if ours:
        _psql(
            name,
            f"INSERT INTO ir_config_parameter (key, value) VALUES ('{stamp_key}', '{addon_stamp()}') "
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
        )


def _odoo_cli(name, args):
    with tempfile.NamedTemporaryFile("w", suffix=".log") as log:
        code = subprocess.call(
            [
                sys.executable,
                "-c",
                "import odoo.cli; odoo.cli.main()",
                "-d",
                name,
                "--db_host",
                PGHOST,
                "--db_user",
                PGUSER,
                "--addons-path",
                addons_path(),
                *args,
                "--without-demo=all",
                "--stop-after-init",
                "--no-http",
                "--log-level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if code:
            sys.exit(f"creating {name} failed; see {log.name}")


@contextlib.contextmanager
def odoo_env(db):
    import odoo
    from odoo import api

    if not getattr(odoo_env, "configured", False):
        odoo.tools.config.parse_config(
            ["--db_host", PGHOST, "--db_user", PGUSER, "--addons-path", addons_path(), "--log-level", "warn"]
        )
        odoo_env.configured = True
    registry = odoo.modules.registry.Registry(db)
    if os.environ.get("BENCH_SQL_LOG"):  # every query on stderr, for development
        import logging

        logging.getLogger("odoo.sql_db").setLevel(logging.DEBUG)
    with registry.cursor() as cr:
        yield api.Environment(cr, odoo.SUPERUSER_ID, {})
        cr.rollback()  # leave the bench database as it was


def measure(env, func):
    cr = env.cr
    env.flush_all()
    queries = cr.sql_log_count
    if os.environ.get("BENCH_SQL_LOG"):
        print("# measure: start", file=sys.stderr, flush=True)
    start = time.perf_counter()
    func()
    env.flush_all()
    if os.environ.get("BENCH_SQL_LOG"):
        print("# measure: end", file=sys.stderr, flush=True)
    return time.perf_counter() - start, cr.sql_log_count - queries


def measure_cases(env, server, sync):
    """{case: (seconds, http requests, sql queries)} for a first sync and a resync."""
    results = {}
    for case in ("full", "resync"):
        before = server.requests
        seconds, sql = measure(env, sync)
        results[case] = (seconds, server.requests - before, sql)
    return results


def report(provider, n, results, compare):
    for case in ("full", "resync"):
        seconds, http, sql = results["ours"][case]
        ratio = results["odoo"][case][0] / seconds if compare else None
        line(provider, case, n, seconds, http, sql, ratio)
    if "bare" in results["ours"]:
        seconds, meetings, sql = results["ours"]["bare"]
        full_seconds, _http, full_sql = results["ours"]["full"]
        print(
            f"bench {provider} bare_create events={n} meetings={meetings} seconds={seconds:.2f} sql={sql} "
            f"full_vs_bare_sql={full_sql / sql:.2f} full_vs_bare_seconds={full_seconds / seconds:.2f}",
            flush=True,
        )
    if compare:
        for case in ("full", "resync"):
            seconds, http, sql = results["odoo"][case]
            print(f"# odoo {provider}_calendar {case} events={n} seconds={seconds:.2f} http={http} sql={sql}")


def line(provider, case, n, seconds, http, sql, ratio):
    ratio_text = f"{ratio:.1f}" if ratio else "-"
    extra = f" events_per_s={n / seconds:.0f} sql_per_event={sql / n:.2f}" if case == "full" else ""
    print(
        f"bench {provider} {case} events={n} seconds={seconds:.2f} http={http} sql={sql} vs_odoo={ratio_text}{extra}",
        flush=True,
    )


# ---------------------------------------------------------------------------
# Google
# ---------------------------------------------------------------------------
def seed_google(server, n, seed):
    from odoo.addons.webcrm_calendar_sync.engine.providers.google import to_google

    server.add_user(OWNER)
    colleagues = [f"colleague{i}@bench.test" for i in range(5)]
    for remote in generate(n, OWNER, seed=seed, colleagues=colleagues):
        server.add_event(OWNER, to_google(remote))


def ours_google(server, n, seed):
    from odoo.addons.webcrm_calendar_sync.engine.testing.fake_google import FakeGoogle  # noqa: F401  (server given)

    with odoo_env(f"{DB_PREFIX}_ours") as env:
        env["res.config.settings"].create(
            {
                "group_calendar_sync": True,
                "calendar_sync_google_client_id": server.client_id,
                "calendar_sync_google_client_secret": server.client_secret,
                "calendar_sync_google_token_uri": server.token_uri,
                "calendar_sync_google_api_endpoint": server.api_endpoint,
                "calendar_sync_days_back": 365,
                "calendar_sync_days_ahead": 365,
            }
        ).execute()
        user = env["res.users"].create({"name": "Bench Owner", "login": OWNER, "email": OWNER})
        account = env["calendar.sync.account"].create(
            {"user_id": user.id, "provider": "google", "email": OWNER, "state": "subscribed"}
        )
        account._set_credentials(token_data=server.issue_tokens(OWNER))
        results = measure_cases(env, server, account._sync)
        count = env["calendar.sync.binding"].search_count([("account_id", "=", account.id)])
        print(f"# ours: {count} meetings bound", flush=True)
        results["bare"] = bare_create(env, account)
        return results


def bare_create(env, account):
    """(seconds, meetings, sql) of one plain batched ORM create of the meetings the full sync made.

    The floor a first sync is compared with: Odoo's own create of the same meetings (name,
    times, place, description, organiser, attendees from partner_ids), in one call, quiet
    as the sync is (no mail, no tracking), without bindings, listing or contacts lookup.
    """
    from odoo.addons.webcrm_calendar_sync.models.calendar_sync_binding import SYNC_CONTEXT

    Event = env["calendar.event"].with_context(**SYNC_CONTEXT)
    bare = ("name", "description", "location", "privacy", "show_as", "user_id", "start", "stop", "allday")
    vals_list = []
    for event in env["calendar.sync.binding"].search([("account_id", "=", account.id)]).event_id:
        vals = {name: event._fields[name].convert_to_write(event[name], event) for name in bare}
        vals["partner_ids"] = [(6, 0, event.partner_ids.ids)]
        vals_list.append(vals)
    seconds, sql = measure(env, lambda: Event.create(vals_list))
    return seconds, len(vals_list), sql


class _Rewrite:
    """Stand-in for ``requests`` inside Odoo's google_account: Google's hosts -> fake."""

    def __init__(self, server):
        import requests

        self.requests = requests
        self.server = server

    def __getattr__(self, name):
        return getattr(self.requests, name)

    def request(self, method, url, **kw):
        parts = urllib.parse.urlsplit(url)
        if parts.netloc in ("www.googleapis.com", "accounts.google.com"):
            path = "/token" if "oauth2" in parts.path else parts.path
            url = self.server.url.rstrip("/") + path + (f"?{parts.query}" if parts.query else "")
        return self.requests.request(method, url, **kw)


def odoo_google(server, n, seed):
    from odoo.addons.google_account.models import google_service
    from odoo.addons.google_calendar.utils.google_calendar import GoogleCalendarService

    google_service.requests = _Rewrite(server)
    with odoo_env(f"{DB_PREFIX}_odoo_google") as env:
        icp = env["ir.config_parameter"].sudo()
        icp.set_param("google_calendar_client_id", server.client_id)
        icp.set_param("google_calendar_client_secret", server.client_secret)
        user = env["res.users"].create({"name": "Bench Owner", "login": OWNER, "email": OWNER})
        tokens = server.issue_tokens(OWNER)
        user.res_users_settings_id._set_google_auth_tokens(tokens["access_token"], tokens["refresh_token"], 3600)
        service = GoogleCalendarService(env["google.service"])
        results = measure_cases(env, server, lambda: user.with_user(user).sudo()._sync_google_calendar(service))
        count = env["calendar.event"].search_count([("google_id", "!=", False)])
        print(f"# odoo google_calendar: {count} meetings with a google_id", flush=True)
        return results


def run_google(n, seed, compare, repeat=2):
    from odoo.addons.webcrm_calendar_sync.engine.testing.fake_google import FakeGoogle

    def ours():
        with FakeGoogle() as server:
            seed_google(server, n, seed)
            return ours_google(server, n, seed)

    def odoo():
        with FakeGoogle() as server:
            seed_google(server, n, seed)
            return odoo_google(server, n, seed)

    interleaved("google", n, ours, odoo if compare else None, repeat)


def interleaved(provider, n, ours, odoo, repeat):
    """Ours and Odoo's module in turn (A, B, A, B ...): both see the same moments of a noisy
    machine. The lines give our fastest run; the ratios (Odoo's time over ours, run by run)
    are printed with their minimum and median."""
    runs = []
    for _ in range(max(repeat, 1) if odoo else 1):
        mine = ours()
        theirs = None
        if odoo:
            try:
                theirs = odoo()
            except Exception as exc:  # noqa: BLE001 - report and go on with our figures
                import traceback

                traceback.print_exc()
                print(f"# odoo {provider}_calendar could not be measured: {exc!r}", flush=True)
                odoo = None
        runs.append((mine, theirs))
    compared = [(mine, theirs) for mine, theirs in runs if theirs]
    best = min(runs, key=lambda run: run[0]["full"][0])
    results = {"ours": best[0]}
    if compared:
        results["odoo"] = min(compared, key=lambda run: run[1]["full"][0])[1]
    report(provider, n, results, bool(compared))
    for case in ("full", "resync") if compared else ():
        ratios = sorted(theirs[case][0] / mine[case][0] for mine, theirs in compared)
        print(
            f"bench {provider} {case} events={n} vs_odoo_min={ratios[0]:.1f} "
            f"vs_odoo_median={statistics.median(ratios):.1f} runs={len(ratios)} (interleaved)",
            flush=True,
        )


# ---------------------------------------------------------------------------
# Microsoft 365
# ---------------------------------------------------------------------------
def seed_microsoft(server, n, seed):
    from odoo.addons.webcrm_calendar_sync.engine.events import MASTER
    from odoo.addons.webcrm_calendar_sync.engine.providers.microsoft import to_graph

    server.add_user(OWNER)
    colleagues = [f"colleague{i}@bench.test" for i in range(5)]
    for remote in generate(n, OWNER, seed=seed, colleagues=colleagues):
        body = to_graph(remote)
        if remote.kind == MASTER:
            rule = dict(part.split("=") for part in remote.recurrence[0][len("RRULE:") :].split(";"))
            body["recurrence"] = {
                "pattern": {
                    "type": rule["FREQ"].lower(),
                    "interval": 1,
                    **({"daysOfWeek": [remote.start.strftime("%A").lower()]} if rule["FREQ"] == "WEEKLY" else {}),
                },
                "range": {
                    "type": "numbered",
                    "startDate": remote.start.date().isoformat(),
                    "numberOfOccurrences": int(rule["COUNT"]),
                },
            }
        server.add_event(OWNER, body)


def ours_microsoft(server, n, seed):
    with odoo_env(f"{DB_PREFIX}_ours") as env:
        env["res.config.settings"].create(
            {
                "group_calendar_sync": True,
                "calendar_sync_microsoft_client_id": server.client_id,
                "calendar_sync_microsoft_client_secret": server.client_secret,
                "calendar_sync_microsoft_authority_host": server.url,
                "calendar_sync_microsoft_graph_endpoint": server.graph_endpoint,
                "calendar_sync_days_back": 365,
                "calendar_sync_days_ahead": 365,
            }
        ).execute()
        env["ir.config_parameter"].sudo().set_param("webcrm_calendar_sync.microsoft_ca_bundle", server.ca_file)
        user = env["res.users"].create({"name": "Bench Owner", "login": OWNER, "email": OWNER})
        account = env["calendar.sync.account"].create(
            {"user_id": user.id, "provider": "microsoft", "email": OWNER, "state": "subscribed"}
        )
        account._set_credentials(token_data=microsoft_cache(server))
        results = measure_cases(env, server, account._sync)
        count = env["calendar.sync.binding"].search_count([("account_id", "=", account.id)])
        print(f"# ours: {count} meetings bound ({account.state} {account.last_error or ''})", flush=True)
        return results


def microsoft_cache(server):
    """A token cache as after 'Save and subscribe' (the browser round trip done with requests)."""
    import requests

    from odoo.addons.webcrm_calendar_sync.engine.providers import microsoft

    authority = server.authority("organizations")
    flow = microsoft.build_auth_flow(
        server.client_id, server.client_secret, authority, "http://bench/cb", OWNER, verify=server.ca_file
    )
    answer = requests.get(flow["auth_uri"], allow_redirects=False, verify=server.ca_file, timeout=10)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(answer.headers["Location"]).query))
    cache, _email = microsoft.complete_auth_flow(
        flow, query, server.client_id, server.client_secret, authority, verify=server.ca_file
    )
    return cache


class _RewriteMicrosoft(_Rewrite):
    def request(self, method, url, **kw):
        parts = urllib.parse.urlsplit(url)
        if parts.netloc in ("graph.microsoft.com", "login.microsoftonline.com"):
            url = self.server.url + parts.path + (f"?{parts.query}" if parts.query else "")
            kw["verify"] = self.server.ca_file
        return self.requests.request(method, url, **kw)


def odoo_microsoft(server, n, seed):
    from odoo.addons.microsoft_account.models import microsoft_service

    microsoft_service.requests = _RewriteMicrosoft(server)
    server.link_base = "https://graph.microsoft.com/v1.0"  # Odoo's module only follows links to Graph's host
    with odoo_env(f"{DB_PREFIX}_odoo_microsoft") as env:
        icp = env["ir.config_parameter"].sudo()
        icp.set_param("microsoft_calendar_client_id", server.client_id)
        icp.set_param("microsoft_calendar_client_secret", server.client_secret)
        user = env["res.users"].create({"name": "Bench Owner", "login": OWNER, "email": OWNER})
        token = next(iter(__import__("json").loads(microsoft_cache(server))["AccessToken"].values()))["secret"]
        user.sudo().write(
            {
                "microsoft_calendar_rtoken": "unused",
                "microsoft_calendar_token": token,
                "microsoft_calendar_token_validity": dt.datetime.now() + dt.timedelta(hours=1),
            }
        )
        results = measure_cases(env, server, lambda: user.with_user(user).sudo()._sync_microsoft_calendar())
        count = env["calendar.event"].search_count([("microsoft_id", "!=", False)])
        print(f"# odoo microsoft_calendar: {count} meetings with a microsoft_id", flush=True)
        return results


def run_microsoft(n, seed, compare, repeat=2):
    from odoo.addons.webcrm_calendar_sync.engine.testing.fake_graph import FakeGraph

    def ours():
        with FakeGraph() as server:
            seed_microsoft(server, n, seed)
            return ours_microsoft(server, n, seed)

    def odoo():
        with FakeGraph() as server:
            seed_microsoft(server, n, seed)
            return odoo_microsoft(server, n, seed)

    interleaved("microsoft", n, ours, odoo if compare else None, repeat)


# ---------------------------------------------------------------------------
# Exchange server (EWS): Odoo has no EWS sync to compare with (vs_odoo=-)
# ---------------------------------------------------------------------------
EXCHANGE_ZONES = {
    "UTC": "UTC",
    "Europe/Stockholm": "W. Europe Standard Time",
    "Europe/Berlin": "W. Europe Standard Time",
    "Europe/London": "GMT Standard Time",
    "America/New_York": "Eastern Standard Time",
    "America/Los_Angeles": "Pacific Standard Time",
    "Asia/Tokyo": "Tokyo Standard Time",
    "Australia/Sydney": "AUS Eastern Standard Time",
}


def seed_exchange(server, n, seed):
    from zoneinfo import ZoneInfo

    from odoo.addons.webcrm_calendar_sync.engine.events import MASTER

    if OWNER not in server.mailboxes:  # seeding more events into a mailbox keeps it (and its sync states)
        server.add_mailbox(OWNER, "bench-pw")
    colleagues = [f"colleague{i}@bench.test" for i in range(5)]
    responses = {"accepted": "Accept", "tentative": "Tentative", "needsAction": "NoResponseReceived"}
    for remote in generate(n, OWNER, seed=seed, colleagues=colleagues):
        tz = remote.timezone if remote.timezone in EXCHANGE_ZONES else "UTC"
        if remote.all_day:
            zone = ZoneInfo(tz)
            start = dt.datetime.combine(remote.start_date, dt.time.min, tzinfo=zone)
            end = dt.datetime.combine(remote.end_date + dt.timedelta(days=1), dt.time.min, tzinfo=zone)
        else:
            start, end = remote.start, remote.end
        recurrence = None
        if remote.kind == MASTER:
            rule = dict(part.split("=") for part in remote.recurrence[0][len("RRULE:") :].split(";"))
            recurrence = {"pattern": rule["FREQ"].lower(), "count": int(rule["COUNT"])}
        server.add_item(
            OWNER,
            subject=remote.summary,
            body=remote.description,
            location=remote.location,
            start=start,
            end=end,
            tz=EXCHANGE_ZONES[tz],
            all_day=remote.all_day,
            attendees=[
                (a.email, "", responses.get(a.response, "Unknown")) for a in remote.attendees if a.email != OWNER
            ],
            sensitivity="Private" if remote.privacy == "private" else "Normal",
            recurrence=recurrence,
        )


def ours_exchange(server, n, seed):
    with odoo_env(f"{DB_PREFIX}_ours") as env:
        env["res.config.settings"].create(
            {
                "group_calendar_sync": True,
                "calendar_sync_exchange_ca_bundle": server.ca_file,
                # the fake EWS listens on 127.0.0.1: allowed as an administrator would allow an in-house server
                "calendar_sync_allowed_private_hosts": "127.0.0.1",
                "calendar_sync_days_back": 365,
                "calendar_sync_days_ahead": 365,
            }
        ).execute()
        user = env["res.users"].create({"name": "Bench Owner", "login": OWNER, "email": OWNER})
        account = env["calendar.sync.account"].create(
            {"user_id": user.id, "provider": "exchange", "email": OWNER, "ews_url": server.url, "password": "bench-pw"}
        )
        account._subscribe_exchange()  # learns the auth type and server build, as "Save and subscribe" does
        results = measure_cases(env, server, account._sync)
        count = env["calendar.sync.binding"].search_count([("account_id", "=", account.id)])
        print(f"# ours: {count} meetings bound ({account.state} {account.last_error or ''})", flush=True)
        return results


def run_exchange(n, seed, compare, repeat=1):
    from odoo.addons.webcrm_calendar_sync.engine.testing.fake_ews import FakeEWS

    results = {}
    with FakeEWS(auth=("basic",)) as server:
        seed_exchange(server, n, seed)
        results["ours"] = ours_exchange(server, n, seed)
    report("exchange", n, results, False)


PROVIDERS = {
    "google": (run_google, ["google_calendar"]),
    "microsoft": (run_microsoft, ["microsoft_calendar"]),
    "exchange": (run_exchange, []),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", default="google", choices=sorted(PROVIDERS))
    parser.add_argument("--events", type=int, nargs="+", default=[1000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--fresh", action="store_true", help="recreate the bench databases")
    parser.add_argument("--no-compare", action="store_true", help="skip Odoo's own module")
    parser.add_argument("--repeat", type=int, default=2, help="runs of ours and Odoo's module, in turn")
    args = parser.parse_args()
    runner, odoo_modules = PROVIDERS[args.provider]
    compare = bool(odoo_modules) and not args.no_compare
    ensure_db(f"{DB_PREFIX}_ours", ["webcrm_calendar_sync"], args.fresh)
    if compare:
        ensure_db(f"{DB_PREFIX}_odoo_{args.provider}", odoo_modules, args.fresh)
    for n in args.events:
        runner(n, args.seed, compare, args.repeat)


if __name__ == "__main__":
    main()
