import dataclasses
import logging
import uuid
from datetime import datetime, time, timedelta

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import plaintext2html

from ..engine import errors as sync_errors
from ..engine.events import DEFAULT, UTC, Attendee, RemoteEvent, html_to_text
from . import calendar_sync_busy
from .calendar_sync_account import PROVIDERS
from .calendar_sync_binding import SYNC_CONTEXT, naive_utc
from .calendar_sync_defaults import PREFILLED_DEFAULTS

_logger = logging.getLogger(__name__)

# Fields in which Odoo's own google_calendar / microsoft_calendar keep the external id (M1).
LEGACY_FIELDS = {"google": ("google_id",), "microsoft": ("microsoft_id", "ms_universal_event_id")}

# Fields whose change is written to the external calendar.
SYNCED_FIELDS = {
    "name",
    "start",
    "stop",
    "allday",
    "start_date",
    "stop_date",
    "location",
    "description",
    "partner_ids",
    "attendee_ids",
    "privacy",
    "show_as",
    "user_id",
    "synced_tz",
    "synced_video_call",  # asks the organiser's calendar for an online meeting
}


class CalendarEvent(models.Model):
    _name = "calendar.event"
    _inherit = ["calendar.event", "calendar.sync.prefilled.defaults"]

    sync_binding_ids = fields.One2many("calendar.sync.binding", "event_id", string="Sync bindings")
    synced_account_id = fields.Many2one(
        "calendar.sync.account",
        string="Synced account",
        compute="_compute_synced",
        store=True,
        index=True,
        help="The external calendar the meeting is synced with (the organiser's when subscribed).",
    )
    synced_provider = fields.Selection(
        PROVIDERS, string="Synced provider", compute="_compute_synced", store=True, index=True
    )
    is_synced = fields.Boolean("Synced meeting", compute="_compute_synced", store=True, index=True)
    synced_last_sync_date = fields.Datetime("Last sync", compute="_compute_synced", store=True)
    synced_organizer_email = fields.Char("External organiser", help="E-mail of the organiser in the external calendar.")
    synced_organizer_given_name = fields.Char(
        "External organiser's name", help="The organiser's name as the external calendar gives it."
    )
    synced_partner_company_ids = fields.Many2many(
        "res.partner",
        string="Organisations",
        compute="_compute_synced_partner_company_ids",
        search="_search_synced_partner_company_ids",
        help="Companies of the attendees.",
    )
    synced_tz = fields.Char(
        "External time zone", help="Time zone the meeting was made in, kept when it is written back."
    )
    sync_push_state = fields.Selection(
        [("waiting", "Waiting to be written"), ("error", "Could not be written")],
        string="Calendar write",
        compute="_compute_synced",
        store=True,
        help="A change made in Odoo that the organiser's external calendar has not taken yet.",
    )
    sync_push_message = fields.Char("Calendar write status", compute="_compute_sync_error")
    sync_error = fields.Char(compute="_compute_sync_error")
    text_template_id = fields.Many2one(
        "mail.template",
        string="Text template",
        domain=[("model", "=", "calendar.event")],
        help="Fills the description from the meeting's fields (attendees, organisation, time, place, "
        "organiser) when the invitation is sent; 'Edit template' merges it now to edit it by hand.",
    )
    text_template_applied = fields.Boolean(copy=False)

    @api.depends("sync_binding_ids.account_id", "sync_binding_ids.last_sync_date", "sync_binding_ids.state", "user_id")
    def _compute_synced(self):
        for event in self:
            bindings = event.sync_binding_ids
            own = bindings.filtered(lambda b, e=event: b.account_id.user_id == e.user_id)
            main = (own or bindings)[:1]
            event.synced_account_id = main.account_id
            event.synced_provider = main.account_id.provider or False
            event.is_synced = bool(bindings)
            dates = [d for d in bindings.mapped("last_sync_date") if d]
            event.synced_last_sync_date = max(dates) if dates else False
            states = set(bindings.mapped("state"))
            event.sync_push_state = (
                "error" if "error" in states else "waiting" if states & {"to_push", "to_delete"} else False
            )

    @api.depends("partner_ids.commercial_partner_id")
    def _compute_synced_partner_company_ids(self):
        for event in self:
            event.synced_partner_company_ids = event.partner_ids.commercial_partner_id.filtered("is_company")

    def _search_synced_partner_company_ids(self, operator, value):
        return [("partner_ids.commercial_partner_id", operator, value)]

    @api.depends("sync_binding_ids.state", "sync_binding_ids.last_error")
    def _compute_sync_error(self):
        labels = dict(PROVIDERS)
        for event in self:
            bindings = event.sudo().sync_binding_ids
            failed = bindings.filtered(lambda b: b.state == "error")
            waiting = bindings.filtered(lambda b: b.state in ("to_push", "to_delete"))
            event.sync_error = failed[:1].last_error or False
            if failed:
                event.sync_push_message = _(
                    "Could not be written to %(provider)s: %(error)s Change the meeting to try again, or check "
                    "the calendar account.",
                    provider=labels.get(failed[0].provider, ""),
                    error=failed[0].last_error or "",
                )
            elif waiting[:1].account_id.needs_reauth:
                event.sync_push_message = _(
                    "Waiting to be written to %(provider)s: access to that calendar was revoked or has expired. "
                    "The change is kept and written once the calendar is subscribed again (Synced calendar "
                    "accounts).",
                    provider=labels.get(waiting[0].provider, ""),
                )
            elif waiting[:1].last_error:
                event.sync_push_message = _(
                    "Waiting to be written to %(provider)s; the last try failed and is retried in a few "
                    "minutes: %(error)s",
                    provider=labels.get(waiting[0].provider, ""),
                    error=waiting[0].last_error,
                )
            elif waiting:
                event.sync_push_message = _(
                    "Waiting to be written to %(provider)s: it is written in a moment.",
                    provider=labels.get(waiting[0].provider, ""),
                )
            else:
                event.sync_push_message = False

    # ------------------------------------------------------------------
    # remote -> Odoo
    # ------------------------------------------------------------------
    @api.model
    def _calendar_sync_legacy_index(self, account, remotes):
        """{external_id: event_id} of meetings Odoo's own google_calendar or
        microsoft_calendar module already synced for this user, as organiser or as
        attendee (M1: no duplicates when moving over). Empty when those modules are
        not installed."""
        names = [f for f in LEGACY_FIELDS.get(account.provider, ()) if f in self._fields]
        if not names or not remotes:
            return {}
        by_value = {}
        for remote in remotes:
            by_value[remote.external_id] = remote.external_id
            if remote.ical_uid:
                by_value.setdefault(remote.ical_uid, remote.external_id)
        index = {}
        Event = self.sudo().with_context(active_test=False)
        # the user's meetings, organised by them or only attended (a colleague who does not sync,
        # an outsider): the old module's external id says which one it is, whoever organises it
        user = account.user_id
        mine = ["|", ("user_id", "=", user.id), ("partner_ids", "in", user.partner_id.ids)]
        for name in names:
            domain = [(name, "in", list(by_value)), *mine]
            for row in Event.search_read(domain, [name]):
                index[by_value[row[name]]] = row["id"]
        return index

    @api.model
    def _time_vals_from_remote(self, remote):
        if remote.all_day:
            return {
                "allday": True,
                "start": datetime.combine(remote.start_date, time(8, 0)),
                "stop": datetime.combine(remote.end_date, time(18, 0)),
            }
        return {"allday": False, "start": naive_utc(remote.start), "stop": naive_utc(remote.end)}

    @api.model
    def _vals_from_remote(self, remote, account, partners, users):
        organizer = users.get(remote.organizer_email)
        if organizer is None and remote.organizer_email == (account.email or "").lower():
            organizer = account.user_id
        vals = {
            "name": remote.summary or _("(No title)"),
            "description": plaintext2html(remote.description) if remote.description else False,
            "location": remote.location or False,
            "privacy": _privacy_from_remote(remote, organizer, account),
            "show_as": "free" if remote.show_as == "free" else "busy",
            "user_id": organizer.id if organizer else False,
            "synced_organizer_email": remote.organizer_email or False,
            "synced_organizer_given_name": _organizer_name(remote),
            **self._time_vals_from_remote(remote),
        }
        if remote.timezone and remote.timezone in pytz.all_timezones_set:
            vals["synced_tz"] = remote.timezone
        attendee_cmds, partner_ids = [], []
        owner_email = (account.email or account.user_id.email or "").lower()
        for attendee in remote.attendees:
            partner = partners.get(attendee.email)
            if not partner or partner.id in partner_ids:
                continue
            partner_ids.append(partner.id)
            # the calendar's owner answers in their own copy (kept apart by some providers)
            state = (remote.own_response or attendee.response) if attendee.email == owner_email else attendee.response
            attendee_cmds.append((0, 0, _attendee_vals(partner, state)))
        # the organiser attends their meeting (Odoo shows a calendar by attendee), with their own
        # answer when the provider lists them, else as having accepted (Graph lists them apart)
        organizer_partner = partners.get(remote.organizer_email) if remote.organizer_email else None
        if organizer_partner and organizer_partner.id not in partner_ids:
            partner_ids.append(organizer_partner.id)
            attendee_cmds.append((0, 0, _attendee_vals(organizer_partner, "accepted")))
        if not partner_ids and organizer:
            # a meeting alone in one's calendar: its owner attends it
            partner_ids.append(organizer.partner_id.id)
            attendee_cmds.append((0, 0, _attendee_vals(organizer.partner_id, "accepted")))
        elif not partner_ids:
            partner_ids.append(account.user_id.partner_id.id)
            attendee_cmds.append((0, 0, _attendee_vals(account.user_id.partner_id, "accepted")))
        vals["partner_ids"] = [(6, 0, partner_ids)]
        vals["attendee_ids"] = attendee_cmds
        # every defaulted field given: creating thousands of meetings skips computing defaults
        vals.update(active=True, follow_recurrence=False, recurrence_update="self_only")
        return vals

    # stored computed fields a mirrored meeting gets with its create (see _stored_values_at_create)
    STORED_AT_CREATE = (
        "synced_account_id",
        "synced_provider",
        "is_synced",
        "synced_last_sync_date",
        "sync_push_state",
        "duration",
        "start_date",
        "stop_date",
        "res_model",
    )

    @api.model
    def _stored_values_at_create(self, vals_list, account, synced_at):
        """What the stored computed fields of meetings the sync creates will be once their one
        binding (through ``account``, synced at ``synced_at``) exists, for each of ``vals_list``:
        given with the create, no UPDATE follows the INSERT. They are what _compute_synced, Odoo's
        _compute_dates, _compute_duration and the related res_model give (tested)."""
        result = []
        for vals in vals_list:
            allday = vals.get("allday")
            result.append(
                {
                    "synced_account_id": account.id,
                    "synced_provider": account.provider,
                    "is_synced": True,
                    "synced_last_sync_date": synced_at,
                    "sync_push_state": False,
                    "duration": self._get_duration(vals["start"], vals["stop"]),
                    "start_date": vals["start"].date() if allday else False,
                    "stop_date": vals["stop"].date() if allday else False,
                    "res_model": False,
                }
            )
        if "synced_organization_id" in self._fields:
            # as _compute_synced_organization_id (not taken off the computes: it checks this one)
            partner_ids = [cmd[2] for vals in vals_list for cmd in vals.get("partner_ids", ()) if cmd[0] == 6]
            Partner = self.env["res.partner"].sudo().browse({pid for ids in partner_ids for pid in ids})
            Partner.mapped("commercial_partner_id.is_company")  # one read for all the meetings
            users = self.env["res.users"].sudo().browse({vals["user_id"] for vals in vals_list if vals.get("user_id")})
            users.mapped("company_id.partner_id")
            for vals, values in zip(vals_list, result, strict=True):
                own = self.env["res.users"].sudo().browse(vals.get("user_id")).company_id.partner_id
                ids = next((cmd[2] for cmd in vals.get("partner_ids", ()) if cmd[0] == 6), [])
                companies = Partner.browse(ids).commercial_partner_id.filtered(lambda p, o=own: p.is_company and p != o)
                values["synced_organization_id"] = companies[:1].id
        return result

    def _inverse_dates(self):
        # the sync gives start and stop with the dates (see _stored_values_at_create): they agree
        if self.env.context.get(PREFILLED_DEFAULTS):
            return None
        return super()._inverse_dates()

    def _update_from_remote(self, remote, account, partners, users):
        """Write what changed in ``remote`` onto this meeting (attendees diffed)."""
        self.ensure_one()
        new = self._vals_from_remote(remote, account, partners, users)
        attendee_cmds = new.pop("attendee_ids")
        new.pop("partner_ids")
        vals = {}
        for name, value in new.items():
            current = self[name]
            if isinstance(current, models.BaseModel):
                current = current.id or False
            if name == "description" and _same_text(html_to_text(current or ""), remote.description or ""):
                continue
            if current != value:
                vals[name] = value
        wanted = {cmd[2]["partner_id"]: cmd[2]["state"] for cmd in attendee_cmds}
        existing = {a.partner_id.id: a for a in self.attendee_ids}
        if not remote.attendees_authoritative:
            # the provider's list is not the meeting's (e.g. a Microsoft 365 meeting saved
            # without sending carries no attendees there): the attendees chosen in Odoo stay
            wanted = {pid: existing[pid].state for pid in existing}
        wanted = self._answers_by_authority(remote, account, wanted, existing)
        removed = [pid for pid in existing if pid not in wanted]
        added = [pid for pid in wanted if pid not in existing]
        if removed or added:
            vals["partner_ids"] = [(3, pid) for pid in removed] + [(4, pid) for pid in added]
        if vals:
            self.with_context(**SYNC_CONTEXT).write(vals)
        for pid, state in wanted.items():
            attendee = existing.get(pid) or self.attendee_ids.filtered(lambda a, p=pid: a.partner_id.id == p)
            if attendee and attendee.state != state:
                attendee.with_context(**SYNC_CONTEXT).write({"state": state})

    def _update_attendee_response(self, remote, account):
        """Through an attendee's account only that attendee's answer is news. Returns True when
        the copy has no answer yet and the attendee answered in Odoo (before the copy was bound):
        that answer is still to be sent from the attendee's calendar."""
        self.ensure_one()
        email = (account.email or account.user_id.email or "").lower()
        mine = self.attendee_ids.filtered(lambda a: (a.email or "").lower() == email)[:1]
        response = _own_response(remote, email)
        if not mine or response is None or mine.state == response:
            return False
        if response == "needsAction":
            return True
        mine.with_context(**SYNC_CONTEXT).write({"state": response})
        return False

    def _take_answers_of_organiser_copy(self, remote, account):
        """Take into Odoo the answers the organiser's copy ``remote`` (read through ``account``)
        is the authority for: those of attendees whose own calendar does not bind the meeting, when
        the copy knows them. Returns whether an answer changed."""
        self.ensure_one()
        if not remote.responses_known:
            return False
        own_partner = account.user_id.partner_id
        others = self.sudo()._live_bindings().filtered(lambda b: b.account_id != account)
        authorities = others.account_id.user_id.partner_id | own_partner
        answers = {a.email: a.response for a in remote.attendees if a.response != "needsAction"}
        changed = False
        for attendee in self.sudo().attendee_ids:
            response = answers.get((attendee.email or "").lower())
            if response and attendee.partner_id not in authorities and attendee.state != response:
                attendee.with_context(**SYNC_CONTEXT).write({"state": response})
                changed = True
        return changed

    def _keep_guest_answers(self, remote, current, account):
        """``remote`` (this meeting as it is about to be written over ``current``, the newer
        version in the organiser's calendar) with the answers ``current`` holds of the guests whose
        own calendar binds the meeting: their reply may have reached the organiser's calendar before
        their own calendar was read; an answer given in Odoo that still waits to be sent stays."""
        self.ensure_one()
        if not current.responses_known:
            return remote
        guests = self.sudo()._live_bindings().filtered(lambda b: b.account_id != account and b.state != "to_push")
        emails = {(b.account_id.email or b.account_id.user_id.email or "").lower() for b in guests} - {""}
        answers = {a.email: a.response for a in current.attendees if a.email in emails and a.response != "needsAction"}
        if not answers:
            return remote
        attendees = [
            dataclasses.replace(a, response=answers[a.email]) if a.email in answers else a for a in remote.attendees
        ]
        return remote.replace(attendees=attendees)

    def _answers_by_authority(self, remote, account, wanted, existing):
        """The answers ``remote`` (read through ``account``) may set, from ``wanted`` ({partner id:
        state} as the copy lists them): each account is the authority for its owner's answer, the
        organiser's copy for everyone else's.

        * The owner's answer comes from the copy (its own answer, ``own_response``, when the
          provider keeps it apart), unless an answer given in Odoo still waits to be sent.
        * The answer of someone whose own calendar binds this meeting comes from that calendar.
        * A guest's copy says nothing of the others when the organiser's calendar binds the
          meeting, nor when it lists them without their answers (``responses_known``).
        """
        own_email = (account.email or account.user_id.email or "").lower()
        own_partner = account.user_id.partner_id.id
        bindings = self.sudo().sync_binding_ids.filtered(lambda b: b.state not in ("to_delete", "gone"))
        guest_copy = bool(remote.organizer_email) and remote.organizer_email != own_email
        # a guest's copy waiting to be written carries the answer given in Odoo (``_push_answer``)
        pending = bindings.filtered(lambda b: b.account_id == account and b.state == "to_push" and guest_copy)
        others = bindings.filtered(lambda b: b.account_id != account)
        authorities = set(others.account_id.user_id.partner_id.ids)
        organiser_bound = guest_copy and any(
            (b.account_id.email or b.account_id.user_id.email or "").lower() == remote.organizer_email for b in others
        )
        if organiser_bound:
            # the organiser's copy says who attends: the guest's copy changes no one else
            wanted = {pid: wanted.get(pid, existing[pid].state) for pid in existing}
        for pid in list(wanted):
            if pid not in existing:
                continue
            if pid == own_partner:
                keep = bool(pending)
            else:
                keep = pid in authorities or organiser_bound or not remote.responses_known
            if keep:
                wanted[pid] = existing[pid].state
        response = _own_response(remote, own_email)
        if own_partner in wanted and response is not None and not pending:
            wanted[own_partner] = response
        return wanted

    def _sync_summary_text(self):
        self.ensure_one()
        when = self.start_date if self.allday else self.start
        return f"{self.name}\n{when} - {self.stop_date if self.allday else self.stop}\n{self.location or ''}"

    # ------------------------------------------------------------------
    # Odoo -> remote
    # ------------------------------------------------------------------
    def _to_remote(self, account):
        """This meeting as the neutral event written to ``account``'s calendar."""
        self.ensure_one()
        tz = self.synced_tz or self.user_id.tz or account.user_id.tz or "UTC"
        binding = self.sync_binding_ids.filtered(lambda b: b.account_id == account)[:1]
        any_binding = binding or self.sync_binding_ids.filtered("ical_uid")[:1]
        organizer_email = (account.email or account.user_id.email or "").lower()
        attendees = [
            Attendee(
                email=a.email,
                name=a.common_name or a.partner_id.name or "",
                response=a.state or "needsAction",
                organizer=(a.email or "").lower() == organizer_email,
            )
            for a in self.attendee_ids
            if a.email
        ]
        values = {
            "external_id": binding.external_id or None,
            "ical_uid": any_binding.ical_uid or None,
            # the key chosen with the binding: every attempt of this create is the same create
            "create_key": (binding.push_key or None) if not binding.external_id else None,
            "summary": self.name or "",
            # the text as the form shows it: a template's indentation never breaks a sentence
            "description": html_to_text(self.description or ""),
            "location": self.location or "",
            "timezone": tz,
            "attendees": attendees,
            "organizer_email": organizer_email,
            "privacy": self.privacy or DEFAULT,
            "show_as": self.show_as or "busy",
            "series_id": binding.series_id or None,
            "original_start": binding.original_start.replace(tzinfo=UTC) if binding.original_start else None,
            "etag": binding.etag or None,
        }
        if self.allday:
            values.update(all_day=True, start_date=self.start_date, end_date=self.stop_date)
        else:
            values.update(start=self.start.replace(tzinfo=UTC), end=self.stop.replace(tzinfo=UTC))
        return RemoteEvent(**values)

    def _writable_bindings(self):
        """Bindings through the organiser's own account: the ones that may change the meeting."""
        self.ensure_one()
        return self.sudo().sync_binding_ids.filtered(
            lambda b: b.account_id.user_id == self.user_id and b.state not in ("to_delete", "gone")
        )

    def _live_bindings(self):
        self.ensure_one()
        return self.sudo().sync_binding_ids.filtered(lambda b: b.state not in ("to_delete", "gone"))

    def _check_writable(self, send_invitations=False):
        """Refuse at save time a change the organiser's calendar cannot take (no network here)."""
        Account = self.env["calendar.sync.account"]
        for event in self.sudo():
            if event._writable_bindings() or not event._live_bindings():
                continue
            # named as the caller may read it: a private meeting of others is "Busy"
            name, organizer = self.browse(event.id)._synced_names_for_message()
            if not send_invitations:
                raise UserError(
                    _(
                        "“%(name)s” is organised by %(organizer)s in an external calendar that Odoo "
                        "cannot write to. Change it in that calendar, or ask the organiser.",
                        name=name,
                        organizer=organizer,
                    )
                )
            if not Account._account_for_user(event.user_id):
                raise UserError(
                    _(
                        "Only the organiser's calendar can send the invitations of “%s”; the organiser has "
                        "not subscribed a calendar in Odoo.",
                        name,
                    )
                )

    def _outbox_written_accounts(self):
        """The organisers' calendars these meetings are in now (a change or removal leaves from them)."""
        accounts = self.env["calendar.sync.account"]  # as the caller: a sudo() caller answers for its own
        for event in self:
            accounts |= event._writable_bindings().account_id
        return accounts

    def _outbox_accounts(self):
        """The calendars a write of these meetings goes out from: the organiser's (a new meeting:
        the organiser's subscribed calendar)."""
        Account = self.env["calendar.sync.account"]
        accounts = Account  # as the caller: a sudo() caller answers for its own
        for event in self:
            accounts |= event._writable_bindings().account_id or Account._account_for_user(event.user_id)
        return accounts

    def _outbox_mark(self, send_invitations=False):
        """Mark these meetings to be written to their organiser's calendar and wake the push job.

        No provider is called here: the write happens after this transaction commits
        (see ``calendar.sync.binding._cron_push``); a rolled back save writes nothing.
        """
        Binding = self.env["calendar.sync.binding"].sudo()
        Account = self.env["calendar.sync.account"]
        if not self or not Account._sync_enabled():
            return
        self._check_writable(send_invitations=send_invitations)
        # whose calendar the write leaves from: its author must be allowed to act for it
        self._outbox_accounts()._check_may_write_for(self.env.user)
        marked = False
        for event in self.sudo():
            writable = event._writable_bindings()
            vals = {"state": "to_push", "local_changed": True, "push_attempts": 0, "last_error": False}
            if send_invitations:
                vals["send_invitations"] = True
            if writable:
                writable.write(vals)
            else:
                account = Account._account_for_user(event.user_id)
                if not account:
                    continue
                Binding.create(dict(vals, **Binding._new_push_vals(), account_id=account.id, event_id=event.id))
            marked = True
        if marked:
            Binding._wake_push()

    def _outbox_remove(self):
        """The organiser removes these meetings: their calendar deletes them (cancelling them for
        the invited attendees) after commit; the attendees' bindings become tombstones so that
        no later listing through their accounts brings the meetings back."""
        Binding = self.env["calendar.sync.binding"].sudo()
        if not self.env["calendar.sync.account"]._sync_enabled():
            return
        # the organiser's calendar cancels them: their author must be allowed to act for it
        self._outbox_written_accounts()._check_may_write_for(self.env.user)
        for event in self.sudo():
            live = event._live_bindings()
            writable = event._writable_bindings()
            if live and not writable:
                raise UserError(
                    _(
                        "“%s” comes from an external calendar that Odoo cannot change; delete or decline it there.",
                        self.browse(event.id)._synced_names_for_message()[0],
                    )
                )
            never_written = writable.filtered(lambda b: not b.external_id)
            never_written.unlink()
            for binding in writable - never_written:
                # attendees who were invited get the cancellation from the organiser's calendar
                binding.write({"state": "to_delete", "send_invitations": binding.invited})
            (live - writable).write({"state": "gone", "event_id": False, "local_changed": False})
        Binding._wake_push()

    @api.model_create_multi
    def create(self, vals_list):
        events = super().create(vals_list)
        if not self.env.context.get("calendar_sync_from_remote"):
            events._outbox_mark()
        return events

    def write(self, vals):
        if self.env.context.get("calendar_sync_from_remote"):
            return super().write(vals)
        archived = revived = self.browse()
        if "active" in vals:
            # archived through write (list view, import...): like action_archive; restored: written again
            archived = self.filtered("active") if not vals["active"] else archived
            revived = self.filtered(lambda e: not e.active) if vals["active"] else revived
            archived._outbox_remove()
        if not (SYNCED_FIELDS & set(vals)):
            result = super().write(vals)
            revived._outbox_mark()
            return result
        if "user_id" not in vals:
            self._check_writable()
        elif self.env["calendar.sync.account"]._sync_enabled():
            # a new organiser: the former one's calendar cancels the meeting (see below)
            self._outbox_written_accounts()._check_may_write_for(self.env.user)
        old_organizers = {event.id: event.user_id for event in self}
        result = super().write(vals)
        if "user_id" in vals:
            # booked on behalf of another colleague now: leave the former organiser's calendar
            for event in self.sudo():
                old = old_organizers[event.id]
                stale = event.sync_binding_ids.filtered(
                    lambda b, o=old: b.account_id.user_id == o and b.state not in ("to_delete", "gone")
                )
                if old != event.user_id and stale:
                    stale.filtered(lambda b: not b.external_id).unlink()
                    stale.exists().write({"state": "to_delete"})
        (self - archived)._outbox_mark()
        return result

    def unlink(self):
        if not self.env.context.get("calendar_sync_from_remote"):
            self._outbox_remove()
        return super().unlink()

    def action_archive(self):
        # archiving from Odoo removes the meeting from the organiser's calendar, like a delete
        if not self.env.context.get("calendar_sync_from_remote"):
            self._outbox_remove()
        return super().action_archive()

    def action_apply_text_template(self):
        """Merge the template into the description of saved meetings whose text the user has not
        written or edited (a hand-made text is kept; the form asks). The form's 'Edit template'
        does not call this: it works in the form, without saving."""
        for event in self.filtered("text_template_id"):
            # only a stored meeting text the user may read, through mail.template's rendering
            body = event._calendar_sync_merge_text(event.text_template_id)
            if body is not False and event._calendar_sync_text_untouched():
                event.write({"description": body, "text_template_merged": body, "text_template_applied": True})
        return True

    def action_save_and_send_invitation(self):
        """'Save and send invitation': the organiser's calendar invites the attendees."""
        # callable over RPC, and the push below runs as superuser: only on meetings the caller may
        # change (a colleague's private meeting only by its attendees, as calendar.event's write says)
        self.check_access("write")
        self.filtered(lambda e: e.user_id and e.user_id != self.env.user)._check_calendar_privacy_write_permissions()
        # a user of another company than the organiser's calendar is told so (the outbox refuses it too)
        self._outbox_accounts()._check_may_write_for(self.env.user)
        # the same rule as the button's visibility (synced_can_send_invitations): the organiser, or
        # the colleague who booked the meeting on their behalf
        refused = self.filtered(lambda e: not e._synced_may_send_invitations())
        if refused:
            raise AccessError(
                _(
                    "Only the organiser (%(organizer)s) or the colleague who booked this meeting can send its "
                    "invitations. Ask the organiser to send them.",
                    organizer=refused[0].user_id.name,
                )
            )
        # the meeting text as the meeting is now, never over the user's own words unasked
        self._calendar_sync_text_for_sending()
        self._outbox_mark(send_invitations=True)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": _(
                    "Saved. The organiser's calendar sends the invitations in a moment; if it cannot, "
                    "the meeting says so."
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def _skip_send_mail_status_update(self):
        # The external calendar sends invitations for meetings of subscribed organisers
        # ('Save and send invitation'); Odoo must not send its own on top.
        if self.env.context.get("calendar_sync_from_remote"):
            return True
        Account = self.env["calendar.sync.account"]
        if self.user_id and Account._sync_enabled() and Account._account_for_user(self.user_id):
            return True
        return super()._skip_send_mail_status_update()

    # ------------------------------------------------------------------
    # free/busy for the booking form
    # ------------------------------------------------------------------
    @api.model
    def get_synced_busy_intervals(self, user_ids, start, stop):
        """Busy intervals of colleagues from their external calendars (N5).

        Only internal users of the synced calendar may ask, and only about colleagues
        (internal users of a company the caller works in now, ``env.companies``) whose account
        belongs to one of those companies; other ids are left out of the answer. Answers
        are kept a minute per account and range, and each caller has a budget of provider
        calls a minute (see calendar_sync_busy.py).

        :param user_ids: ids of res.users (at most 50)
        :param start, stop: ISO datetimes (UTC), at most two months apart
        :returns: {"<user id>": [{"start": iso, "stop": iso}, ...]} (string keys: usable over
            XML-RPC); users without a synced calendar, or whose calendar did not answer, are left out
        """
        user = self.env.user
        if not self.env.su and (
            not user._is_internal() or not user.has_group("webcrm_calendar_sync.group_calendar_sync")
        ):
            raise AccessError(_("Only internal users of the synced calendar can see colleagues' busy times."))
        if not isinstance(user_ids, (list, tuple)) or not all(isinstance(uid, int) for uid in user_ids):
            raise UserError(_("Give the colleagues as a list of user ids."))
        if len(user_ids) > 50:
            raise UserError(_("Ask for the busy times of at most 50 colleagues at once."))
        start_dt = fields.Datetime.to_datetime(start).replace(tzinfo=UTC)
        stop_dt = fields.Datetime.to_datetime(stop).replace(tzinfo=UTC)
        if stop_dt <= start_dt or stop_dt - start_dt > timedelta(days=62):
            raise UserError(_("Ask for at most two months of free/busy times at once."))
        Account = self.env["calendar.sync.account"]
        if not Account._sync_enabled():
            return {}
        per_minute = int(Account._param("busy_calls_per_minute", calendar_sync_busy.CALLS_PER_MINUTE) or 0)
        # sudo: colleagues are looked up whatever the caller may read of res.users; only internal
        # users of the caller's companies are answered for
        companies = self.env.companies
        colleagues = (
            self.env["res.users"]
            .sudo()
            .browse(user_ids)
            .exists()
            .filtered(lambda u: not u.share and (self.env.su or u.company_ids & companies))
        )
        result = {}
        for colleague in colleagues:
            account = Account._account_for_user(colleague)
            if not account or (account.company_id not in companies and not self.env.su):
                continue
            email = (account.email or colleague.email or "").lower()
            try:
                intervals = self._calendar_sync_external_busy(account, colleague, email, start_dt, stop_dt, per_minute)
            except calendar_sync_busy.TooManyCalls:
                raise UserError(
                    _("Too many busy-time lookups in the last minute. Wait a minute and try again.")
                ) from None
            except sync_errors.SyncError as exc:
                _logger.info("Free/busy of account %s failed: %s", account.id, exc.__class__.__name__)
                continue
            result[str(colleague.id)] = intervals
        return result

    @api.model
    def _calendar_sync_external_busy(self, account, user, email, start, stop, per_minute):
        """``user``'s busy intervals in ``account``'s calendar between ``start`` and ``stop`` (aware
        UTC), as [{"start": iso, "stop": iso}] (a fresh copy), from the short cache or else from
        the provider (counted against the caller's budget, and remembered).

        :raises calendar_sync_busy.TooManyCalls: the caller's budget for the last minute is spent
        :raises sync_errors.SyncError: the provider refused or did not answer
        """
        key = (self.env.cr.dbname, account.id, user.id, email, start, stop)
        intervals = calendar_sync_busy.cached(key)
        if intervals is None:
            if not calendar_sync_busy.take_call((self.env.cr.dbname, self.env.uid), per_minute):
                raise calendar_sync_busy.TooManyCalls()
            busy = account._get_provider().free_busy([email], start, stop)
            intervals = [
                {
                    "start": fields.Datetime.to_string(naive_utc(interval.start)),
                    "stop": fields.Datetime.to_string(naive_utc(interval.end)),
                }
                for found in busy.values()
                for interval in found
            ]
            calendar_sync_busy.remember(key, intervals)
        return [dict(i) for i in intervals]


