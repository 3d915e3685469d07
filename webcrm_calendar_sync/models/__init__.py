from . import (
    calendar_sync_credential,
    calendar_sync_account,
    calendar_sync_oauth,
    calendar_sync_google,
    calendar_sync_binding,
    calendar_event,
    res_partner,
    res_users,
    res_config_settings,
)
