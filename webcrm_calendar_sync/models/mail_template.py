from odoo import fields, models


class MailTemplate(models.Model):
    _inherit = "mail.template"

    calendar_sync_meeting_text = fields.Boolean(
        "Meeting text template",
        help="Offered on meetings as a text template (merged into the description), unlike e-mail layouts.",
    )
