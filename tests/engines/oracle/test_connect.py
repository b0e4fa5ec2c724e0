"""How the Oracle engine connects: Easy Connect parameters, TCPS, timeouts and error mapping.

The last tests use the real python-oracledb driver over real sockets (no patch): a closed port,
and a local TLS listener presenting test certificates, to prove that the TCPS settings verify
the chain and the host name in the driver itself.
"""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import oracledb
import pytest
import trustme

from rotation.core.database import TLS, TLSMode
from rotation.core.errors import ConnectError, LoginFailedError, SecretFormatError
from tests.engines.oracle.conftest import MakeHandler
from tests.engines.oracle.fake import cannot_connect, ora_error

SECRET = {"engine": "oracle", "host": "db.example", "username": "app", "password": "Pw-1;x%",
          "dbname": "ORCLPDB1"}  # fmt: skip


def options(make_handler: MakeHandler, secret: dict[str, Any], **settings: Any) -> dict[str, Any]:
    handler = make_handler(**settings)
    parsed = handler.parse_secret(secret)
    return handler.connect_options(parsed, handler.tls_attempts(parsed)[0])


def test_plaintext_uses_easy_connect_with_the_service_name(make_handler: MakeHandler) -> None:
    got = options(make_handler, {**SECRET, "ssl": "false", "port": "1600"}, connect_timeout=3.5)
    assert got == {"user": "app", "password": "Pw-1;x%", "host": "db.example", "port": 1600,
                   "service_name": "ORCLPDB1", "protocol": "tcp", "tcp_connect_timeout": 3.5,
                   "retry_count": 0}  # fmt: skip


@pytest.mark.parametrize(("extra", "port"), [({}, 2484), ({"ssl_port": "2485"}, 2485)])
def test_tls_is_tcps_on_its_own_port_with_a_verified_certificate(
    make_handler: MakeHandler, tmp_path: Path, extra: dict[str, Any], port: int
) -> None:
    ca = trustme.CA()
    ca_path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    got = options(make_handler, {**SECRET, "port": 1521, **extra}, tls_ca_file=str(ca_path))
    assert (got["protocol"], got["port"], got["ssl_server_dn_match"]) == ("tcps", port, True)
    context = got["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.get_ca_certs(binary_form=True) == [
        ssl.PEM_cert_to_DER_cert(ca.cert_pem.bytes().decode())
    ]
    assert got["tcp_connect_timeout"] == 5.0


@pytest.mark.parametrize("bad", ["0", "70000", "port", True, 2484.5])
def test_a_bad_ssl_port_is_refused(make_handler: MakeHandler, bad: Any) -> None:
    with pytest.raises(SecretFormatError, match="ssl_port"):
        make_handler().parse_secret({**SECRET, "ssl_port": bad})


@pytest.mark.parametrize(
    ("error", "expected", "text"),
    [
        (ora_error(1017, "invalid credential or not authorized; logon denied"), LoginFailedError,
         "rejected the login of user 'app'"),
        (ora_error(28000, "The account is locked."), ConnectError,
         "ORA-28000: The account is locked."),
        (ora_error(28001, "the password has expired"), ConnectError, "ORA-28001"),
        (cannot_connect("[Errno 111] Connection refused"), ConnectError,
         "db.example:2484 (TCPS): DPY-6005: cannot connect to database (CONNECTION_ID=fake). / "
         "[Errno 111] Connection refused"),
    ],
)  # fmt: skip
def test_driver_errors_are_mapped(
    make_handler: MakeHandler,
    monkeypatch: pytest.MonkeyPatch,
    error: oracledb.Error,
    expected: type[Exception],
    text: str,
) -> None:
    def refuse(**_: Any) -> None:
        raise error

    monkeypatch.setattr(oracledb, "connect", refuse)
    handler = make_handler()
    with pytest.raises(ConnectError) as raised:
        handler.open_connection(handler.parse_secret(SECRET), TLS(TLSMode.VERIFIED))
    assert type(raised.value) is expected
    assert text in str(raised.value)
    assert "Help:" not in str(raised.value)
    assert SECRET["password"] not in str(raised.value)
    assert raised.value.__cause__ is error


def test_a_closed_port_is_a_connect_error_with_the_real_driver(make_handler: MakeHandler) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    handler = make_handler(connect_timeout=2.0)
    secret = handler.parse_secret({**SECRET, "host": "127.0.0.1", "port": port, "ssl": False})
    with pytest.raises(ConnectError) as raised:
        handler.open_connection(secret, TLS(TLSMode.PLAINTEXT))
    assert not isinstance(raised.value, LoginFailedError)
    assert "DPY-6005" in str(raised.value)


class TLSListener:
    """Accept one connection, complete a TLS handshake as ``cert_host``, read, then hang up."""

    def __init__(self, ca: trustme.CA, cert_host: str) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(cert_host).configure_cert(self.context)
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self.first_bytes: bytes | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        try:
            with self.context.wrap_socket(conn, server_side=True) as tls:
                self.first_bytes = tls.recv(16)
        except (OSError, ssl.SSLError):
            conn.close()
        finally:
            self.sock.close()


@pytest.fixture
def test_ca(tmp_path: Path) -> tuple[trustme.CA, Path]:
    ca = trustme.CA()
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, path


@pytest.mark.parametrize(
    ("cert_host", "trusted", "reason"),
    [
        ("localhost", True, "DPY-4011"),  # TLS done, TNS CONNECT sent, then hung up on
        ("other.example", True, "DPY-6006"),  # certificate for another host name
        ("localhost", False, "CERTIFICATE_VERIFY_FAILED"),  # CA not trusted
    ],
)
def test_tcps_verifies_chain_and_host_name_with_the_real_driver(
    make_handler: MakeHandler,
    test_ca: tuple[trustme.CA, Path],
    cert_host: str,
    trusted: bool,
    reason: str,
) -> None:
    ca, ca_path = test_ca
    listener = TLSListener(ca, cert_host)
    other = trustme.CA()
    if not trusted:
        ca_path = ca_path.with_name("other.pem")
        other.cert_pem.write_to_path(str(ca_path))
    handler = make_handler(connect_timeout=3.0, tls_ca_file=str(ca_path))
    secret = handler.parse_secret({**SECRET, "host": "localhost", "ssl_port": listener.port})
    with pytest.raises(ConnectError) as raised:
        handler.open_connection(secret, handler.tls_attempts(secret)[0])
    listener.thread.join(5)
    assert reason in str(raised.value)
    assert f"localhost:{listener.port} (TCPS)" in str(raised.value)
    # Only a verified chain and host name let the driver send its TNS CONNECT packet (type 1).
    assert bool(listener.first_bytes) == (reason == "DPY-4011")
    if listener.first_bytes:
        assert listener.first_bytes[4] == 1
