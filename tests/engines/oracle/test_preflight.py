"""The Oracle preflight hooks of ``rotation check``, against the in-memory Oracle fake."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from rotation.cli import main
from rotation.core.database import Finding
from rotation.engines.oracle import OracleHandler
from tests.engines.oracle.backend import ADMIN, OracleBackend
from tests.engines.oracle.conftest import MakeHandler
from tests.engines.oracle.fake import FakeOracle, OracleRole, OracleUser

Fake = tuple[FakeOracle, Path]
USER = ("app", "App-password-1")
REGION = "us-east-1"


@pytest.fixture
def fake(oracle_fake: Fake) -> Fake:
    """Provide the fake server with the application user APP."""
    OracleBackend(*oracle_fake).create_user(*USER)
    return oracle_fake


def secret(server: FakeOracle, user: tuple[str, str], *, tls: bool = True) -> dict[str, Any]:
    return {"engine": "oracle", "host": server.host, "port": server.port,
            "dbname": server.service_name, "ssl": tls, "ssl_port": server.tcps_port,
            "username": user[0], "password": user[1]}  # fmt: skip


def findings(
    handler: OracleHandler, server: FakeOracle, login: tuple[str, str], *, admin: bool
) -> dict[str, Finding]:
    """Log in with the handler and return its findings by name, checking nothing changed."""
    users = copy.deepcopy(server.users)
    with handler.connect(handler.parse_secret(secret(server, login), admin=admin)) as conn:
        found = handler.privilege_findings(conn, "app", admin=admin)
    assert server.changes == []
    assert server.users == users
    return {finding.name: finding for finding in found}


def test_session_facts_report_the_version_and_tcps(make_handler: MakeHandler, fake: Fake) -> None:
    server, ca = fake
    handler = make_handler(tls_ca_file=str(ca))
    with handler.connect(handler.parse_secret(secret(server, USER))) as conn:
        facts = handler.session_facts(conn)
    assert facts["server_version"] == "19.0.0.0.0"
    assert facts["transport"] == "TCPS"
    assert facts["tls_version"].startswith("TCPS")
    with handler.connect(handler.parse_secret(secret(server, USER, tls=False))) as conn:
        plain = handler.session_facts(conn)
    assert plain == {"server_version": "19.0.0.0.0", "transport": "TCP"}
    assert server.executed == []  # the facts come from the driver, not from SQL


def test_session_facts_say_when_legacy_suites_are_accepted(
    make_handler: MakeHandler, fake: Fake
) -> None:
    server, ca = fake
    handler = make_handler(tls_ca_file=str(ca), oracle_tls_legacy_ciphers=True)
    with handler.connect(handler.parse_secret(secret(server, USER))) as conn:
        facts = handler.session_facts(conn)
    assert "RSA key-exchange suites also accepted" in facts["tls_cipher"]
    assert "ROTATION_ORACLE_TLS_LEGACY_CIPHERS" in facts["tls_cipher"]
    with handler.connect(handler.parse_secret(secret(server, USER, tls=False))) as conn:
        assert "tls_cipher" not in handler.session_facts(conn)


def test_single_user_needs_only_its_login(make_handler: MakeHandler, fake: Fake) -> None:
    server, ca = fake
    found = findings(make_handler(tls_ca_file=str(ca)), server, USER, admin=False)
    assert list(found) == ["privileges: own password"]
    assert found["privileges: own password"].ok
    assert "CREATE SESSION" in found["privileges: own password"].detail


def test_an_rds_master_passes_every_check(make_handler: MakeHandler, fake: Fake) -> None:
    """No GRANT ANY ROLE / GRANT ANY PRIVILEGE: the master can still give every grant needed."""
    server, ca = fake
    assert not server.has_system("ADMIN", "GRANT ANY ROLE")
    assert not server.has_system("ADMIN", "GRANT ANY PRIVILEGE")
    found = findings(make_handler("alternating", tls_ca_file=str(ca)), server, ADMIN, admin=True)
    assert list(found) == ["privileges: CREATE USER", "privileges: ALTER USER",
                           "privileges: SELECT_CATALOG_ROLE", "user exists",
                           "grants to copy"]  # fmt: skip
    assert all(finding.ok for finding in found.values()), found
    assert "'app' found" in found["user exists"].detail
    detail = found["grants to copy"].detail
    assert detail == (
        "the admin can give all 8 grants to copy, 1 of them with "
        "rdsadmin.rdsadmin_util.grant_sys_object"
    )


def test_check_names_each_grant_the_master_cannot_give(
    make_handler: MakeHandler, fake: Fake
) -> None:
    server, ca = fake
    server.users["APP"].system["ALTER SYSTEM"] = False
    server.users["ADMIN"].roles["APP_READER"] = False  # the admin lost ADMIN OPTION on it
    handler = make_handler("alternating", tls_ca_file=str(ca))
    found = findings(handler, server, ADMIN, admin=True)
    failed = {name: f.detail for name, f in found.items() if not f.ok}
    assert list(failed) == ["grants to copy"]
    assert failed["grants to copy"].startswith("the admin cannot give: ")
    assert (
        'GRANT "APP_READER" TO "APP" (needs role "APP_READER" WITH ADMIN OPTION'
        in (failed["grants to copy"])
    )
    assert 'GRANT ALTER SYSTEM TO "APP" (needs ALTER SYSTEM' in failed["grants to copy"]
    # A clone that already holds them needs nothing more from the admin.
    OracleBackend(server, ca).create_user("app_CLONE", "Clone-password-1")
    server.users["APP_CLONE"].system["ALTER SYSTEM"] = False
    found = findings(handler, server, ADMIN, admin=True)
    assert found["grants to copy"].ok
    assert found["grants to copy"].detail == "the clone already has every grant of the original"


def test_a_weak_admin_is_told_what_is_missing(make_handler: MakeHandler, fake: Fake) -> None:
    server, ca = fake
    server.users["WEAK"] = OracleUser(
        "Weak-password-1", roles={"CONNECT": False}, system={"CREATE USER": False}
    )
    server.users.pop("APP")
    handler = make_handler("alternating", tls_ca_file=str(ca))
    found = findings(handler, server, ("weak", "Weak-password-1"), admin=True)
    assert found["privileges: CREATE USER"].ok
    failed = {name: f.detail for name, f in found.items() if not f.ok}
    assert set(failed) == {"privileges: ALTER USER", "privileges: SELECT_CATALOG_ROLE",
                           "user exists"}  # fmt: skip
    assert "cannot set the users' passwords" in failed["privileges: ALTER USER"]
    assert "DBMS_METADATA" in failed["privileges: SELECT_CATALOG_ROLE"]
    assert "not found" in failed["user exists"]
    assert "grants to copy" not in found  # nothing to read them from


def test_a_role_supplies_a_privilege(make_handler: MakeHandler, fake: Fake) -> None:
    server, ca = fake
    server.roles["USER_ADMIN"] = OracleRole(system={"CREATE USER": False, "ALTER USER": False})
    roles = {"CONNECT": False, "USER_ADMIN": False}
    server.users["VIAROLE"] = OracleUser("Role-password-1", roles=roles)
    handler = make_handler("alternating", tls_ca_file=str(ca))
    found = findings(handler, server, ("viarole", "Role-password-1"), admin=True)
    assert found["privileges: CREATE USER"].ok
    assert found["privileges: ALTER USER"].ok
    assert not found["privileges: SELECT_CATALOG_ROLE"].ok


# -- rotation check, in-process, with moto for Secrets Manager ------------------------------


def check(capsys: pytest.CaptureFixture[str], arn: str, ca: Path) -> tuple[int, dict[str, str]]:
    code = main(["check", arn, "--region", REGION, "--output", "json", "--ca-file", str(ca)])
    out = capsys.readouterr().out
    assert USER[1] not in out
    assert ADMIN[1] not in out
    doc = json.loads(out)
    return code, {c["name"]: c["status"] for c in doc["checks"]}


def test_check_shows_the_admin_privileges(
    fake: Fake, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server, ca = fake
    admin_arn = client.create_secret(Name="admin", SecretString=json.dumps(secret(server, ADMIN)))
    value = {**secret(server, USER), "masterarn": admin_arn["ARN"]}
    arn = client.create_secret(Name="app", SecretString=json.dumps(value))["ARN"]
    users = copy.deepcopy(server.users)
    code, statuses = check(capsys, arn, ca)
    assert code == 0, statuses
    assert statuses["privileges: CREATE USER"] == statuses["user exists"] == "pass"
    assert statuses["TLS"] == "pass"
    assert "not checked" not in statuses.values()
    assert statuses["grants to copy"] == "pass"
    # A master that cannot give one of the grants: the same command fails and names the row.
    server.users["ADMIN"].roles["APP WRITER; X"] = False
    users["ADMIN"] = copy.deepcopy(server.users["ADMIN"])
    code, statuses = check(capsys, arn, ca)
    assert code == 1
    assert statuses["grants to copy"] == "fail"
    assert statuses["privileges: ALTER USER"] == "pass"
    assert server.changes == []
    assert server.users == users


def test_check_of_a_single_user_secret_passes(
    fake: Fake, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    server, ca = fake
    arn = client.create_secret(Name="app", SecretString=json.dumps(secret(server, USER)))["ARN"]
    code, statuses = check(capsys, arn, ca)
    assert code == 0, statuses
    assert statuses["privileges: own password"] == "pass"
    assert server.changes == []
