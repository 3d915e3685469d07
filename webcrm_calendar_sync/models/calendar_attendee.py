from odoo import models

ANSWERS = ("accepted", "declined", "tentative")


class CalendarAttendee(models.Model):
    _name = "calendar.attendee"
    _inherit = ["calendar.attendee", "calendar.sync.prefilled.defaults"]

    def _subscribe_partner(self):
        # Attendees of a meeting mirrored from an external calendar are not made
        # followers: the external calendar is where they are kept informed, and a
        # chatter note on a synced meeting must not e-mail outside attendees.
        if self.env.context.get("calendar_sync_from_remote"):
            return
        return super()._subscribe_partner()

    def _send_invitation_emails(self):
        # nothing to send for meetings mirrored from an external calendar
        if self.env.context.get("calendar_sync_from_remote"):
            return False
        return super()._send_invitation_emails()

    def write(self, vals):
        result = super().write(vals)
        if "state" in vals and not self.env.context.get("calendar_sync_from_remote"):
            self._calendar_sync_send_answers()
        return result

    def _calendar_sync_send_answers(self):
        """A guest answered Yes, No or Maybe in Odoo: their own calendar sends the answer to the
        organiser after commit (``calendar.sync.binding._push_answer``, through their copy of the
        meeting). Only the guest's own answer, given by the guest: an answer someone else sets on
        their behalf in Odoo is not sent from their calendar. The organiser's answer is part of
        their meeting, and an attendee without a subscribed calendar has no copy to answer from."""
        Binding = self.env["calendar.sync.binding"].sudo()
        if not self.env["calendar.sync.account"]._sync_enabled():
            return
        marked = Binding.browse()
        for attendee in self:
            if attendee.state not in ANSWERS or not (self.env.su or attendee.partner_id == self.env.user.partner_id):
                continue
            # sudo: the caller's own attendee was just written with the caller's rights; their
            # calendar's binding of the meeting is not theirs to read
            event = attendee.sudo().event_id
            if not event.active:
                continue
            own = event._live_bindings().filtered(
                lambda b, a=attendee, e=event: (
                    b.external_id
                    and b.account_id.user_id.partner_id == a.partner_id
                    and b.account_id.user_id != e.user_id
                )
            )
            own.write({"state": "to_push", "push_attempts": 0, "last_error": False})
            marked |= own
        if marked:
            Binding._wake_push()
