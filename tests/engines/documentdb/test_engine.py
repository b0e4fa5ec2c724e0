"""The DocumentDB engine against the wire-protocol test server: errors, primitives, rotations."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pymongo.errors import OperationFailure

from rotation.core.config import Settings
from rotation.core.database import TLS, TLSMode
from rotation.core.errors import (
    ConnectError,
    LoginFailedError,
    SecretTestFailedError,
    UserManagementError,
)
from rotation.core.secret import DatabaseSecret
from rotation.core.staging import AWSCURRENT
from rotation.engines.documentdb import DocumentDBHandler
from rotation.engines.documentdb.commands import Command
from rotation.local import driver
from rotation.testing.conformance import Scenario, unique_name
from tests.engines.documentdb.backend import ADMIN_PASSWORD, ADMIN_USER, AUTH_DB, DocumentDBBackend
from tests.engines.documentdb.server import MongoTestServer

PASSWORD = "Initial-password-1"


@pytest.fixture
def tls_backend(tls_server: MongoTestServer, ca_file: str) -> DocumentDBBackend:
    return DocumentDBBackend(tls_server, ca_file, "localhost")


@pytest.fixture
def plain_backend(plain_server: MongoTestServer) -> DocumentDBBackend:
    return DocumentDBBackend(plain_server, None, "127.0.0.1")


@pytest.fixture
def user(tls_backend: DocumentDBBackend) -> Iterator[str]:
    """Provide a fresh application user (and drop it and its clone afterwards)."""
    name = unique_name()
    tls_backend.create_user(name, PASSWORD)
    yield name
    tls_backend.drop_user(name)
    tls_backend.drop_user(name + "_clone")


def make_handler(
    offline_client: Any, settings: Settings | None = None, strategy: str = "single"
) -> DocumentDBHandler:
    return DocumentDBHandler(strategy=strategy, settings=settings or Settings(),
                             client=offline_client)  # fmt: skip


def secret(
    backend: DocumentDBBackend, username: str, password: str, **extra: Any
) -> DatabaseSecret:
    raw = {"engine": "mongo", **backend.connection_fields(), "username": username,
           "password": password, **extra}  # fmt: skip
    return DatabaseSecret.parse({k: v for k, v in raw.items() if v is not None}, DocumentDBHandler)


# -- error mapping ----------------------------------------------------------------------------


def test_wrong_password_is_a_login_failure(
    tls_backend: DocumentDBBackend, user: str, offline_client: Any
) -> None:
    handler = make_handler(offline_client, tls_backend.settings())
    before = tls_backend.failed_logins()
    with pytest.raises(LoginFailedError) as caught:
        handler.open_connection(secret(tls_backend, user, "Wrong-password-1"), _verified(handler))
    assert "Wrong-password-1" not in str(caught.value)
    assert user in str(caught.value)
    assert tls_backend.failed_logins() == before + 1


def test_unknown_user_is_a_login_failure(
    tls_backend: DocumentDBBackend, offline_client: Any
) -> None:
    handler = make_handler(offline_client, tls_backend.settings())
    with pytest.raises(LoginFailedError):
        handler.open_connection(secret(tls_backend, "nobody", PASSWORD), _verified(handler))


def test_unreachable_port_is_a_connect_error_within_the_timeout(
    tls_backend: DocumentDBBackend, offline_client: Any
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = make_handler(offline_client, Settings(connect_timeout=0.5))
    target = secret(tls_backend, "app", PASSWORD, port=port, ssl=False)
    started = time.monotonic()
    with pytest.raises(ConnectError) as caught, handler.connect(target):
        pass
    assert not isinstance(caught.value, LoginFailedError)
    assert time.monotonic() - started < 15  # generous: it must end, not race
    assert PASSWORD not in str(caught.value)


def test_untrusted_certificate_is_a_connect_error(
    tls_backend: DocumentDBBackend, user: str, offline_client: Any
) -> None:
    """Without the test CA, the server's certificate must not be accepted."""
    handler = make_handler(offline_client, Settings(connect_timeout=5))
    with (
        pytest.raises(ConnectError) as caught,
        handler.connect(secret(tls_backend, user, PASSWORD)),
    ):
        pass
    assert not isinstance(caught.value, LoginFailedError)
    assert "certificate" in str(caught.value).lower()