def _same_text(first, second):
    """Whether two descriptions say the same, whatever their line breaks and spacing (a provider
    and Odoo's HTML lay the same text out differently)."""
    return " ".join(first.split()) == " ".join(second.split())


def _organizer_name(remote):
    """The organiser's name as their calendar gives it (False when it gives none)."""
    email = (remote.organizer_email or "").lower()
    return next((a.name for a in remote.attendees if a.name and (a.organizer or a.email == email)), False)


def _privacy_from_remote(remote, organizer, account):
    """Odoo's privacy for ``remote``. Its "default" follows the calendar it is in: with an Odoo
    organiser, Odoo's own default (False: the organiser's default privacy, as Odoo's google_calendar
    maps it); with an outside organiser, the default privacy of the user whose calendar it came from
    (False would show it to every employee)."""
    if remote.privacy in ("public", "private", "confidential"):
        return remote.privacy
    if organizer:
        return False
    return account.user_id.sudo().calendar_default_privacy or "private"


def _own_response(remote, email):
    """The answer of the copy's owner (``email``): kept apart by the provider, else their entry."""
    if remote.own_response:
        return remote.own_response
    return next((a.response for a in remote.attendees if a.email == email), None)


def _attendee_vals(partner, state):
    """An attendee as a sync creates it, with the values its defaults and its stored
    computed name would give (no UPDATE after the INSERT)."""
    return {
        "partner_id": partner.id,
        "state": state,
        "access_token": uuid.uuid4().hex,
        "common_name": partner.name or partner.email,  # as calendar.attendee._compute_common_name
    }
