"""How the Oracle engine connects: Easy Connect parameters, TCPS, timeouts and error mapping.

The last tests use the real python-oracledb driver over real sockets (no patch): a closed port,
and a local TLS listener presenting test certificates, to prove that the TCPS settings verify
the chain and the host name in the driver itself.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import oracledb
import pytest
import trustme

from rotation.cli import main
from rotation.core.config import Settings
from rotation.core.database import TLS, TLSMode
from rotation.core.errors import (
    ConfigurationError,
    ConnectError,
    LoginFailedError,
    SecretFormatError,
)
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
    """Accept one connection, complete a TLS handshake as ``cert_host``, read, then hang up.

    ``configure`` restricts the server's protocol versions and cipher suites, as an Oracle SSL
    option does; RSA suites need an RSA certificate (``key_type``).
    """

    def __init__(
        self,
        ca: trustme.CA,
        cert_host: str,
        configure: Callable[[ssl.SSLContext], None] | None = None,
        key_type: trustme.KeyType = trustme.KeyType.ECDSA,
    ) -> None:
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(cert_host, key_type=key_type).configure_cert(self.context)
        if configure is not None:
            configure(self.context)
        self.negotiated: tuple[str | None, str | None] = (None, None)
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
                cipher = tls.cipher()
                self.negotiated = (tls.version(), cipher[0] if cipher else None)
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


# -- servers configured like the RDS for Oracle SSL option -------------------------------------
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.Oracle.Options.SSL.html:
# SQLNET.SSL_VERSION "1.0", "1.2" or "1.2 or 1.0" (existing options were set to "1.0"), and
# SQLNET.CIPHER_SUITE SSL_RSA_WITH_AES_256_CBC_SHA (OpenSSL: AES256-SHA) by default.


def tls_1_0_only(context: ssl.SSLContext) -> None:
    """SQLNET.SSL_VERSION 1.0 with the default suite (OpenSSL 3 needs level 0 for TLS 1.0)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # ssl.TLSVersion.TLSv1 itself
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1
    context.set_ciphers("AES256-SHA:@SECLEVEL=0")


def default_suite_tls_1_2(context: ssl.SSLContext) -> None:
    """SQLNET.SSL_VERSION 1.2 with the default SSL_RSA_WITH_AES_256_CBC_SHA."""
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("AES256-SHA")