def test_host_name_is_verified(
    tls_backend: DocumentDBBackend, user: str, offline_client: Any
) -> None:
    """The certificate names localhost; 127.0.0.1 must be refused even with the right CA."""
    handler = make_handler(
        offline_client, Settings(connect_timeout=5, tls_ca_file=tls_backend.ca_file)
    )
    with (
        pytest.raises(ConnectError),
        handler.connect(secret(tls_backend, user, PASSWORD, host="127.0.0.1")),
    ):
        pass


def test_tls_to_a_plaintext_server_is_a_connect_error(
    plain_backend: DocumentDBBackend, offline_client: Any, ca_file: str
) -> None:
    name = unique_name()
    plain_backend.create_user(name, PASSWORD)
    handler = make_handler(offline_client, Settings(connect_timeout=5, tls_ca_file=ca_file))
    try:
        with (
            pytest.raises(ConnectError),
            handler.connect(secret(plain_backend, name, PASSWORD, ssl=True)),
        ):
            pass
        # ssl absent: verified TLS, and plaintext only when the fallback is switched on.
        with (
            pytest.raises(ConnectError),
            handler.connect(secret(plain_backend, name, PASSWORD, ssl=None)),
        ):
            pass
        fallback = make_handler(
            offline_client, Settings(connect_timeout=5, tls_allow_plaintext_fallback=True)
        )
        with fallback.connect(secret(plain_backend, name, PASSWORD, ssl=None)) as conn:
            fallback.check(conn)
    finally:
        plain_backend.drop_user(name)


def test_error_descriptions_are_redacted(offline_client: Any) -> None:
    handler = make_handler(offline_client)
    handler.redactor.add("Secret-value-42")
    exc = OperationFailure("bad Secret-value-42", code=2, details={"errmsg": "bad Secret-value-42"})
    assert handler.describe_error(exc) == "2: bad ***"


# -- primitives -------------------------------------------------------------------------------


def test_user_without_change_own_password_cannot_rotate_itself(
    tls_backend: DocumentDBBackend, offline_client: Any
) -> None:
    name = unique_name()
    tls_backend.directory.add_user(AUTH_DB, name, PASSWORD, [("readWrite", "appdb")])
    handler = make_handler(offline_client, tls_backend.settings())
    try:
        with (
            handler.connect(secret(tls_backend, name, PASSWORD)) as conn,
            pytest.raises(UserManagementError) as caught,
        ):
            handler.set_password(conn, name, "New-password-2", PASSWORD)
        assert "13" in str(caught.value)  # Unauthorized
        assert "New-password-2" not in str(caught.value)
        assert tls_backend.can_login(name, PASSWORD)
    finally:
        tls_backend.drop_user(name)


def test_admin_without_user_admin_cannot_clone(
    tls_backend: DocumentDBBackend, user: str, offline_client: Any
) -> None:
    weak = unique_name("weak")
    tls_backend.directory.add_user(AUTH_DB, weak, PASSWORD, [("readWriteAnyDatabase", "admin")])
    handler = make_handler(offline_client, tls_backend.settings())
    try:
        with (
            handler.connect(secret(tls_backend, weak, PASSWORD)) as conn,
            pytest.raises(UserManagementError),
        ):
            handler.create_user_like(conn, user + "_clone", user, "Clone-password-3")
        assert (AUTH_DB, user + "_clone") not in tls_backend.directory.users
    finally:
        tls_backend.drop_user(weak)


def test_clone_of_a_missing_user_is_refused(
    tls_backend: DocumentDBBackend, offline_client: Any
) -> None:
    handler = make_handler(offline_client, tls_backend.settings())
    with (
        handler.connect(secret(tls_backend, ADMIN_USER, ADMIN_PASSWORD)) as conn,
        pytest.raises(UserManagementError, match="does not exist"),
    ):
        handler.create_user_like(conn, "ghost_clone", "ghost", "Clone-password-3")
    assert (AUTH_DB, "ghost_clone") not in tls_backend.directory.users


