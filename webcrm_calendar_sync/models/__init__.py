# isort: off
# inherited by calendar.event and calendar.attendee: loaded before them
from . import calendar_sync_defaults

# isort: on
from . import (
    calendar_attendee,
    calendar_event,
    calendar_event_find_time,
    calendar_event_guest,
    calendar_event_privacy,
    calendar_event_schedule,
    calendar_event_ui,
    calendar_event_video,
    calendar_sync_account,
    calendar_sync_account_exchange,
    calendar_sync_account_google,
    calendar_sync_account_messages,
    calendar_sync_account_microsoft,
    calendar_sync_account_oauth,
    calendar_sync_account_paging,
    calendar_sync_account_schedule,
    calendar_sync_account_webhook,
    calendar_sync_binding,
    calendar_sync_credential,
    calendar_sync_push_close,
    mail_template,
    res_config_settings,
    res_config_settings_access,
    res_partner,
    res_users,
)
