"""Where the browser lands after Google's or Microsoft's sign-in: a page every Odoo 18 serves."""

import pathlib
import re
from unittest.mock import patch
from urllib.parse import parse_qs, urlsplit

from odoo.http import root
from odoo.tests import HttpCase, tagged

from .common import CalendarSyncCase

ADDON = pathlib.Path(__file__).resolve().parent.parent


@tagged("post_install", "-at_install")
class TestOAuthReturn(HttpCase, CalendarSyncCase):
    def _signed_in_return(self, provider):
        account = self.make_account(self.alice, provider=provider, state="draft")
        session = self.authenticate("alice", "alice")
        state = account.with_user(self.alice)._oauth_remember(session, {"verifier": "v"})
        root.session_store.save(session)
        finish = f"_oauth_finish_{provider}"
        with patch.object(type(account), finish, lambda self, flow, params: None, create=True):
            response = self.url_open(
                f"/webcrm_calendar_sync/oauth/{provider}?state={state}&code=c", allow_redirects=False
            )
        return account, response

    def test_return_opens_the_account_in_the_web_client(self):
        action = self.env.ref("webcrm_calendar_sync.calendar_sync_account_action")
        for provider in ("google", "microsoft"):
            with self.subTest(provider=provider):
                account, response = self._signed_in_return(provider)
                self.assertIn(response.status_code, (302, 303))
                self.assertEqual(account.state, "subscribed")
                target = urlsplit(response.headers["Location"])
                self.assertEqual(target.path, "/web", "the web client's address every Odoo 18 serves")
                fragment = {key: values[0] for key, values in parse_qs(target.fragment).items()}
                self.assertEqual(
                    fragment,
                    {
                        "action": str(action.id),
                        "id": str(account.id),
                        "model": "calendar.sync.account",
                        "view_type": "form",
                    },
                )
                # the page itself loads (a path of another Odoo build would be a 404 here)
                self.assertEqual(self.url_open(response.headers["Location"]).status_code, 200)

    def test_no_path_of_one_odoo_build_in_the_addon(self):
        # "/odoo/..." is the web client's address on some Odoo 18 builds only
        pattern = re.compile(r"""["'(=\s]/odoo(/|["'?#])""")
        found = []
        for path in ADDON.rglob("*"):
            if path.suffix not in {".py", ".js", ".xml", ".scss", ".po", ".pot"} or path == pathlib.Path(__file__):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if pattern.search(line):
                    found.append(f"{path.relative_to(ADDON)}:{number}: {line.strip()}")
        self.assertFalse(found, "addresses only some Odoo builds serve:\n" + "\n".join(found))
