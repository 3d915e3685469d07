"""Online meeting links (issue 23): 'Add video call' on a meeting whose organiser's calendar is
Google or Microsoft 365 asks that calendar for a Google Meet or Teams meeting. The ask travels with
the meeting's write through the outbox (after the save commits, never while the user waits); the
link comes back with the write's answer into Odoo's video call field (``videocall_location``) and,
through it, into a meeting text the user has not edited. A meeting made at the provider with a link
shows it. Exchange has no such link: Odoo's own video call (Discuss) stays what it offers."""

import logging
import re

from odoo import _, api, fields, models
from odoo.exceptions import AccessError

from .calendar_event_ui import _text_key
from .calendar_sync_binding import SYNC_CONTEXT

_logger = logging.getLogger(__name__)

# the calendars that make an online meeting when asked, and what they make
VIDEO_CALL_PROVIDERS = ("google", "microsoft")

# a link to join: an https address, nothing else (the link comes from whoever made the meeting,
# an outside organiser too, and the form's 'Join video call' opens it)
_JOIN_URL = re.compile(r"^https://[^\s\x00-\x1f<>\"'`\\]+$", re.I)


def safe_video_url(url):
    """``url`` when it is an https address to open, else "" (a ``javascript:`` or other scheme,
    spaces, markup characters are never taken)."""
    url = (url or "").strip()
    return url if len(url) <= 2048 and _JOIN_URL.match(url) else ""


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    synced_video_call = fields.Boolean(
        "Video call from the organiser's calendar",
        copy=False,
        help="Asked of the organiser's calendar (Google Meet or Microsoft Teams) when the meeting is saved; "
        "the calendar makes the online meeting and its link appears in the video call field.",
    )
    synced_video_call_provider = fields.Selection(
        [("google", "Google Meet"), ("microsoft", "Microsoft Teams")],
        string="Online meetings by",
        compute="_compute_synced_video_call_provider",
        help="The online meetings the organiser's synced calendar makes (none for Exchange: Odoo's own video "
        "call is offered instead).",
    )
    synced_video_call_note = fields.Char("Video call status", compute="_compute_synced_video_call_provider")

    @api.depends("user_id", "synced_video_call", "videocall_location")
    def _compute_synced_video_call_provider(self):
        Account = self.env["calendar.sync.account"]
        enabled = Account._sync_enabled()
        for event in self:
            # sudo in _account_for_user: only which service the organiser's calendar is on is shown
            account = Account._account_for_user(event.user_id) if enabled else Account
            provider = account.provider if account.provider in VIDEO_CALL_PROVIDERS else False
            event.synced_video_call_provider = provider
            note = False
            if provider and event.synced_video_call and not event.videocall_location:
                if provider == "google":
                    note = _("Google makes the Meet link once the meeting is saved; it appears here within a minute.")
                else:
                    note = _(
                        "Microsoft 365 makes the Teams link once the meeting is saved; it appears here within a minute."
                    )
            event.synced_video_call_note = note

    @api.onchange("videocall_location")
    def _onchange_synced_video_call_cleared(self):
        # 'Clear meeting' in the form: no online meeting is asked for any more (one the calendar
        # made stays there: it is removed in Google Calendar or Outlook)
        if not self.videocall_location:
            self.synced_video_call = False

    # -- to and from the provider ----------------------------------------------
    def _to_remote(self, account):
        remote = super()._to_remote(account)
        url = self.videocall_location or ""
        return remote.replace(video_url=url, video_call=bool(self.synced_video_call) and not url)

    @api.model
    def _vals_from_remote(self, remote, account, partners, users):
        vals = super()._vals_from_remote(remote, account, partners, users)
        url = safe_video_url(remote.video_url)
        if url:
            # the online meeting the provider has for it (made there, or asked for from Odoo)
            vals["videocall_location"] = url
        return vals

    def _synced_take_video_link(self, remote):
        """After a write to the organiser's calendar: keep the online meeting's link it answered
        with. Returns True when the meeting's text changed with it (to be written out again)."""
        self.ensure_one()
        url = safe_video_url(remote.video_url)
        if not url or self.videocall_location == url:
            return False
        self.with_context(**SYNC_CONTEXT).write({"videocall_location": url})
        if not (self.text_template_id and self.text_template_merged and self._calendar_sync_text_untouched()):
            return False
        # merged again as its organiser would: in their language and time zone
        try:
            fresh = self.with_user(self.user_id or self.env.user)._calendar_sync_merge_text(self.text_template_id)
        except AccessError:
            return False
        if fresh is False or _text_key(fresh) == _text_key(self.text_template_merged):
            return False
        self.with_context(**SYNC_CONTEXT).write({"description": fresh, "text_template_merged": fresh})
        return True
