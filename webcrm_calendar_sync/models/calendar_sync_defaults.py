"""Creating mirrored meetings in bulk without computing defaults record by record."""

from odoo import models

PREFILLED_DEFAULTS = "calendar_sync_prefilled_defaults"


def prefilled_defaults_context(env):
    """Context for creating mirrored meetings whose values include every field's default.

    With it, calendar.event and calendar.attendee skip computing defaults record by
    record (a tenth of a first sync's time), but only when nothing else would set a
    default: no ``default_*`` key in the context and no user-set default (ir.default).
    """
    if any(key.startswith("default_") for key in env.context):
        return {}
    defaults = env["ir.default"].sudo()
    if defaults._get_model_defaults("calendar.event") or defaults._get_model_defaults("calendar.attendee"):
        return {}
    return {PREFILLED_DEFAULTS: True}


class CalendarSyncPrefilledDefaults(models.AbstractModel):
    """Inherited by calendar.event and calendar.attendee (see prefilled_defaults_context)."""

    _name = "calendar.sync.prefilled.defaults"
    _description = "Synced meetings: defaults given by the sync"

    def _add_missing_default_values(self, values):
        if self.env.context.get(PREFILLED_DEFAULTS) and self._fields_with_default() <= values.keys():
            return dict(values)
        return super()._add_missing_default_values(values)

    def _fields_with_default(self):
        cls = type(self)
        if "_calendar_sync_defaulted" not in cls.__dict__:
            cls._calendar_sync_defaulted = frozenset(n for n, f in self._fields.items() if f.default)
        return cls._calendar_sync_defaulted
