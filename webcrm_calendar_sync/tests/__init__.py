from . import test_security, test_settings_partner, test_sync_apply, test_templates, test_oauth_state
