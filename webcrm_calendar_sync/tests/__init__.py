from . import (
    test_account_guards,
    test_busy_access,
    test_exchange,
    test_google,
    test_microsoft,
    test_oauth_state,
    test_outbox,
    test_provider_input,
    test_security,
    test_settings_partner,
    test_sync_apply,
    test_templates,
)
