"""One stem for "last synced": the fields keep their data under their new names.

calendar.sync.binding ``last_sync`` -> ``last_sync_date``;
calendar.event ``synced_last_date`` -> ``synced_last_sync_date`` (and the overview template,
kept as edited (noupdate), that shows it).
"""

from odoo.tools import sql

RENAMES = [
    ("calendar.sync.binding", "last_sync", "last_sync_date"),
    ("calendar.event", "synced_last_date", "synced_last_sync_date"),
]


def migrate(cr, version):
    for model, old, new in RENAMES:
        table = model.replace(".", "_")
        if not sql.column_exists(cr, table, old) or sql.column_exists(cr, table, new):
            continue
        sql.rename_column(cr, table, old, new)
        cr.execute("UPDATE ir_model_fields SET name = %s WHERE model = %s AND name = %s", (new, model, old))
        cr.execute(
            "UPDATE ir_model_data SET name = %s WHERE module = 'webcrm_calendar_sync' AND model = 'ir.model.fields'"
            " AND name = %s",
            (f"field_{table}__{new}", f"field_{table}__{old}"),
        )
    cr.execute(
        "UPDATE mail_template SET body_html = replace(body_html::text, %s, %s)::jsonb WHERE body_html::text LIKE %s",
        ("synced_last_date", "synced_last_sync_date", "%synced_last_date%"),
    )
