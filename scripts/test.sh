#!/usr/bin/env bash
# Run every test: a fresh database, the addon installed into it (no error or warning
# allowed from the addon), then one pytest session over the plain engine tests
# (tests/) and the Odoo tests (webcrm_calendar_sync/tests) with pytest-odoo.
set -uo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"

fail() { printf '[test] %s\n' "$*" >&2; exit 2; }

odoo_ok || fail "Odoo 18 is not importable by $PYTHON: run scripts/setup.sh (it installs Odoo 18 from Odoo's public source)."
pg_ok || fail "PostgreSQL does not answer on $PGHOST:$PGPORT: run scripts/setup.sh (it starts the local cluster) or set PGHOST/PGPORT/PGUSER."
"$PYTHON" -c "import pytest_odoo" 2>/dev/null || fail "pytest-odoo is not installed: run scripts/setup.sh."
# the UI tours (HttpCase) need headless Chromium: Odoo would skip them without it
command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 \
    || fail "Chromium is not installed (the UI tours run in it): run scripts/setup.sh."
"$PYTHON" -c "import websocket" 2>/dev/null || fail "websocket-client is not installed (the UI tours need it): run scripts/setup.sh."

DB=${TEST_DB:-webcrm_test_$(date +%Y%m%d%H%M%S)_$$}
WORK=$(mktemp -d)
cleanup() {
    if [ "${KEEP_DB:-0}" != 1 ]; then
        "$PYTHON" -c "import odoo.service.db as d, odoo.tools.config as c; c.config['db_host']='$PGHOST'; c.config['db_port']=$PGPORT; c.config['db_user']='$PGUSER'; d.exp_drop('$DB')" >/dev/null 2>&1 \
            || dropdb --if-exists "$DB" >/dev/null 2>&1 || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/odoo.conf" <<CONF
[options]
db_host = $PGHOST
db_port = $PGPORT
db_user = $PGUSER
addons_path = $(addons_path)
log_level = warn
without_demo = all
CONF

echo "[test] installing $ADDON into a fresh database $DB"
"$PYTHON" -c "import odoo.cli; odoo.cli.main()" -c "$WORK/odoo.conf" -d "$DB" -i "$ADDON" \
    --stop-after-init --log-level=info --http-port=0 --no-http >"$WORK/install.log" 2>&1
status=$?
# Every error fails the run; a warning fails it when it comes from the addon. Warnings
# of Odoo's own modules (none on an official Odoo 18) are shown, not counted.
errors=$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (ERROR|CRITICAL) ' "$WORK/install.log" || true)
addon_warnings=$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ WARNING ' "$WORK/install.log" | grep -i "$ADDON" || true)
other_warnings=$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ WARNING ' "$WORK/install.log" | grep -vi "$ADDON" || true)
if [ -n "$other_warnings" ]; then
    echo "[test] warnings logged by Odoo's own modules during the install (not by $ADDON):"
    echo "$other_warnings" | cut -c1-200 | sed 's/^/    /'
fi
if [ $status -ne 0 ] || [ -n "$errors" ] || [ -n "$addon_warnings" ]; then
    echo "[test] installing $ADDON failed (exit $status):" >&2
    [ -n "$errors$addon_warnings" ] && printf '%s\n%s\n' "$errors" "$addon_warnings" >&2 || tail -40 "$WORK/install.log" >&2
    exit 1
fi
grep -q "Module $ADDON loaded" "$WORK/install.log" || { tail -20 "$WORK/install.log" >&2; fail "$ADDON was not loaded"; }
echo "[test] installed without error or warning"

# Paths given on the command line narrow the run to them (as with plain pytest); without any,
# every test runs. Options (-k, -x, ...) are passed on either way.
TARGETS=(tests "$ADDON/tests")
for arg in "$@"; do
    if [ -e "${arg%%::*}" ]; then TARGETS=(); break; fi
done
"$PYTHON" -m pytest "${TARGETS[@]}" --odoo-database="$DB" --odoo-config="$WORK/odoo.conf" --odoo-http \
    --junitxml="$WORK/junit.xml" -q "$@"
status=$?
if [ $status -eq 5 ]; then
    fail "pytest collected no test"
fi
# The Odoo tests must really have run (pytest-odoo must not have collected nothing).
[ ${#TARGETS[@]} -eq 0 ] && exit $status
"$PYTHON" - "$WORK/junit.xml" "$ADDON" <<'PY' || exit 1
import sys, xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
odoo = sum(1 for c in cases if f"{sys.argv[2]}.tests" in (c.get("classname") or ""))
if not odoo:
    sys.exit(f"[test] no Odoo test of {sys.argv[2]} ran")
PY
exit $status
