"""A guest's removal of a synced meeting: a decline in the guest's own calendar, never a cancel.

When the organiser (or the colleague who booked the meeting for them) deletes or archives a
meeting, the organiser's calendar cancels it for every attendee (``calendar_event._outbox_remove``).
When a guest does, only the guest leaves: their attendee declines, their own calendar sends the
decline to the organiser through the outbox (``calendar.sync.binding._push_answer``), and the
meeting stays for everyone else. Colleagues who neither organise nor attend it may not cancel it.
"""

from odoo import _, api, models
from odoo.exceptions import UserError

CANCEL, DECLINE, REFUSE = "cancel", "decline", "refuse"


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    # ------------------------------------------------------------------
    # who removes what
    # ------------------------------------------------------------------
    def _calendar_sync_removal_kind(self):
        """What the current user's delete or archive of this meeting does, when the organiser's
        calendar holds it: CANCEL (for everyone), DECLINE (for the user only) or REFUSE; False
        when the sync has no say (not synced through the organiser's calendar)."""
        self.ensure_one()
        if self.env.context.get("calendar_sync_from_remote") or not self.id:
            return False
        if not self.env["calendar.sync.account"]._sync_enabled() or not self.sudo()._writable_bindings():
            return False
        if self._synced_may_send_invitations():
            return CANCEL
        if self.env.user.partner_id in self.sudo().partner_ids:
            return DECLINE
        return REFUSE

    def _calendar_sync_split_removal(self):
        """(meetings the current user declines instead, the others); refuses, in words, a removal
        by a colleague who neither organises nor attends a synced meeting."""
        declined = self.browse()
        for event in self:
            kind = event._calendar_sync_removal_kind()
            if kind == REFUSE:
                raise UserError(
                    _(
                        "Only the organiser (%(organizer)s) or the colleague who booked this meeting can cancel it "
                        "for everyone, and you are not among its attendees. Ask the organiser to cancel it.",
                        organizer=event.sudo().user_id.name,
                    )
                )
            if kind == DECLINE:
                declined |= event
        return declined, self - declined

    def _calendar_sync_decline_for_me(self):
        """The current user, a guest, leaves these meetings: their attendee declines (Odoo's own
        calendar does the same for a guest's delete) and their own calendar, when subscribed,
        sends the decline after commit. The meetings stay for everyone else."""
        Binding = self.env["calendar.sync.binding"].sudo()
        partner = self.env.user.partner_id
        marked = Binding.browse()
        for event in self:
            attendee = event.sudo().attendee_ids.filtered(lambda a, p=partner: a.partner_id == p)
            if attendee and attendee.state != "declined":
                # as the guest: Odoo's own decline (its chatter line is the guest's)
                attendee.with_user(self.env.user).do_decline()
            own = (
                event.sudo()
                ._live_bindings()
                .filtered(
                    lambda b, u=self.env.user, e=event: b.account_id.user_id == u and u != e.user_id and b.external_id
                )
            )
            own.write({"state": "to_push", "push_attempts": 0, "last_error": False})
            marked |= own
        if marked:
            Binding._wake_push()

    # ------------------------------------------------------------------
    # the doors a removal comes by
    # ------------------------------------------------------------------
    def unlink(self):
        declined, others = self._calendar_sync_split_removal()
        declined._calendar_sync_decline_for_me()
        return super(CalendarEvent, others).unlink()

    def action_archive(self):
        declined, others = self._calendar_sync_split_removal()
        declined._calendar_sync_decline_for_me()
        return super(CalendarEvent, others).action_archive() if others else True

    def write(self, vals):
        if "active" not in vals or vals["active"] or self.env.context.get("calendar_sync_from_remote"):
            return super().write(vals)
        declined, others = self.filtered("active")._calendar_sync_split_removal()
        if not declined:
            return super().write(vals)
        declined._calendar_sync_decline_for_me()
        rest = {k: v for k, v in vals.items() if k != "active"}
        result = super(CalendarEvent, self - declined).write(vals) if self - declined else True
        if rest:
            super(CalendarEvent, declined).write(rest)
        return result

    # ------------------------------------------------------------------
    # the confirmation the calendar view and the form ask
    # ------------------------------------------------------------------
    @api.readonly
    def calendar_sync_removal_question(self):
        """The question to ask before the current user deletes this meeting, saying which of the
        two is about to happen: {"title", "body", "confirm"} in the user's language, or False
        when Odoo's own question fits (a meeting the sync has no say in)."""
        self.ensure_one()
        self.check_access("read")
        kind = self._calendar_sync_removal_kind()
        if not kind:
            return False
        event = self.sudo()
        labels = dict(self.env["calendar.sync.account"]._fields["provider"]._description_selection(self.env))
        organizer_binding = event._writable_bindings()[:1]
        provider = labels.get(organizer_binding.account_id.provider, "")
        organizer = event.user_id.name or ""
        if kind == CANCEL and not organizer_binding.invited:
            return {
                "kind": CANCEL,
                "title": _("Delete the meeting?"),
                "body": _(
                    "This deletes the meeting from Odoo and from the organiser's calendar (%(organizer)s, "
                    "%(provider)s). Its invitations were not sent from that calendar, so nobody gets a "
                    "cancellation.",
                    organizer=organizer,
                    provider=provider,
                ),
                "confirm": _("Delete"),
            }
        if kind == CANCEL:
            return {
                "kind": CANCEL,
                "title": _("Cancel the meeting for everyone?"),
                "body": _(
                    "This cancels the meeting for every attendee: it is deleted from Odoo and from the organiser's "
                    "calendar (%(organizer)s, %(provider)s), which sends the attendees a cancellation.",
                    organizer=organizer,
                    provider=provider,
                ),
                "confirm": _("Cancel for everyone"),
            }
        if kind == DECLINE:
            return {
                "kind": DECLINE,
                "title": _("Decline and remove from your calendar?"),
                "body": _(
                    "You are a guest of this meeting, organised by %(organizer)s: you decline it, it leaves your "
                    "calendar and %(organizer)s is told. The meeting stays for the other attendees; only the "
                    "organiser can cancel it for everyone.",
                    organizer=organizer,
                ),
                "confirm": _("Decline"),
            }
        return {
            "kind": REFUSE,
            "title": _("Only the organiser can cancel this meeting"),
            "body": _(
                "Only the organiser (%(organizer)s) or the colleague who booked this meeting can cancel it "
                "for everyone, and you are not among its attendees. Ask the organiser to cancel it.",
                organizer=organizer,
            ),
            "confirm": False,
        }
