#!/usr/bin/env python3
"""Scale benchmark: the scheduled pass over many accounts, and one very large first sync.

    make bench-scale ACCOUNTS=1000
    python3 bench/scale.py --accounts 200 --events 20 --first-sync 10000

N Google accounts (``--events`` meetings each) are served by the local fake Google
server. The scheduled action's method runs as Odoo's cron runner runs it (up to ten
calls per run, then a new run), in one or two worker processes, each on its own
cursor, sharing the pass through the accounts' row locks. One line per case:

    bench scale accounts=1000 events=20 changed=0 workers=1 seconds=… sql_per_account=… http_per_account=… peak_mb=…

``changed=1%`` means 1 % of the accounts have one meeting changed in the external
calendar before the pass. ``peak_mb`` is the largest peak resident memory of a worker
process (Odoo's registry included). With ``--cron-limit S``, one more pass runs under a
cron time limit of S seconds (the request timeout set to S/5): it takes several runs
of the cron worker, and a line gives their number and the longest (``over_limit`` if one
passed S). Then a first sync of ``--first-sync`` events in one account (rolled back):
seconds and peak memory.

The synced set-up (users, accounts, their first syncs) is kept in the database
``webcrm_bench_scale_<N>`` (or ``--bench-db``) with the fake server's state beside it
(``$TMPDIR/<database>.pickle``); ``--fresh`` rebuilds both.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import resource
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import odoo.addons

ROOT = Path(__file__).resolve().parent.parent
# the engine is imported under the addon's name only, as the addon and its tests import it
if str(ROOT) not in odoo.addons.__path__:
    odoo.addons.__path__.append(str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from generate import generate  # noqa: E402
from run import PGHOST, PGUSER, _psql, addons_path, ensure_db  # noqa: E402

STATE_KEY = "webcrm_calendar_sync.bench_scale_state"
TOKEN_LIFETIME = 10**8  # the set-up's tokens stay valid while the bench database is reused
RUNNER_CALLS = 10  # Odoo's ir.cron runner calls a job up to ten times per run


def state_file(db):
    return Path(tempfile.gettempdir()) / f"{db}.pickle"


def owner(i):
    return f"user{i:05d}@scale.test"


# ---------------------------------------------------------------------------
# the fake server's state, kept beside the bench database
# ---------------------------------------------------------------------------
def save_server(server, path, tag):
    with server.lock:
        seq = next(server.seq)
        data = {
            "tag": tag,
            "calendars": server.calendars,
            "access_tokens": server.tokens.access_tokens,
            "refresh_tokens": server.tokens.refresh_tokens,
            "seq": seq,
        }
        with open(path, "wb") as fh:
            pickle.dump(data, fh, protocol=pickle.HIGHEST_PROTOCOL)
        server.seq = __import__("itertools").count(seq + 1)


def load_server(server, path, tag):
    import itertools

    if not path.exists():
        return False
    with open(path, "rb") as fh:
        data = pickle.load(fh)
    if data.get("tag") != tag:
        return False
    server.calendars = data["calendars"]
    server.tokens.access_tokens = data["access_tokens"]
    server.tokens.refresh_tokens = data["refresh_tokens"]
    server.seq = itertools.count(data["seq"] + 1)
    return True


# ---------------------------------------------------------------------------
# in the parent: set-up, cases, report
# ---------------------------------------------------------------------------
def configure(db, server):
    _psql(
        db,
        "INSERT INTO ir_config_parameter (key, value) VALUES "
        f"('webcrm_calendar_sync.google_client_id', '{server.client_id}'), "
        f"('webcrm_calendar_sync.google_client_secret', '{server.client_secret}'), "
        f"('webcrm_calendar_sync.google_token_uri', '{server.token_uri}'), "
        f"('webcrm_calendar_sync.google_api_endpoint', '{server.api_endpoint}'), "
        "('webcrm_calendar_sync.sync_days_back', '365'), ('webcrm_calendar_sync.sync_days_ahead', '365') "
        "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
    )


def set_param(db, key, value):
    _psql(
        db,
        "INSERT INTO ir_config_parameter (key, value) VALUES "
        f"('webcrm_calendar_sync.{key}', '{value}') ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
    )


def set_up(db, server, n, events, path):
    """Users, accounts and their first syncs, committed; the fake's state saved beside."""
    from odoo.addons.webcrm_calendar_sync.engine.providers.google import to_google

    print(f"# setting up {n} accounts with {events} meetings each in {db} (once)", flush=True)
    started = time.time()
    tokens = {}
    for i in range(n):
        server.add_user(owner(i))
        for remote in generate(events, owner(i), seed=i):
            server.add_event(owner(i), to_google(remote))
        tokens[owner(i)] = server.issue_tokens(owner(i))
    tag = secrets.token_hex(8)
    finish_worker(start_worker(db, "setup", {"accounts": n, "tokens": tokens, "tag": tag}))
    # the first syncs, by two workers sharing the pass as in the cases below
    procs = [start_worker(db, "cron") for _ in range(2)]
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    done = sum(finish_worker(proc)["done"] for proc in procs)
    save_server(server, path, tag)
    print(f"# set-up done in {time.time() - started:.0f} s ({done} first syncs)", flush=True)


