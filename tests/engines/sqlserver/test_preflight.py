"""The SQL Server preflight hooks of ``rotation check``: pymssql over TDS (TLS verified) to the
test server, whose model answers the read-only queries and records every change."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from rotation.cli import main
from rotation.core.database import Finding
from rotation.engines.sqlserver import SQLServerHandler
from rotation.testing.conformance import unique_name
from tests.engines.sqlserver.backend import SQLServerBackend
from tests.engines.sqlserver.model import ADMIN, User

REGION = "us-east-1"
PASSWORD = "App'pass%word-1"


class Setup:
    """An application user and extra logins on the session's TDS server, removed afterwards."""

    def __init__(self, backend: SQLServerBackend) -> None:
        self.backend = backend
        self.model = backend.model
        self.user = unique_name("app")
        self.extra: list[str] = []
        backend.create_user(self.user, PASSWORD)

    def login(
        self,
        *,
        database: str = "appdb",
        server: tuple[str, ...] = (),
        grants: tuple[str, ...] = (),
        roles: tuple[str, ...] = (),
    ) -> tuple[str, str]:
        """Add a login with a database user, server permissions, database grants and roles."""
        name, password = unique_name("adm"), "Adm'in%pw-2"
        with self.model.lock:
            self.model.logins[name] = password
            self.model.server_permissions[name] = set(server)
            db = self.model.databases[database]
            db.users[name] = User(name, None)
            for permission in ("CONNECT", *grants):
                self.model._grant(db, name, (0, permission, None, None, None), "G")
            for role in roles:
                db.roles[role].add(name)
        self.extra.append(name)
        return name, password

    def secret(self, login: tuple[str, str], database: str = "appdb") -> dict[str, Any]:
        return {"engine": "sqlserver", **self.backend.connection_fields(), "dbname": database,
                "username": login[0], "password": login[1]}  # fmt: skip

    def handler(self) -> SQLServerHandler:
        """Build a handler whose Secrets Manager client is never called."""
        offline = boto3.client("secretsmanager", region_name=REGION)
        return SQLServerHandler(settings=self.backend.settings(), client=offline)

    def state(self) -> Any:
        model = self.model
        with model.lock:
            return (list(model.statements), dict(model.logins),
                    copy.deepcopy(model.databases))  # fmt: skip

    def findings(
        self, login: tuple[str, str], username: str, *, admin: bool, database: str = "appdb"
    ) -> dict[str, Finding]:
        handler = self.handler()
        before = self.state()
        with handler.connect(handler.parse_secret(self.secret(login, database), admin=admin)) as c:
            found = handler.privilege_findings(c, username, admin=admin)
        assert self.state() == before
        return {finding.name: finding for finding in found}

    def cleanup(self) -> None:
        for name in (self.user, *self.extra):
            self.model.drop_user(name)
            self.model.server_permissions.pop(name, None)


@pytest.fixture
def setup(backend: SQLServerBackend) -> Iterator[Setup]:
    made = Setup(backend)
    yield made
    made.cleanup()


def test_session_facts_report_version_and_encryption(setup: Setup) -> None:
    handler = setup.handler()
    weak = setup.login()
    for login, encrypted in ((setup.secret((ADMIN, setup.backend.admin_password)), True),
                             (setup.secret(weak), None)):  # fmt: skip
        with handler.connect(handler.parse_secret(login, admin=True)) as conn:
            facts = handler.session_facts(conn)
        assert facts["server_version"] == "16.0.1000.6"
        assert facts["server"] == "Microsoft SQL Server 2022 (RTM) - 16.0.1000.6 (X64)"
        if encrypted:
            assert facts["encrypt_option"] == "TRUE"
            assert "TLS" in facts["tls_version"]
        else:  # without VIEW SERVER STATE the DMV refuses; the encryption stays unreported
            assert "encrypt_option" not in facts
            assert "tls_version" not in facts


def test_single_user_login_and_contained_user_need_nothing(setup: Setup) -> None:
    found = setup.findings((setup.user, PASSWORD), setup.user, admin=False)
    assert list(found) == ["privileges: own password"]
    assert found["privileges: own password"].ok
    assert "a login may change its own password" in found["privileges: own password"].detail
    contained = unique_name("cu")
    setup.model.create_user("containeddb", contained, PASSWORD)
    setup.extra.append(contained)
    found = setup.findings((contained, PASSWORD), contained, admin=False, database="containeddb")
    assert "contained database user" in found["privileges: own password"].detail


