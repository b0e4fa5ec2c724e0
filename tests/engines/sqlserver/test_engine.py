"""SQL Server engine: rendered statements, the password that logged in, contained databases,
TLS verification through FreeTDS, and error mapping."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pymssql
import pytest
import trustme
from pymssql import _mssql

from rotation.core.config import Settings
from rotation.core.database import TLS, TLSMode
from rotation.core.errors import (
    ConnectError,
    LoginFailedError,
    SecretFormatError,
    UserManagementError,
)
from rotation.engines.sqlserver import (
    SQLServerHandler,
    alternating_users_handler,
    single_user_handler,
)
from rotation.engines.sqlserver.permissions import (
    describe_permission,
    permission_statement,
    server_permission_statement,
)
from rotation.local import driver
from rotation.testing.conformance import Scenario, unique_name
from tests.engines.sqlserver.backend import SQLServerBackend
from tests.engines.sqlserver.conftest import certificate_for
from tests.engines.sqlserver.model import (
    TSQLError,
    evaluate_concatenation,
    quotename,
    tokenize,
)
from tests.engines.sqlserver.server import TDSServer

HOSTILE_NAMES = ["o'brien", "br]acket", "[x]", "back\\slash", "per%cent", "semi;colon; DROP x",
                 "with space", "ünïcødé", "N'x'", "a'); DROP LOGIN sa; --"]  # fmt: skip
HOSTILE_PASSWORDS = ["it's", "100%sure", "%s%%", "quote''twice", "ünï'%"]


def make_handler(settings: Settings) -> SQLServerHandler:
    """Build a handler whose Secrets Manager client is never called."""
    import boto3

    return SQLServerHandler(
        settings=settings, client=boto3.client("secretsmanager", region_name="us-east-1")
    )


@pytest.fixture
def handler() -> SQLServerHandler:
    return make_handler(Settings(connect_timeout=1))


def assembled(statement: Any) -> list[Any]:
    """Interpolate like pymssql, evaluate the batch like SQL Server, and tokenize the DDL."""
    batch = _mssql.substitute_params(statement.sql, statement.params).decode()
    prefix, suffix = "DECLARE @sql nvarchar(max) = ", "; EXEC sys.sp_executesql @sql;"
    assert batch.startswith(prefix)
    assert batch.endswith(suffix)
    ddl = evaluate_concatenation(batch[len(prefix) : -len(suffix)])
    assert ddl is not None
    return tokenize(ddl)


# -- rendered statements ----------------------------------------------------------------------


def test_own_password_statement_text(handler: SQLServerHandler) -> None:
    statement = handler.own_password_statement("app", "new", "old", contained=False)
    assert statement.sql == (
        "DECLARE @sql nvarchar(max) = N'ALTER LOGIN ' + QUOTENAME(%s) + N' WITH PASSWORD = N' "
        "+ QUOTENAME(%s, '''') + N' OLD_PASSWORD = N' + QUOTENAME(%s, ''''); "
        "EXEC sys.sp_executesql @sql;"
    )
    assert statement.params == ("app", "new", "old")
    assert "new" not in repr(statement)


@pytest.mark.parametrize("name", HOSTILE_NAMES)
@pytest.mark.parametrize("password", HOSTILE_PASSWORDS)
def test_hostile_values_survive_quoting(
    handler: SQLServerHandler, name: str, password: str
) -> None:
    """Whatever the name and password hold, the server-built DDL carries them unchanged."""
    for contained, kind in ((False, "LOGIN"), (True, "USER")):
        statement = handler.own_password_statement(name, password, "o'ld%", contained=contained)
        assert name not in statement.sql
        assert password not in statement.sql
        expected = ["ALTER", kind, ("id", name), "WITH", "PASSWORD", "=", ("lit", password),
                    "OLD_PASSWORD", "=", ("lit", "o'ld%")]  # fmt: skip
        assert assembled(statement) == expected
    assert assembled(handler.create_login_statement(name, password)) == [
        "CREATE", "LOGIN", ("id", name), "WITH", "PASSWORD", "=", ("lit", password)]  # fmt: skip
    assert assembled(handler.create_user_statement(name, "s]c")) == [
        "CREATE", "USER", ("id", name), "FOR", "LOGIN", ("id", name),
        "WITH", "DEFAULT_SCHEMA", "=", ("id", "s]c")]  # fmt: skip
    assert assembled(handler.create_user_statement(name, None, password)) == [
        "CREATE", "USER", ("id", name), "WITH", "PASSWORD", "=", ("lit", password)]  # fmt: skip
    assert assembled(handler.add_role_member_statement("r'1]", name)) == [
        "ALTER", "ROLE", ("id", "r'1]"), "ADD", "MEMBER", ("id", name)]  # fmt: skip


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ((0, "DATABASE", "CREATE TABLE", "G", None, None, None, None),
         ["GRANT", "CREATE", "TABLE", "TO"]),
        ((3, "SCHEMA", "SELECT", "W", "s]'", None, None, None),
         ["GRANT", "SELECT", "ON", "SCHEMA", "::", ("id", "s]'"), "TO"]),
        ((1, "OBJECT_OR_COLUMN", "DELETE", "D", "s%", "t;", None, None),
         ["DENY", "DELETE", "ON", "OBJECT", "::", ("id", "s%"), ".", ("id", "t;"), "TO"]),
        ((1, "OBJECT_OR_COLUMN", "UPDATE", "G", "s", "t", "c]", None),
         ["GRANT", "UPDATE", "ON", "OBJECT", "::", ("id", "s"), ".", ("id", "t"),
          "(", ("id", "c]"), ")", "TO"]),
        ((4, "DATABASE_PRINCIPAL", "VIEW DEFINITION", "G", None, "r 1", None, "R"),
         ["GRANT", "VIEW", "DEFINITION", "ON", "ROLE", "::", ("id", "r 1"), "TO"]),
        ((4, "DATABASE_PRINCIPAL", "IMPERSONATE", "G", None, "u", None, "S"),
         ["GRANT", "IMPERSONATE", "ON", "USER", "::", ("id", "u"), "TO"]),
        ((6, "TYPE", "EXECUTE", "G", "dbo", "ty'pe", None, None),
         ["GRANT", "EXECUTE", "ON", "TYPE", "::", ("id", "dbo"), ".", ("id", "ty'pe"), "TO"]),
    ],
)  # fmt: skip
def test_permission_replay(row: tuple[Any, ...], expected: list[Any]) -> None:
    tokens = assembled(permission_statement(row, "cl]one'"))
    tail = ["WITH", "GRANT", "OPTION"] if row[3] == "W" else []
    assert tokens == [*expected, ("id", "cl]one'"), *tail]


# The ON <class>:: form of each securable class, as Microsoft's GRANT pages write it
# (learn.microsoft.com/sql/t-sql/statements/grant-<class>-permissions-transact-sql).
@pytest.mark.parametrize(
    ("klass", "desc", "schema", "keyword"),
    [
        (5, "ASSEMBLY", None, ["ASSEMBLY"]),  # grant-assembly-permissions
        (6, "TYPE", "s'", ["TYPE"]),  # grant-type-permissions: [schema.]type
        (10, "XML_SCHEMA_COLLECTION", "s]", ["XML", "SCHEMA", "COLLECTION"]),
        (15, "MESSAGE_TYPE", None, ["MESSAGE", "TYPE"]),  # grant-service-broker-permissions
        (16, "SERVICE_CONTRACT", None, ["CONTRACT"]),
        (17, "SERVICE", None, ["SERVICE"]),
        (18, "REMOTE_SERVICE_BINDING", None, ["REMOTE", "SERVICE", "BINDING"]),
        (19, "ROUTE", None, ["ROUTE"]),
        (23, "FULLTEXT_CATALOG", None, ["FULLTEXT", "CATALOG"]),  # grant-full-text-permissions
        (24, "SYMMETRIC_KEY", None, ["SYMMETRIC", "KEY"]),
        (25, "CERTIFICATE", None, ["CERTIFICATE"]),
        (26, "ASYMMETRIC_KEY", None, ["ASYMMETRIC", "KEY"]),
    ],
)
@pytest.mark.parametrize("state", ["G", "W", "D"])
def test_each_securable_class_has_its_grant_form(
    klass: int, desc: str, schema: str | None, keyword: list[str], state: str
) -> None:
    name = "//x/Na]me's"
    row = (klass, desc, "VIEW DEFINITION", state, schema, name, None, None)
    verb = "DENY" if state == "D" else "GRANT"
    qualified = [("id", schema), "."] if schema is not None else []
    tail = ["WITH", "GRANT", "OPTION"] if state == "W" else []
    assert assembled(permission_statement(row, "c]'")) == [
        verb, "VIEW", "DEFINITION", "ON", *keyword, "::", *qualified, ("id", name), "TO",
        ("id", "c]'"), *tail]  # fmt: skip
    assert describe_permission(row, server=False).startswith(f"{verb} VIEW DEFINITION on {desc}")


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ((100, "SERVER", "VIEW SERVER STATE", "W", None, None),
         ["GRANT", "VIEW", "SERVER", "STATE", "TO", ("id", "c'"), "WITH", "GRANT", "OPTION"]),
        ((100, "SERVER", "VIEW ANY DATABASE", "D", None, None),
         ["DENY", "VIEW", "ANY", "DATABASE", "TO", ("id", "c'")]),
        ((101, "SERVER_PRINCIPAL", "IMPERSONATE", "G", "l]x", "S"),
         ["GRANT", "IMPERSONATE", "ON", "LOGIN", "::", ("id", "l]x"), "TO", ("id", "c'")]),
        ((101, "SERVER_PRINCIPAL", "VIEW DEFINITION", "G", "r x", "R"),
         ["GRANT", "VIEW", "DEFINITION", "ON", "SERVER", "ROLE", "::", ("id", "r x"), "TO",
          ("id", "c'")]),
        ((105, "ENDPOINT", "CONNECT", "G", "TSQL Default TCP", None),
         ["GRANT", "CONNECT", "ON", "ENDPOINT", "::", ("id", "TSQL Default TCP"), "TO",
          ("id", "c'")]),
    ],
)  # fmt: skip
def test_server_permission_replay(row: tuple[Any, ...], expected: list[Any]) -> None:
    """grant-server-permissions, grant-server-principal-permissions, grant-endpoint-permissions."""
    assert assembled(server_permission_statement(row, "c'")) == expected


def test_server_permission_replay_refuses_unknown_classes_and_hidden_names() -> None:
    with pytest.raises(UserManagementError, match=r"AVAILABILITY_GROUP \(108\)"):
        server_permission_statement((108, "AVAILABILITY_GROUP", "CONNECT", "G", "ag", None), "c")
    # A name the admin cannot see comes back NULL; QUOTENAME(NULL) would make EXEC do nothing.
    with pytest.raises(UserManagementError, match="not visible"):
        server_permission_statement((101, "SERVER_PRINCIPAL", "CONTROL", "G", None, None), "c")
    with pytest.raises(UserManagementError, match="not visible"):
        permission_statement((25, "CERTIFICATE", "CONTROL", "G", None, None, None, None), "c")


def test_permission_replay_refuses_what_it_cannot_render() -> None:
    with pytest.raises(UserManagementError, match="DATABASE_SCOPED_CREDENTIAL"):
        permission_statement((32, "DATABASE_SCOPED_CREDENTIAL", "CONTROL", "G", None, "cred",
                              None, None), "c")  # fmt: skip
    with pytest.raises(UserManagementError, match="permission name"):
        permission_statement((0, "DATABASE", "SELECT; DROP", "G", None, None, None, None), "c")


def test_names_and_passwords_over_128_characters_are_refused(handler: SQLServerHandler) -> None:
    """QUOTENAME would return NULL and EXEC NULL would silently do nothing."""
    assert quotename("x" * 129) is None
    with pytest.raises(UserManagementError, match="name is longer than 128"):
        handler.set_password_statement("x" * 129, "pw", contained=False)
    with pytest.raises(UserManagementError, match="password is longer than 128"):
        handler.set_password_statement("x", "p" * 129, contained=False)


def test_catalog_queries_bind_names(handler: SQLServerHandler) -> None:
    for render in (handler.contained_user_statement, handler.login_exists_statement,
                   handler.database_user_statement, handler.login_user_statement,
                   handler.roles_statement, handler.permissions_statement,
                   handler.server_roles_statement, handler.server_permissions_statement,
                   handler.server_role_admin_statement):  # fmt: skip
        statement = render("o'brien%")
        assert statement.params == ("o'brien%",)
        assert "o'brien" not in statement.sql
        assert statement.sql.count("%s") == 1


def test_secret_engine_values(handler: SQLServerHandler) -> None:
    base = {"host": "h", "username": "u", "password": "p"}
    secret = handler.parse_secret({**base, "engine": "sqlserver"})
    assert (secret.port, secret.dbname) == (1433, "master")
    for edition in ("sqlserver-ex", "sqlserver-web", "sqlserver-se", "sqlserver-ee"):
        handler.parse_secret({**base, "engine": edition}, admin=True)
        with pytest.raises(SecretFormatError):
            handler.parse_secret({**base, "engine": edition})
    assert callable(single_user_handler)
    assert callable(alternating_users_handler)


# -- against the TDS test server --------------------------------------------------------------


def ddl_since(backend: SQLServerBackend, mark: int) -> list[list[Any]]:
    return [tokenize(text) for text in backend.model.statements[mark:]]


def test_old_password_is_the_one_that_logged_in(backend: SQLServerBackend, client: Any) -> None:
    """AWSCURRENT is wrong, AWSPREVIOUS logs in: OLD_PASSWORD must be the previous password."""
    scenario = Scenario(backend, client, unique_name())
    try:
        broken = {**scenario.secret_value, "password": "Wrong-password-123"}
        client.put_secret_value(SecretId=scenario.arn, SecretString=json.dumps(broken))
        mark = len(backend.model.statements)
        driver.rotate(scenario.handler("single"), client, scenario.arn)
        (ddl,) = ddl_since(backend, mark)
        new = scenario.value("AWSCURRENT")["password"]
        assert ddl == ["ALTER", "LOGIN", ("id", scenario.username), "WITH", "PASSWORD", "=",
                       ("lit", new), "OLD_PASSWORD", "=", ("lit", scenario.password)]  # fmt: skip
    finally:
        scenario.cleanup()


def test_contained_database_uses_alter_user_and_create_user_with_password(
    backend: SQLServerBackend, client: Any
) -> None:
    contained = SQLServerBackend(backend.server, backend.ca_file, backend.admin_password,
                                 "containeddb")  # fmt: skip
    scenario = Scenario(contained, client, unique_name())
    try:
        mark = len(backend.model.statements)
        driver.rotate(scenario.handler("single"), client, scenario.arn)
        assert [ddl[:2] for ddl in ddl_since(backend, mark)] == [["ALTER", "USER"]]
        assert scenario.username not in backend.model.logins
    finally:
        scenario.cleanup()
    scenario = Scenario(contained, client, unique_name()).with_admin()
    try:
        mark = len(backend.model.statements)
        driver.rotate(scenario.handler("alternating"), client, scenario.arn)
        statements = ddl_since(backend, mark)
        assert statements[0][:6] == ["CREATE", "USER", ("id", scenario.username + "_clone"),
                                     "WITH", "PASSWORD", "="]  # fmt: skip
        assert not any(ddl[1] == "LOGIN" for ddl in statements)
    finally:
        scenario.cleanup()


def test_alternating_clone_statement_order(backend: SQLServerBackend, client: Any) -> None:
    """Login, password, user, roles, permissions, then server roles and server permissions."""
    scenario = Scenario(backend, client, unique_name()).with_admin()
    try:
        mark = len(backend.model.statements)
        driver.rotate(scenario.handler("alternating"), client, scenario.arn)
        heads = [
            " ".join(t for t in ddl[:2] if isinstance(t, str)) for ddl in ddl_since(backend, mark)
        ]
        assert heads == ["CREATE LOGIN", "ALTER LOGIN", "CREATE USER", "ALTER ROLE", "ALTER ROLE",
                         "GRANT CREATE", "DENY DELETE", "GRANT INSERT", "GRANT UPDATE",
                         "GRANT SELECT", "GRANT VIEW", "ALTER SERVER", "ALTER SERVER",
                         "GRANT CREATE", "DENY VIEW", "GRANT VIEW", "GRANT VIEW"]  # fmt: skip
        # A refresh of an existing clone adds nothing it already has.
        driver.rotate(scenario.handler("alternating"), client, scenario.arn)
        mark = len(backend.model.statements)
        driver.rotate(scenario.handler("alternating"), client, scenario.arn)
        assert [ddl[:2] for ddl in ddl_since(backend, mark)] == [["ALTER", "LOGIN"]]
    finally:
        scenario.cleanup()


def test_test_server_rejects_unexpected_statements(backend: SQLServerBackend) -> None:
    session = {"login": "admin", "database": "appdb"}
    with pytest.raises(TSQLError):
        backend.model.execute(session, "DROP LOGIN [x]")
    with pytest.raises(TSQLError):  # unquoted names are refused
        backend.model.execute(session, "DECLARE @sql nvarchar(max) = N'CREATE LOGIN x WITH "
                              "PASSWORD = N''p'''; EXEC sys.sp_executesql @sql;")  # fmt: skip


# -- connections: login rejection, unreachable servers, TLS ------------------------------------


def secret_for(backend: SQLServerBackend, password: str, **extra: Any) -> Any:
    handler = make_handler(backend.settings())
    value = {"engine": "sqlserver", **backend.connection_fields(), "username": "admin",
             "password": password, **extra}  # fmt: skip
    return handler, handler.parse_secret(value)


def test_wrong_password_is_a_login_failure(backend: SQLServerBackend) -> None:
    handler, secret = secret_for(backend, "wrong'%")
    with pytest.raises(LoginFailedError) as info:
        handler.open_connection(secret, TLS(TLSMode.VERIFIED, backend.ca_file))
    assert "wrong" not in str(info.value)


def test_closed_port_is_a_connect_error(handler: SQLServerHandler) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    secret = handler.parse_secret({"engine": "sqlserver", "host": "127.0.0.1", "port": port,
                                   "username": "u", "password": "p"})  # fmt: skip
    with pytest.raises(ConnectError) as info:
        handler.open_connection(secret, TLS(TLSMode.PLAINTEXT))
    assert not isinstance(info.value, LoginFailedError)


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accept connections and never answer."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def test_silent_server_times_out_within_the_connect_timeout(
    handler: SQLServerHandler, silent_server: int
) -> None:
    where = {"host": "127.0.0.1", "port": silent_server}
    secret = handler.parse_secret(
        {"engine": "sqlserver", **where, "username": "u", "password": "p"}
    )
    started = time.monotonic()
    with pytest.raises(ConnectError) as info:
        handler.open_connection(secret, TLS(TLSMode.PLAINTEXT))
    assert not isinstance(info.value, LoginFailedError)
    # Generous bound (connect_timeout=1; FreeTDS counts whole seconds): it must end, not race.
    assert time.monotonic() - started < 15


@pytest.fixture
def other_server(tls_ca: tuple[trustme.CA, str]) -> Iterator[TDSServer]:
    """A server whose certificate names another host, from the trusted CA."""
    server = TDSServer(backend_model(), certificate_for(tls_ca[0], "db.example.com")).start()
    yield server
    server.stop()


def backend_model() -> Any:
    from tests.engines.sqlserver.conftest import ADMIN_PASSWORD
    from tests.engines.sqlserver.model import SQLServerModel

    return SQLServerModel(ADMIN_PASSWORD)


def test_tls_verifies_the_chain(backend: SQLServerBackend, tmp_path: Any) -> None:
    stranger = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(stranger))
    handler, secret = secret_for(backend, backend.admin_password)
    with pytest.raises(ConnectError) as info:
        handler.open_connection(secret, TLS(TLSMode.VERIFIED, str(stranger)))
    assert not isinstance(info.value, LoginFailedError)
    handler.close_connection(
        handler.open_connection(secret, TLS(TLSMode.VERIFIED, backend.ca_file))
    )


def test_tls_verifies_the_host_name(backend: SQLServerBackend, other_server: TDSServer) -> None:
    handler = make_handler(backend.settings())
    secret = handler.parse_secret({"engine": "sqlserver", "host": "127.0.0.1",
                                   "port": other_server.port, "username": "admin",
                                   "password": backend.admin_password})  # fmt: skip
    with pytest.raises(ConnectError):
        handler.open_connection(secret, TLS(TLSMode.VERIFIED, backend.ca_file))
    # The same server in plaintext admits the login: the refusal above was the host name.
    handler.close_connection(handler.open_connection(secret, TLS(TLSMode.PLAINTEXT)))


def test_freetds_configuration_is_restored(backend: SQLServerBackend) -> None:
    handler, secret = secret_for(backend, backend.admin_password)
    before = os.environ.get("FREETDSCONF")
    handler.close_connection(
        handler.open_connection(secret, TLS(TLSMode.VERIFIED, backend.ca_file))
    )
    assert os.environ.get("FREETDSCONF") == before


def test_driver_errors_are_described_without_freetds_noise(handler: SQLServerHandler) -> None:
    query_error = pymssql.OperationalError(15151, b"Cannot alter.DB-Lib error message 20018, x")
    login_error = pymssql.OperationalError((18456, b"Login failed for user 'u'.DB-Lib error"))
    assert handler.describe_error(query_error) == "15151: Cannot alter."
    assert handler.is_login_rejection(login_error)
    assert not handler.is_login_rejection(query_error)
    assert handler.error_code(pymssql.OperationalError("no number")) is None
    # pymssql keeps the last server message number of the process: a later unreachable
    # server is reported with a stale 18456, which must not count as a rejected login.
    stale = pymssql.OperationalError((18456, b"DB-Lib error message 20009, severity 9:\nUnable"))
    assert not handler.is_login_rejection(stale)
    assert handler.error_code(stale) == "20009"
    bare = pymssql.OperationalError((18456, b"DB-Lib error message 20018, severity 14:\nGen"))
    assert handler.is_login_rejection(bare)
