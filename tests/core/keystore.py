"""An in-memory service whose users may hold two passwords at once, and its handlers.

Small on purpose: what a service subclass has to write is the secret schema and the hooks of its
strategy. The tests of the core and of the service conformance suite use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

from rotation.core.errors import CredentialNotRetainedError, LoginFailedError, UserManagementError
from rotation.core.handler import RotationHandler


class KeyStore:
    """An in-memory service whose users may hold two passwords at once; an admin manages them."""

    def __init__(self) -> None:
        self.passwords: dict[str, set[str]] = {}
        self.calls: list[str] = []

    def login(self, username: str, password: str) -> bool:
        return password in self.passwords.get(username, set())


class Session:
    """A logged-in client of the key store: every change is one call, as on a real service."""

    def __init__(self, store: KeyStore, username: str) -> None:
        self.store, self.username = store, username

    def ping(self) -> None:
        self.store.calls.append("check")

    def add(self, username: str, password: str) -> None:
        self.store.calls.append("add")
        self.store.passwords[username].add(password)

    def discard(self, username: str, password: str) -> None:
        self.store.calls.append("revoke")
        self.store.passwords[username].discard(password)

    def replace(self, username: str, password: str, call: str = "set") -> None:
        self.store.calls.append(call)
        self.store.passwords[username] = {password}


class KeyStoreHandler(RotationHandler):
    """The whole of a dual-credential service subclass: schema, connect, check, add, revoke."""

    engine = "keystore"
    secret_schema: ClassVar[dict[str, Any]] = {"username": str, "endpoint": str}
    identity_keys = ("endpoint",)
    stores: ClassVar[dict[str, KeyStore]] = {}

    @contextmanager
    def connect(self, secret: Any) -> Iterator[Session]:
        store = self.stores[secret.raw["endpoint"]]
        if not store.login(secret.username, secret.password):
            raise LoginFailedError(f"user {secret.username!r} rejected")
        yield Session(store, secret.username)

    def check(self, conn: Session) -> None:
        conn.ping()

    def add_credential(self, conn: Session, username: str, password: str) -> None:
        conn.add(username, password)

    def revoke_credential(self, conn: Session, username: str, password: str) -> None:
        conn.discard(username, password)

    def set_password(self, conn: Session, username: str, password: str, old: str) -> None:
        conn.replace(username, password)


class AdminKeyStoreHandler(KeyStoreHandler):
    """Users cannot change their own password here: the admin from masterarn does."""

    admin_sets_passwords = True

    def set_user_password(self, conn: Session, username: str, password: str) -> None:
        assert conn.username == "root", "only the admin may set passwords here"
        conn.replace(username, password, call="admin set")


class RetainStore(KeyStore):
    """A key store whose users hold a primary password and at most one previous (secondary) one.

    The shape of MySQL's dual passwords, without MySQL: ``retain`` makes a new primary and keeps
    the old primary as the only secondary; ``refuse`` plays a user without the privilege to keep
    two (the store then changes nothing).
    """

    def __init__(self) -> None:
        super().__init__()
        self.primary: dict[str, str] = {}
        self.refuse = False

    def login(self, username: str, password: str) -> bool:
        accepted = super().login(username, password)
        if not accepted:
            self.calls.append("rejected login")
        return accepted

    def set_user(self, username: str, password: str) -> None:
        self.primary[username] = password
        self.passwords[username] = {password}


class RetainKeyStoreHandler(KeyStoreHandler):
    """A service subclass for the ``retain`` strategy: retain_credential and the fallback."""

    def retain_credential(
        self, conn: Session, username: str, password: str, current_password: str
    ) -> None:
        store = conn.store
        assert isinstance(store, RetainStore)
        if store.refuse:
            raise CredentialNotRetainedError("the store keeps one password for this user")
        primary = store.primary[username]
        if primary == password and current_password in store.passwords[username]:
            return  # an earlier attempt did it
        if primary != current_password:
            raise UserManagementError("the primary password is neither current nor pending")
        store.calls.append("retain")
        store.primary[username] = password
        store.passwords[username] = {password, current_password}

    def set_password(self, conn: Session, username: str, password: str, old: str) -> None:
        store = conn.store
        assert isinstance(store, RetainStore)
        store.calls.append("set")
        # Like MySQL: a plain change keeps the secondary password, if any.
        secondary = store.passwords[username] - {store.primary[username]}
        store.primary[username] = password
        store.passwords[username] = {password, *secondary}

    def set_user_password(self, conn: Session, username: str, password: str) -> None:
        self.set_password(conn, username, password, "")

    def revoke_credential(self, conn: Session, username: str, password: str) -> None:
        store = conn.store
        assert isinstance(store, RetainStore)
        store.calls.append("revoke")
        store.passwords[username] = {store.primary[username]}
