"""Who may read the portal: HTTP Basic on every route, checked against argon2 password hashes.

Only hashes are stored (``portal.users`` in recon.yaml, made by ``recon hash-password``).
argon2's verify compares in constant time; an unknown user is checked against a dummy hash so
the answer takes as long as for a known one (no user enumeration by timing). A successful
check is remembered as an HMAC under a key that lives only in this process, so a page with
many requests does not pay argon2's deliberate cost on each; comparison is constant-time too.
Neither the header nor the password is ever logged.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
from collections.abc import Mapping

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

REALM = "recon finance portal"
_HASHER = PasswordHasher()


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("the password is empty")
    return _HASHER.hash(password)


class Authenticator:
    def __init__(self, users: Mapping[str, str]):
        self._users = dict(users)
        self._dummy = _HASHER.hash(secrets.token_hex(16))
        self._key = secrets.token_bytes(32)
        self._verified: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def _tag(self, user: str, password: str) -> bytes:
        return hmac.new(self._key, f"{user}\0{password}".encode(), hashlib.sha256).digest()

    def check(self, user: str, password: str) -> bool:
        tag = self._tag(user, password)
        with self._lock:
            known = self._verified.get(user)
        if known is not None and hmac.compare_digest(known, tag):
            return True
        hashed = self._users.get(user)
        try:
            _HASHER.verify(hashed or self._dummy, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        if hashed is None:
            return False
        with self._lock:
            self._verified[user] = tag
        return True

    def user_of(self, authorization: str | None) -> str | None:
        """The user a ``Basic`` Authorization header proves, or None."""
        if not authorization:
            return None
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "basic" or not value:
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, sep, password = decoded.partition(":")
        if not sep:
            return None
        return user if self.check(user, password) else None


class BasicAuthMiddleware:
    """Every HTTP request needs valid credentials; the user goes to ``request.state.user``."""

    def __init__(self, app, authenticator: Authenticator):
        self.app = app
        self.authenticator = authenticator

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw = headers.get(b"authorization")
        # argon2 is deliberately slow: verify off the event loop so other requests go on.
        user = await anyio.to_thread.run_sync(self.authenticator.user_of, raw.decode("latin-1") if raw else None)
        if user is None:
            body = b"Sign in with your portal user name and password.\n"
            await send({"type": "http.response.start", "status": 401, "headers": [
                (b"www-authenticate", f'Basic realm="{REALM}", charset="UTF-8"'.encode()),
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        scope.setdefault("state", {})["user"] = user
        await self.app(scope, receive, send)
