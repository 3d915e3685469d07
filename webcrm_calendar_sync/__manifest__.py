{
    "name": "Synced Calendar (Google, Microsoft 365, Exchange)",
    "version": "18.0.1.0.1",
    "summary": "Mirror each user's Google, Microsoft 365 or Exchange calendar into Odoo, both ways",
    "category": "Productivity/Calendar",
    "author": "webcrm_calendar_sync developers",
    "license": "LGPL-3",
    "depends": ["calendar", "contacts", "mail", "base_setup", "resource"],
    "external_dependencies": {
        "python": ["exchangelib", "google-api-python-client", "google-auth", "msal", "requests"],
    },
    "data": [
        "security/calendar_sync_security.xml",
        "security/ir.model.access.csv",
        "data/ir_cron_data.xml",
        "data/mail_template_data.xml",
        "views/calendar_sync_account_views.xml",
        "views/calendar_event_views.xml",
        "views/calendar_event_video_views.xml",
        "views/calendar_agenda_views.xml",
        "views/calendar_report_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/calendar_sync_menus.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "webcrm_calendar_sync/static/src/**/*",
        ],
        "web.assets_tests": [
            "webcrm_calendar_sync/static/tests/tours/**/*",
        ],
    },
}
