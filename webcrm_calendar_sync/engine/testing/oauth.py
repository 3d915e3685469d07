"""The OAuth 2.0 token store the fake servers share (authorization codes with PKCE, access
and refresh tokens, revocation, expiry).

It keeps the grants; each fake speaks its own wire format around it (Google's and the
Microsoft identity platform's token answers and error words) and turns an
:class:`OAuthRefused` into its own error.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import urllib.parse


class OAuthRefused(Exception):
    """The store refuses a grant: ``why`` is ``client``, ``code``, ``verifier`` or ``revoked``."""

    def __init__(self, why):
        super().__init__(why)
        self.why = why


def token_form(body) -> dict:
    """The form a client posts to a token endpoint, as a dict."""
    return dict(urllib.parse.parse_qsl(body.decode() if isinstance(body, bytes) else body or ""))


def s256(verifier: str) -> str:
    """PKCE's S256 challenge of ``verifier`` (RFC 7636)."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


class TokenStore:
    """Grants of one fake server: who holds which code and token, until when.

    ``access_tokens``: token -> (email, expiry as a ``time.time()``); ``refresh_tokens``:
    token -> email; ``revoked``: refresh tokens refused from now on; ``codes``: code -> what
    the authorization request said (``email``, ``client_id``, ``redirect_uri``,
    ``challenge`` and whatever the fake keeps beside them).
    """

    def __init__(self, client_id, client_secret, lifetime=3600):
        self.clients = {client_id: client_secret}
        self.lifetime = lifetime
        self.lock = threading.RLock()
        self.codes, self.refresh_tokens, self.access_tokens = {}, {}, {}
        self.revoked = set()

    # -- the flows ---------------------------------------------------------
    def check_client(self, client_id, client_secret=None, *, secret=True):
        """OAuthRefused('client') unless ``client_id`` is known (and ``client_secret`` is its secret)."""
        if client_id not in self.clients or (secret and self.clients[client_id] != client_secret):
            raise OAuthRefused("client")

    def new_code(self, email, client_id, redirect_uri, challenge, **extra) -> str:
        """An authorization code for ``email``, redeemable once with the verifier of ``challenge``."""
        code = secrets.token_urlsafe(16)
        with self.lock:
            self.codes[code] = dict(
                extra, email=email, client_id=client_id, redirect_uri=redirect_uri, challenge=challenge
            )
        return code

    def redeem_code(self, form) -> dict:
        """What the code of a token request was given for (it is spent); OAuthRefused otherwise."""
        self.check_client(form.get("client_id"), form.get("client_secret"))
        with self.lock:
            data = self.codes.pop(form.get("code", ""), None)
        if not data or data["client_id"] != form.get("client_id") or data["redirect_uri"] != form.get("redirect_uri"):
            raise OAuthRefused("code")
        if s256(form.get("code_verifier", "")) != data["challenge"]:
            raise OAuthRefused("verifier")
        return data

    def issue(self, email, *, refresh=True):
        """(access token, refresh token or None) for ``email``."""
        access = secrets.token_urlsafe(24)
        with self.lock:
            self.access_tokens[access] = (email, time.time() + self.lifetime)
            if not refresh:
                return access, None
            refresh_token = secrets.token_urlsafe(32)
            self.refresh_tokens[refresh_token] = email
        return access, refresh_token

    def refresh(self, form):
        """(email, new access token) for a refresh-token request; OAuthRefused once revoked."""
        self.check_client(form.get("client_id"), form.get("client_secret"))
        token = form.get("refresh_token", "")
        with self.lock:
            email = self.refresh_tokens.get(token)
            if not email or token in self.revoked:
                raise OAuthRefused("revoked")
        access, _none = self.issue(email, refresh=False)
        return email, access

    def owner(self, access_token):
        """The email an access token was issued to, or None (unknown, revoked or expired)."""
        with self.lock:
            owner = self.access_tokens.get(access_token or "")
        if not owner or owner[1] < time.time():
            return None
        return owner[0]

    @staticmethod
    def bearer(headers) -> str:
        """The token of an ``Authorization: Bearer`` header, or ''."""
        auth = headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else ""

    # -- for tests ---------------------------------------------------------
    def revoke(self, email):
        """``email`` withdrew the grant: refresh tokens refused, access tokens dropped."""
        email = email.lower()
        with self.lock:
            self.revoked.update(token for token, owner in self.refresh_tokens.items() if owner == email)
            for token, (owner, _expiry) in list(self.access_tokens.items()):
                if owner == email:
                    del self.access_tokens[token]

    def expire_access_tokens(self):
        """Every access token issued so far has expired (refresh tokens still work)."""
        with self.lock:
            for token, (owner, _expiry) in list(self.access_tokens.items()):
                self.access_tokens[token] = (owner, time.time() - 1)


class OAuthServer:
    """What a fake that signs users in with OAuth offers tests: its client and its grants."""

    def _init_oauth(self, client_id, client_secret, token_lifetime):
        self.client_id, self.client_secret = client_id, client_secret
        self.tokens = TokenStore(client_id, client_secret, token_lifetime)

    @property
    def token_lifetime(self):
        return self.tokens.lifetime

    def revoke(self, email):
        self.tokens.revoke(email)

    def expire_access_tokens(self):
        self.tokens.expire_access_tokens()
