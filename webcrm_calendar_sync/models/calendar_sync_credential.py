from odoo import fields, models


class CalendarSyncCredential(models.Model):
    """Secrets of one calendar account, kept apart from the account itself.

    The model's access rights grant nothing to anyone (see ir.model.access.csv):
    only code running as the superuser (``sudo()``) reads or writes it, so no user
    can read a token or password through the ORM or RPC, not even their own.
    """

    _name = "calendar.sync.credential"
    _description = "Synced Calendar Credentials"
    _log_access = False

    account_id = fields.Many2one("calendar.sync.account", required=True, ondelete="cascade", index=True)
    token_data = fields.Text(help="OAuth tokens or msal token cache, as JSON.")
    password = fields.Char()
    push_token = fields.Char(help="Secret the calendar service sends back with each push notification.")

    _sql_constraints = [
        ("account_unique", "unique(account_id)", "An account has one set of credentials."),
    ]
