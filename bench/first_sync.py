#!/usr/bin/env python3
"""A very large first sync, run as the scheduled sync runs it: time and peak memory.

    make bench-first-sync EVENTS=10000
    python3 bench/first_sync.py --events 10000 --provider google --mode background

One account whose external calendar (on the local fake server) holds ``--events``
generated events syncs for the first time, in a worker process of its own:

* ``background``: as Odoo's cron runner calls the scheduled action (``_cron_sync``,
  up to ten calls per run, a new run while the account is due), each page committed;
* ``at-once``: ``account._sync()`` in one transaction (how a test, or a caller outside
  the scheduled action, syncs);
* ``incremental``: an account of an empty calendar synced first (not measured), then
  ``--events`` events added on the server and the changes synced as in ``background``
  (a Google sync-token listing, a Graph delta, ``SyncFolderItems`` from the sync state,
  all read page by page): what a long pause or a bulk import costs.

One line per case:

    bench first_sync provider=google mode=background events=10000 meetings=… seconds=… calls=… http=…
        peak_mb=… grew_mb=… [heap_peak_mb=…]

``peak_mb`` is the worker's peak resident memory (Odoo's registry included); ``grew_mb``
what the sync added to it; ``heap_peak_mb`` (with ``--tracemalloc``, slower) the peak
of Python's own allocations during the sync. What was synced is removed afterwards
(the database ``--db`` is reused; it is created once, then updated when the addon changes).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import odoo.addons

ROOT = Path(__file__).resolve().parent.parent
# the engine is imported under the addon's name only, as the addon and its tests import it
if str(ROOT) not in odoo.addons.__path__:
    odoo.addons.__path__.append(str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import run  # noqa: E402
from generate import generate  # noqa: E402
from run import PGHOST, PGUSER, addons_path, ensure_db  # noqa: E402

RUNNER_CALLS = 10  # Odoo's ir.cron runner calls a job up to ten times per run
EMAIL = "big@first-sync.test"


def serve(provider, events):
    """The fake server of ``provider`` holding ``events`` generated events, started; the settings for it,
    the account's credentials and its values."""
    if provider == "google":
        from odoo.addons.webcrm_calendar_sync.engine.testing.fake_google import FakeGoogle

        server = FakeGoogle(token_lifetime=10**8).start()
        server.add_user(EMAIL)
        add_events(provider, server, events, 4242)
        params = {
            "google_client_id": server.client_id,
            "google_client_secret": server.client_secret,
            "google_token_uri": server.token_uri,
            "google_api_endpoint": server.api_endpoint,
        }
        return server, params, {"token_data": server.issue_tokens(EMAIL)}, {"email": EMAIL}
    if provider == "microsoft":
        from odoo.addons.webcrm_calendar_sync.engine.testing.fake_graph import FakeGraph

        server = FakeGraph().start()
        add_events(provider, server, events, 4242)
        params = {
            "microsoft_client_id": server.client_id,
            "microsoft_client_secret": server.client_secret,
            "microsoft_authority_host": server.url,
            "microsoft_graph_endpoint": server.graph_endpoint,
            "microsoft_ca_bundle": server.ca_file,
        }
        return server, params, {"token_data": run.microsoft_cache(server)}, {"email": run.OWNER}
    from odoo.addons.webcrm_calendar_sync.engine.testing.fake_ews import FakeEWS

    server = FakeEWS().start()
    add_events(provider, server, events, 4242)
    params = {"exchange_ca_bundle": server.ca_file, "allowed_private_hosts": "127.0.0.1"}
    account = {"email": run.OWNER, "ews_url": server.url, "subscribe": True}
    return server, params, {"password": "bench-pw"}, account


