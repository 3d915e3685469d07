from odoo import _, models
from odoo.exceptions import AccessError


class ResConfigSettings(models.TransientModel):
    """Settings are saved by administrators only, whichever way they are saved.

    Odoo checks the caller in ``execute()`` (the Save button) only; ``set_values()`` is public
    too, and called over RPC on no record it writes every setting's empty value: any internal
    user could switch the synced calendar off for everyone, clear its allowed private hosts and
    endpoints, and Odoo's own parameters (``mail.restrict.template.rendering`` among them).
    Loaded after the addon's other settings code, this check runs before any of it.
    """

    _inherit = "res.config.settings"

    def set_values(self):
        if not self.env.is_admin():
            raise AccessError(_("Only administrators can change the settings. Ask one to make the change in Settings."))
        return super().set_values()
