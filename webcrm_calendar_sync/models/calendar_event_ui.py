"""What the calendar's screens need to know about a synced meeting (issue 13).

Kept apart from ``calendar_event.py`` (the sync and the outbox): these fields and the
invitation report only read the bindings.
"""

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import html2plaintext
from odoo.tools.misc import babel_locale_parse, format_date, format_datetime, get_lang

# the meeting's fields a meeting text is merged from: when one changes, a merged text the user has
# not edited is merged again (in the form, and on a write such as a move in the calendar view)
TEXT_FIELDS = (
    "name",
    "start",
    "stop",
    "duration",
    "allday",
    "start_date",
    "stop_date",
    "partner_ids",
    "location",
    "user_id",
    "videocall_location",
)


def _text_key(value):
    """A text as its reader sees it: a hand edit changes it, the editor's markup and spacing do not."""
    text = html2plaintext(value or "").replace("\u200b", "").replace("\ufeff", "")
    return " ".join(text.split())


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    synced_can_send_invitations = fields.Boolean(
        compute="_compute_synced_ui",
        help="The organiser's calendar is subscribed: 'Save and send invitation' lets it invite the attendees.",
    )
    synced_readonly = fields.Boolean(
        "Owned by an external calendar",
        compute="_compute_synced_ui",
        help="The meeting comes from a calendar Odoo cannot write (its organiser's calendar is not subscribed).",
    )
    synced_owner = fields.Char("Owned by", compute="_compute_synced_ui")
    synced_state = fields.Char("Sync state", compute="_compute_synced_ui")
    synced_organizer_name = fields.Char(
        "External calendar organizer",
        compute="_compute_synced_ui",
        help="The organiser in the external calendar (also outside Odoo).",
    )

    # only this addon's meeting texts (and ones users add as such), never Odoo's e-mail layouts
    text_template_id = fields.Many2one(
        domain=[("model", "=", "calendar.event"), ("calendar_sync_meeting_text", "=", True)],
        context={"default_model": "calendar.event", "default_calendar_sync_meeting_text": True},
    )
    text_template_merged = fields.Html(
        "Merged text",
        copy=False,
        help="The template's text as last merged into the description (or kept by the user): the "
        "description differs from it once edited by hand.",
    )
    text_template_stale = fields.Boolean(
        "Text out of date",
        compute="_compute_text_template_stale",
        help="The description was written or edited by hand and the template merged for the meeting "
        "as it is now gives another text (its time, subject or attendees changed).",
    )
    # set by the form's text buttons (no save): its onchange merges again, keeps the text or does
    # what 'Edit template' does
    text_template_action = fields.Selection(
        [("edit", "Edit template"), ("merge", "Merge again"), ("keep", "Keep my text")], store=False
    )
    synced_text_when = fields.Char(
        "When (text)",
        compute="_compute_synced_text",
        help="The meeting's date and time in words, in the user's language and time zone (for meeting texts).",
    )
    synced_text_guests = fields.Char(
        "Guests (text)", compute="_compute_synced_text", help="The attendees who are not Odoo users, by name."
    )
    synced_text_attendees = fields.Char(
        "Attendees (text)", compute="_compute_synced_text", help="The attendees by name, in alphabetical order."
    )
    synced_text_with = fields.Char(
        "With (text)",
        compute="_compute_synced_text",
        help="The attendees' companies the subject does not already name.",
    )
    synced_organization_id = fields.Many2one(
        "res.partner",
        string="Organisation",
        compute="_compute_synced_organization_id",
        store=True,
        index=True,
        help="The first company among the attendees outside the organiser's own company (for reports).",
    )

    @api.depends("partner_ids.commercial_partner_id.is_company", "user_id.company_id")
    def _compute_synced_organization_id(self):
        for event in self:
            own = event.user_id.company_id.partner_id
            companies = event.partner_ids.commercial_partner_id.filtered(lambda p, o=own: p.is_company and p != o)
            event.synced_organization_id = companies[:1]

    @api.depends(
        "user_id.name",
        "create_uid",
        "sync_binding_ids.state",
        "sync_binding_ids.account_id",
        "synced_organizer_email",
        "synced_organizer_given_name",
        "sync_push_state",
    )
    @api.depends_context("uid")
    def _compute_synced_ui(self):
        Account = self.env["calendar.sync.account"]
        enabled = Account._sync_enabled()
        organizers = self.user_id
        # sudo: which organisers have a subscribed calendar (no account detail is exposed)
        subscribed = set(
            Account.sudo()
            .search([("user_id", "in", organizers.ids), ("state", "not in", ("draft", "paused"))])
            .user_id.ids
        )
        emails = {e.synced_organizer_email.lower() for e in self if e.synced_organizer_email}
        names = {}
        if emails:
            # sudo: the organiser's name as the contacts know it (only a name and address are shown)
            for partner in self.env["res.partner"].sudo().search([("email_normalized", "in", list(emails))]):
                names.setdefault(partner.email_normalized, partner.name)
        for event in self:
            # the same rule as the save-time check (_check_writable): live bindings, none writable
            bindings = event._live_bindings()
            own = event._writable_bindings()
            readonly = enabled and bool(bindings) and not own
            event.synced_readonly = readonly
            event.synced_can_send_invitations = (
                enabled and not readonly and event.user_id.id in subscribed and event._synced_may_send_invitations()
            )
            event.synced_owner = readonly and event._synced_owner_text(names)
            event.synced_organizer_name = bool(bindings) and event._synced_owner_text(names)
            event.synced_state = (
                event._synced_state_text(own or bindings) if bindings and not event.sync_push_state else False
            )

    def _synced_may_send_invitations(self):
        """Whether the current user may have the organiser's calendar invite the attendees: the
        organiser themself, or the colleague who booked the meeting on the organiser's behalf (N3;
        a meeting not saved yet is being booked by the user). Another colleague who can open or even
        edit the meeting may not send invitations from the organiser's calendar."""
        self.ensure_one()
        user = self.env.user
        if not (self.env.su or not self._origin.id or user in (self.user_id, self.create_uid)):
            return False
        # and only inside the companies both work in (the outbox refuses the rest, see _outbox_mark)
        account = self.env["calendar.sync.account"]._account_for_user(self.user_id)
        return account.with_env(self.env)._may_write_for(user)

    def _synced_owner_text(self, names):
        email = (self.synced_organizer_email or "").lower()
        # the name the organiser's calendar gives first; a contact named by its address is no name
        name = (self.synced_organizer_given_name or names.get(email) or "").strip()
        if email and name and name.lower() != email:
            return f"{name} ({email})"
        return email or self.user_id.name or _("someone outside Odoo")

    def _synced_state_text(self, bindings):
        # a write waiting or failed is told by sync_push_message (the outbox's own words)
        bindings = bindings.sudo()  # sudo: the account's provider only
        labels = dict(self.env["calendar.sync.account"]._fields["provider"]._description_selection(self.env))
        return _("Synced with %s", labels.get(bindings[:1].account_id.provider, ""))

    @api.depends("partner_ids", "user_id", "sync_binding_ids.account_id", "sync_binding_ids.state")
    @api.depends_context("uid")
    # a compute returns nothing: pylint-odoo's missing-return does not apply
    def _compute_user_can_edit(self):  # pylint: disable=missing-return
        # A meeting that lives in a calendar Odoo cannot write opens read-only (Odoo's form
        # already makes its fields read-only when user_can_edit is False).
        super()._compute_user_can_edit()
        user = self.env.user
        for event in self:
            if event.synced_readonly:
                event.user_can_edit = False
            elif not event.user_can_edit:
                # Booking on behalf of a colleague (N3): Odoo's rule compares the user with the
                # attendees' users, which in the form's onchange are new records (NewId), never
                # equal to the user: with a colleague as organiser, adding an attendee made the
                # form read-only and its save fail on the read-only start. The user booking it
                # (a meeting not saved yet, or booked by them) and its attendees' users by
                # their real ids may edit it.
                attendees = event.partner_ids._origin.user_ids | event._origin.partner_ids.user_ids
                event.user_can_edit = not event._origin.id or user == event.create_uid or user.id in attendees.ids

    @api.depends("name", "start", "stop", "allday", "start_date", "stop_date", "partner_ids.name")
    @api.depends("partner_ids.user_ids", "partner_ids.commercial_partner_id.name")
    @api.depends_context("uid", "lang")
    def _compute_synced_text(self):
        user = self.env.user
        lang = get_lang(self.env).code
        locale = babel_locale_parse(lang)
        day_format = locale.date_formats["full"].pattern
        time_format = locale.time_formats["short"].pattern
        tz = user.tz if user.tz in pytz.all_timezones_set else "UTC"
        for event in self:
            when = ""
            if event.allday and event.start_date:
                first = format_date(self.env, event.start_date, lang, day_format)
                last = format_date(self.env, event.stop_date or event.start_date, lang, day_format)
                when = first if first == last else f"{first} \u2013 {last}"
            elif event.start:
                stop = event.stop or event.start
                first_day = format_datetime(self.env, event.start, tz, day_format, lang)
                last_day = format_datetime(self.env, stop, tz, day_format, lang)
                first = format_datetime(self.env, event.start, tz, time_format, lang)
                last = format_datetime(self.env, stop, tz, time_format, lang)
                if first_day == last_day:
                    when = f"{first_day} {first}\u2013{last}"
                else:
                    when = f"{first_day} {first} \u2013 {last_day} {last}"
            event.synced_text_when = when
            # in alphabetical order: the same text whatever order the form or the database gives
            event.synced_text_attendees = ", ".join(sorted(event.partner_ids.mapped("name"), key=str.casefold))
            guests = event.partner_ids.filtered(lambda p: not p.user_ids).mapped("name")
            event.synced_text_guests = ", ".join(sorted(guests, key=str.casefold))
            subject = (event.name or "").casefold()
            companies = event.partner_ids.commercial_partner_id.filtered("is_company").mapped("name")
            event.synced_text_with = ", ".join(
                sorted((name for name in set(companies) if name.casefold() not in subject), key=str.casefold)
            )

    @api.depends("text_template_id", "text_template_merged", "text_template_applied", "description", *TEXT_FIELDS)
    @api.depends("user_can_edit")
    @api.depends_context("uid", "lang")
    def _compute_text_template_stale(self):
        for event in self:
            # asked of those who may change the meeting only (a colleague's private meeting is
            # never merged for a reader who sees it as Busy)
            event.text_template_stale = event.user_can_edit and event._calendar_sync_text_stale()

    def _calendar_sync_text_untouched(self):
        """The description holds nothing the user wrote: empty, or the text last merged."""
        self.ensure_one()
        text = _text_key(self.description)
        return not text or (bool(self.text_template_merged) and text == _text_key(self.text_template_merged))

    def _calendar_sync_text_stale(self, fresh=None):
        """Written or edited by hand, and the template now gives another text than the one the
        user wrote over (or kept): the user is asked before anything is merged or sent."""
        self.ensure_one()
        if not self.text_template_id or self._calendar_sync_text_untouched():
            return False
        if not self.text_template_merged and self.text_template_applied:
            return False  # merged before the merged text was kept: nothing to compare with
        if fresh is None:
            fresh = self._calendar_sync_merge_text(self.text_template_id)
        return fresh is not False and _text_key(fresh) != _text_key(self.text_template_merged)

    def _calendar_sync_put_text(self, fresh):
        self.description = fresh
        self.text_template_merged = fresh
        self.text_template_applied = True

    @api.onchange("text_template_id", *TEXT_FIELDS)
    def _onchange_text_template_id(self):
        """Choosing a text template merges it into the description at once, in the form: the
        user sees and edits the real text before anything is saved or written anywhere. The
        merged text follows the meeting (time, subject, attendees...) until the user edits it;
        then it is kept, and text_template_stale asks the user."""
        for event in self.filtered("text_template_id"):
            if event._calendar_sync_text_untouched():
                fresh = event._calendar_sync_merge_text(event.text_template_id)
                if fresh is not False:
                    event._calendar_sync_put_text(fresh)

    @api.onchange("text_template_action")
    def _onchange_text_template_action(self):
        """The form's text buttons, without saving: 'Merge again' replaces the description with
        the template's text (the user was told it replaces their edits), 'Keep my text' keeps it
        as it is for the meeting as it is now, 'Edit template' merges only a text the user has
        not written (a hand-made one is kept, and the user is asked)."""
        for event in self:
            action = event.text_template_action
            event.text_template_action = False
            if not action or not event.text_template_id:
                continue
            fresh = event._calendar_sync_merge_text(event.text_template_id)
            if fresh is False:
                continue
            if action == "merge" or (action == "edit" and event._calendar_sync_text_untouched()):
                event._calendar_sync_put_text(fresh)
            elif action == "keep":
                event.text_template_merged = fresh
                event.text_template_applied = True

    def _calendar_sync_check_chosen_template(self, vals_list):
        """A text template is put on a meeting only by someone who may read it: the text is merged
        again later as the organiser (an online meeting's link arriving), whose rights must not
        show a colleague a template only the organiser may read."""
        if self.env.su or self.env.context.get("calendar_sync_from_remote"):
            return
        for vals in vals_list:
            value = vals.get("text_template_id")
            if isinstance(value, (list, tuple)):
                value = value[0] if value else False
            if not value:
                continue
            # an id only: a template given as values is never stored, so never one the user may read
            template = self.env["mail.template"].browse(value) if isinstance(value, int) else False
            if not template or not self._calendar_sync_text_template(template):
                raise AccessError(
                    _(
                        "This text template cannot be used: it is not a meeting text you may read. "
                        "Choose another template, or ask its author to share it."
                    )
                )

    @api.model_create_multi
    def create(self, vals_list):
        self._calendar_sync_check_chosen_template(vals_list)
        return super().create(vals_list)

    def write(self, vals):
        self._calendar_sync_check_chosen_template([vals])
        # a merged text the user has not edited follows the meeting (moved in the calendar view...)
        follow = self.browse()
        if (
            not self.env.context.get("calendar_sync_from_remote")
            and set(TEXT_FIELDS) & set(vals)
            and not {"description", "text_template_merged", "text_template_id"} & set(vals)
        ):
            follow = self.filtered(lambda e: e.text_template_id and e.text_template_merged)
            follow = follow.filtered(lambda e: e._calendar_sync_text_untouched())
        result = super().write(vals)
        for event in follow:
            fresh = event._calendar_sync_merge_text(event.text_template_id)
            if fresh is not False and _text_key(fresh) != _text_key(event.text_template_merged):
                super(CalendarEvent, event).write({"description": fresh, "text_template_merged": fresh})
        return result

    def _calendar_sync_text_for_sending(self):
        """Before the invitations leave: a text the user has not edited is merged again for the
        meeting as it is now; a hand-made text the meeting no longer matches stops the sending
        until the user chose (merge again, or keep it)."""
        fresh_texts = {}
        for event in self.filtered("text_template_id"):
            fresh = event._calendar_sync_merge_text(event.text_template_id)
            if fresh is False:
                continue
            if event._calendar_sync_text_stale(fresh):
                raise UserError(
                    _(
                        "The text of “%s” was written or edited by hand and no longer matches the meeting: its "
                        "time, subject or attendees changed since the template was merged. Nothing was sent. "
                        "Choose “Merge again” (the template's text replaces yours) or “Keep my text” above the "
                        "description, then send the invitation again.",
                        event.name or _("this meeting"),
                    )
                )
            if event._calendar_sync_text_untouched():
                fresh_texts[event] = fresh
        for event, fresh in fresh_texts.items():
            if not event.text_template_applied or _text_key(fresh) != _text_key(event.description):
                event.write({"description": fresh, "text_template_merged": fresh, "text_template_applied": True})

    def _calendar_sync_text_template(self, template):
        """``template`` as stored in the database, if it is a meeting text the current user may
        read; else no template. What a caller sends is never used: an onchange's values make a
        new ``mail.template`` (its body written by the caller, even over a stored one's), so only
        the stored record behind it counts, read again from the database."""
        Template = self.env["mail.template"]
        stored_id = template._origin.id if template else False
        if not stored_id:
            return Template
        stored = Template.browse(stored_id).exists()
        if not stored or not stored.has_access("read"):
            return Template
        domain = self._fields["text_template_id"].get_domain_list(self)
        return stored.filtered_domain(domain)

    def _calendar_sync_merge_text(self, template):
        """``template``'s body merged for this meeting, saved or not (an onchange's new record),
        or False when ``template`` is not a stored meeting text the user may read. The merge is
        mail.template's own rendering, with its rules: a stored template's code was checked when
        it was written (only template editors write code into one)."""
        self.ensure_one()
        # a private meeting the user sees as "Busy" (the form's onchange on it too): its text would
        # name what they may not read
        origin = self._origin
        if origin and not self.env.su and not origin._synced_may_read(self.env.user):
            return False
        template = self._calendar_sync_text_template(template)
        if not template:
            return False
        template = template.with_context(lang=self.env.user.lang)
        return template._render_field("body_html", [self.id])[self.id]

    def action_save_and_send_invitation(self):
        result = super().action_save_and_send_invitation()
        message = self._invitation_report()
        if isinstance(result, dict) and result.get("tag") == "display_notification" and message:
            result["params"]["message"] = message
        return result

    def _invitation_report(self):
        """What 'Save and send invitation' really did, in words, for the notification."""
        lines = []
        labels = dict(self.env["calendar.sync.account"]._fields["provider"]._description_selection(self.env))
        for event in self:
            # sudo: the organiser's binding tells whether the write (and so the invitations) went out
            own = event.sudo().sync_binding_ids.filtered(lambda b, e=event: b.account_id.user_id == e.user_id)[:1]
            if not own:
                lines.append(_("“%s” is not in a synced calendar: Odoo's own invitations apply.", event.name))
                continue
            calendar = _(
                "%(organizer)s's %(provider)s",
                organizer=event.user_id.name,
                provider=labels.get(own.account_id.provider, ""),
            )
            count = len(event.partner_ids - event.user_id.partner_id)
            if not count:
                lines.append(_("Saved in %s; there is nobody to invite.", calendar))
            elif own.state == "synced":
                lines.append(
                    _("Invitations sent from %(calendar)s to %(count)s attendees.", calendar=calendar, count=count)
                    if count > 1
                    else _("Invitation sent from %(calendar)s to 1 attendee.", calendar=calendar)
                )
            elif own.state == "to_push":
                lines.append(
                    _(
                        "Invitations will be sent from %(calendar)s to %(count)s attendees as soon as the meeting "
                        "is written there.",
                        calendar=calendar,
                        count=count,
                    )
                    if count > 1
                    else _(
                        "An invitation will be sent from %(calendar)s to 1 attendee as soon as the meeting is "
                        "written there.",
                        calendar=calendar,
                    )
                )
            else:
                lines.append(
                    _(
                        "No invitation was sent: the meeting could not be written to %(calendar)s (%(reason)s).",
                        calendar=calendar,
                        reason=own.last_error or "",
                    )
                )
        return "\n".join(lines)