def test_existing_clone_is_refreshed_to_the_original_roles(
    tls_backend: DocumentDBBackend, user: str, offline_client: Any
) -> None:
    """A stale clone gets the new password, the roles it lacks, and loses the extra ones."""
    clone = user + "_clone"
    directory = tls_backend.directory
    directory.add_user(AUTH_DB, clone, "Old-clone-pass-1", [("read", "appdb"), ("dbAdmin", "x")])
    handler = make_handler(offline_client, tls_backend.settings())
    with handler.connect(secret(tls_backend, ADMIN_USER, ADMIN_PASSWORD)) as conn:
        start = len(directory.commands)
        handler.create_user_like(conn, clone, user, "Clone-password-3")
        issued = [name for who, name, _ in directory.commands[start:]]
        assert tls_backend.privileges(clone) == tls_backend.privileges(user)
        assert issued == ["usersInfo", "usersInfo", "updateUser", "grantRolesToUser",
                          "revokeRolesFromUser"]  # fmt: skip
        assert {who for who, _, _ in directory.commands[start:]} == {ADMIN_USER}
        # A second run finds nothing to grant or revoke.
        start = len(directory.commands)
        handler.create_user_like(conn, clone, user, "Clone-password-3")
        assert [name for _, name, _ in directory.commands[start:]] == [
            "usersInfo", "usersInfo", "updateUser"]  # fmt: skip
    assert tls_backend.can_login(clone, "Clone-password-3")
    assert not tls_backend.can_login(clone, "Old-clone-pass-1")


def test_user_exists(tls_backend: DocumentDBBackend, user: str, offline_client: Any) -> None:
    handler = make_handler(offline_client, tls_backend.settings())
    with handler.connect(secret(tls_backend, ADMIN_USER, ADMIN_PASSWORD)) as conn:
        assert handler.user_exists(conn, user)
        assert not handler.user_exists(conn, user + "_clone")


# -- rotations --------------------------------------------------------------------------------


class _WrongPasswordHandler(DocumentDBHandler):
    """An engine bug: it stores one password in the database and another in the secret."""

    @staticmethod
    def update_password_command(username: str, password: str) -> Command:
        return DocumentDBHandler.update_password_command(username, password + "x")


def test_rotation_fails_when_the_database_got_another_password(
    tls_backend: DocumentDBBackend, client: Any
) -> None:
    """TestSecret logs in for real, so a password that differs from the secret's is caught."""
    scenario = Scenario(tls_backend, client, unique_name())
    try:
        handler = _WrongPasswordHandler(settings=tls_backend.settings(), client=client)
        with pytest.raises(SecretTestFailedError):
            driver.rotate(handler, client, scenario.arn)
        assert scenario.value(AWSCURRENT)["password"] == scenario.password
    finally:
        scenario.cleanup()


@pytest.mark.parametrize("strategy", ["single", "alternating"])
def test_plaintext_scram_sha1_rotation(
    plain_backend: DocumentDBBackend, client: Any, strategy: str
) -> None:
    """``ssl: false`` and a server that offers only SCRAM-SHA-1 (MongoDB's MD5-based digest)."""
    scenario = Scenario(plain_backend, client, unique_name())
    try:
        if strategy == "alternating":
            scenario.with_admin()
        before = plain_backend.failed_logins()
        for _ in range(2):
            driver.rotate(scenario.handler(strategy), client, scenario.arn)
            current = scenario.value(AWSCURRENT)
            assert plain_backend.can_login(current["username"], current["password"])
        assert plain_backend.failed_logins() == before
        users = plain_backend.directory.users
        assert all(set(user.credentials) == {"SCRAM-SHA-1"} for user in users.values())
        if strategy == "single":
            assert not plain_backend.can_login(scenario.username, scenario.password)
        else:
            clone = scenario.username + "_clone"
            assert plain_backend.privileges(clone) == plain_backend.privileges(scenario.username)
    finally:
        scenario.cleanup()


def _verified(handler: DocumentDBHandler) -> TLS:
    return TLS(TLSMode.VERIFIED, handler.settings.tls_ca_file)
