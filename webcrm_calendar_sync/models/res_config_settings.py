from odoo import _, api, fields, models

from ..engine.provider import DEFAULT_ENDPOINTS
from .calendar_sync_account_schedule import DEFAULT_REQUEST_TIMEOUT

# Secret settings: a field of Settings that is not a config_parameter field (res.config.settings'
# default_get would send the parameter's value to whoever asks, portal users included), written
# to its parameter by set_values when a new value is typed, then cleared from the saved settings.
SECRET_PARAMS = {
    "calendar_sync_google_client_secret": "webcrm_calendar_sync.google_client_secret",
    "calendar_sync_microsoft_client_secret": "webcrm_calendar_sync.microsoft_client_secret",
}


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    group_calendar_sync = fields.Boolean(
        "Synced calendar",
        implied_group="webcrm_calendar_sync.group_calendar_sync",
        help="Show the synced calendar and mirror subscribed Google, Microsoft 365 and Exchange calendars.",
    )
    calendar_sync_days_back = fields.Integer(
        "Days back", config_parameter="webcrm_calendar_sync.sync_days_back", default=90
    )
    calendar_sync_days_ahead = fields.Integer(
        "Days ahead", config_parameter="webcrm_calendar_sync.sync_days_ahead", default=365
    )
    calendar_sync_refresh_threshold = fields.Integer(
        "Sync on opening after (seconds)",
        config_parameter="webcrm_calendar_sync.refresh_threshold",
        default=60,
        help="Opening the calendar queues a sync of the user's calendar when its last sync is older than this.",
    )
    calendar_sync_google_redirect_uri = fields.Char(
        "Google redirect URI",
        compute="_compute_calendar_sync_setup",
        help="Register it in Google Cloud's OAuth client.",
    )
    calendar_sync_microsoft_redirect_uri = fields.Char(
        "Microsoft redirect URI",
        compute="_compute_calendar_sync_setup",
        help="Register it in the Entra app registration.",
    )
    calendar_sync_overlap_warning = fields.Char(compute="_compute_calendar_sync_setup")
    # Google
    calendar_sync_google_client_id = fields.Char(
        "Google client ID", config_parameter="webcrm_calendar_sync.google_client_id"
    )
    # The client secrets are write-only (see SECRET_PARAMS): never read back from the parameters
    calendar_sync_google_client_secret = fields.Char(
        "Google client secret",
        groups="base.group_system",
        help="Type the secret to save it. It is never shown again; left empty, the saved one is kept.",
    )
    calendar_sync_google_client_secret_set = fields.Boolean(
        "Google client secret saved", compute="_compute_calendar_sync_secrets_set", groups="base.group_system"
    )
    calendar_sync_google_auth_uri = fields.Char(
        "Google authorization endpoint",
        config_parameter="webcrm_calendar_sync.google_auth_uri",
        default=DEFAULT_ENDPOINTS["google"]["auth_uri"],
    )
    calendar_sync_google_token_uri = fields.Char(
        "Google token endpoint",
        config_parameter="webcrm_calendar_sync.google_token_uri",
        default=DEFAULT_ENDPOINTS["google"]["token_uri"],
    )
    calendar_sync_google_api_endpoint = fields.Char(
        "Google Calendar API endpoint",
        config_parameter="webcrm_calendar_sync.google_api_endpoint",
        default=DEFAULT_ENDPOINTS["google"]["api_endpoint"],
    )
    # Microsoft 365
    calendar_sync_microsoft_client_id = fields.Char(
        "Microsoft client ID", config_parameter="webcrm_calendar_sync.microsoft_client_id"
    )
    calendar_sync_microsoft_client_secret = fields.Char(
        "Microsoft client secret",
        groups="base.group_system",
        help="Type the secret to save it. It is never shown again; left empty, the saved one is kept.",
    )
    calendar_sync_microsoft_client_secret_set = fields.Boolean(
        "Microsoft client secret saved", compute="_compute_calendar_sync_secrets_set", groups="base.group_system"
    )
    calendar_sync_microsoft_tenant = fields.Char(
        "Microsoft tenant",
        config_parameter="webcrm_calendar_sync.microsoft_tenant",
        default="organizations",
        help="common, organizations, or your directory (tenant) id.",
    )
    calendar_sync_microsoft_authority_host = fields.Char(
        "Microsoft login endpoint",
        config_parameter="webcrm_calendar_sync.microsoft_authority_host",
        default=DEFAULT_ENDPOINTS["microsoft"]["authority_host"],
    )
    calendar_sync_microsoft_graph_endpoint = fields.Char(
        "Microsoft Graph endpoint",
        config_parameter="webcrm_calendar_sync.microsoft_graph_endpoint",
        default=DEFAULT_ENDPOINTS["microsoft"]["graph_endpoint"],
    )
    # Exchange
    calendar_sync_exchange_ca_bundle = fields.Char(
        "Exchange certificate authority",
        config_parameter="webcrm_calendar_sync.exchange_ca_bundle",
        help="Path, on the Odoo server, of a PEM file with the certificate authority that issued the Exchange "
        "servers' certificates, when it is a company CA. Empty: the system's trusted authorities. Certificates "
        "are always verified.",
    )
    # Network (every provider; the allow-list matters for user-chosen servers: Exchange)
    calendar_sync_allowed_private_hosts = fields.Char(
        "Private network hosts",
        config_parameter="webcrm_calendar_sync.allowed_private_hosts",
        help="Odoo never connects to a user-entered server (an Exchange EWS URL) on a local or private network "
        "(127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, link-local, ...) unless it is listed here: "
        "host names, addresses or networks, separated by commas, e.g. mail.corp.local, 10.20.0.0/16.",
    )
    calendar_sync_connect_timeout = fields.Integer(
        "Connect timeout (s)",
        config_parameter="webcrm_calendar_sync.connect_timeout",
        default=5,
        help="Seconds to wait for a calendar server to accept a connection (1-60).",
    )
    calendar_sync_read_timeout = fields.Integer(
        "Read timeout (s)",
        config_parameter="webcrm_calendar_sync.request_timeout",
        default=DEFAULT_REQUEST_TIMEOUT,
        help="Seconds to wait for a calendar server's answer (1-300); the scheduled sync keeps this much time in "
        "reserve for each account.",
    )
    calendar_sync_busy_calls_per_minute = fields.Integer(
        "Busy-time lookups per user and minute",
        config_parameter="webcrm_calendar_sync.busy_calls_per_minute",
        default=30,
        help="How many calendar-server calls one user's busy-time lookups may make each minute (answers are "
        "kept a minute).",
    )
    # Push notifications (Google, Microsoft 365) and the Exchange poll
    calendar_sync_push_base_url = fields.Char(
        "Public URL for notifications",
        config_parameter="webcrm_calendar_sync.push_base_url",
        help="The https address at which Google and Microsoft 365 reach this Odoo to tell it of each change "
        "(they call <URL>/webcrm_calendar_sync/notify/google/<database> or /microsoft/<database>). Empty: the "
        "Web base URL, when it is https. Without one, changes arrive by the scheduled sync only.",
    )
    calendar_sync_push_poll_minutes = fields.Integer(
        "With push notifications, check every (minutes)",
        config_parameter="webcrm_calendar_sync.push_poll_minutes",
        default=60,
        help="While Google or Microsoft 365 pushes a calendar's changes to Odoo, the scheduled sync is only the "
        "safety net: it checks that calendar this often (a notification still brings it in at once). When the "
        "notifications stop (refused, ended, closed), the calendar is checked at each run of the scheduled sync "
        "again. 0, or not more than the scheduled sync's interval: no longer interval.",
    )
    calendar_sync_push_status = fields.Char(compute="_compute_calendar_sync_push_status")
    calendar_sync_push_on = fields.Boolean(compute="_compute_calendar_sync_push_status")
    calendar_sync_exchange_poll_minutes = fields.Integer(
        "Exchange check every (minutes)",
        config_parameter="webcrm_calendar_sync.exchange_poll_minutes",
        default=0,
        help="Exchange servers push nothing here: Odoo asks them for changes, which costs one request when "
        "nothing changed. 0: at each run of the scheduled sync; a shorter interval checks Exchange "
        "calendars more often.",
    )

    def _compute_calendar_sync_secrets_set(self):
        # sudo: whether a secret is saved, never the secret
        params = self.env["ir.config_parameter"].sudo()
        saved = {name: bool(params.get_param(key)) for name, key in SECRET_PARAMS.items()}
        for settings in self:
            settings.calendar_sync_google_client_secret_set = saved["calendar_sync_google_client_secret"]
            settings.calendar_sync_microsoft_client_secret_set = saved["calendar_sync_microsoft_client_secret"]

    def set_values(self):
        res = super().set_values()
        # execute() lets system administrators only this far
        params = self.env["ir.config_parameter"].sudo()
        typed = {name: (self[name] or "").strip() for name in SECRET_PARAMS}
        for name, value in typed.items():
            if value:
                params.set_param(SECRET_PARAMS[name], value)
        if any(self[name] for name in SECRET_PARAMS):
            self.write(dict.fromkeys(SECRET_PARAMS, False))
        return res

    @api.depends("calendar_sync_push_base_url", "calendar_sync_push_poll_minutes")
    def _compute_calendar_sync_push_status(self):
        Account = self.env["calendar.sync.account"]
        minutes = max(Account._cron_interval_seconds() // 60, 1)
        for settings in self:
            # as _push_poll_seconds: a longer interval only
            push_minutes = max(settings.calendar_sync_push_poll_minutes or 0, minutes)
            url, problem = Account._push_url_status(own=settings.calendar_sync_push_base_url or "")
            settings.calendar_sync_push_on = bool(url)
            if problem:
                settings.calendar_sync_push_status = _(
                    "Push notifications are off: %(reason)s Changes made in Google and Microsoft 365 calendars "
                    "arrive by the scheduled sync only (every %(minutes)s minutes). Set an https public URL to "
                    "turn them on.",
                    reason=problem,
                    minutes=minutes,
                )
            elif url.startswith("http:"):
                settings.calendar_sync_push_status = _(
                    "Push notifications go to %(url)s, an address of this machine only: real Google and "
                    "Microsoft services cannot reach it (it serves local test servers). The scheduled sync "
                    "still runs every %(minutes)s minutes.",
                    url=url,
                    minutes=minutes,
                )
            else:
                settings.calendar_sync_push_status = _(
                    "Push notifications are on: Google and Microsoft 365 tell Odoo of each change at %(url)s, "
                    "and the calendar is synchronised within a minute. The scheduled sync still checks these "
                    "calendars every %(minutes)s minutes as a safety net (the others every %(regular)s minutes).",
                    url=url,
                    minutes=push_minutes,
                    regular=minutes,
                )
                route_problem = Account._push_route_problem(url)
                if route_problem:
                    settings.calendar_sync_push_status += " " + route_problem

    @api.depends("group_calendar_sync")
    def _compute_calendar_sync_setup(self):
        Account = self.env["calendar.sync.account"]
        google = Account._redirect_uri("google")
        microsoft = Account._redirect_uri("microsoft")
        warning = self._calendar_sync_overlap_warning()
        for settings in self:
            settings.calendar_sync_google_redirect_uri = google
            settings.calendar_sync_microsoft_redirect_uri = microsoft
            settings.calendar_sync_overlap_warning = warning

    @api.model
    def _calendar_sync_overlap_warning(self):
        """Users whose calendar Odoo's own Google / Outlook synchronization and this addon both sync."""
        # sudo: whose calendars are synced twice (names only) is for the settings' administrator
        Settings = self.env["res.users.settings"].sudo()
        accounts = self.env["calendar.sync.account"].sudo().search([("state", "not in", ("draft", "paused"))])
        names = set()
        for provider, token, stopped in (
            ("google", "google_calendar_rtoken", "google_synchronization_stopped"),
            ("microsoft", "microsoft_calendar_rtoken", "microsoft_synchronization_stopped"),
        ):
            if token not in Settings._fields:
                continue  # Odoo's module for this provider is not installed
            users = accounts.filtered(lambda a, p=provider: a.provider == p).user_id
            if not users:
                continue
            domain = [("user_id", "in", users.ids), (token, "!=", False)]
            if stopped in Settings._fields:
                domain.append((stopped, "=", False))
            names.update(Settings.search(domain).user_id.mapped("name"))
        if not names:
            return False
        return _(
            "These users' calendars are synchronized both by Odoo's own synchronization and by the synced "
            "calendar, which makes every meeting twice: %s. Stop one of them for each user.",
            ", ".join(sorted(names)),
        )
