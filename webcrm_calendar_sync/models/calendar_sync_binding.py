import dataclasses
import logging
import threading
import uuid

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from ..engine import errors as sync_errors
from ..engine.events import UTC, normalize_ical_uid
from ..engine.reconcile import BindingState, uid_key
from .calendar_sync_defaults import prefilled_defaults_context

_logger = logging.getLogger(__name__)

MAX_PUSH_ATTEMPTS = 5
PUSH_BATCH = 100  # meetings written by one run of the push job (it is re-run at once when more wait)
# the states of an account that syncs and pushes (here, below the account's modules that import it)
SYNCABLE_STATES = ("subscribed", "synced", "error")

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


# advisory lock space of the per-UID locks (pg_advisory_xact_lock(space, key)); see _lock_uids
UID_LOCK_SPACE = 0x57430000
UID_LOCK_MANY = 48


class ConcurrentUidSync(sync_errors.SyncError):
    """Another sync bound some of this listing's meetings after this transaction began."""

    user_message = "A colleague's calendar brought in some of the same meetings at the same moment."

    def __init__(self, count=0):
        super().__init__()
        self.count = count


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
    ical_uid_key = fields.Char(
        "iCalUID (normal form)",
        compute="_compute_ical_uid_key",
        store=True,
        index=True,
        help="The UID in the one form under which meetings are compared across providers.",
    )
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
            ("gone", "Removed in Odoo"),
        ],
        default="synced",
        required=True,
        index=True,
    )
    local_changed = fields.Boolean(help="The Odoo meeting changed since the last sync.")
    push_attempts = fields.Integer()
    last_error = fields.Char()
    push_key = fields.Char(
        copy=False,
        help="Key chosen by Odoo for the create of this meeting: a create retried after a lost answer "
        "carries the same key, so the calendar keeps one copy.",
    )
    send_invitations = fields.Boolean(
        copy=False, help="The next write lets the calendar send invitations (or cancellations) to the attendees."
    )
    invited = fields.Boolean(
        copy=False, help="The attendees were invited through this calendar: deleting the meeting cancels it for them."
    )
    listed_run = fields.Integer(
        "Listed by run",
        copy=False,
        help="The full listing (its run number) that last named this event: at the end of a full listing read "
        "page by page, the events it did not name are judged together.",
    )

    _sql_constraints = [
        (
            "account_external_unique",
            "unique(account_id, external_id)",
            "An external event is bound once per calendar account.",
        ),
    ]

    @api.depends("ical_uid")
    def _compute_ical_uid_key(self):
        for binding in self:
            binding.ical_uid_key = normalize_ical_uid(binding.ical_uid or None) or False

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
            local_updated=event.write_date.replace(tzinfo=UTC) if event.write_date else None,
            start=event.start.replace(tzinfo=UTC) if event.start else None,
            series_id=self.series_id or None,
            ical_uid=self.ical_uid or None,
            original_start=self.original_start and self.original_start.replace(tzinfo=UTC),
        )

    # ------------------------------------------------------------------
    # concurrent syncs of colleagues: one meeting per UID across transactions
    # ------------------------------------------------------------------
    @api.model
    def _lock_uids(self, uids):
        """Take this transaction's advisory locks on these UIDs (normal form), in sorted order.

        Two colleagues' syncs that meet the same new meeting at the same moment then look it
        up and create it one after the other. Up to UID_LOCK_MANY keys, one lock per key (and
        the shared whole-space lock); beyond, the exclusive whole-space lock alone (a first
        sync), so a transaction never holds more than a few dozen locks. Returns the keys.
        """
        keys = sorted({normalize_ical_uid(u) for u in uids or () if u} - {None, ""})
        if not keys:
            return keys
        cr = self.env.cr
        if len(keys) > UID_LOCK_MANY:
            cr.execute("SELECT pg_advisory_xact_lock(%s, 0)", (UID_LOCK_SPACE,))
        else:
            cr.execute("SELECT pg_advisory_xact_lock_shared(%s, 0)", (UID_LOCK_SPACE,))
            cr.execute(
                """SELECT count(pg_advisory_xact_lock(%s, hashtext(k)))
                     FROM (SELECT unnest(%s::text[]) AS k ORDER BY 1) AS sorted_keys""",
                (UID_LOCK_SPACE + 1, keys),
            )
        return keys

    @api.model
    def _uid_keys_bound_elsewhere(self, keys, account, cr=None):
        """The keys among ``keys`` bound to a meeting through another account, as ``cr`` sees them."""
        if not keys:
            return set()
        (cr or self.env.cr).execute(
            """SELECT DISTINCT ical_uid_key FROM calendar_sync_binding
                WHERE ical_uid_key = ANY(%s) AND event_id IS NOT NULL AND account_id != %s""",
            (list(keys), account.id),
        )
        return {row[0] for row in (cr or self.env.cr).fetchall()}

    @api.model
    def _check_uids_not_taken_meanwhile(self, keys, account):
        """Raise ConcurrentUidSync when another transaction bound one of ``keys`` after this one
        began: this transaction's snapshot cannot see that meeting, so it must start over
        rather than create a second copy."""
        if not keys:
            return
        self.env.flush_all()
        seen = self._uid_keys_bound_elsewhere(keys, account)
        if len(seen) == len(keys):
            return
        # a new transaction sees what was committed since this one began
        with self.env.registry.cursor() as fresh:
            committed = self._uid_keys_bound_elsewhere(keys, account, cr=fresh)
        if committed - seen:
            raise ConcurrentUidSync(len(committed - seen))

    @api.model
    def _merge_uid_duplicates(self, uids):
        """Meetings duplicated by concurrent syncs before the locks existed (same UID and original
        start, bound through different accounts) become one: the oldest stays, the others' bindings
        move to it and the others are archived. Returns the number of meetings merged away."""
        keys = sorted({normalize_ical_uid(u) for u in uids or () if u} - {None, ""})
        if not keys:
            return 0
        self.env.flush_all()
        self.env.cr.execute(
            """SELECT array_agg(DISTINCT b.event_id ORDER BY b.event_id)
                 FROM calendar_sync_binding b JOIN calendar_event e ON e.id = b.event_id
                WHERE b.ical_uid_key = ANY(%s) AND e.active
                GROUP BY b.ical_uid_key, b.original_start
               HAVING count(DISTINCT b.event_id) > 1""",
            (keys,),
        )
        groups = [row[0] for row in self.env.cr.fetchall()]
        if not groups:
            return 0
        Event = self.env["calendar.event"].sudo().with_context(**SYNC_CONTEXT)
        merged = Event.browse()
        for kept_id, *others in groups:
            others = Event.browse(others)
            # sudo: bindings are not writable by users; the sync keeps them consistent
            self.sudo().search([("event_id", "in", others.ids)]).write({"event_id": kept_id})
            merged |= others
        merged.write({"active": False})
        _logger.info("Calendar sync: %s duplicated meetings merged into their oldest copy", len(merged))
        return len(merged)

    @api.model
    def _uid_index(self, uids, exclude_account=None):
        """{uid_key: event_id} for meetings already bound through any account, UIDs compared in
        their normal form (a Google UID and the Global Object ID Microsoft wraps it in match)."""
        keys = {normalize_ical_uid(u) for u in uids or () if u}
        if not keys:
            return {}
        domain = [("ical_uid_key", "in", list(keys)), ("event_id", "!=", False)]
        if exclude_account:
            domain.append(("account_id", "!=", exclude_account.id))
        index = {}
        for row in self.sudo().search_read(domain, ["ical_uid", "original_start", "event_id"]):
            start = row["original_start"] and row["original_start"].replace(tzinfo=UTC)
            index[uid_key(row["ical_uid"], start)] = row["event_id"][0]
        return index

    @api.model
    def _new_push_vals(self):
        """A binding for a meeting Odoo will create in the calendar: its key and UID chosen now,
        before anything is sent, so that every retry of the create is the same create."""
        key = uuid.uuid4().hex
        return {"state": "to_push", "local_changed": True, "push_key": key, "ical_uid": f"{key}@odoo"}

    def _binding_vals(self, remote, synced_at=None):
        return {
            "external_id": remote.external_id,
            "ical_uid": remote.ical_uid or False,
            "series_id": remote.series_id or False,
            "original_start": naive_utc(remote.original_start),
            "etag": remote.etag or False,
            "remote_updated": naive_utc(remote.updated),
            "last_sync_date": synced_at or fields.Datetime.now(),
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
        """Write ``plan`` into Odoo. Each remote event is checked and mapped on its own: one that
        cannot be mirrored is skipped (and returned), everything else is applied.

        :returns: {external_id: reason} of the events that could not be mirrored
        """
        Event = self.env["calendar.event"].sudo().with_context(**SYNC_CONTEXT)
        skipped = {}

        def checked(remote):
            remote, problem = check_remote(self.env, remote)
            if problem:
                skipped[remote.external_id] = problem
                return None
            return remote

        # repaired versions (e.g. a missing end) replace the listed ones
        creates = [r for r in map(checked, plan.create) if r]
        links = [dataclasses.replace(x, remote=r) for x in plan.link if (r := checked(x.remote))]
        updates = [dataclasses.replace(x, remote=r) for x in plan.update if (r := checked(x.remote))]
        conflicts = [
            x if x.winner != "remote" else dataclasses.replace(x, remote=r)
            for x in plan.conflicts
            if x.winner != "remote" or (r := checked(x.remote))
        ]
        remotes = list(creates) + [link.remote for link in links]
        remotes += [u.remote for u in updates]
        remotes += [c.remote for c in conflicts if c.winner == "remote"]
        partners = self.env["res.partner"]._calendar_sync_partners_by_email(
            {a.email for r in remotes for a in r.attendees} | {r.organizer_email for r in remotes},
            names={a.email: a.name for r in remotes for a in r.attendees if a.name},
        )
        users = self.env["res.users"]._calendar_sync_users_by_email(
            {r.organizer_email for r in remotes if r.organizer_email}
        )
        # creates: one batch; when the batch fails (a constraint), one by one, so that one bad
        # event never sinks the others
        items = []
        for remote in creates:
            try:
                items.append((remote, Event._vals_from_remote(remote, account, partners, users)))
            except Exception as exc:  # noqa: BLE001 - any mapping failure is this event's, not the sync's
                skipped[remote.external_id] = _error_text(self.env, exc)
        if items:
            try:
                with self.env.cr.savepoint():
                    self._create_mirrored(account, items)
            except Exception:  # noqa: BLE001
                for item in items:
                    try:
                        with self.env.cr.savepoint():
                            self._create_mirrored(account, [item])
                    except Exception as exc:  # noqa: BLE001
                        skipped[item[0].external_id] = _error_text(self.env, exc)
        # links: the same meeting seen through another account
        for link in links:
            self._apply_one(skipped, link.remote, self._apply_link, account, link, Event, partners, users)
        # updates
        for update in updates:
            binding = self.browse(update.binding.binding_id)
            if binding.state in ("to_delete", "gone"):
                # removed in Odoo: the listing's version must not bring the meeting back
                continue
            self._apply_one(skipped, update.remote, binding._apply_update, account, update, partners, users)
        # conflicts
        for conflict in conflicts:
            binding = self.browse(conflict.binding.binding_id)
            if binding.state in ("to_delete", "gone") or not binding.event_id:
                continue
            self._apply_one(skipped, conflict.remote, binding._resolve_conflict, conflict, account, partners, users)
        # deletes (a provider's deletion is always applied)
        if plan.delete:
            bindings = self.browse([b.binding_id for b in plan.delete])
            events = bindings.event_id
            bindings.unlink()
            # a meeting still bound through another account stays: someone still has it
            still_bound = self.sudo().search([("event_id", "in", events.ids)]).event_id
            (events - still_bound).with_context(**SYNC_CONTEXT).write({"active": False})
        for external_id, reason in skipped.items():
            _logger.warning("Calendar account %s: event %s not mirrored: %s", account.id, external_id, reason)
        return skipped

    def _apply_one(self, skipped, remote, func, *args):
        try:
            with self.env.cr.savepoint():
                func(*args)
        except Exception as exc:  # noqa: BLE001 - this event's failure, not the sync's
            skipped[remote.external_id] = _error_text(self.env, exc)

    def _create_mirrored(self, account, items):
        """Create the meetings and their bindings, each in one batched INSERT. Their stored
        computed fields are given with them (the values their computes give), so no UPDATE
        follows the INSERTs."""
        Event = self.env["calendar.event"].sudo().with_context(**SYNC_CONTEXT)
        prefilled = prefilled_defaults_context(self.env)
        synced_at = fields.Datetime.now()
        vals_list = [vals for _r, vals in items]
        if prefilled:
            stored = Event._stored_values_at_create(vals_list, account, synced_at)
            vals_list = [dict(vals, **values) for vals, values in zip(vals_list, stored, strict=True)]
        events = Event.with_context(**prefilled).create(vals_list)
        given = [Event._fields[name] for name in Event.STORED_AT_CREATE] if prefilled else []
        for field in given:
            self.env.remove_to_compute(field, events)  # given with the create: nothing to compute
        # the bindings' own related and computed columns, given too
        related = {
            "user_id": account.user_id.id,
            "provider": account.provider,
            "company_id": account.company_id.id,
        }
        with self.env.protecting(given, events):  # the new bindings change none of the given values
            self.sudo().create(
                [
                    dict(
                        self._binding_vals(r, synced_at),
                        **related,
                        ical_uid_key=normalize_ical_uid(r.ical_uid or None) or False,
                        account_id=account.id,
                        event_id=event.id,
                        invited=_has_guests(r),
                    )
                    for (r, _vals), event in zip(items, events, strict=True)
                ]
            )

    def _apply_link(self, account, link, Event, partners, users):
        binding = self.sudo().create(
            dict(
                self._binding_vals(link.remote),
                account_id=account.id,
                event_id=link.event_id,
                invited=_has_guests(link.remote),
            )
        )
        event = Event.browse(link.event_id)
        if link.remote.organizer_email and link.remote.organizer_email == (account.email or "").lower():
            event._update_from_remote(link.remote, account, partners, users)
        elif event._update_attendee_response(link.remote, account):
            # the guest answered in Odoo before their copy arrived: the answer goes out from it now
            binding.write({"state": "to_push", "push_attempts": 0, "last_error": False})
            binding._wake_push()

    def _apply_update(self, account, update, partners, users):
        if self.event_id:
            self.event_id.with_context(**SYNC_CONTEXT)._update_from_remote(update.remote, account, partners, users)
        vals = self._binding_vals(update.remote)
        if not self.push_key and _has_guests(update.remote):
            vals["invited"] = True  # attendees added in the calendar were invited by it
        self.write(vals)

    def _resolve_conflict(self, conflict, account, partners, users):
        event = self.event_id.with_context(**SYNC_CONTEXT)
        provider_name = dict(self.account_id._fields["provider"].selection)[self.account_id.provider]
        owner = self.account_id.user_id
        if conflict.winner == "remote":
            lost = event._sync_summary_text()
            event._update_from_remote(conflict.remote, account, partners, users)
            self.write(self._binding_vals(conflict.remote))
            event._synced_log_replaced(
                Markup("<p>%s</p><pre>%s</pre>")
                % (
                    _(
                        "This meeting was changed in Odoo and in %(provider)s since the last sync. "
                        "The %(provider)s version is newer and was kept; the Odoo version was:",
                        provider=provider_name,
                    ),
                    lost,
                ),
                _(
                    "This meeting was changed in Odoo and in %(provider)s since the last sync. "
                    "The %(provider)s version is newer and was kept.",
                    provider=provider_name,
                ),
                owner,
            )
        else:
            lost = conflict.remote.summary
            self.write({"etag": conflict.remote.etag, "state": "to_push", "local_changed": True, "push_attempts": 0})
            event._synced_log_replaced(
                Markup("<p>%s</p><pre>%s</pre>")
                % (
                    _(
                        "This meeting was changed in Odoo and in %(provider)s since the last sync. "
                        "The Odoo version is newer and was kept; the %(provider)s version was:",
                        provider=provider_name,
                    ),
                    escape(f"{lost} {conflict.remote.start or conflict.remote.start_date}"),
                ),
                _(
                    "This meeting was changed in Odoo and in %(provider)s since the last sync. "
                    "The Odoo version is newer and was kept.",
                    provider=provider_name,
                ),
                owner,
            )
            self._push_pending()

    # ------------------------------------------------------------------
    # Odoo -> remote: the outbox
    # ------------------------------------------------------------------
    # Nothing here runs inside the user's transaction: the ORM only marks bindings
    # (to_push / to_delete) and wakes the push job, which writes one meeting at a
    # time and commits after each, after the user's transaction committed.
    @api.model
    def _wake_push(self):
        """Run the push job soon (after the current transaction commits)."""
        cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync_push", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()

    def _push_pending(self):
        """Wake the push job when some of these bindings wait to be written (no provider call here)."""
        if any(b.state in ("to_push", "to_delete") for b in self):
            self._wake_push()

    @api.model
    def _wake_waiting_writes(self, accounts):
        """``accounts`` were just subscribed (again): the writes that waited for a grant are due
        at once, with a fresh count of attempts, and the push job is woken."""
        waiting = self.sudo().search([("account_id", "in", accounts.ids), ("state", "in", ("to_push", "to_delete"))])
        if waiting:
            waiting.write({"push_attempts": 0})
            self._wake_push()

    @api.model
    def _cron_push(self, limit=PUSH_BATCH):
        """The push job: write waiting meetings, one at a time, each in its own transaction.

        Each binding is taken under a row lock (``FOR NO KEY UPDATE SKIP LOCKED``): two
        workers never write the same meeting, and a save in Odoo waits for the write in
        progress rather than being lost. The commit after each meeting means a crash
        after N writes never repeats them; a create repeated after a lost answer carries
        the same key, so the calendar keeps one copy.
        """
        if not self.env["calendar.sync.account"]._sync_enabled():
            return
        cr = self.env.cr
        testing = getattr(threading.current_thread(), "testing", False)
        tried, providers, done = [0], {}, 0
        while done < limit:
            self.env.flush_all()
            cr.execute(
                """
                SELECT b.id
                  FROM calendar_sync_binding b
                  JOIN calendar_sync_account a ON a.id = b.account_id
                 WHERE b.state IN ('to_push', 'to_delete')
                   AND a.active AND a.state IN %s AND NOT COALESCE(a.needs_reauth, FALSE)
                   AND b.id != ALL(%s)
                 ORDER BY b.id
                 LIMIT 1
                   FOR NO KEY UPDATE OF b SKIP LOCKED
                """,
                [SYNCABLE_STATES, tried],
            )
            row = cr.fetchone()
            if not row:
                break
            tried.append(row[0])
            binding = self.sudo().browse(row[0])
            binding.invalidate_recordset()
            try:
                with cr.savepoint():
                    binding._push_one(providers)
            except Exception:
                # a bug must not stop the other meetings; it is logged with its traceback
                _logger.exception("Calendar push of binding %s failed unexpectedly", row[0])
                binding.write({"state": "error", "last_error": _("Writing failed unexpectedly; see the server log.")})
            done += 1
            if not testing:
                # one meeting's write is one unit of work: a later failure must not undo it
                cr.commit()  # pylint: disable=invalid-commit
        remaining = 0
        if done >= limit:
            remaining = self.sudo().search_count([("state", "in", ("to_push", "to_delete")), ("id", "not in", tried)])
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)

    def _push_one(self, providers=None):
        """Write this binding's change to its calendar now (the push job's step)."""
        self.ensure_one()
        providers = {} if providers is None else providers
        account = self.account_id
        try:
            if account.id not in providers:
                providers[account.id] = account._get_provider()
            provider = providers[account.id]
        except sync_errors.SyncError as exc:
            providers.pop(account.id, None)
            self._push_failed(exc)
            return False
        return self._push_with(provider)

    def _push_with(self, provider):
        self.ensure_one()
        event = self.event_id
        send = self.send_invitations
        if self._is_guest_copy():
            return self._push_answer(provider)
        try:
            if self.state == "to_delete" or not event or not event.active:
                if self.external_id:
                    provider.delete_event(self.external_id, send_invitations=send or self.invited)
                self.unlink()
                return True
            remote = event._to_remote(self.account_id)
            if self.external_id:
                try:
                    result = provider.update_event(self.external_id, remote, etag=self.etag, send_invitations=send)
                except sync_errors.Conflict:
                    # changed on both sides: the Odoo change is the newest (made after the last sync)
                    current = provider.get_event(self.external_id)
                    event._synced_log_replaced(
                        Markup("<p>%s</p>")
                        % _(
                            "Changed in the external calendar too; the Odoo version was written over this one: %s",
                            current.summary,
                        ),
                        _("Changed in the external calendar too; the Odoo version was written over it."),
                        self.account_id.user_id,
                    )
                    # the newer version may carry answers that reached the organiser's calendar
                    # meanwhile (a reply): they are the attendees', not the change's, and stay
                    if event._take_answers_of_organiser_copy(current, self.account_id):
                        remote = event._to_remote(self.account_id)
                    remote = event._keep_guest_answers(remote, current, self.account_id)
                    result = provider.update_event(self.external_id, remote, etag=current.etag, send_invitations=send)
            else:
                result = self._create_remote(provider, remote, send)
            vals = self._binding_vals(result)
            vals["send_invitations"] = False
            if send:
                vals["invited"] = True
            self.write(vals)
            if event._synced_take_video_link(result):
                # the meeting text now shows the online meeting's link: written out too
                self.write({"state": "to_push", "local_changed": True})
                self._wake_push()
            return True
        except sync_errors.NotFound:
            if not self.external_id:
                raise
            # the event is gone from this calendar (deleted there before a sync saw it): a removal
            # at that calendar, as a listing's deletion would be, never an error that lasts
            self._settle_gone_at_provider()
            return True
        except sync_errors.SyncError as exc:
            self._push_failed(exc)
            return False

    def _is_guest_copy(self):
        """A guest's own copy of a meeting someone else organises, waiting to be written: only its
        owner's answer is ever written through it (the meeting itself is the organiser's)."""
        event = self.event_id
        return bool(
            self.state == "to_push"
            and self.external_id
            and event
            and event.active
            and self.account_id.user_id != event.user_id
        )

    def _push_answer(self, provider):
        """Send the owner's answer in Odoo (their attendee's state) from their own calendar: the
        calendar tells the organiser (``CalendarProvider.respond_event``). A copy the answer took
        out of the calendar (a decline in Microsoft 365 or Exchange) leaves its binding too."""
        self.ensure_one()
        user = self.account_id.user_id
        emails = {(self.account_id.email or "").lower(), (user.email or "").lower()} - {""}
        attendee = self.event_id.attendee_ids.filtered(
            lambda a: a.partner_id == user.partner_id or (a.email or "").lower() in emails
        )[:1]
        response = attendee.state
        try:
            if response not in ("accepted", "declined", "tentative"):
                result = False  # nothing to answer (not answered, or not among the attendees)
            else:
                result = provider.respond_event(self.external_id, response)
        except sync_errors.NotFound:
            self._settle_gone_at_provider()
            return True
        except sync_errors.SyncError as exc:
            self._push_failed(exc)
            return False
        if result is None:
            self.unlink()
            return True
        if result:
            self.write(self._binding_vals(result))
        else:
            self.write({"state": "synced", "local_changed": False, "push_attempts": 0, "last_error": False})
        return True

    def _settle_gone_at_provider(self):
        """This binding's event no longer exists in its calendar (a write was answered 404): the
        binding goes, the meeting is archived when no other calendar holds it, and the meeting
        says in words what happened (the change made in Odoo did not reach that calendar)."""
        self.ensure_one()
        event = self.event_id
        account = self.account_id
        provider_name = dict(account._fields["provider"]._description_selection(self.env)).get(account.provider, "")
        _logger.info(
            "Calendar push: event %s of account %s is gone from the calendar; its binding is removed",
            self.external_id,
            account.id,
        )
        self.unlink()
        if not event:
            return
        event = event.with_context(**SYNC_CONTEXT)
        if self.search_count([("event_id", "=", event.id)]):
            text = _(
                "This meeting no longer exists in the calendar of %(owner)s (%(provider)s): it was deleted "
                "there, so the change made in Odoo was not written there. The other calendars keep it.",
                owner=account.user_id.name,
                provider=provider_name,
            )
        else:
            text = _(
                "This meeting no longer exists in the calendar of %(owner)s (%(provider)s): it was deleted "
                "there, so the change made in Odoo was not written there and the meeting was removed from Odoo "
                "too. Restore it from the archive to book it again.",
                owner=account.user_id.name,
                provider=provider_name,
            )
            event.write({"active": False})
        event._message_log(body=text)

    def _create_remote(self, provider, remote, send):
        """Create with this binding's key (``remote.create_key``): the provider makes a retried
        create the same create (see ``CalendarProvider.create_event``)."""
        result = provider.create_event(remote, send_invitations=send)
        self._adopt_stray_copy(result.external_id)
        return result

    def _adopt_stray_copy(self, external_id):
        """The provider says our create is ``external_id``; when a sync imported that event
        meanwhile as a meeting of its own (its answer had been lost and the listing could not
        tell it was ours), that mirror is the same meeting: it is merged into ours."""
        stray = self.search(
            [("account_id", "=", self.account_id.id), ("external_id", "=", external_id), ("id", "!=", self.id)]
        )
        if not stray:
            return
        meetings = stray.event_id - self.event_id
        stray.unlink()
        # other accounts' bindings of that mirror now point at our meeting
        self.search([("event_id", "in", meetings.ids)]).write({"event_id": self.event_id.id})
        meetings.with_context(**SYNC_CONTEXT).unlink()
        _logger.info(
            "Calendar account %s: event %s was imported before its create answered; merged into meeting %s",
            self.account_id.id,
            external_id,
            self.event_id.id,
        )

    def _push_failed(self, exc):
        for binding in self:
            attempts = binding.push_attempts + 1
            account = binding.account_id.with_context(lang=binding.account_id.user_id.lang or self.env.lang)
            vals = {"push_attempts": attempts, "last_error": account._sync_error_message(exc)}
            if isinstance(exc, (sync_errors.AuthRevoked, sync_errors.NotSubscribed)):
                # refused for lack of authorisation, not for what it writes: the write waits for
                # the new grant (the push job skips an account that needs one; subscribing it
                # again makes the write due, see calendar.sync.account._queue_after_subscribe)
                vals["push_attempts"] = 0
            elif not exc.retryable or attempts >= MAX_PUSH_ATTEMPTS:
                vals["state"] = "error"
            binding.write(vals)
            if isinstance(exc, (sync_errors.AuthRevoked, sync_errors.NotSubscribed)):
                binding.account_id._record_error(exc)
        _logger.info(
            "Calendar push failed for bindings %s: %s",
            ",".join(str(i) for i in self.ids),
            self.env["calendar.sync.account"]._sync_error_label(exc),
        )


