"""``rotation check`` against real PostgreSQL and MariaDB servers, with moto for Secrets Manager.

Every test also proves the check changed nothing: the secret's versions, labels and values,
the user's password, the absence of a clone, and the server's count of failed logins.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from psycopg2 import sql

from rotation.cli import main
from rotation.core.config import Settings
from rotation.core.password import generate_password
from rotation.testing.conformance import unique_name
from tests.conftest import RunningServer
from tests.core.moto_rds import managed_instance, store_credentials
from tests.engines.mariadb.backend import MariaDBBackend
from tests.engines.mysql.backend import MySQLOnMariaDBBackend
from tests.engines.postgresql.backend import PostgreSQLBackend

# The servers are chosen per parameter (request.getfixturevalue), which the fixture-based
# marking in tests/conftest.py cannot see.
pytestmark = pytest.mark.integration

REGION = "us-east-1"
Backend = PostgreSQLBackend | MariaDBBackend


@pytest.fixture(params=["postgresql", "mariadb"])
def backend(request: pytest.FixtureRequest) -> Backend:
    server: RunningServer = request.getfixturevalue(f"{request.param}_server")
    return PostgreSQLBackend(server) if request.param == "postgresql" else MariaDBBackend(server)


class Case:
    """A user with its secret (and optionally an admin secret) on one server."""

    def __init__(self, backend: Backend, client: Any) -> None:
        self.backend = backend
        self.client = client
        self.username = unique_name("chk")
        policy = Settings().password_policy(backend.handler_class.password_defaults)
        self.password = generate_password(policy)
        backend.create_user(self.username, self.password)
        self.value: dict[str, Any] = {
            "engine": backend.engine_value,
            **backend.connection_fields(),
            "username": self.username,
            "password": self.password,
        }
        self.arn = client.create_secret(Name=self.username, SecretString=json.dumps(self.value))[
            "ARN"
        ]
        self.extra_users: list[str] = []

    def put(self, value: dict[str, Any]) -> None:
        self.value = value
        self.client.put_secret_value(SecretId=self.arn, SecretString=json.dumps(value))

    def with_admin(self, username: str, password: str) -> str:
        admin = {**self.value, "username": username, "password": password}
        admin_arn: str = self.client.create_secret(
            Name=f"{self.username}-admin", SecretString=json.dumps(admin)
        )["ARN"]
        self.put({**self.value, "masterarn": admin_arn})
        return admin_arn

    def snapshot(self) -> dict[str, Any]:
        """Return every version's labels and value, and the server-side facts check must keep."""
        stages = self.client.describe_secret(SecretId=self.arn)["VersionIdsToStages"]
        values = {v: self.client.get_secret_value(SecretId=self.arn, VersionId=v)["SecretString"]
                  for v in stages}  # fmt: skip
        return {"stages": stages, "values": values,
                "password_works": self.backend.can_login(self.username, self.password),
                "clone_exists": self.user_exists(self.username + "_clone")}  # fmt: skip

    def user_exists(self, name: str) -> bool:
        handler = self.backend.handler_class(settings=self.backend.settings(), client=self.client)
        admin_user, admin_password = self.backend.admin_login()
        admin = handler.parse_secret({"engine": self.backend.engine_value,
                                      **self.backend.connection_fields(), "username": admin_user,
                                      "password": admin_password}, admin=True)  # fmt: skip
        with handler.connect(admin) as conn:
            return handler.user_exists(conn, name)

    def check(self, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
        ca = self.backend.info.ca_file
        code = main(["check", *args, "--region", REGION, "--output", "json",
                     *(["--ca-file", ca] if ca else [])])  # fmt: skip
        captured = capsys.readouterr()
        doc: dict[str, Any] = json.loads(captured.out)
        assert "Traceback" not in captured.err
        assert self.password not in captured.out + captured.err
        return code, doc

    def cleanup(self) -> None:
        for name in (self.username, self.username + "_clone", *self.extra_users):
            self.backend.drop_user(name)


@pytest.fixture
def case(backend: Backend, client: Any) -> Iterator[Case]:
    made = Case(backend, client)
    yield made
    made.cleanup()


def statuses(doc: dict[str, Any]) -> dict[str, str]:
    return {check["name"]: check["status"] for check in doc["checks"]}


def detail(doc: dict[str, Any], name: str) -> str:
    return next(check["detail"] for check in doc["checks"] if check["name"] == name)


def test_good_single_user_secret_passes_and_changes_nothing(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    before, failed_before = case.snapshot(), case.backend.failed_logins()
    code, doc = case.check(capsys, case.arn)
    assert code == 0, doc
    assert list(doc) == ["command", "ok", "checks", "engine", "strategy", "error"]
    assert doc["ok"] is True
    assert doc["strategy"] == "single"
    assert doc["engine"] == case.backend.handler_class.engine
    names = statuses(doc)
    assert set(names.values()) == {"pass"}
    assert list(names)[:5] == ["secret", "secret format", "reachable", "TLS", "login"]
    assert "privileges: own password" in names
    if case.backend.info.tls:
        assert "TLSv1." in detail(doc, "TLS")
        assert "verified" in detail(doc, "TLS")
    assert all(set(c) == {"name", "status", "detail"} for c in doc["checks"])
    assert case.snapshot() == before
    assert case.backend.failed_logins() == failed_before


def test_good_alternating_secret_checks_the_admin_and_creates_no_clone(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    case.with_admin(*case.backend.admin_login())
    before, failed_before = case.snapshot(), case.backend.failed_logins()
    code, doc = case.check(capsys, case.arn)
    assert code == 0, doc
    assert doc["strategy"] == "alternating"
    names = statuses(doc)
    assert set(names.values()) == {"pass"}
    for name in ("clone name", "admin secret", "admin login", "clone name on server"):
        assert name in names
    assert any(name.startswith("privileges: ") for name in names)
    assert before["clone_exists"] is False
    assert case.snapshot() == before
    assert case.backend.failed_logins() == failed_before


def test_an_rds_managed_admin_secret_is_resolved_and_reported(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = "postgres" if isinstance(case.backend, PostgreSQLBackend) else "mariadb"
    rds = boto3.client("rds", region_name=REGION)
    instance = managed_instance(rds, "db-check", engine, "127.0.0.1", case.backend.info.port)
    admin_arn = instance["MasterUserSecret"]["SecretArn"]
    store_credentials(case.client, admin_arn, *case.backend.admin_login())
    case.put({**case.value, "masterarn": admin_arn})
    before = case.snapshot()
    code, doc = case.check(capsys, case.arn)
    assert code == 0, doc
    assert detail(doc, "admin secret") == (
        f"user {case.backend.admin_login()[0]!r} from {admin_arn} (RDS-managed, instance "
        f"'db-check', resolved to 127.0.0.1:{case.backend.info.port}); the user's same endpoint"
    )
    assert statuses(doc)["admin login"] == "pass"
    assert case.snapshot() == before


def test_an_rds_managed_admin_of_another_endpoint_fails_the_check(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = "postgres" if isinstance(case.backend, PostgreSQLBackend) else "mariadb"
    rds = boto3.client("rds", region_name=REGION)
    instance = managed_instance(rds, "db-other", engine, "db-other.example", 5432)
    admin_arn = instance["MasterUserSecret"]["SecretArn"]
    store_credentials(case.client, admin_arn, *case.backend.admin_login())
    case.put({**case.value, "masterarn": admin_arn})
    code, doc = case.check(capsys, case.arn)
    assert code == 1
    assert statuses(doc)["admin secret"] == "fail"
    assert "db-other.example:5432" in detail(doc, "admin secret")
    assert "admin login" not in statuses(doc)


def test_wrong_password_fails_login_with_exactly_one_failed_attempt(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    case.put({**case.value, "password": case.password + "x"})
    before, failed_before = case.snapshot(), case.backend.failed_logins()
    code, doc = case.check(capsys, case.arn)
    assert code == 1
    assert doc["ok"] is False
    assert doc["error"] is None  # a failed check is a result, not an error
    assert statuses(doc)["reachable"] == "pass"
    assert statuses(doc)["login"] == "fail"
    assert "rejected the login" in detail(doc, "login")
    assert case.snapshot() == before
    if failed_before is not None:
        deadline = time.monotonic() + 5  # PostgreSQL writes its log asynchronously
        while case.backend.failed_logins() != failed_before + 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert case.backend.failed_logins() == failed_before + 1


def test_unreachable_port_fails_within_the_connect_timeout(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        if isinstance(case.backend, PostgreSQLBackend):
            # A listener that never answers: the TCP handshake completes, the server's answer
            # never comes, so only the connect timeout can end the wait.
            listener.listen(8)
        # MariaDB gets a closed port: PyMySQL waits for the server greeting with read_timeout
        # (None in the MySQL engine), so a silent listener would hang; see the report.
        case.put({**case.value, "port": listener.getsockname()[1]})
        before = case.snapshot()
        started = time.monotonic()
        code, doc = case.check(capsys, case.arn, "--connect-timeout", "1")
        elapsed = time.monotonic() - started
    assert code == 1
    assert statuses(doc)["reachable"] == "fail"
    assert "cannot connect" in detail(doc, "reachable")
    assert "login" not in statuses(doc)
    assert elapsed < 8  # libpq rounds timeouts up to 2 s
    assert case.snapshot() == before


def test_admin_without_privileges_fails_the_privilege_check(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    weak = unique_name("weak")
    weak_password = generate_password(
        Settings().password_policy(case.backend.handler_class.password_defaults)
    )
    case.extra_users.append(weak)
    with case.backend.admin_connection() as conn, conn.cursor() as cur:
        if isinstance(case.backend, PostgreSQLBackend):
            cur.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                sql.Identifier(weak), sql.Literal(weak_password)))  # fmt: skip
            expected = "privileges: CREATEROLE"
        else:
            cur.execute("CREATE USER %s@'%%' IDENTIFIED BY %s", (weak, weak_password))
            cur.execute("GRANT SELECT ON mysql.* TO %s@'%%'", (weak,))
            expected = "privileges: CREATE USER"
    case.with_admin(weak, weak_password)
    before = case.snapshot()
    code, doc = case.check(capsys, case.arn)
    assert code == 1
    assert statuses(doc)["admin login"] == "pass"
    assert statuses(doc)[expected] == "fail"
    assert "missing" in detail(doc, expected) or "lacks" in detail(doc, expected)
    assert case.snapshot() == before


@pytest.mark.parametrize(
    ("change", "name", "reason"),
    [
        (lambda v: {k: x for k, x in v.items() if k != "host"}, "secret format", "no 'host' key"),
        (lambda v: {**v, "port": "not-a-port"}, "secret format", "'port' must be a number"),
        (lambda v: "{not json", "secret", "is not valid JSON"),
    ],
)
def test_malformed_secret_fails_with_the_reason(
    case: Case, capsys: pytest.CaptureFixture[str], change: Any, name: str, reason: str
) -> None:
    broken = change(case.value)
    text = broken if isinstance(broken, str) else json.dumps(broken)
    case.client.put_secret_value(SecretId=case.arn, SecretString=text)
    before = case.snapshot()
    code, doc = case.check(capsys, case.arn, "--engine", case.backend.handler_class.engine)
    assert code == 1
    assert doc["checks"][-1]["name"] == name
    assert doc["checks"][-1]["status"] == "fail"
    assert reason in doc["checks"][-1]["detail"]
    assert case.snapshot() == before


def test_file_with_masterarn_and_no_endpoint_reports_admin_not_checked(
    case: Case, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = tmp_path / "secret.json"
    path.write_text(json.dumps({**case.value, "masterarn": "arn:aws:secretsmanager:x"}))
    ca = case.backend.info.ca_file
    code = main(["check", "--file", str(path), "--output", "json",
                 *(["--ca-file", ca] if ca else [])])  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    assert code == 0, doc
    assert statuses(doc)["admin secret"] == "not checked"
    assert "--endpoint-url" in detail(doc, "admin secret")
    assert statuses(doc)["login"] == "pass"


def test_plaintext_fallback_is_reported_as_a_failure(
    case: Case, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:  # fmt: skip
    """TLS fails (an untrusted CA), the fallback setting lets plaintext through: check says so."""
    import trustme

    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    case.put({k: v for k, v in case.value.items() if k != "ssl"})
    monkeypatch.setenv("ROTATION_TLS_ALLOW_PLAINTEXT_FALLBACK", "true")
    code = main(["check", case.arn, "--region", REGION, "--output", "json",
                 "--ca-file", str(other_ca)])  # fmt: skip
    doc = json.loads(capsys.readouterr().out)
    rows = {c["name"]: c for c in doc["checks"]}
    assert code == 1
    if isinstance(case.backend, MariaDBBackend):
        # Its users REQUIRE SSL: the server itself refuses the plaintext login.
        assert rows["login"]["status"] == "fail"
        return
    assert rows["login"]["status"] == "pass"
    assert rows["TLS"]["status"] == "fail"
    assert "PLAINTEXT after TLS failed" in rows["TLS"]["detail"]


def test_retain_on_a_server_without_dual_passwords_is_a_warning_not_a_failure(
    mariadb_server: RunningServer, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The MySQL engine's retain strategy on MariaDB (no dual passwords) would rotate as single
    user: rotation check says so with WARN, and still passes."""
    case = Case(MySQLOnMariaDBBackend(mariadb_server), client)
    try:
        before = case.snapshot()
        code, doc = case.check(capsys, case.arn, "--strategy", "retain")
        assert code == 0, doc
        assert doc["strategy"] == "retain"
        assert statuses(doc)["privileges: dual passwords"] == "warn"
        assert "falls back to single user" in detail(doc, "privileges: dual passwords")
        assert case.snapshot() == before
    finally:
        case.cleanup()
