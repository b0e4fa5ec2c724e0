"""The command documents the DocumentDB engine builds, and its facts; no server needed."""

from __future__ import annotations

import types
from typing import Any

import bson
import pytest

from rotation.core.config import Settings
from rotation.core.database import TLS, TLSMode
from rotation.core.errors import SecretFormatError
from rotation.core.registry import engine_class
from rotation.core.secret import DatabaseSecret
from rotation.engines import documentdb
from rotation.engines.documentdb import DocumentDBHandler
from rotation.engines.documentdb.commands import role_of
from rotation.engines.documentdb.handler import COMMAND_TIMEOUT_MS

HOSTILE = ["o'brien", 'dq"uote', "back\\slash", "$where", "a.b", "with space", "ünïcødé",
           "x,y=z", "{$ne: 1}", "null\x00byte"]  # fmt: skip
PASSWORD = "P@ss'word\"with$stuff"
ROLES = [{"role": "readWrite", "db": "app.db"}, {"role": "read", "db": "$reporting"}]


def roundtrip(document: dict[str, Any]) -> dict[str, Any]:
    """Encode to BSON and back, as the wire does."""
    decoded: dict[str, Any] = bson.decode(bson.encode(document))
    return decoded


@pytest.mark.parametrize("name", HOSTILE)
def test_update_password_command_carries_name_and_password_as_values(name: str) -> None:
    command = DocumentDBHandler.update_password_command(name, PASSWORD)
    assert command.document == {"updateUser": name, "pwd": PASSWORD}
    assert next(iter(command.document)) == "updateUser"
    assert roundtrip(command.document) == command.document


@pytest.mark.parametrize("name", HOSTILE)
def test_users_info_command_names_one_user(name: str) -> None:
    command = DocumentDBHandler.users_info_command(name)
    assert command.document == {"usersInfo": name}
    assert roundtrip(command.document) == command.document


@pytest.mark.parametrize("name", HOSTILE)
def test_create_user_command_copies_roles(name: str) -> None:
    command = DocumentDBHandler.create_user_command(name, PASSWORD, ROLES)
    assert command.document == {"createUser": name, "pwd": PASSWORD, "roles": ROLES}
    assert list(command.document) == ["createUser", "pwd", "roles"]
    assert roundtrip(command.document) == command.document


@pytest.mark.parametrize("name", HOSTILE)
def test_grant_and_revoke_role_commands(name: str) -> None:
    grant = DocumentDBHandler.grant_roles_command(name, ROLES)
    revoke = DocumentDBHandler.revoke_roles_command(name, ROLES[:1])
    assert grant.document == {"grantRolesToUser": name, "roles": ROLES}
    assert revoke.document == {"revokeRolesFromUser": name, "roles": ROLES[:1]}


def test_ping_command() -> None:
    assert DocumentDBHandler.ping_command().document == {"ping": 1}


def test_command_repr_hides_the_document() -> None:
    command = DocumentDBHandler.create_user_command("app", PASSWORD, ROLES)
    assert PASSWORD not in repr(command)
    assert "app" not in repr(command)
    assert command.action == "createUser"


def test_role_of_keeps_only_role_and_db() -> None:
    entry = {"role": "read", "db": "x", "minFcv": "", "inherited": True}
    assert role_of(entry) == {"role": "read", "db": "x"}


# -- facts ------------------------------------------------------------------------------------


def test_registry_resolves_the_engine() -> None:
    assert engine_class("documentdb") is DocumentDBHandler


@pytest.mark.parametrize("value", ["mongo", "docdb", "documentdb", "MONGO"])
def test_secret_engine_values_and_defaults(value: str) -> None:
    raw = {"engine": value, "host": "h", "username": "u", "password": "p"}
    for admin in (False, True):
        secret = DatabaseSecret.parse(raw, DocumentDBHandler, admin=admin)
        assert secret.port == 27017
        assert secret.dbname == "admin"


def test_module_exposes_lambda_handlers() -> None:
    assert callable(documentdb.single_user_handler)
    assert callable(documentdb.alternating_users_handler)
    assert DocumentDBHandler.clone_suffix == "_clone"
    assert DocumentDBHandler.max_username_length == 63


# -- connection options -----------------------------------------------------------------------


