"""Find-a-time on the booking form (issue 23, point 4): the organiser and the invited colleagues,
their busy times over several working days, and the slots that are free for all of them.

``get_synced_find_a_time`` answers the form's busy-times panel. Busy times are the people's
meetings in Odoo, searched as the caller (Odoo's rules apply: a colleague's private meeting
is only busy time), and the busy times that exist only in their external calendars (the
providers' free/busy, with the short cache and the per-caller budget of calendar_sync_busy.py).
A colleague whose external calendar cannot be read (access revoked, sync paused, no answer) is
named in words: their busy times there are unknown, and no slot is called free for everyone.
A slot is offered when it has not begun, lies within everyone's working hours (each one's
``resource.calendar`` in each one's time zone) and nobody is busy then.
"""

import logging
from datetime import datetime, time, timedelta

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..engine import errors as sync_errors
from . import calendar_sync_busy
from .calendar_sync_binding import naive_utc

_logger = logging.getLogger(__name__)

SLOT_MINUTES = 30
FIND_TIME_MAX_PEOPLE = 50
FIND_TIME_MAX_DAYS = 10
# working days are looked for this many calendar days ahead of the first shown day
FIND_TIME_LOOKAHEAD_DAYS = 31
# without any working-hours calendar: Monday to Friday, 08:00 to 17:00 in the person's zone
FALLBACK_HOURS = (8, 17)


