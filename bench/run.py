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
import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDON_DIR = ROOT / "webcrm_calendar_sync"
sys.path.insert(0, str(ADDON_DIR))
sys.path.insert(0, str(ROOT / "bench"))

from generate import generate  # noqa: E402

PGHOST = os.environ.get("PGHOST", "127.0.0.1")
PGUSER = os.environ.get("PGUSER", "root")
OWNER = "owner@bench.test"
UTC = dt.timezone.utc


def addons_path():
    import odoo

    pkg = Path(odoo.__file__).resolve().parent
    paths = [p for p in (pkg.parent / "addons", pkg / "addons") if p.is_dir()]
    return ",".join(str(p) for p in paths + [ROOT])


def ensure_db(name, modules, fresh):
    """Create ``name`` with ``modules`` installed (once), through Odoo's own CLI."""
    exists = subprocess.run(
        ["psql", "-h", PGHOST, "-U", PGUSER, "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{name}'", "postgres"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    if exists and not fresh:
        return
    if exists:
        subprocess.run(["dropdb", "-h", PGHOST, "-U", PGUSER, name], check=True)
    print(f"# creating database {name} with {','.join(modules)} (once)", flush=True)
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
                "-i",
                ",".join(modules),
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
    with registry.cursor() as cr:
        yield api.Environment(cr, odoo.SUPERUSER_ID, {})
        cr.rollback()  # leave the bench database as it was


def measure(env, func):
    cr = env.cr
    env.flush_all()
    queries = cr.sql_log_count
    start = time.perf_counter()
    func()
    env.flush_all()
    return time.perf_counter() - start, cr.sql_log_count - queries


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
    from engine.providers.google import to_google

    server.add_user(OWNER)
    colleagues = [f"colleague{i}@bench.test" for i in range(5)]
    for remote in generate(n, OWNER, seed=seed, colleagues=colleagues):
        server.add_event(OWNER, to_google(remote))


def ours_google(server, n, seed):
    from engine.testing.fake_google import FakeGoogle  # noqa: F401  (server given)

    with odoo_env("webcrm_bench_ours") as env:
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
        results = {}
        for case in ("full", "resync"):
            before = server.requests
            seconds, sql = measure(env, lambda: account._sync())
            results[case] = (seconds, server.requests - before, sql)
        count = env["calendar.sync.binding"].search_count([("account_id", "=", account.id)])
        print(f"# ours: {count} meetings bound", flush=True)
        return results


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
    with odoo_env("webcrm_bench_odoo_google") as env:
        icp = env["ir.config_parameter"].sudo()
        icp.set_param("google_calendar_client_id", server.client_id)
        icp.set_param("google_calendar_client_secret", server.client_secret)
        user = env["res.users"].create({"name": "Bench Owner", "login": OWNER, "email": OWNER})
        tokens = server.issue_tokens(OWNER)
        user.res_users_settings_id._set_google_auth_tokens(tokens["access_token"], tokens["refresh_token"], 3600)
        service = GoogleCalendarService(env["google.service"])
        results = {}
        for case in ("full", "resync"):
            before = server.requests
            seconds, sql = measure(env, lambda: user.with_user(user).sudo()._sync_google_calendar(service))
            results[case] = (seconds, server.requests - before, sql)
        count = env["calendar.event"].search_count([("google_id", "!=", False)])
        print(f"# odoo google_calendar: {count} meetings with a google_id", flush=True)
        return results


def run_google(n, seed, compare):
    from engine.testing.fake_google import FakeGoogle

    results = {}
    with FakeGoogle() as server:
        seed_google(server, n, seed)
        results["ours"] = ours_google(server, n, seed)
    if compare:
        with FakeGoogle() as server:
            seed_google(server, n, seed)
            results["odoo"] = odoo_google(server, n, seed)
    for case in ("full", "resync"):
        seconds, http, sql = results["ours"][case]
        ratio = results["odoo"][case][0] / seconds if compare else None
        line("google", case, n, seconds, http, sql, ratio)
    if compare:
        for case in ("full", "resync"):
            seconds, http, sql = results["odoo"][case]
            print(f"# odoo google_calendar {case} events={n} seconds={seconds:.2f} http={http} sql={sql}")


PROVIDERS = {"google": (run_google, ["google_calendar"])}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--provider", default="google", choices=sorted(PROVIDERS))
    parser.add_argument("--events", type=int, nargs="+", default=[1000])
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--fresh", action="store_true", help="recreate the bench databases")
    parser.add_argument("--no-compare", action="store_true", help="skip Odoo's own module")
    args = parser.parse_args()
    runner, odoo_modules = PROVIDERS[args.provider]
    compare = bool(odoo_modules) and not args.no_compare
    ensure_db("webcrm_bench_ours", ["webcrm_calendar_sync"], args.fresh)
    if compare:
        ensure_db(f"webcrm_bench_odoo_{args.provider}", odoo_modules, args.fresh)
    for n in args.events:
        runner(n, args.seed, compare)


if __name__ == "__main__":
    main()