def due_all(db):
    _psql(db, "UPDATE calendar_sync_account SET next_sync_date = NULL WHERE email LIKE '%@scale.test'")


def change_some(server, n, count, salt):
    """One meeting changed in ``count`` accounts' external calendars (spread over the accounts)."""
    if not count:
        return
    step = max(n // count, 1)
    with server.lock:
        for k in range(count):
            email = owner((k * step + salt) % n)
            event = next(e for e in server.calendars[email].values() if e.get("status") != "cancelled")
            event["summary"] = f"{event.get('summary', '')} (changed {salt})"
            server._stamp(event)


def run_case(db, server, n, events, changed, workers, salt, cron_limit=None):
    due_all(db)
    change_some(server, n, changed, salt)
    procs = [start_worker(db, "cron", {"cron_limit": cron_limit}) for _ in range(workers)]
    before = server.requests
    started, fake_cpu = time.perf_counter(), time.process_time()  # this process runs the fake server
    for proc in procs:
        proc.stdin.write("go\n")
        proc.stdin.flush()
    results = [finish_worker(proc) for proc in procs]
    # the pass: from the first worker's start to the last one's end (not the processes' exit)
    seconds = max(r["span"][1] for r in results) - min(r["span"][0] for r in results)
    overall = time.perf_counter() - started
    fake_cpu = time.process_time() - fake_cpu
    http = server.requests - before
    done = sum(r["done"] for r in results)
    sql = sum(r["sql"] for r in results)
    peak = max(r["peak_mb"] for r in results)
    share = f"{round(100 * changed / n)}%" if changed else "0"  # changed accounts, in % of all
    line = (
        f"bench scale accounts={n} events={events} changed={share} workers={workers} seconds={seconds:.2f} "
        f"sql_per_account={sql / n:.2f} http_per_account={http / n:.2f} peak_mb={peak:.0f}"
    )
    if done != n:
        line += f" synced={done}"
    print(line, flush=True)
    # on a shared machine wall-clock seconds depend on the load: the workers' own CPU time does less
    cpu = sum(r["cpu"] for r in results)
    print(
        f"# workers' cpu_seconds={cpu:.2f} ({1000 * cpu / n:.1f} ms per account); "
        f"with the workers' start and exit {overall:.2f} s; "
        f"the fake server's cpu {1000 * fake_cpu / n:.1f} ms per account",
        flush=True,
    )
    if cron_limit:
        runs = [run for r in results for run in r["runs"]]
        print(
            f"bench scale cron_runs accounts={n} workers={workers} cron_limit={cron_limit} runs={len(runs)} "
            f"longest_run_seconds={max(runs, default=0):.2f} synced={done}"
            + (" over_limit" if max(runs, default=0) > cron_limit else ""),
            flush=True,
        )
    return results


def first_sync(db, events):
    """One account with ``events`` generated events syncs for the first time (on its own fake server)."""
    from odoo.addons.webcrm_calendar_sync.engine.providers.google import to_google
    from odoo.addons.webcrm_calendar_sync.engine.testing.fake_google import FakeGoogle

    email = "big@scale.test"
    with FakeGoogle(token_lifetime=TOKEN_LIFETIME) as server:
        server.add_user(email)
        for remote in generate(events, email, seed=4242):
            server.add_event(email, to_google(remote))
        params = {
            "google_client_id": server.client_id,
            "google_client_secret": server.client_secret,
            "google_token_uri": server.token_uri,
            "google_api_endpoint": server.api_endpoint,
            # the fake builds the first page of a 10,000-event listing in one go: give it time
            "request_timeout": "300",
        }
        proc = start_worker(db, "first_sync", {"email": email, "tokens": server.issue_tokens(email), "params": params})
        before = server.requests
        proc.stdin.write("go\n")
        proc.stdin.flush()
        result = finish_worker(proc)
        http = server.requests - before
    print(
        f"bench scale first_sync events={events} meetings={result['meetings']} seconds={result['seconds']:.2f} "
        f"http={http} sql={result['sql']} peak_mb={result['peak_mb']:.0f} grew_mb={result['grew_mb']:.0f}"
        + ("" if result["state"] == "synced" else f" state={result['state']}"),
        flush=True,
    )


def start_worker(db, role, payload=None):
    proc = subprocess.Popen(
        [sys.executable, __file__, "--worker", role, "--db", db],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    proc.stdin.write(json.dumps(payload or {}) + "\n")
    proc.stdin.flush()
    ready = proc.stdout.readline()
    if ready.strip() != "ready":
        sys.exit(f"bench worker did not start: {ready!r}")
    return proc


def finish_worker(proc):
    out = proc.stdout.readline()
    proc.wait()
    if proc.returncode or not out:
        sys.exit(f"bench worker failed ({proc.returncode})")
    return json.loads(out)


# ---------------------------------------------------------------------------
# in a worker process
# ---------------------------------------------------------------------------
def worker(role, db):
    import odoo
    from odoo import SUPERUSER_ID, api

    payload = json.loads(sys.stdin.readline())
    odoo.tools.config.parse_config(
        ["--db_host", PGHOST, "--db_user", PGUSER, "--addons-path", addons_path(), "--log-level", "warn"]
    )
    registry = odoo.modules.registry.Registry(db)
    if os.environ.get("BENCH_SQL_LOG"):  # every query on stderr, for development
        import logging

        logging.getLogger("odoo.sql_db").setLevel(logging.DEBUG)
    if role == "setup":
        print("ready", flush=True)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True, "no_reset_password": True})
            env["res.config.settings"].create({"group_calendar_sync": True}).execute()
            n = payload["accounts"]
            users = env["res.users"].create(
                [{"name": f"Scale user {i}", "login": owner(i), "email": owner(i)} for i in range(n)]
            )
            accounts = env["calendar.sync.account"].create(
                [{"user_id": u.id, "provider": "google", "email": u.login, "state": "subscribed"} for u in users]
            )
            env["calendar.sync.credential"].sudo().create(
                [{"account_id": a.id, "token_data": json.dumps(payload["tokens"][a.email])} for a in accounts]
            )
            env["ir.config_parameter"].set_param(STATE_KEY, payload["tag"])
            cr.commit()
        print(json.dumps({"created": n}), flush=True)
        return
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("ready", flush=True)
    sys.stdin.readline()  # "go"
    if role == "cron" and os.environ.get("BENCH_PROFILE"):  # a profile of the pass, for development
        import cProfile

        profiler = cProfile.Profile()
        cpu, began = time.process_time(), time.time()
        done, sql = profiler.runcall(run_cron, registry)
        result = {"done": done, "sql": sql, "runs": [], "cpu": time.process_time() - cpu, "span": (began, time.time())}
        profiler.dump_stats(os.environ["BENCH_PROFILE"])
    elif role == "cron":
        if payload.get("cron_limit"):  # the cron worker's time limit (limit_time_real_cron)
            odoo.tools.config["limit_time_real_cron"] = payload["cron_limit"]
        runs = []
        cpu, began = time.process_time(), time.time()
        done, sql = run_cron(registry, runs)
        ended = time.time()
        result = {"done": done, "sql": sql, "runs": runs, "cpu": time.process_time() - cpu, "span": (began, ended)}
    else:  # first_sync
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True, "no_reset_password": True})
            email = payload["email"]
            for key, value in payload["params"].items():  # this server, in this (rolled back) transaction
                env["ir.config_parameter"].set_param(f"webcrm_calendar_sync.{key}", value)
            user = env["res.users"].create({"name": "Big calendar", "login": email, "email": email})
            account = env["calendar.sync.account"].create(
                {"user_id": user.id, "provider": "google", "email": email, "state": "subscribed"}
            )
            account._set_credentials(token_data=payload["tokens"])
            env.flush_all()
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            queries = cr.sql_log_count
            started = time.perf_counter()
            account._sync()
            env.flush_all()
            seconds = time.perf_counter() - started
            result = {
                "seconds": seconds,
                "sql": cr.sql_log_count - queries,
                "meetings": env["calendar.sync.binding"].search_count([("account_id", "=", account.id)]),
                "state": account.state,
            }
            cr.rollback()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.update(peak_mb=peak, grew_mb=peak - rss_before)
    print(json.dumps(result), flush=True)


