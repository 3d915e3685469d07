#!/usr/bin/env bash
# A demo: a fresh database with the addon (and Odoo's demo data), served on http://localhost:8069
# (login admin / admin). DEMO_DB names the database (default webcrm_demo; recreated each time).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$ROOT"
odoo_ok || { echo "[demo] Odoo 18 is not importable: run scripts/setup.sh" >&2; exit 2; }
pg_ok || { echo "[demo] PostgreSQL does not answer on $PGHOST:$PGPORT: run scripts/setup.sh" >&2; exit 2; }
DB=${DEMO_DB:-webcrm_demo}
dropdb --if-exists -h "$PGHOST" -p "$PGPORT" -U "$PGUSER" "$DB"
echo "[demo] installing $ADDON into $DB, then serving it on http://localhost:${DEMO_PORT:-8069}"
exec "$PYTHON" -c "import odoo.cli; odoo.cli.main()" -d "$DB" --db_host "$PGHOST" --db_port "$PGPORT" \
    --db_user "$PGUSER" --addons-path "$(addons_path)" -i "$ADDON" --http-port "${DEMO_PORT:-8069}"
