import logging
import re

from odoo import _, api, fields, models
from odoo.tools import email_normalize

_logger = logging.getLogger(__name__)

# One plain address, nothing else: no display name, quotes, angle brackets, spaces or lists.
EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}"
    r"@(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)


def valid_email(email):
    """The address lowercased when it is one valid plain e-mail address, else None."""
    email = email or ""
    if not EMAIL_RE.fullmatch(email) or email_normalize(email, strict=True) != email.lower():
        return None
    return email.lower()


class ResPartner(models.Model):
    _inherit = "res.partner"

    synced_meeting_count = fields.Integer(
        "Synced meetings", compute="_compute_synced_meeting_count", groups="base.group_user"
    )

    def _synced_meeting_domain(self):
        """Synced meetings of these contacts; a company's include its contacts' meetings."""
        self.ensure_one()
        return [
            ("is_synced", "=", True),
            ("partner_ids", "child_of", self.commercial_partner_id.id if self.is_company else self.id),
        ]

    def _compute_synced_meeting_count(self):
        Event = self.env["calendar.event"]
        for partner in self:
            if not partner.id:
                partner.synced_meeting_count = 0
                continue
            partner.synced_meeting_count = Event.search_count(partner._synced_meeting_domain())

    def action_view_synced_meetings(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Synced meetings of %s", self.display_name),
            "res_model": "calendar.event",
            "view_mode": "list,calendar,form",
            "views": [
                (self.env.ref("webcrm_calendar_sync.calendar_event_view_tree_synced").id, "list"),
                (False, "calendar"),
                (False, "form"),
            ],
            "domain": self._synced_meeting_domain(),
            "context": {"default_partner_ids": [self.id]},
        }

    @api.model
    def _calendar_sync_partners_by_email(self, emails):
        """{email: partner} for the given addresses; unknown addresses get a new contact.

        Existing contacts win over new ones; among several contacts with one address, a
        user's partner first, then the oldest. One search and one batched create.
        """
        emails = {e for e in emails if e}
        invalid = {e for e in emails if not valid_email(e)}
        if invalid:
            # addresses come from the provider: never make a contact of something that is not one
            _logger.info(
                "Calendar sync: skipped %s attendee address(es) that are not valid e-mail addresses: %s",
                len(invalid),
                ", ".join(repr(e[:80]) for e in sorted(invalid)[:5]),
            )
            emails -= invalid
        if not emails:
            return {}
        Partner = self.sudo().with_context(active_test=False)
        found = {}
        users = self.env["res.users"].sudo()._calendar_sync_users_by_email(emails)
        for email, user in users.items():
            found[email] = user.partner_id
        rest = emails - set(found)
        if rest:
            candidates = Partner.search([("email_normalized", "in", list(rest))], order="id")
            for partner in candidates:
                found.setdefault(partner.email_normalized, partner)
        missing = sorted(emails - set(found))
        if missing:
            quiet = Partner.with_context(
                mail_create_nolog=True, mail_create_nosubscribe=True, tracking_disable=True, mail_notrack=True
            )
            created = quiet.create([{"name": email, "email": email} for email in missing])
            found.update(zip(missing, created, strict=True))
        return found