class _Recorder:
    """A stand-in for pymongo that records MongoClient's arguments."""

    def __init__(self) -> None:
        self.options: dict[str, Any] = {}
        self.commands: list[tuple[str, dict[str, Any]]] = []

    def module(self) -> types.SimpleNamespace:
        recorder = self

        class Database:
            def __init__(self, name: str) -> None:
                self.name = name

            def command(self, document: dict[str, Any]) -> dict[str, Any]:
                recorder.commands.append((self.name, document))
                return {"ok": 1.0}

        class MongoClient:
            def __init__(self, **options: Any) -> None:
                recorder.options = options

            def __getitem__(self, name: str) -> Database:
                return Database(name)

            def close(self) -> None:
                pass

        errors = types.SimpleNamespace(PyMongoError=RuntimeError)
        return types.SimpleNamespace(MongoClient=MongoClient, errors=errors)


def _open(client: Any, tls: TLS, **secret: Any) -> _Recorder:
    recorder = _Recorder()
    handler = DocumentDBHandler(settings=Settings(connect_timeout=2.5), client=client)
    handler.driver = recorder.module  # type: ignore[method-assign]
    raw = {"engine": "docdb", "host": "docdb.example", "username": "app", "password": "pw",
           **secret}  # fmt: skip
    handler.open_connection(DatabaseSecret.parse(raw, handler), tls)
    return recorder


def test_tls_connection_options(offline_client: Any) -> None:
    recorder = _open(offline_client, TLS(TLSMode.VERIFIED, "/ca/global-bundle.pem"))
    assert recorder.options == {
        "host": "docdb.example", "port": 27017, "username": "app", "password": "pw",
        "authSource": "admin", "retryWrites": False, "directConnection": True,
        "serverSelectionTimeoutMS": 2500, "connectTimeoutMS": 2500,
        "socketTimeoutMS": COMMAND_TIMEOUT_MS, "appname": "rotation",
        "tls": True, "tlsCAFile": "/ca/global-bundle.pem",
    }  # fmt: skip
    # The login is forced at once, on the auth database.
    assert recorder.commands == [("admin", {"ping": 1})]


def test_plaintext_connection_options_and_custom_auth_database(offline_client: Any) -> None:
    recorder = _open(offline_client, TLS(TLSMode.PLAINTEXT), dbname="users", port="27018")
    assert recorder.options["tls"] is False
    assert "tlsCAFile" not in recorder.options
    assert recorder.options["authSource"] == "users"
    assert recorder.options["port"] == 27018
    assert recorder.commands == [("users", {"ping": 1})]


def test_tls_without_ca_file_uses_the_default_trust_store(offline_client: Any) -> None:
    recorder = _open(offline_client, TLS(TLSMode.VERIFIED, None))
    assert recorder.options["tls"] is True
    assert "tlsCAFile" not in recorder.options


@pytest.mark.parametrize(
    "host",
    ["mongodb://docdb.example/?tlsInsecure=true", "docdb.example,evil.example", "docdb.example/db",
     "user@docdb.example", "docdb%2Cevil.example", "docdb.example?ssl=false", "docdb example"],
)  # fmt: skip
def test_a_host_that_mongoclient_would_read_as_a_uri_or_list_is_refused(
    offline_client: Any, host: str
) -> None:
    """MongoClient parses such a host as a connection string, whose options (tlsInsecure=true)
    would override the engine's, or as several seeds; a secret names one server."""
    handler = DocumentDBHandler(client=offline_client)
    raw = {"engine": "docdb", "host": host, "username": "app", "password": "pw"}
    for admin in (False, True):
        with pytest.raises(SecretFormatError, match="'host' must be one host name or address"):
            handler.parse_secret(raw, admin=admin)


@pytest.mark.parametrize("host", ["docdb.cluster-abc.us-east-1.docdb.amazonaws.com", "10.0.0.5",
                                  "::1", "localhost"])  # fmt: skip
def test_host_names_and_addresses_are_accepted(offline_client: Any, host: str) -> None:
    handler = DocumentDBHandler(client=offline_client)
    raw = {"engine": "docdb", "host": host, "username": "app", "password": "pw"}
    assert handler.parse_secret(raw).host == host
