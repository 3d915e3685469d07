# Shared helpers for the project's scripts (sourced, not run).
PYTHON=${PYTHON:-python3}
PGHOST=${PGHOST:-127.0.0.1}
PGPORT=${PGPORT:-5432}
PGUSER=${PGUSER:-root}
export PGHOST PGPORT PGUSER
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ADDON=webcrm_calendar_sync

odoo_ok() {
    "$PYTHON" -c "import odoo.release as r, sys; sys.exit(0 if r.version_info[0] == 18 else 1)" >/dev/null 2>&1
}

pg_ok() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$PGHOST" -p "$PGPORT" >/dev/null 2>&1
    else
        "$PYTHON" - <<PY >/dev/null 2>&1
import psycopg2
psycopg2.connect(host="$PGHOST", port=$PGPORT, user="$PGUSER", dbname="postgres").close()
PY
    fi
}

# Odoo's addons directories: the community 'addons' folder beside the odoo package
# (a source checkout) and the core 'odoo/addons', then this repository.
addons_path() {
    "$PYTHON" - "$ROOT" <<'PY'
import os, sys
import odoo
pkg = os.path.dirname(os.path.abspath(odoo.__file__))
paths = [p for p in (os.path.join(os.path.dirname(pkg), "addons"), os.path.join(pkg, "addons")) if os.path.isdir(p)]
print(",".join(paths + [sys.argv[1]]))
PY
}
