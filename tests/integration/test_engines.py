"""Engine behaviour on the real servers beyond the conformance suite: TLS, timeouts, errors."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import trustme
from moto import mock_aws

from rotation.core.config import Settings
from rotation.core.database import TLS, DatabaseHandler, TLSMode
from rotation.core.errors import ConnectError, LoginFailedError, UserManagementError
from rotation.core.secret import DatabaseSecret
from rotation.engines.mariadb import MariaDBHandler
from rotation.engines.postgresql import PostgreSQLHandler
from rotation.testing import secretsmanager as sm
from rotation.testing.servers import MariaDBServer, PostgreSQLServer
from tests.conftest import RunningServer
from tests.integration.backends import APP_DATABASE, MariaDBBackend, PostgreSQLBackend


@pytest.fixture
def client() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


@pytest.fixture
def other_ca(tmp_path: Any) -> str:
    """Return a CA file that did not sign the servers' certificates."""
    path = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="module")
def pg(postgresql_server: RunningServer) -> PostgreSQLBackend:
    return PostgreSQLBackend(postgresql_server)


@pytest.fixture(scope="module")
def maria(mariadb_server: RunningServer) -> MariaDBBackend:
    return MariaDBBackend(mariadb_server)


def admin_secret(backend: Any, cls: type[DatabaseHandler[Any]], **overrides: Any) -> DatabaseSecret:
    user, password = backend.admin_login()
    value = {
        "engine": backend.engine_value,
        **backend.connection_fields(),
        "username": user,
        "password": password,
        **overrides,
    }
    return DatabaseSecret.parse(value, cls)


def tls_session(handler: Any, conn: Any) -> bool:
    if isinstance(handler, PostgreSQLHandler):
        rows = handler.execute(conn, _pg_ssl_query())
        return bool(rows[0][0])
    rows = handler.execute(conn, _maria_ssl_query())
    return bool(rows and rows[0][1])


def _pg_ssl_query() -> Any:
    from rotation.engines._dbapi import Statement

    return Statement("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", None, "tls")


def _maria_ssl_query() -> Any:
    from rotation.engines._dbapi import Statement

    return Statement("SHOW STATUS LIKE 'Ssl_cipher'", None, "tls")


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
class TestTLS:
    def backend_and_class(self, request: pytest.FixtureRequest, engine: str) -> tuple[Any, Any]:
        if engine == "postgresql":
            return request.getfixturevalue("pg"), PostgreSQLHandler
        return request.getfixturevalue("maria"), MariaDBHandler

    def test_verified_tls_by_default(
        self, request: pytest.FixtureRequest, client: Any, engine: str
    ) -> None:
        backend, cls = self.backend_and_class(request, engine)
        handler = cls(settings=backend.settings(), client=client)
        secret = admin_secret(backend, cls, ssl=None)
        with handler.connect(secret) as conn:
            assert tls_session(handler, conn)

    def test_ssl_false_is_plaintext(
        self, request: pytest.FixtureRequest, client: Any, engine: str
    ) -> None:
        backend, cls = self.backend_and_class(request, engine)
        handler = cls(settings=backend.settings(), client=client)
        with handler.connect(admin_secret(backend, cls, ssl=False)) as conn:
            assert not tls_session(handler, conn)

    def test_untrusted_certificate_is_refused(
        self, request: pytest.FixtureRequest, client: Any, engine: str, other_ca: str
    ) -> None:
        backend, cls = self.backend_and_class(request, engine)
        handler = cls(settings=Settings(tls_ca_file=other_ca), client=client)
        with (
            pytest.raises(ConnectError) as caught,
            handler.connect(admin_secret(backend, cls, ssl=True)),
        ):
            pass
        assert not isinstance(caught.value, LoginFailedError)

    def test_host_name_is_checked(self, client: Any, engine: str) -> None:
        """A certificate from the trusted CA, but for another host name, is refused."""
        factory = PostgreSQLServer if engine == "postgresql" else MariaDBServer
        cls = PostgreSQLHandler if engine == "postgresql" else MariaDBHandler
        with factory(cert_names=("db.example",)) as info:
            value = {
                "engine": "postgres" if engine == "postgresql" else "mariadb",
                "host": info.host,
                "port": info.port,
                "username": info.admin_user,
                "password": info.admin_password,
                "ssl": True,
            }
            secret = DatabaseSecret.parse(value, cls)
            handler = cls(settings=Settings(tls_ca_file=info.ca_file), client=client)
            with pytest.raises(ConnectError) as caught, handler.connect(secret):
                pass
            assert not isinstance(caught.value, LoginFailedError)
            plain = cls(settings=Settings(tls_ca_file=info.ca_file), client=client)
            with plain.connect(DatabaseSecret.parse({**value, "ssl": False}, cls)):
                pass  # the server itself is fine: only the name check failed

    def test_no_fallback_to_plaintext_unless_allowed(
        self, request: pytest.FixtureRequest, client: Any, engine: str, other_ca: str
    ) -> None:
        backend, cls = self.backend_and_class(request, engine)
        strict = cls(settings=Settings(tls_ca_file=other_ca), client=client)
        with pytest.raises(ConnectError), strict.connect(admin_secret(backend, cls, ssl=None)):
            pass
        lenient = cls(
            settings=Settings(tls_ca_file=other_ca, tls_allow_plaintext_fallback=True),
            client=client,
        )
        with lenient.connect(admin_secret(backend, cls, ssl=None)) as conn:
            assert not tls_session(lenient, conn)