def default_suite_1_2_or_1_0(context: ssl.SSLContext) -> None:
    """SQLNET.SSL_VERSION "1.2 or 1.0" with the default suite."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("AES256-SHA:@SECLEVEL=0")


def ecdhe_tls_1_2(context: ssl.SSLContext) -> None:
    """The settings we recommend: TLS 1.2 with TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384."""
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers("ECDHE-RSA-AES256-GCM-SHA384")


@pytest.fixture
def rsa_ca(tmp_path: Path) -> tuple[trustme.CA, Path]:
    """Provide an RSA test CA (TLS_ECDHE_RSA_ and SSL_RSA_ suites need RSA certificates)."""
    ca = trustme.CA(key_type=trustme.KeyType.RSA)
    path = tmp_path / "rsa-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ca, path


def connect_to(
    make_handler: MakeHandler,
    ca: tuple[trustme.CA, Path],
    configure: Callable[[ssl.SSLContext], None],
    **settings: Any,
) -> tuple[TLSListener, str]:
    """Connect to a listener configured like an SSL option; return it and the error."""
    listener = TLSListener(ca[0], "localhost", configure, key_type=trustme.KeyType.RSA)
    handler = make_handler(connect_timeout=3.0, tls_ca_file=str(ca[1]), **settings)
    secret = handler.parse_secret({**SECRET, "host": "localhost", "ssl_port": listener.port})
    # The listener hangs up after the handshake, so even a good handshake ends in an error.
    with pytest.raises(ConnectError) as raised:
        handler.open_connection(secret, handler.tls_attempts(secret)[0])
    listener.thread.join(5)
    assert SECRET["password"] not in str(raised.value)
    return listener, str(raised.value)


OPTION_GROUP = (
    "SQLNET.SSL_VERSION 1.2 and SQLNET.CIPHER_SUITE TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
)


@pytest.mark.parametrize("legacy", [False, True])
def test_a_tls_1_0_server_is_refused_naming_the_option_group_settings(
    make_handler: MakeHandler, rsa_ca: tuple[trustme.CA, Path], legacy: bool
) -> None:
    listener, error = connect_to(
        make_handler, rsa_ca, tls_1_0_only, oracle_tls_legacy_ciphers=legacy
    )
    assert "TLSV1_ALERT_PROTOCOL_VERSION" in error
    assert "no TLS version this client accepts" in error
    assert "TLS 1.0 is never accepted" in error
    assert OPTION_GROUP in error
    assert listener.first_bytes is None  # no TNS packet left the client


@pytest.mark.parametrize("configure", [default_suite_tls_1_2, default_suite_1_2_or_1_0])
def test_the_rds_default_cipher_suite_is_refused_naming_the_option_group_settings(
    make_handler: MakeHandler,
    rsa_ca: tuple[trustme.CA, Path],
    configure: Callable[[ssl.SSLContext], None],
) -> None:
    listener, error = connect_to(make_handler, rsa_ca, configure)
    assert "SSLV3_ALERT_HANDSHAKE_FAILURE" in error
    assert "defaults to SQLNET.CIPHER_SUITE SSL_RSA_WITH_AES_256_CBC_SHA" in error
    assert OPTION_GROUP in error
    assert "ROTATION_ORACLE_TLS_LEGACY_CIPHERS=true" in error
    assert listener.first_bytes is None


def test_the_recommended_settings_connect_with_default_tls(
    make_handler: MakeHandler, rsa_ca: tuple[trustme.CA, Path]
) -> None:
    listener, error = connect_to(make_handler, rsa_ca, ecdhe_tls_1_2)
    # TLS done, TNS CONNECT (packet type 1) sent, then the listener hung up.
    assert "DPY-4011" in error
    assert "SQLNET" not in error
    assert listener.negotiated == ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384")
    assert listener.first_bytes is not None
    assert listener.first_bytes[4] == 1


@pytest.mark.parametrize("configure", [default_suite_tls_1_2, default_suite_1_2_or_1_0])
def test_the_legacy_setting_accepts_the_rds_default_suite_over_tls_1_2_with_a_warning(
    make_handler: MakeHandler,
    rsa_ca: tuple[trustme.CA, Path],
    capfd: pytest.CaptureFixture[str],
    configure: Callable[[ssl.SSLContext], None],
) -> None:
    capfd.readouterr()
    for attempt in range(2):
        listener, error = connect_to(
            make_handler, rsa_ca, configure, oracle_tls_legacy_ciphers=True
        )
        assert "DPY-4011" in error, attempt
        assert listener.negotiated == ("TLSv1.2", "AES256-SHA")
        assert listener.first_bytes is not None
        assert listener.first_bytes[4] == 1
    logs = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line[:1] == "{"]
    warned = [log for log in logs if log["level"] == "WARNING"]
    assert len(warned) == 2  # on every connection, not once per container
    assert "ROTATION_ORACLE_TLS_LEGACY_CIPHERS is set" in warned[0]["message"]
    assert "AES256-SHA" in warned[0]["message"]


def test_without_the_setting_the_client_offers_no_rsa_key_exchange(
    make_handler: MakeHandler, tmp_path: Path
) -> None:
    """Our default context is Python's: TLS 1.2+, forward-secret suites only."""
    ca = trustme.CA()
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    strict = options(make_handler, SECRET, tls_ca_file=str(path))["ssl_context"]
    legacy = options(make_handler, SECRET, tls_ca_file=str(path), oracle_tls_legacy_ciphers=True)
    names = {suite["name"] for suite in strict.get_ciphers()}
    assert not names & {"AES256-SHA", "AES256-SHA256", "AES256-GCM-SHA384"}
    assert strict.minimum_version == ssl.TLSVersion.TLSv1_2
    legacy_context = legacy["ssl_context"]
    added = {suite["name"] for suite in legacy_context.get_ciphers()} - names
    assert added == {"AES256-SHA", "AES256-SHA256", "AES256-GCM-SHA384"}
    assert legacy_context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert legacy_context.verify_mode == ssl.CERT_REQUIRED


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("YES", True), ("0", False)])
def test_the_legacy_setting_is_read_from_the_environment(raw: str, expected: bool) -> None:
    env = {"ROTATION_ORACLE_TLS_LEGACY_CIPHERS": raw}
    assert Settings.from_env(env).oracle_tls_legacy_ciphers is expected
    assert Settings.from_env({}).oracle_tls_legacy_ciphers is False
    with pytest.raises(ConfigurationError, match="ROTATION_ORACLE_TLS_LEGACY_CIPHERS"):
        Settings.from_env({"ROTATION_ORACLE_TLS_LEGACY_CIPHERS": "sometimes"})


def test_rotation_check_names_the_option_group_settings_when_the_handshake_fails(
    rsa_ca: tuple[trustme.CA, Path],
    client: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``rotation check`` on a secret whose server keeps RDS's default SSL option settings."""
    listener = TLSListener(
        rsa_ca[0], "localhost", default_suite_tls_1_2, key_type=trustme.KeyType.RSA
    )
    value = {**SECRET, "host": "localhost", "ssl_port": listener.port}
    arn = client.create_secret(Name="app", SecretString=json.dumps(value))["ARN"]
    monkeypatch.setenv("ROTATION_CONNECT_TIMEOUT", "3")
    code = main(["check", arn, "--region", "us-east-1", "--output", "json",
                 "--ca-file", str(rsa_ca[1])])  # fmt: skip
    listener.thread.join(5)
    out = capsys.readouterr().out
    assert code == 1
    assert SECRET["password"] not in out
    checks = {check["name"]: check for check in json.loads(out)["checks"]}
    assert checks["reachable"]["status"] == "fail"
    assert OPTION_GROUP in checks["reachable"]["detail"]
    assert "SSL_RSA_WITH_AES_256_CBC_SHA" in checks["reachable"]["detail"]