def run_cron(registry, runs=None):
    """Call the scheduled action's method as Odoo's cron runner does, until nothing is left to take.

    ``runs`` (a list) gets the duration of each run of the cron worker (its time limit covers a run).
    """
    from odoo import SUPERUSER_ID, api

    thread = threading.current_thread()
    total = sql = 0
    while True:
        thread.start_time = time.time()  # a run of the cron worker: its time limit starts here
        progressed = False
        for _call in range(RUNNER_CALLS):
            with registry.cursor() as cr:
                done = api.Environment(cr, SUPERUSER_ID, {})["calendar.sync.account"]._cron_sync()
                sql += cr.sql_log_count
            total += done
            if not done:
                break
            progressed = True
        if runs is not None and progressed:
            runs.append(time.time() - thread.start_time)
        if not progressed:
            return total, sql


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--first-sync", type=int, default=10000, help="events of the large first sync (0: skip)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--changed", type=int, nargs="+", help="accounts with a change (default: 0 and 1 %%)")
    parser.add_argument("--fresh", action="store_true", help="rebuild the bench database and the set-up")
    parser.add_argument("--bench-db", help="the bench database (default: webcrm_bench_scale_<accounts>)")
    parser.add_argument("--only-first-sync", action="store_true", help="skip the scheduled passes")
    parser.add_argument(
        "--cron-limit",
        type=float,
        help="also a pass of all accounts under this cron time limit (seconds): several runs, none over it",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.db)

    from odoo.addons.webcrm_calendar_sync.engine.testing.fake_google import FakeGoogle

    n = args.accounts
    db = args.bench_db or f"webcrm_bench_scale_{n}"
    if args.only_first_sync:
        ensure_db(db, ["webcrm_calendar_sync"], False)
        return first_sync(db, args.first_sync)
    ensure_db(db, ["webcrm_calendar_sync"], args.fresh)
    path = state_file(db)
    with FakeGoogle(token_lifetime=TOKEN_LIFETIME) as server:
        tag = _psql(db, f"SELECT value FROM ir_config_parameter WHERE key='{STATE_KEY}'")
        configure(db, server)
        if not tag or not load_server(server, path, tag):
            if tag:  # accounts without their server state: start again from an empty database
                ensure_db(db, ["webcrm_calendar_sync"], True)
                configure(db, server)
            set_up(db, server, n, args.events, path)
        tag = _psql(db, f"SELECT value FROM ir_config_parameter WHERE key='{STATE_KEY}'")
        salt = int(time.time()) % 997
        for changed in args.changed if args.changed is not None else (0, max(n // 100, 1)):
            for workers in args.workers:
                run_case(db, server, n, args.events, changed, workers, salt)
                salt += 1
                save_server(server, path, tag)
        if args.cron_limit:
            # an account may take at most its request timeout: keep it well inside the limit
            set_param(db, "request_timeout", max(args.cron_limit / 5, 1))
            try:
                run_case(db, server, n, args.events, 0, 1, salt, cron_limit=args.cron_limit)
            finally:
                _psql(db, "DELETE FROM ir_config_parameter WHERE key = 'webcrm_calendar_sync.request_timeout'")
            save_server(server, path, tag)
    if args.first_sync:
        first_sync(db, args.first_sync)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
