"""A private meeting stays private through the addon's own doors.

Odoo's calendar hides a private meeting from who neither organises nor attends it when its
records are read (``calendar.event._fetch_query``: the title reads "Busy", the other fields not
public are empty). This file keeps the fields the addon adds to calendar.event just as private
when they are searched, grouped or ordered by, and gives the words the addon's own messages use
to name a meeting to a user who may not read it.
"""

from markupsafe import Markup

from odoo import _, api, models, tools
from odoo.osv import expression
from odoo.tools import SQL, Query

ADDON = "webcrm_calendar_sync"


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    # ------------------------------------------------------------------
    # search, group, order
    # ------------------------------------------------------------------
    @api.model
    @tools.ormcache()
    def _synced_private_fields(self):
        """The fields this addon adds to calendar.event that Odoo's calendar hides on a private
        meeting (every field it does not list as public), found from the fields themselves so that
        a new one cannot be forgotten."""
        public = self.sudo()._get_public_fields()
        return frozenset(
            name
            for name, field in self._fields.items()
            if ADDON in (field._modules or ()) and "calendar" not in field._modules and name not in public
        )

    @api.model
    def _synced_readable_domain(self):
        """The meetings whose private fields the current user may read, as Odoo's calendar decides
        it on read (``_check_private_event_conditions``): not private (by their own privacy, or by
        their organiser's default one), or organised or attended by the user."""
        # sudo: whose default is private is read for the rule only, never answered
        Settings = self.env["res.users.settings"].sudo()
        if self.env["res.users"].sudo()._default_user_calendar_default_privacy() == "private":
            # users without settings of their own keep their calendar private
            public = Settings._search([("calendar_default_privacy", "!=", "private")])
            open_owners = ("user_id", "in", public.subselect("user_id"))
        else:
            private = Settings._search([("calendar_default_privacy", "=", "private")])
            open_owners = ("user_id", "not in", private.subselect("user_id"))
        return [
            "|",
            "|",
            "|",
            ("privacy", "in", ["public", "confidential"]),
            ("user_id", "=", self.env.uid),
            ("partner_ids", "in", self.env.user.partner_id.ids),
            "&",
            ("privacy", "=", False),
            "|",
            ("user_id", "=", False),
            open_owners,
        ]

    def _synced_readable_sql(self, alias):
        """``_synced_readable_domain`` as an SQL condition on the rows of ``alias``."""
        query = Query(self.env, alias, SQL.identifier(self._table))
        return expression.expression(self._synced_readable_domain(), self, alias, query).result

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        # A private meeting's field the user may not read is NULL to them wherever SQL uses it:
        # in a condition (search, count, a path from another model), an order, a group. Reading
        # it gives False already (Odoo's calendar), so the two agree.
        sql = super()._field_to_sql(alias, fname, query, flush)
        if self.env.su or fname not in self._synced_private_fields():
            return sql
        return SQL("(CASE WHEN %s THEN %s END)", self._synced_readable_sql(alias), sql)

    @api.model
    def _search(self, domain, offset=0, limit=None, order=None):
        # The private fields without a column of their own (a one2many, a computed search) never
        # reach _field_to_sql: a condition on them matches only meetings the user may read.
        if not self.env.su and domain:
            domain = self._synced_guard_domain(domain)
        return super()._search(domain, offset, limit, order)

    def _synced_guard_domain(self, domain):
        private = self._synced_private_fields()
        readable = None
        guarded = []
        for item in domain:
            root = item[0].split(".", 1)[0] if _is_leaf(item) else None
            if root in private and not self._fields[root].column_type:
                readable = readable or self._synced_readable_domain()
                guarded.extend(["&", *readable, item])
            else:
                guarded.append(item)
        return guarded if readable else domain

    # ------------------------------------------------------------------
    # messages
    # ------------------------------------------------------------------
    def _synced_private_for_others(self):
        """This meeting is private (by its own privacy or by its organiser's default one): Odoo's
        calendar shows it as "Busy" to whoever neither organises nor attends it."""
        self.ensure_one()
        event = self.sudo()
        return event.privacy == "private" or (not event.privacy and event.user_id.calendar_default_privacy == "private")

    def _synced_may_read(self, user):
        """Whether ``user`` may read this meeting's private fields (Odoo's rule, read with sudo:
        asking it as ``user`` would put "Busy" in the cache the sync reads from)."""
        self.ensure_one()
        event = self.sudo()
        return not event._synced_private_for_others() or user == event.user_id or user.partner_id in event.partner_ids

    def _synced_names_for_message(self):
        """(title, organiser) of this meeting as a message to the current user may name them: a
        private meeting they may not read is "Busy", organised by its organiser in Odoo (a public
        field), never its title or its external organiser's address."""
        self.ensure_one()
        event = self.sudo()
        organizer = event.user_id.name or _("someone else")
        if not self.env.su and not self._synced_may_read(self.env.user):
            return _("Busy"), organizer
        return event.name, event.synced_organizer_email or organizer

    def _synced_log_replaced(self, body, summary, owner):
        """Log that a version of this meeting was replaced (a conflict). ``body`` (HTML) says so
        and shows the replaced version; ``summary`` says the same without any of the meeting's
        fields. Every user who may open the meeting reads its chatter, so on a private meeting the
        chatter gets ``summary`` and ``body`` goes to ``owner`` (the user whose calendar the
        conflict was in) alone, as a notification, when they may read the meeting."""
        self.ensure_one()
        if not self._synced_private_for_others():
            self._message_log(body=body)
            return
        self._message_log(
            body=Markup("<p>%s</p>")
            % _(
                "%(summary)s The meeting is private: the replaced version was sent to the owner of the calendar only.",
                summary=summary,
            )
        )
        partner = owner.partner_id
        if partner and self._synced_may_read(owner):
            self.sudo().message_notify(
                partner_ids=partner.ids,
                body=body,
                subject=_("A private meeting was changed on both sides"),
            )


def _is_leaf(item):
    return isinstance(item, (list, tuple)) and len(item) == 3 and isinstance(item[0], str)