def check_remote(env, remote):
    """(remote, None) when ``remote`` can be mirrored — repaired where the provider's intent is
    clear (no end: it ends when it starts) — else (remote, reason)."""
    if remote.all_day:
        if not remote.start_date:
            return remote, env._("it has no start date")
        if not remote.end_date:
            return remote.replace(end_date=remote.start_date), None
        if remote.end_date < remote.start_date:
            return remote, env._(
                "it ends (%(end)s) before it starts (%(start)s)", end=remote.end_date, start=remote.start_date
            )
        return remote, None
    if not remote.start:
        return remote, env._("it has no start")
    if not remote.end:
        return remote.replace(end=remote.start), None
    if remote.end < remote.start:
        return remote, env._("it ends (%(end)s) before it starts (%(start)s)", end=remote.end, start=remote.start)
    return remote, None


def _error_text(env, exc):
    """A short, readable reason for the account's list (first line, no traceback)."""
    text = (getattr(exc, "args", None) or [""])[0] if isinstance(exc, (UserError, ValidationError)) else str(exc)
    text = (str(text).strip().splitlines() or [exc.__class__.__name__])[0]
    return env._("it could not be saved in Odoo: %s", text[:200])


def _has_guests(remote):
    """The calendar lists people besides the organiser: they were invited by it."""
    organizer = (remote.organizer_email or "").lower()
    return any(a.email and a.email != organizer for a in remote.attendees)
