from odoo import models


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
