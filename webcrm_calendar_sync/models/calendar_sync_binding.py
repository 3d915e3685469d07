import logging
from collections import defaultdict

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.tools import html2plaintext

from ..engine import errors as sync_errors
from ..engine.events import UTC
from ..engine.reconcile import BindingState, uid_key
from .calendar_sync_defaults import prefilled_defaults_context

_logger = logging.getLogger(__name__)

MAX_PUSH_ATTEMPTS = 5

# Context used for every write the sync makes into Odoo: no push back to the
# provider, no mail, no chatter noise, no alarms re-computed needlessly.
SYNC_CONTEXT = {
    "calendar_sync_from_remote": True,
    "no_mail_to_attendees": True,
    "dont_notify": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
    "tracking_disable": True,
    "mail_auto_subscribe_no_notify": True,
}


def naive_utc(value):
    return value.astimezone(UTC).replace(tzinfo=None) if value else False


class CalendarSyncBinding(models.Model):
    """Link between one Odoo meeting and one event of one external calendar."""

    _name = "calendar.sync.binding"
    _description = "Synced Calendar Binding"
    _order = "id"

    account_id = fields.Many2one("calendar.sync.account", required=True, ondelete="cascade", index=True)
    event_id = fields.Many2one("calendar.event", ondelete="set null", index=True)
    user_id = fields.Many2one(related="account_id.user_id", store=True)
    provider = fields.Selection(related="account_id.provider", store=True)
    company_id = fields.Many2one(related="account_id.company_id", store=True)
    external_id = fields.Char(index=True, copy=False)
    ical_uid = fields.Char("iCalUID", index=True)
    series_id = fields.Char(help="External id of the series master, for occurrences.")
    original_start = fields.Datetime(help="Start of the occurrence as the series rule made it.")
    etag = fields.Char(help="Etag or change key of the version last synced.")
    remote_updated = fields.Datetime("Remote last modified")
    last_sync_date = fields.Datetime("Last synced")
    state = fields.Selection(
        [
            ("synced", "Synced"),
            ("to_push", "Waiting to be written"),
            ("to_delete", "Waiting to be deleted"),
            ("error", "Could not be written"),
        ],
        default="synced",
        required=True,
        index=True,
    )
    local_changed = fields.Boolean(help="The Odoo meeting changed since the last sync.")
    push_attempts = fields.Integer()
    last_error = fields.Char()

    _sql_constraints = [
        (
            "account_external_unique",
            "unique(account_id, external_id)",
            "An external event is bound once per calendar account.",
        ),
    ]

    # ------------------------------------------------------------------
    def _to_state(self):
        self.ensure_one()
        event = self.event_id
        return BindingState(
            binding_id=self.id,
            external_id=self.external_id,
            event_id=event.id or None,
            etag=self.etag,
            remote_updated=self.remote_updated and self.remote_updated.replace(tzinfo=UTC),
            local_changed=self.local_changed,
            local_updated=event.write_date and event.write_date.replace(tzinfo=UTC),
            start=event.start and event.start.replace(tzinfo=UTC),
            series_id=self.series_id or None,
        )

    @api.model
    def _uid_index(self, uids, exclude_account=None):
        """{uid_key: event_id} for meetings already bound through any account."""
        if not uids:
            return {}
        domain = [("ical_uid", "in", list(uids)), ("event_id", "!=", False)]
        if exclude_account:
            domain.append(("account_id", "!=", exclude_account.id))
        index = {}
        for row in self.sudo().search_read(domain, ["ical_uid", "original_start", "event_id"]):
            start = row["original_start"] and row["original_start"].replace(tzinfo=UTC)
            index[uid_key(row["ical_uid"], start)] = row["event_id"][0]
        return index

    def _binding_vals(self, remote):
        return {
            "external_id": remote.external_id,
            "ical_uid": remote.ical_uid or False,
            "series_id": remote.series_id or False,
            "original_start": naive_utc(remote.original_start),
            "etag": remote.etag or False,
            "remote_updated": naive_utc(remote.updated),
            "last_sync_date": fields.Datetime.now(),
            "state": "synced",
            "local_changed": False,
            "push_attempts": 0,
            "last_error": False,
        }

    # ------------------------------------------------------------------
    # apply a plan (remote -> Odoo), in batches
    # ------------------------------------------------------------------
    @api.model
    def _apply_plan(self, account, plan):
        Event = self.env["calendar.event"].sudo().with_context(**SYNC_CONTEXT)
        remotes = list(plan.create) + [link.remote for link in plan.link]
        remotes += [u.remote for u in plan.update]
        remotes += [c.remote for c in plan.conflicts if c.winner == "remote"]
        partners = self.env["res.partner"]._calendar_sync_partners_by_email(
            {a.email for r in remotes for a in r.attendees} | {r.organizer_email for r in remotes}
        )
        users = self.env["res.users"]._calendar_sync_users_by_email(
            {r.organizer_email for r in remotes if r.organizer_email}
        )
        # creates
        if plan.create:
            vals_list = [Event._vals_from_remote(r, account, partners, users) for r in plan.create]
            events = Event.with_context(**prefilled_defaults_context(self.env)).create(vals_list)
            self.sudo().create(
                [
                    dict(self._binding_vals(r), account_id=account.id, event_id=event.id)
                    for r, event in zip(plan.create, events, strict=True)
                ]
            )
        # links: the same meeting seen through another account
        if plan.link:
            self.sudo().create(
                [
                    dict(self._binding_vals(link.remote), account_id=account.id, event_id=link.event_id)
                    for link in plan.link
                ]
            )
            for link in plan.link:
                event = Event.browse(link.event_id)
                if link.remote.organizer_email and link.remote.organizer_email == (account.email or "").lower():
                    event._update_from_remote(link.remote, account, partners, users)
                else:
                    event._update_attendee_response(link.remote, account)
        # updates
        for update in plan.update:
            binding = self.browse(update.binding.binding_id)
            if binding.event_id:
                binding.event_id.with_context(**SYNC_CONTEXT)._update_from_remote(
                    update.remote, account, partners, users
                )
            binding.write(self._binding_vals(update.remote))
        # conflicts
        for conflict in plan.conflicts:
            binding = self.browse(conflict.binding.binding_id)
            binding._resolve_conflict(conflict, account, partners, users)
        # deletes
        if plan.delete:
            bindings = self.browse([b.binding_id for b in plan.delete])
            events = bindings.event_id
            bindings.unlink()
            # a meeting still bound through another account stays: someone still has it
            still_bound = self.sudo().search([("event_id", "in", events.ids)]).event_id
            (events - still_bound).with_context(**SYNC_CONTEXT).write({"active": False})

    def _resolve_conflict(self, conflict, account, partners, users):
        event = self.event_id.with_context(**SYNC_CONTEXT)
        provider_name = dict(self.account_id._fields["provider"].selection)[self.account_id.provider]
        if conflict.winner == "remote":
            lost = event._sync_summary_text()
            event._update_from_remote(conflict.remote, account, partners, users)
            self.write(self._binding_vals(conflict.remote))
            event._message_log(
                body=Markup("<p>%s</p><pre>%s</pre>")
                % (
                    _(
                        "This meeting was changed in Odoo and in %s since the last sync. "
                        "The %s version is newer and was kept; the Odoo version was:",
                        provider_name,
                        provider_name,
                    ),
                    lost,
                )
            )
        else:
            lost = conflict.remote.summary
            self.write({"etag": conflict.remote.etag, "state": "to_push", "local_changed": True})
            event._message_log(
                body=Markup("<p>%s</p><pre>%s</pre>")
                % (
                    _(
                        "This meeting was changed in Odoo and in %s since the last sync. "
                        "The Odoo version is newer and was kept; the %s version was:",
                        provider_name,
                        provider_name,
                    ),
                    escape(f"{lost} {conflict.remote.start or conflict.remote.start_date}"),
                )
            )
            self._push_pending()

    # ------------------------------------------------------------------
    # Odoo -> remote
    # ------------------------------------------------------------------
    def _push_pending(self):
        """Write bindings waiting to be written; bounded attempts, never forever."""
        pending = self.filtered(lambda b: b.state in ("to_push", "to_delete"))
        by_account = defaultdict(lambda: self.browse())
        for binding in pending:
            by_account[binding.account_id] |= binding
        for account, bindings in by_account.items():
            try:
                provider = account._get_provider()
            except sync_errors.SyncError as exc:
                bindings._push_failed(exc)
                continue
            for binding in bindings:
                binding._push_with(provider)

    def _push_with(self, provider, send_invitations=False):
        self.ensure_one()
        try:
            if self.state == "to_delete" or not self.event_id or not self.event_id.active:
                if self.external_id:
                    provider.delete_event(self.external_id, send_invitations=send_invitations)
                self.unlink()
                return True
            remote = self.event_id._to_remote(self.account_id)
            if self.external_id:
                try:
                    result = provider.update_event(
                        self.external_id, remote, etag=self.etag, send_invitations=send_invitations
                    )
                except sync_errors.Conflict:
                    # changed on both sides: the Odoo change is the newest (made now)
                    current = provider.get_event(self.external_id)
                    self.event_id._message_log(
                        body=_(
                            "Changed in the external calendar too; the Odoo version was written over this one: %s",
                            current.summary,
                        )
                    )
                    result = provider.update_event(
                        self.external_id, remote, etag=current.etag, send_invitations=send_invitations
                    )
            else:
                result = provider.create_event(remote, send_invitations=send_invitations)
            self.write(self._binding_vals(result))
            return True
        except sync_errors.SyncError as exc:
            self._push_failed(exc)
            return False

    def _push_failed(self, exc):
        for binding in self:
            attempts = binding.push_attempts + 1
            vals = {"push_attempts": attempts, "last_error": exc.message}
            if not exc.retryable or attempts >= MAX_PUSH_ATTEMPTS:
                vals["state"] = "error"
            binding.write(vals)
            if isinstance(exc, sync_errors.AuthRevoked):
                binding.account_id._record_error(exc)
        _logger.info("Calendar push failed for %s bindings: %s", len(self), exc.__class__.__name__)

    @api.model
    def _cron_push(self):
        """Retry writes that failed for a passing reason."""
        self.sudo().search([("state", "in", ("to_push", "to_delete"))])._push_pending()


def plain_description(html):
    return html2plaintext(html or "").strip()
