"""Rotate the password of a Redis ACL user: one credential, or two at once.

An example of rotating your own service with `rotation`: everything a Redis rotation function
needs is below — the secret's schema, how to log in, and the hooks of the two strategies. The
protocol, the login order, the admin secret checks, the crash-safety rules and the redaction of
passwords come from :class:`rotation.RotationHandler`.

Secret (the admin from ``masterarn`` manages users; Redis users cannot change their own)::

    {"host": "cache.example", "port": 6379, "username": "app", "password": "...",
     "masterarn": "arn:aws:secretsmanager:...:secret:redis-admin"}

* ``strategy="single"``: setSecret replaces the user's password (``ACL SETUSER app resetpass
  >new``); clients holding the old one fail until they refresh.
* ``strategy="dual"``: setSecret adds the new password beside the old one (``>new``); after the
  switch the old one is removed (``<old``). Redis users may hold several passwords
  (https://redis.io/docs/latest/operate/oss_and_stack/management/security/acl/), so clients keep
  working throughout.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from rotation import ConnectError, LoginFailedError, RotationHandler


class RedisACLHandler(RotationHandler):
    """Rotate a Redis ACL user's password through an admin user."""

    engine = "redis"
    display_name = "Redis"
    secret_schema: ClassVar[dict[str, Any]] = {"host": str, "port": int, "username": str}
    identity_keys = ("host", "port")
    admin_sets_passwords = True

    @contextmanager
    def connect(self, secret: Any) -> Iterator[Any]:
        """Log in as the secret's user; a rejected password is a LoginFailedError."""
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        client = redis.Redis(
            host=secret.raw["host"],
            port=int(secret.raw["port"]),
            username=secret.username,
            password=secret.password,
            ssl=bool(secret.raw.get("ssl", False)),
            socket_connect_timeout=self.settings.connect_timeout,
            socket_timeout=self.settings.connect_timeout,
            # redis-py retries an AuthenticationError (a ConnectionError) with backoff by
            # default; a rejected password is an answer, so ask once.
            retry=Retry(NoBackoff(), 0),
        )
        try:
            client.ping()  # redis-py connects lazily: log in now
        except redis.AuthenticationError:
            client.close()
            raise LoginFailedError(f"Redis rejected user {secret.username!r}") from None
        except redis.RedisError as exc:
            client.close()
            raise ConnectError(f"cannot reach Redis: {type(exc).__name__}") from None
        try:
            yield client
        finally:
            client.close()

    def check(self, conn: Any) -> None:
        """Prove the session works."""
        conn.ping()

    def set_user_password(self, conn: Any, username: str, password: str) -> None:
        """Replace every password of the user with this one (idempotent)."""
        conn.execute_command("ACL", "SETUSER", username, "resetpass", f">{password}")

    def add_credential(self, conn: Any, username: str, password: str) -> None:
        """Add a password beside the user's others (Redis ignores one it already has)."""
        conn.execute_command("ACL", "SETUSER", username, f">{password}")

    def revoke_credential(self, conn: Any, username: str, password: str) -> None:
        """Remove one password, if the user still has it (Redis refuses to remove a missing one)."""
        digest = hashlib.sha256(password.encode()).hexdigest()
        user = conn.execute_command("ACL", "GETUSER", username) or {}
        if isinstance(user, list):  # RESP2 servers answer a flat list of field, value
            user = dict(zip(user[::2], user[1::2], strict=True))
        hashes = user.get(b"passwords") or user.get("passwords") or []
        stored = [p.decode() if isinstance(p, bytes) else p for p in hashes]
        if digest in stored:
            conn.execute_command("ACL", "SETUSER", username, f"<{password}")


single_user_handler = RedisACLHandler.lambda_handler(strategy="single")
dual_credentials_handler = RedisACLHandler.lambda_handler(strategy="dual")
