"""What every SQL engine does alike on the real servers: TLS, bounded connects, login errors.

Engine-specific behaviour on the servers lives in ``tests/engines/<engine>/test_engine.py``.
"""

from __future__ import annotations

import json
import socket
import time
from typing import Any

import pytest

from rotation.core.config import Settings
from rotation.core.database import TLS, TLSMode
from rotation.core.errors import ConnectError, LoginFailedError
from rotation.core.secret import DatabaseSecret
from rotation.engines.mariadb import MariaDBHandler
from rotation.engines.postgresql import PostgreSQLHandler
from rotation.local import driver
from rotation.local.servers import MariaDBServer, PostgreSQLServer
from tests.engines.mariadb.backend import MariaDBBackend
from tests.engines.postgresql.backend import PostgreSQLBackend
from tests.engines.support import admin_secret


def tls_session(handler: Any, conn: Any) -> bool:
    if isinstance(handler, PostgreSQLHandler):
        rows = handler.execute(conn, _pg_ssl_query())
        return bool(rows[0][0])
    rows = handler.execute(conn, _maria_ssl_query())
    return bool(rows and rows[0][1])


def _pg_ssl_query() -> Any:
    from rotation.engines.dbapi import Statement

    return Statement("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", None, "tls")


def _maria_ssl_query() -> Any:
    from rotation.engines.dbapi import Statement

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
        # The error says what to do: which bundle was used, and that RDS needs its own CAs.
        message = str(caught.value)
        assert f"the server's certificate is not signed by a CA in {other_ca}" in message
        assert "global RDS bundle" in message
        assert "README#tls" in message
        assert caught.value.__cause__ is not None  # the driver's error, kept

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
            # The CA is trusted: the error must not send the user looking for another bundle.
            assert "not signed by a CA" not in str(caught.value)
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
            driver.rotate(PostgreSQLHandler(settings=Settings(), client=client), client, arn)
        lenient = PostgreSQLHandler(
            settings=Settings(tls_allow_plaintext_fallback=True), client=client
        )
        driver.rotate(lenient, client, arn)
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


def test_tls_mode_objects() -> None:
    assert TLS(TLSMode.VERIFIED).enabled
    assert not TLS(TLSMode.PLAINTEXT).enabled
