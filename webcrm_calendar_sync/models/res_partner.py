import logging
import re
from collections import defaultdict

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

    def _synced_meeting_root(self):
        """The partner whose family of contacts counts: a company's, or the contact itself."""
        self.ensure_one()
        return self.commercial_partner_id if self.is_company else self

    def _synced_meeting_domain(self):
        """Synced meetings of these contacts; a company's include its contacts' meetings."""
        self.ensure_one()
        return [("is_synced", "=", True), ("partner_ids", "child_of", self._synced_meeting_root().id)]

    def _compute_synced_meeting_count(self):
        """One grouped query for every partner computed (the reader's record rules apply).

        The meetings are grouped by attendee; each partner counts the distinct meetings of the
        attendees below it in the contact tree (itself included), as ``_synced_meeting_domain``.
        """
        roots = {partner: partner._synced_meeting_root().id for partner in self if partner.id}
        meetings = defaultdict(set)  # partner id -> ids of the synced meetings it or a contact below attends
        if roots:
            groups = self.env["calendar.event"]._read_group(
                [("is_synced", "=", True), ("partner_ids", "child_of", list(set(roots.values())))],
                ["partner_ids"],
                ["id:array_agg"],
            )
            parents = self._synced_meeting_parents([attendee.id for attendee, _ids in groups])
            for attendee, event_ids in groups:
                ancestor = attendee.id
                while ancestor:
                    meetings[ancestor].update(event_ids)
                    ancestor = parents.get(ancestor)
        for partner in self:
            partner.synced_meeting_count = len(meetings[roots[partner]]) if partner in roots else 0

    def _synced_meeting_parents(self, partner_ids):
        """{partner id: parent id} up the contact tree from ``partner_ids``: one read per tree level."""
        parents = {}
        # sudo: only the place in the contact tree is read, to count meetings the reader may see
        level = self.sudo().browse(partner_ids)
        while level:
            for partner in level:
                parents[partner.id] = partner.parent_id.id
            level = level.parent_id.filtered(lambda p: p.id not in parents)
        return parents

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
    def _calendar_sync_partners_by_email(self, emails, names=None):
        """{email: partner} for the given addresses; unknown addresses get a new contact, named
        as ``names`` ({email: name}, the provider's display names) gives, else by the address.

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
            names = names or {}
            created = quiet.create(
                [{"name": (names.get(email) or "").strip()[:200] or email, "email": email} for email in missing]
            )
            found.update(zip(missing, created, strict=True))
        return found
