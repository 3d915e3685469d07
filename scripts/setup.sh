#!/usr/bin/env bash
# Set up a machine to develop and test the addon: Python dependencies, Odoo 18 when
# it is not importable (from Odoo's official public source), and a reachable PostgreSQL.
set -euo pipefail
source "$(dirname "$0")/common.sh"
ODOO_SRC=${ODOO_SRC:-$HOME/odoo18}
ODOO_REPO=${ODOO_REPO:-https://github.com/odoo/odoo.git}

say() { printf '[setup] %s\n' "$*"; }

install_odoo() {
    say "Odoo 18 is not importable: installing it from $ODOO_REPO (branch 18.0) into $ODOO_SRC"
    if [ ! -d "$ODOO_SRC/odoo" ]; then
        git clone --depth 1 --branch 18.0 "$ODOO_REPO" "$ODOO_SRC"
    fi
    # Odoo's pinned requirements, adjusted for this Python: a pyOpenSSL that matches a
    # current cryptography, cbor2 with wheels, urllib3 < 2, psycopg2 from its wheel,
    # no python-ldap (needs system headers, unused here).
    local req
    req=$(mktemp)
    grep -v -iE '^(python-ldap|cryptography|pyopenssl|cbor2|urllib3|psycopg2)\b' "$ODOO_SRC/requirements.txt" >"$req"
    cat >>"$req" <<'REQ'
cryptography<46
pyopenssl>=24
cbor2==5.6.2
urllib3<2
psycopg2-binary
REQ
    "$PYTHON" -m pip install -q -r "$req"
    rm -f "$req"
    local site
    site=$("$PYTHON" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    echo "$ODOO_SRC" >"$site/odoo18-src.pth"
    odoo_ok || { echo "[setup] Odoo 18 still does not import from $ODOO_SRC" >&2; exit 1; }
}

say "Python dependencies"
"$PYTHON" -m pip install -q -r "$ROOT/requirements-dev.txt"

if odoo_ok; then
    say "Odoo 18 is importable: left as it is ($("$PYTHON" -c 'import odoo, os; print(os.path.dirname(odoo.__file__))'))"
else
    install_odoo
fi
# pip may have pulled a urllib3 2.x through a dependency; Odoo 18 needs 1.x
"$PYTHON" -m pip install -q 'urllib3<2'

# The UI tours (HttpCase) run in headless Chromium; Odoo looks for google-chrome,
# chromium or chromium-browser on the PATH.
if command -v chromium >/dev/null 2>&1 || command -v google-chrome >/dev/null 2>&1 \
    || command -v chromium-browser >/dev/null 2>&1; then
    say "Chromium (for the UI tours) is installed"
elif command -v apt-get >/dev/null 2>&1; then
    say "installing Debian's chromium and chromium-driver (for the UI tours)"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO=sudo
    $SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q chromium chromium-driver
else
    echo "[setup] Chromium is missing and apt-get is not available: install chromium for the UI tours." >&2
    exit 1
fi

if pg_ok; then
    say "PostgreSQL answers on $PGHOST:$PGPORT"
else
    if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
        say "PostgreSQL is down: starting the local cluster"
        for version in $(ls /etc/postgresql); do
            pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
        done
        for _ in $(seq 1 30); do pg_ok && break; sleep 1; done
    fi
    if ! pg_ok; then
        echo "[setup] No PostgreSQL answers on $PGHOST:$PGPORT and no local cluster could be started." >&2
        echo "[setup] Install PostgreSQL (e.g. apt-get install postgresql) or set PGHOST/PGPORT/PGUSER." >&2
        exit 1
    fi
    say "PostgreSQL started"
fi
say "done"