def test_the_admin_passes_every_check(setup: Setup) -> None:
    found = setup.findings((ADMIN, setup.backend.admin_password), setup.user, admin=True)
    assert list(found) == ["privileges: ALTER ANY LOGIN", "privileges: ALTER ANY USER",
                           "privileges: role membership", "user exists"]  # fmt: skip
    assert all(finding.ok for finding in found.values()), found
    assert "db_owner" in found["privileges: role membership"].detail
    assert "has a login and a database user" in found["user exists"].detail


def test_a_least_privileged_admin_passes(setup: Setup) -> None:
    admin = setup.login(server=("ALTER ANY LOGIN",), grants=("ALTER ANY USER", "ALTER ANY ROLE"))
    found = setup.findings(admin, setup.user, admin=True)
    assert all(finding.ok for finding in found.values()), found
    assert "ALTER ANY ROLE held" in found["privileges: role membership"].detail


def test_a_weak_admin_is_told_what_is_missing(setup: Setup) -> None:
    admin = setup.login(grants=("ALTER ANY USER",))
    found = setup.findings(admin, "nobody", admin=True)
    failed = {name: finding.detail for name, finding in found.items() if not finding.ok}
    assert set(failed) == {"privileges: ALTER ANY LOGIN", "privileges: role membership",
                           "user exists"}  # fmt: skip
    assert "cannot create the clone's login" in failed["privileges: ALTER ANY LOGIN"]
    assert "db_owner or ALTER ANY ROLE" in failed["privileges: role membership"]
    assert "'nobody' lacks" in failed["user exists"]
    assert found["privileges: ALTER ANY USER"].ok


def test_a_contained_original_needs_no_login_permission(setup: Setup) -> None:
    contained = unique_name("cu")
    setup.model.create_user("containeddb", contained, PASSWORD)
    setup.extra.append(contained)
    admin = setup.login(database="containeddb", roles=("db_owner",))
    found = setup.findings(admin, contained, admin=True, database="containeddb")
    assert found["privileges: ALTER ANY LOGIN"].ok
    assert "not needed" in found["privileges: ALTER ANY LOGIN"].detail
    assert found["privileges: ALTER ANY USER"].ok  # implied by db_owner
    assert found["user exists"].ok


# -- rotation check, in-process, with moto for Secrets Manager ------------------------------


def test_check_shows_pass_and_fail_for_the_admin_privileges(
    setup: Setup, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    admin = (ADMIN, setup.backend.admin_password)
    admin_arn = client.create_secret(Name="adm", SecretString=json.dumps(setup.secret(admin)))
    value = {**setup.secret((setup.user, PASSWORD)), "masterarn": admin_arn["ARN"]}
    arn = client.create_secret(Name="app", SecretString=json.dumps(value))["ARN"]
    before = setup.state()

    def check() -> tuple[int, dict[str, dict[str, str]]]:
        code = main(["check", arn, "--region", REGION, "--output", "json",
                     "--ca-file", setup.backend.ca_file])  # fmt: skip
        out = capsys.readouterr().out
        assert PASSWORD not in out
        assert setup.backend.admin_password not in out
        return code, {c["name"]: c for c in json.loads(out)["checks"]}

    code, checks = check()
    assert code == 0, checks
    assert checks["privileges: ALTER ANY LOGIN"]["status"] == "pass"
    assert checks["user exists"]["status"] == "pass"
    # The application login may not read sys.dm_exec_connections: TLS is verified, not shown.
    assert checks["TLS"]["status"] == "pass"
    assert all(c["status"] != "not checked" for c in checks.values())
    assert setup.state() == before
    weak = setup.login(grants=("ALTER ANY USER",))
    client.put_secret_value(SecretId=admin_arn["ARN"], SecretString=json.dumps(setup.secret(weak)))
    before = setup.state()
    code, checks = check()
    assert code == 1
    assert checks["privileges: ALTER ANY LOGIN"]["status"] == "fail"
    assert checks["privileges: ALTER ANY USER"]["status"] == "pass"
    assert setup.state() == before
