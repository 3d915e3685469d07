from odoo import api, fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    calendar_sync_account_ids = fields.One2many("calendar.sync.account", "user_id", string="Synced calendars")

    @api.model
    def _calendar_sync_users_by_email(self, emails):
        """{email: user} for internal users whose login or e-mail is one of ``emails``."""
        emails = {e.lower() for e in emails if e}
        if not emails:
            return {}
        users = self.sudo().search(
            ["|", ("partner_id.email_normalized", "in", list(emails)), ("login", "in", list(emails))]
        )
        result = {}
        for user in users.filtered(lambda u: not u.share):
            for email in (user.partner_id.email_normalized, (user.login or "").lower()):
                if email in emails:
                    result.setdefault(email, user)
        return result
