"""The schedule view's data (issue 13, C7): chosen colleagues side by side, a row per person.

``get_synced_schedule`` answers the client action ``webcrm_calendar_sync.schedule``. Odoo's
meetings are searched as the caller, so Odoo's own rules apply (a colleague's private meeting
comes back as "Busy", without its title or attendees); the busy times that exist only in the
colleagues' external calendars come from ``get_synced_busy_intervals`` with its own rules
(same companies, a short cache, a budget of provider calls).
"""

from datetime import datetime, time, timedelta

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

# at most this many people side by side, and this many days at once
SCHEDULE_MAX_PEOPLE = 30
SCHEDULE_MAX_DAYS = 31


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    @api.model
    def get_synced_schedule(self, user_ids, start, stop, outside=False):
        """Rows of the schedule view: the caller, then the chosen colleagues.

        :param user_ids: ids of res.users (colleagues; the caller is always the first row)
        :param start, stop: the shown range, UTC datetimes ("YYYY-MM-DD HH:MM:SS")
        :param outside: also ask the colleagues' external calendars for the busy times that
            are not meetings in Odoo (calls the providers: the client asks for it after it has
            shown Odoo's meetings)
        :returns: ``{"rows": [...], "outside_error": str or False}``; a row is ``{"user_id",
            "partner_id", "name", "is_me", "synced", "events": [...], "outside": [...]}``
        """
        user = self.env.user
        if not self.env.su and (
            not user._is_internal() or not user.has_group("webcrm_calendar_sync.group_calendar_sync")
        ):
            raise AccessError(_("Only internal users of the synced calendar can see the schedule."))
        if not isinstance(user_ids, (list, tuple)) or not all(isinstance(uid, int) for uid in user_ids):
            raise UserError(_("Give the colleagues as a list of user ids."))
        if len(user_ids) > SCHEDULE_MAX_PEOPLE:
            raise UserError(_("Choose at most %(count)s colleagues for the schedule.", count=SCHEDULE_MAX_PEOPLE))
        start_dt = fields.Datetime.to_datetime(start)
        stop_dt = fields.Datetime.to_datetime(stop)
        if not start_dt or not stop_dt or stop_dt <= start_dt or stop_dt - start_dt > timedelta(days=SCHEDULE_MAX_DAYS):
            raise UserError(_("The schedule shows at most %(days)s days at once.", days=SCHEDULE_MAX_DAYS))

        people = self._schedule_people(user_ids)
        events_by_partner = self._schedule_events(people.partner_id, start_dt, stop_dt)
        accounts = self.env["calendar.sync.account"]
        # sudo: whether each person's calendar is synced (no account detail leaves here)
        synced_users = set(
            accounts.sudo().search([("user_id", "in", people.ids), ("state", "in", ("synced", "error"))]).user_id.ids
        )
        outside_busy, outside_error = {}, False
        if outside and accounts._sync_enabled():
            try:
                outside_busy = self.get_synced_busy_intervals(
                    people.ids, fields.Datetime.to_string(start_dt), fields.Datetime.to_string(stop_dt)
                )
            except UserError as exc:  # the budget of provider calls is spent: say so, show the rest
                outside_error = exc.args[0] if exc.args else str(exc)
        rows = []
        for person in people:
            events = events_by_partner.get(person.partner_id.id, [])
            rows.append(
                {
                    "user_id": person.id,
                    "partner_id": person.partner_id.id,
                    "name": person.name,
                    "is_me": person == user,
                    "synced": person.id in synced_users,
                    "events": events,
                    "outside": self._schedule_outside_only(outside_busy.get(str(person.id), []), events),
                    "outside_asked": bool(outside) and str(person.id) in outside_busy,
                }
            )
        return {"rows": rows, "outside_error": outside_error}

    @api.model
    def _schedule_people(self, user_ids):
        """The caller, then the colleagues among ``user_ids``: internal users of a company the caller
        works in now (``env.companies``); anyone else is left out."""
        user = self.env.user
        companies = self.env.companies
        # sudo: a colleague's name is shown whatever the caller may read of res.users
        colleagues = (
            self.env["res.users"]
            .sudo()
            .browse(list(dict.fromkeys(user_ids)))
            .exists()
            .filtered(lambda u: not u.share and u.active and u != user and (u.company_ids & companies))
        )
        return user.sudo() | colleagues

    @api.model
    def _schedule_events(self, partners, start_dt, stop_dt):
        """{partner id: [event dict]} of the meetings ``partners`` attend (not declined) in the range."""
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")
        first_day = pytz.utc.localize(start_dt).astimezone(tz).date()
        last_day = pytz.utc.localize(stop_dt - timedelta(microseconds=1)).astimezone(tz).date()
        # searched as the caller: Odoo's rules decide which meetings may be seen at all
        events = self.search(
            [
                ("partner_ids", "in", partners.ids),
                "|",
                "&",
                "&",
                ("allday", "=", False),
                ("start", "<", stop_dt),
                ("stop", ">", start_dt),
                "&",
                "&",
                ("allday", "=", True),
                ("start_date", "<=", last_day),
                ("stop_date", ">=", first_day),
            ],
            order="start",
            limit=2000,
        )
        if not events:
            return {}
        # sudo: who attends what, and their answer (the private meetings' attendee lists are
        # hidden from the caller; only "Busy" and the time of such a meeting are shown)
        attendees = (
            self.env["calendar.attendee"]
            .sudo()
            .search([("event_id", "in", events.ids), ("partner_id", "in", partners.ids), ("state", "!=", "declined")])
        )
        shown = {}
        for event in events:
            private = event._check_private_event_conditions()
            shown[event.id] = {
                "id": event.id,
                "name": _("Busy") if private else event.name,
                "private": private,
                "allday": event.allday,
                "start": fields.Datetime.to_string(event.start),
                "stop": fields.Datetime.to_string(event.stop),
                "start_date": fields.Date.to_string(event.start_date) if event.allday else False,
                "stop_date": fields.Date.to_string(event.stop_date) if event.allday else False,
                "show_as": event.show_as,
                "provider": False if private else event.synced_provider or False,
                "_span": self._schedule_span(event, tz),
            }
        result = {}
        for attendee in attendees:
            event = dict(shown[attendee.event_id.id], state=attendee.state)
            result.setdefault(attendee.partner_id.id, []).append(event)
        for found in result.values():
            found.sort(key=lambda e: (e["start"], e["id"]))
        return result

    @api.model
    def _schedule_span(self, event, tz):
        """The (start, stop) naive UTC datetimes ``event`` takes (an all-day one: whole local days)."""
        if not event.allday:
            return event.start, event.stop
        first = tz.localize(datetime.combine(event.start_date, time.min)).astimezone(pytz.utc)
        after = tz.localize(datetime.combine(event.stop_date + timedelta(days=1), time.min)).astimezone(pytz.utc)
        return first.replace(tzinfo=None), after.replace(tzinfo=None)

    @api.model
    def _schedule_outside_only(self, intervals, events):
        """The busy ``intervals`` that the person's Odoo meetings (``events``, shown busy) do not cover.

        A synced meeting is in the external calendar too: its busy time is already shown by the
        meeting. What is left is busy time that exists only outside Odoo.
        """
        spans = sorted(e["_span"] for e in events if e["show_as"] != "free")
        for event in events:
            event.pop("_span", None)
        left = []
        for interval in intervals:
            begin = fields.Datetime.to_datetime(interval["start"])
            end = fields.Datetime.to_datetime(interval["stop"])
            cursor = begin
            for span_start, span_stop in spans:  # walk the union of the meetings from ``begin``
                if span_start > cursor:
                    break
                cursor = max(cursor, span_stop)
            if cursor < end:
                left.append({"start": interval["start"], "stop": interval["stop"]})
        return left
