from odoo import fields, models

from ..engine.provider import DEFAULT_ENDPOINTS


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
    # Google
    calendar_sync_google_client_id = fields.Char(
        "Google client ID", config_parameter="webcrm_calendar_sync.google_client_id"
    )
    calendar_sync_google_client_secret = fields.Char(
        "Google client secret", config_parameter="webcrm_calendar_sync.google_client_secret"
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
        "Microsoft client secret", config_parameter="webcrm_calendar_sync.microsoft_client_secret"
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