class CalendarEvent(models.Model):
    _inherit = "calendar.event"

    @api.model
    def get_synced_find_a_time(self, partner_ids, organizer_id=False, day=False, days=5, duration=60, **options):
        """The find-a-time panel of the booking form.

        :param partner_ids: the meeting's attendees (res.partner ids); the internal users among
            them, colleagues of the caller's companies, are shown
        :param organizer_id: the meeting's organiser (res.users id), shown first
        :param day: the first day to show ("YYYY-MM-DD", in ``tz``); never before today
        :param days: how many working days to show (at most FIND_TIME_MAX_DAYS)
        :param duration: the meeting's length in minutes
        :param options: ``event_id`` (the meeting being edited: its own time is not busy) and
            ``tz`` (the zone the days and hours are shown in; the caller's by default)
        :returns: ``{"people": [{"user_id", "name", "organizer", "unknown"}], "unknown": [text],
            "all_known": bool, "days": [{"date", "slots": [{"start", "past", "free", "cells"}]}],
            "next_day": "YYYY-MM-DD"}``: ``cells`` holds one of "busy", "off" (outside working
            hours), "unknown" or "free" per person; ``start`` is UTC ("YYYY-MM-DD HH:MM:SS")
        """
        user = self.env.user
        if not self.env.su and (
            not user._is_internal() or not user.has_group("webcrm_calendar_sync.group_calendar_sync")
        ):
            raise AccessError(_("Only internal users of the synced calendar can see colleagues' busy times."))
        if not isinstance(partner_ids, (list, tuple)) or not all(isinstance(pid, int) for pid in partner_ids):
            raise UserError(_("Give the attendees as a list of contact ids."))
        if len(partner_ids) > FIND_TIME_MAX_PEOPLE:
            raise UserError(_("Ask for the busy times of at most 50 colleagues at once."))
        if organizer_id and not isinstance(organizer_id, int):
            raise UserError(_("Give the organiser as a user id."))
        if not isinstance(days, int) or not 1 <= days <= FIND_TIME_MAX_DAYS:
            raise UserError(_("Find a time over 1 to %(days)s days at once.", days=FIND_TIME_MAX_DAYS))
        if not isinstance(duration, (int, float)) or not 0 < duration <= 24 * 60:
            raise UserError(_("A meeting to find a time for lasts up to a day."))
        event_id = options.get("event_id")
        event_id = event_id if isinstance(event_id, int) else False
        tz_name = options.get("tz")
        if not isinstance(tz_name, str) or tz_name not in pytz.all_timezones_set:
            tz_name = self.env.context.get("tz") or user.tz or "UTC"
        tz = pytz.timezone(tz_name)

        now = self._find_time_now()
        today = pytz.utc.localize(now).astimezone(tz).date()
        first = today
        if day:
            try:
                first = max(fields.Date.to_date(day), today)
            except (TypeError, ValueError):
                raise UserError(_("Give the first day as YYYY-MM-DD.")) from None

        people = self._find_time_people(partner_ids, organizer_id)
        scan_start = _midnight(tz, first)
        scan_stop = _midnight(tz, first + timedelta(days=FIND_TIME_LOOKAHEAD_DAYS))
        work = {person.id: self._find_time_work(person, scan_start, scan_stop) for person in people}
        working_days = sorted(
            {
                start.astimezone(tz).date()
                for intervals in work.values()
                for start, _stop in intervals
                if start.astimezone(tz).date() >= first
            }
        )
        shown = working_days[:days] or [first + timedelta(days=n) for n in range(days)]
        range_start, range_stop = _midnight(tz, shown[0]), _midnight(tz, shown[-1] + timedelta(days=1))

        busy, unknown = self.with_context(tz=tz_name)._find_time_busy(people, range_start, range_stop, event_id)
        names = {person.id: person.name for person in people}
        result_days = []
        step = timedelta(minutes=SLOT_MINUTES)
        length = timedelta(minutes=duration)
        now_utc = pytz.utc.localize(now)
        for shown_day in shown:
            day_start, day_stop = _midnight(tz, shown_day), _midnight(tz, shown_day + timedelta(days=1))
            inside = [
                (max(s, day_start), min(e, day_stop))
                for intervals in work.values()
                for s, e in intervals
                if s < day_stop and e > day_start
            ]
            slots = []
            if inside:
                cursor = _floor(min(s for s, _e in inside), day_start)
                end = max(e for _s, e in inside)
                while cursor < end:
                    slots.append(self._find_time_slot(cursor, step, length, now_utc, people, work, busy, unknown))
                    cursor += step
            result_days.append({"date": fields.Date.to_string(shown_day), "slots": slots})
        return {
            "people": [
                {
                    "user_id": person.id,
                    "name": person.name,
                    "organizer": person.id == organizer_id,
                    "unknown": unknown.get(person.id, False),
                }
                for person in people
            ],
            "unknown": [
                _(
                    "%(name)s's calendar could not be read (%(reason)s): their busy times there are unknown, "
                    "so no time is known to be free for everyone.",
                    name=names[uid],
                    reason=reason,
                )
                for uid, reason in unknown.items()
            ],
            "all_known": not unknown,
            "days": result_days,
            "next_day": fields.Date.to_string(
                next((d for d in working_days if d > shown[-1]), shown[-1] + timedelta(days=1))
            ),
        }

    @api.model
    def _find_time_now(self):
        """Now, naive UTC (a seam for the tests)."""
        return fields.Datetime.now()

    @api.model
    def _find_time_people(self, partner_ids, organizer_id):
        """The organiser, then the internal users among the attendees: colleagues who work in a
        company the caller works in now (``env.companies``), or the caller; anyone else is left out."""
        user = self.env.user
        companies = self.env.companies
        # sudo: colleagues are looked up whatever the caller may read of res.users; only their
        # names, working hours and busy times are used
        Users = self.env["res.users"].sudo().with_context(active_test=True)
        organizer = Users.browse(organizer_id).exists() if organizer_id else Users
        attendees = Users.search([("partner_id", "in", list(partner_ids)), ("share", "=", False)], order="id")
        people = (organizer | attendees).filtered(
            lambda u: not u.share and u.active and (u == user or self.env.su or u.company_ids & companies)
        )
        return people.sorted(lambda u: (u.id != organizer_id, u.id))

    @api.model
    def _find_time_work(self, person, start, stop):
        """[(start, stop)] aware UTC: ``person``'s working hours between ``start`` and ``stop``,
        from their working-hours calendar (their own, else their company's) in their zone."""
        calendar = person.resource_calendar_id or person.company_id.resource_calendar_id
        tz = pytz.timezone(person.tz or (calendar and calendar.tz) or "UTC")
        if not calendar:
            found, current = [], start.astimezone(tz).date()
            while _midnight(tz, current) < stop:
                if current.weekday() < 5:
                    found.append(
                        (
                            tz.localize(datetime.combine(current, time(FALLBACK_HOURS[0]))).astimezone(pytz.utc),
                            tz.localize(datetime.combine(current, time(FALLBACK_HOURS[1]))).astimezone(pytz.utc),
                        )
                    )
                current += timedelta(days=1)
            return [(max(s, start), min(e, stop)) for s, e in found if s < stop and e > start]
        resource = person.resource_ids.filtered(lambda r: r.calendar_id == calendar)[:1]
        intervals = calendar._work_intervals_batch(start, stop, resources=resource, tz=tz)[resource.id]
        return sorted((s.astimezone(pytz.utc), e.astimezone(pytz.utc)) for s, e, _rec in intervals)

    @api.model
    def _find_time_busy(self, people, start, stop, event_id):
        """({user id: [(start, stop)] aware UTC}, {user id: reason}): everyone's busy times between
        ``start`` and ``stop`` (their meetings in Odoo but ``event_id``, and the busy times only in
        their external calendars), and why a person's external calendar could not be read."""
        naive_start, naive_stop = naive_utc(start), naive_utc(stop)
        events = self._schedule_events(people.partner_id, naive_start, naive_stop)
        outside, unknown = self._find_time_outside(people, start, stop)
        busy = {}
        for person in people:
            mine = events.get(person.partner_id.id, [])
            spans = [
                (pytz.utc.localize(e["_span"][0]), pytz.utc.localize(e["_span"][1]))
                for e in mine
                if e["show_as"] != "free" and e["id"] != event_id
            ]
            # the meeting being edited is in the external calendar too: not busy time either
            only_outside = self._schedule_outside_only(outside.get(person.id, []), mine)
            spans += [
                (
                    pytz.utc.localize(fields.Datetime.to_datetime(i["start"])),
                    pytz.utc.localize(fields.Datetime.to_datetime(i["stop"])),
                )
                for i in only_outside
            ]
            busy[person.id] = sorted(spans)
        return busy, unknown

    @api.model
    def _find_time_outside(self, people, start, stop):
        """({user id: [{"start", "stop"}]}, {user id: reason}): the busy times in ``people``'s
        external calendars, and, for each whose calendar could not be read, why (in words)."""
        Account = self.env["calendar.sync.account"]
        if not Account._sync_enabled():
            return {}, {}
        per_minute = int(Account._param("busy_calls_per_minute", calendar_sync_busy.CALLS_PER_MINUTE) or 0)
        companies = self.env.companies
        found, unknown = {}, {}
        # sudo: each person's subscribed calendar (its state only; no account detail leaves here)
        accounts = Account.sudo().search(
            [("user_id", "in", people.ids), "|", ("state", "!=", "draft"), ("needs_reauth", "=", True)],
            order="id",
        )
        for person in people:
            mine = accounts.filtered(lambda a, p=person: a.user_id == p)
            if not mine:
                continue  # no external calendar: their meetings in Odoo are all there is
            readable = mine.filtered(lambda a: a.state in ("subscribed", "synced", "error") and not a.needs_reauth)
            account = readable[:1]
            if not account:
                if any(a.needs_reauth for a in mine):
                    unknown[person.id] = _("access to it was revoked; they must subscribe again")
                else:
                    unknown[person.id] = _("its sync is paused")
                continue
            if account.company_id not in companies and not self.env.su:
                unknown[person.id] = _("it is synced for a company you do not work in")
                continue
            email = (account.email or person.email or "").lower()
            try:
                found[person.id] = self._calendar_sync_external_busy(account, person, email, start, stop, per_minute)
            except calendar_sync_busy.TooManyCalls:
                unknown[person.id] = _("too many busy-time lookups in the last minute; try again in a minute")
            except (sync_errors.AuthRevoked, sync_errors.NotSubscribed, sync_errors.Forbidden) as exc:
                _logger.info("Free/busy of account %s refused: %s", account.id, exc.__class__.__name__)
                unknown[person.id] = _("access to it was refused; they must subscribe again")
            except sync_errors.SyncError as exc:
                _logger.info("Free/busy of account %s failed: %s", account.id, exc.__class__.__name__)
                unknown[person.id] = _("the calendar service did not answer")
        return found, unknown

    @api.model
    def _find_time_slot(self, start, step, length, now, people, work, busy, unknown):
        """One half hour of the grid from ``start``: each person's state, and whether a meeting of
        ``length`` may start then (not begun, within everyone's working hours, nobody busy)."""
        cells = []
        free = start >= now
        for person in people:
            hours, taken = work[person.id], busy[person.id]
            if any(s < start + step and e > start for s, e in taken):
                cells.append("busy")
            elif not any(s <= start and start + step <= e for s, e in hours):
                cells.append("off")
            elif person.id in unknown:
                cells.append("unknown")
            else:
                cells.append("free")
            if free and (
                not any(s <= start and start + length <= e for s, e in hours)
                or any(s < start + length and e > start for s, e in taken)
            ):
                free = False
        return {
            "start": fields.Datetime.to_string(naive_utc(start)),
            "past": start + step <= now,
            "free": free,
            "cells": cells,
        }


def _midnight(tz, day):
    """The start of ``day`` in ``tz``, aware UTC."""
    return tz.localize(datetime.combine(day, time.min)).astimezone(pytz.utc)


def _floor(moment, day_start):
    """``moment`` moved back to the half hour of the grid that holds it (counted from ``day_start``)."""
    steps = (moment - day_start) // timedelta(minutes=SLOT_MINUTES)
    return day_start + steps * timedelta(minutes=SLOT_MINUTES)