def add_events(provider, server, events, seed):
    """``events`` generated events more in the bench calendar of ``provider``'s fake."""
    if provider == "google":
        from odoo.addons.webcrm_calendar_sync.engine.providers.google import to_google

        for remote in generate(events, EMAIL, seed=seed):
            server.add_event(EMAIL, to_google(remote))
    elif provider == "microsoft":
        run.seed_microsoft(server, events, seed)
    else:
        run.seed_exchange(server, events, seed)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10000)
    parser.add_argument("--provider", default="google", choices=["google", "microsoft", "exchange"])
    parser.add_argument("--mode", nargs="+", default=["background"], choices=["background", "at-once", "incremental"])
    parser.add_argument("--db", default="webcrm_bench_first_sync")
    parser.add_argument("--tracemalloc", action="store_true", help="also the peak of Python's heap (slower)")
    parser.add_argument(
        "--budget", type=float, default=300, help="the scheduled action's time budget per run, seconds (default 300)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    ensure_db(args.db, ["webcrm_calendar_sync"], False)
    full_modes = [mode for mode in args.mode if mode != "incremental"]
    served = serve(args.provider, args.events) if full_modes else None
    try:
        for mode in args.mode:
            # the incremental case has a calendar of its own, empty at the first sync
            own = serve(args.provider, 0) if mode == "incremental" else None
            server, params, credentials, account_vals = own or served
            try:
                # the fake builds a listing's snapshot at its first page: give it time (a call takes an
                # account only while more than this timeout is left of its budget)
                params = dict(params, request_timeout="60", cron_time_budget=str(args.budget))
                payload = {
                    "params": params,
                    "credentials": credentials,
                    "account": account_vals,
                    "mode": mode,
                    "provider": args.provider,
                }
                before = server.requests
                proc = subprocess.Popen(
                    [sys.executable, __file__, "--worker", mode, "--db", args.db]
                    + (["--tracemalloc"] if args.tracemalloc else []),
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
                proc.stdin.write(json.dumps(payload) + "\n")
                proc.stdin.flush()
                if mode == "incremental":
                    # the worker synced the empty calendar; now the changes it is to sync
                    for line in proc.stdout:
                        if line.startswith('{"ready"'):
                            break
                    add_events(args.provider, server, args.events, 4343)
                    before = server.requests
                    proc.stdin.write("go\n")
                    proc.stdin.flush()
                out, _err = proc.communicate()
                if proc.returncode:
                    sys.exit(f"bench worker failed ({proc.returncode})")
                result = json.loads(out.strip().splitlines()[-1])
                line = (
                    f"bench first_sync provider={args.provider} mode={mode} budget={args.budget:g} "
                    f"events={args.events} "
                    f"meetings={result['meetings']} seconds={result['seconds']:.2f} calls={result['calls']} "
                    f"http={server.requests - before} peak_mb={result['peak_mb']:.0f} grew_mb={result['grew_mb']:.0f}"
                )
                if "heap_peak_mb" in result:
                    line += f" heap_peak_mb={result['heap_peak_mb']:.0f}"
                if result["state"] != "synced":
                    line += f" state={result['state']}"
                print(line, flush=True)
            finally:
                if own:
                    own[0].stop()
    finally:
        if served:
            served[0].stop()


def worker(args):
    import odoo
    from odoo import SUPERUSER_ID, api

    payload = json.loads(sys.stdin.readline())
    odoo.tools.config.parse_config(
        ["--db_host", PGHOST, "--db_user", PGUSER, "--addons-path", addons_path(), "--log-level", "warn"]
    )
    registry = odoo.modules.registry.Registry(args.db)
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True, "no_reset_password": True})
        env["res.config.settings"].create({"group_calendar_sync": True}).execute()
        for key, value in payload["params"].items():
            env["ir.config_parameter"].set_param(f"webcrm_calendar_sync.{key}", value)
        vals = dict(payload["account"])
        email, subscribe = vals["email"], vals.pop("subscribe", False)
        user = env["res.users"].with_context(active_test=False).search([("login", "=", email)])
        if user:
            cleanup(env, user)  # what an interrupted run left
        else:
            user = env["res.users"].create({"name": "Big calendar", "login": email, "email": email})
        account = env["calendar.sync.account"].create(
            dict(vals, user_id=user.id, provider=payload["provider"], state="subscribed")
        )
        account._set_credentials(**payload["credentials"])
        if subscribe:
            account._subscribe_exchange()  # learns the auth type and server build, as "Save and subscribe" does
        account_id = account.id
        # no other account is due: the scheduled action takes only this one
        others = env["calendar.sync.account"].search([("id", "!=", account_id)])
        others.write({"active": False})
        cr.commit()
    if args.worker == "incremental":
        cron_runs(registry, account_id)  # the first sync, of the empty calendar
        with registry.cursor() as cr:
            # due now, as after a long pause
            cr.execute("UPDATE calendar_sync_account SET next_sync_date = NULL WHERE id = %s", [account_id])
        print(json.dumps({"ready": True}), flush=True)
        sys.stdin.readline()  # the events were added on the server
    if args.tracemalloc:
        import tracemalloc

        tracemalloc.start()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    calls = 0
    if args.worker in ("background", "incremental"):
        calls = cron_runs(registry, account_id)
    else:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["calendar.sync.account"].browse(account_id)._sync()
            calls = 1
    seconds = time.perf_counter() - started
    result = {"seconds": seconds, "calls": calls}
    if args.tracemalloc:
        import tracemalloc

        result["heap_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with registry.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        account = env["calendar.sync.account"].browse(account_id)
        result.update(
            meetings=env["calendar.sync.binding"].search_count([("account_id", "=", account_id)]),
            state=account.state,
            peak_mb=peak,
            grew_mb=peak - rss_before,
        )
        cleanup(env, account.user_id)
        env["calendar.sync.account"].browse(others.ids).write({"active": True})
        cr.commit()
    print(json.dumps(result), flush=True)


def cron_runs(registry, account_id):
    """Call the scheduled action as Odoo's cron runner does until the account's listing is done;
    returns the number of calls."""
    from odoo import SUPERUSER_ID, api

    thread = threading.current_thread()
    calls = 0
    while True:
        thread.start_time = time.time()  # a run of the cron worker: its time limit starts here
        for _call in range(RUNNER_CALLS):
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                done = env["calendar.sync.account"]._cron_sync()
                calls += 1
            if not done:
                break
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            account = env["calendar.sync.account"].browse(account_id)
            listing = getattr(account, "full_sync_running", False) or account.sudo().sync_resume
            if account.state != "subscribed" and not listing:
                return calls
            if calls > 1000:
                return calls


def cleanup(env, users):
    """Remove what a previous run synced (SQL: ten thousand meetings unlinked one by one would take long)."""
    env.flush_all()
    env.cr.execute(
        """DELETE FROM calendar_event WHERE id IN (
             SELECT b.event_id FROM calendar_sync_binding b
               JOIN calendar_sync_account a ON a.id = b.account_id WHERE a.user_id = ANY(%s))""",
        [users.ids],
    )
    env.cr.execute("DELETE FROM calendar_sync_account WHERE user_id = ANY(%s)", [users.ids])
    env.invalidate_all()


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
