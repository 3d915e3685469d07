"""Push channels waiting to be closed, after their account was deleted or reconnected.

When an account with an open Google watch channel or Graph change subscription is deleted,
reconnected elsewhere (another address, provider or owner, new credentials) or unsubscribed
while the service could not be reached, the channel is not closed inside that transaction
(no call to a calendar service in ``create``/``write``/``unlink``): what closing it needs is
kept here, with the credentials that opened it, and the scheduled sync closes it after the
commit (``_cron_close``). A failed close is tried again later (1, 2, 4 ... minutes, at most
an hour apart) and dropped once the channel has ended by itself.

Like ``calendar.sync.credential``, the model's access rights grant nothing to anyone: only
code running as the superuser reads it.
"""

import json
import logging
import threading
from datetime import timedelta
from time import monotonic

from odoo import api, fields, models

from ..engine import errors as sync_errors

_logger = logging.getLogger(__name__)

CLOSE_BATCH = 50  # channels closed per call of the scheduled sync at most
CLOSE_BACKOFF_MAX = timedelta(hours=1)
# a channel whose end is unknown is tried for at most this long (Google's channels last a week at most)
CLOSE_DEFAULT_LIFE = timedelta(days=7)


class CalendarSyncPushClose(models.Model):
    _name = "calendar.sync.push.close"
    _description = "Push channel to close"
    _log_access = False
    _order = "next_try_date, id"

    provider = fields.Selection([("google", "Google Calendar"), ("microsoft", "Microsoft 365")], required=True)
    channel_id = fields.Char(required=True)  # Google: the watch channel's id; Microsoft 365: the subscription's
    resource_id = fields.Char()  # Google's resourceId of the channel
    email = fields.Char()  # the calendar's address (which account of an msal token cache)
    token_data = fields.Text()  # the credentials that opened the channel (OAuth tokens or msal cache), JSON
    expiration_date = fields.Datetime(required=True)  # the channel ends by itself then: no try after it
    next_try_date = fields.Datetime(required=True, index=True, default=fields.Datetime.now)
    failures = fields.Integer()

    @api.model
    def _queue(self, vals_list):
        """Record channels to close after the commit and wake the scheduled sync that closes them."""
        now = fields.Datetime.now()
        vals_list = [
            dict(vals, expiration_date=vals.get("expiration_date") or now + CLOSE_DEFAULT_LIFE, next_try_date=now)
            for vals in vals_list
            if vals.get("channel_id") and vals.get("token_data") and vals.get("provider") in ("google", "microsoft")
        ]
        if not vals_list:
            return self.browse()
        # sudo: the model is readable by no one; it keeps credentials
        records = self.sudo().create(vals_list)
        cron = self.env.ref("webcrm_calendar_sync.ir_cron_calendar_sync", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger()  # sudo: users may not read scheduled actions; this only wakes it
        return records

    @api.model
    def _cron_close(self, deadline=None, reserve=0.0, limit=CLOSE_BATCH):
        """Close the channels whose try is due, one transaction each, under a row lock
        (``FOR UPDATE SKIP LOCKED``: two workers never close the same one). Stops at
        ``limit`` or when less than ``reserve`` seconds are left before ``deadline`` (a
        ``monotonic()`` time). Returns how many were handled."""
        cr = self.env.cr
        testing = getattr(threading.current_thread(), "testing", False)
        done, tried = 0, [0]
        while done < limit and (deadline is None or deadline - monotonic() > reserve):
            self.env.flush_all()
            cr.execute(
                """SELECT id FROM calendar_sync_push_close
                    WHERE next_try_date <= %s AND id != ALL(%s)
                 ORDER BY next_try_date, id
                    LIMIT 1
                      FOR UPDATE SKIP LOCKED""",
                [fields.Datetime.now(), tried],
            )
            row = cr.fetchone()
            if not row:
                break
            tried.append(row[0])
            record = self.sudo().browse(row[0])  # sudo: the model is readable by no one
            record.invalidate_recordset()
            try:
                with cr.savepoint():
                    record._close_one()
            except Exception:
                # a bug must not stop the others; it is logged with its traceback
                _logger.exception("Push channel close %s failed unexpectedly", row[0])
                record._close_failed()
            done += 1
            if not testing:
                cr.commit()  # pylint: disable=invalid-commit
        return done

    def _close_one(self):
        """Close this channel now; on a refusal, schedule the next try (or give up once it ended)."""
        self.ensure_one()
        if self.expiration_date <= fields.Datetime.now():
            self.unlink()  # it ended by itself
            return
        Account = self.env["calendar.sync.account"].sudo()  # sudo: a record in memory, to build the provider
        account = Account.new({"provider": self.provider, "email": self.email})
        try:
            provider = getattr(account, f"_build_{self.provider}_provider")(
                credentials=json.loads(self.token_data or "null"),
                on_credentials_changed=self._store_refreshed_credentials,
            )
            if self.provider == "google":
                provider.stop_watch(self.channel_id, self.resource_id or "")
            else:
                provider.delete_subscription(self.channel_id)
        except sync_errors.SyncError as exc:
            _logger.info("Push channel close %s: refused (%s), tried again later", self.id, type(exc).__name__)
            self._close_failed()
            return
        _logger.info("Push channel close %s: the %s channel is closed", self.id, self.provider)
        self.unlink()

    def _close_failed(self):
        failures = self.failures + 1
        next_try = fields.Datetime.now() + min(timedelta(minutes=2 ** min(failures - 1, 10)), CLOSE_BACKOFF_MAX)
        if next_try >= self.expiration_date:
            self.unlink()  # it ends by itself before the next try
        else:
            self.write({"failures": failures, "next_try_date": next_try})

    def _store_refreshed_credentials(self, data):
        self.ensure_one()
        self.write({"token_data": json.dumps(data) if not isinstance(data, str) else data})