def test_rotation_falls_back_to_plaintext_on_a_server_without_tls_when_allowed(
    client: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    with PostgreSQLServer(tls=False) as info:
        value = {
            "engine": "postgres",
            "host": info.host,
            "port": info.port,
            "username": info.admin_user,
            "password": info.admin_password,
        }
        arn = client.create_secret(Name="plain", SecretString=json.dumps(value))["ARN"]
        with pytest.raises(ConnectError):
            sm.rotate(PostgreSQLHandler(settings=Settings(), client=client), client, arn)
        lenient = PostgreSQLHandler(
            settings=Settings(tls_allow_plaintext_fallback=True), client=client
        )
        sm.rotate(lenient, client, arn)
    assert "falling back to PLAINTEXT" in capfd.readouterr().out


@pytest.mark.parametrize(
    ("cls", "engine"), [(PostgreSQLHandler, "postgres"), (MariaDBHandler, "mariadb")]
)
def test_connect_timeout_is_bounded(client: Any, cls: Any, engine: str) -> None:
    """A port that accepts but never answers fails within the configured timeout."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        handler = cls(settings=Settings(connect_timeout=2), client=client)
        value = {
            "engine": engine,
            "host": "127.0.0.1",
            "port": port,
            "username": "u",
            "password": "p",
            "ssl": False,
        }
        started = time.monotonic()
        with (
            pytest.raises(ConnectError) as caught,
            handler.connect(DatabaseSecret.parse(value, cls)),
        ):
            pass
        # Generous bound: the point is that it ends, not how fast.
        assert time.monotonic() - started < 30
        assert not isinstance(caught.value, LoginFailedError)


def test_wrong_password_is_a_login_failure(
    pg: PostgreSQLBackend, maria: MariaDBBackend, client: Any
) -> None:
    for backend, cls in ((pg, PostgreSQLHandler), (maria, MariaDBHandler)):
        handler = cls(settings=backend.settings(), client=client)
        with (
            pytest.raises(LoginFailedError),
            handler.connect(admin_secret(backend, cls, password="Wrong-password-1")),
        ):
            pass


def test_driver_errors_are_wrapped_without_sql_or_password(
    pg: PostgreSQLBackend, client: Any
) -> None:
    """An admin without CREATEROLE: the statement fails, the error names only the action."""
    password = "Weak-admin-password-1"
    pg.create_user("weakadmin", password)
    try:
        handler = PostgreSQLHandler(settings=pg.settings(), client=client)
        secret = DatabaseSecret.parse(
            {
                "engine": "postgres",
                **pg.connection_fields(),
                "username": "weakadmin",
                "password": password,
            },
            PostgreSQLHandler,
        )
        with handler.connect(secret) as conn, pytest.raises(UserManagementError) as caught:
            handler.create_user_like(conn, "victim_clone", "weakadmin", "New-password-123")
        message = str(caught.value)
        assert message.startswith("CREATE ROLE failed: 42501")
        assert "New-password-123" not in message
        assert "SCRAM" not in message
        assert 'CREATE ROLE "' not in message
        assert caught.value.__cause__ is not None
    finally:
        pg.drop_user("weakadmin")


def test_postgresql_statement_log_never_sees_a_plain_password(
    pg: PostgreSQLBackend, client: Any
) -> None:
    pg.create_user("logged", "Initial-password-1")
    try:
        value = {
            "engine": "postgres",
            **pg.connection_fields(),
            "username": "logged",
            "password": "Initial-password-1",
        }
        arn = client.create_secret(Name="logged", SecretString=json.dumps(value))["ARN"]
        sm.rotate(PostgreSQLHandler(settings=pg.settings(), client=client), client, arn)
        new_password = json.loads(sm.value_at(client, arn, "AWSCURRENT"))["password"]
        log = pg.server.owner.log_text() if pg.server.owner else ""
        if not log:
            pytest.skip("the server log is not readable (external server)")
        assert 'ALTER ROLE "logged" WITH PASSWORD \'SCRAM-SHA-256$4096:' in log
        assert new_password not in log
    finally:
        pg.drop_user("logged")


def test_postgresql_statements_quote_hostile_names(pg: PostgreSQLBackend, client: Any) -> None:
    handler = PostgreSQLHandler(settings=pg.settings(), client=client)
    with handler.connect(admin_secret(pg, PostgreSQLHandler)) as conn:
        text = handler.alter_password_statement('a"b; DROP ROLE x', "pw'1").sql.as_string(conn)
        grant = handler.grant_membership_statement('o"rig', "c'lone").sql.as_string(conn)
    assert text.startswith('ALTER ROLE "a""b; DROP ROLE x" WITH PASSWORD \'SCRAM-SHA-256$')
    assert grant == 'GRANT "o""rig" TO "c\'lone"'


def test_mariadb_reports_its_real_user_name_limit(maria: MariaDBBackend, client: Any) -> None:
    handler = MariaDBHandler(settings=maria.settings(), client=client)
    with handler.connect(admin_secret(maria, MariaDBHandler)) as conn:
        assert handler.username_limit(conn) == 128


def test_mariadb_clone_copies_tls_requirement_and_every_host(
    maria: MariaDBBackend, client: Any
) -> None:
    with maria.admin_connection() as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE USER 'multi'@'10.0.0.%' IDENTIFIED BY 'Initial-password-1' REQUIRE X509"
        )
        cur.execute(f"GRANT SELECT ON {APP_DATABASE}.* TO 'multi'@'10.0.0.%'")
        cur.execute("CREATE USER 'multi'@'%' IDENTIFIED BY 'Initial-password-1'")
    try:
        handler = MariaDBHandler(settings=maria.settings(), client=client)
        with handler.connect(admin_secret(maria, MariaDBHandler)) as conn:
            handler.create_user_like(conn, "multi_clone", "multi", "Clone-password-12")
        with maria.admin_connection() as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT Host, ssl_type FROM mysql.user WHERE User = 'multi_clone' ORDER BY Host"
            )
            assert cur.fetchall() == (("%", ""), ("10.0.0.%", "X509"))
            cur.execute("SHOW GRANTS FOR 'multi_clone'@'10.0.0.%'")
            assert any(f"SELECT ON `{APP_DATABASE}`.*" in row[0] for row in cur.fetchall())
    finally:
        with maria.admin_connection() as conn, conn.cursor() as cur:
            for user in ("multi", "multi_clone"):
                for host in ("%", "10.0.0.%"):
                    cur.execute("DROP USER IF EXISTS %s@%s", (user, host))


def test_tls_mode_objects() -> None:
    assert TLS(TLSMode.VERIFIED).enabled
    assert not TLS(TLSMode.PLAINTEXT).enabled
