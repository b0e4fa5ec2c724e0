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
from tests.engines.sqlserver.conftest import RDS_MASTER_PERMISSIONS, RDS_MASTER_ROLES
from tests.engines.sqlserver.model import ADMIN

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
        server_roles: tuple[str, ...] = (),
    ) -> tuple[str, str]:
        """Add a login with a database user, server permissions and roles, database grants."""
        name, password = unique_name("adm"), "Adm'in%pw-2"
        with self.model.lock:
            self.model.add_login(name, password, server=server, roles=server_roles)
            self.model.map_user(database, name, name, schema="dbo")
            db = self.model.databases[database]
            for permission in grants:
                self.model._grant(db, name, (0, permission, None, None, None), "G")
            for role in roles:
                db.roles[role].add(name)
        self.extra.append(name)
        return name, password

    def plain_login(self, database: str = "appdb") -> str:
        """Add a login whose user (named differently) holds database rights only."""
        name = unique_name("plain")
        with self.model.lock:
            self.model.add_login(name, PASSWORD)
            self.model.map_user(database, f"{name}_user", name)
            self.model.databases[database].roles["db_datareader"].add(f"{name}_user")
        self.extra.append(name)
        return name

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
                    copy.deepcopy(model.databases), copy.deepcopy(model.server_roles),
                    copy.deepcopy(model.server_permissions))  # fmt: skip

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


ADMIN_CHECKS = ["privileges: ALTER ANY LOGIN", "privileges: VIEW ANY DEFINITION",
                "privileges: ALTER ANY USER", "privileges: role membership",
                "privileges: server roles", "privileges: server permissions",
                "user exists"]  # fmt: skip


def test_the_admin_passes_every_check(setup: Setup) -> None:
    found = setup.findings((ADMIN, setup.backend.admin_password), setup.user, admin=True)
    assert list(found) == ADMIN_CHECKS
    assert all(finding.ok for finding in found.values()), found
    assert "db_owner" in found["privileges: role membership"].detail
    assert "'app_server_role'" in found["privileges: server roles"].detail
    assert "CONTROL SERVER" in found["privileges: server permissions"].detail
    assert f"its database user here is {setup.user!r}" in found["user exists"].detail


def test_a_least_privileged_admin_passes(setup: Setup) -> None:
    """For a login holding only database rights, through a user of another name."""
    original = setup.plain_login()
    admin = setup.login(server=("ALTER ANY LOGIN", "VIEW ANY DEFINITION"),
                        grants=("ALTER ANY USER", "ALTER ANY ROLE"))  # fmt: skip
    found = setup.findings(admin, original, admin=True)
    assert all(finding.ok for finding in found.values()), found
    assert "ALTER ANY ROLE held" in found["privileges: role membership"].detail
    assert "beyond CONNECT SQL" in found["privileges: server permissions"].detail
    assert f"its database user here is '{original}_user'" in found["user exists"].detail


def test_a_weak_admin_is_told_what_is_missing(setup: Setup) -> None:
    admin = setup.login(grants=("ALTER ANY USER",))
    found = setup.findings(admin, "nobody", admin=True)
    failed = {name: finding.detail for name, finding in found.items() if not finding.ok}
    assert set(failed) == {"privileges: ALTER ANY LOGIN", "privileges: VIEW ANY DEFINITION",
                           "user exists"}  # fmt: skip
    assert "cannot create the clone's login" in failed["privileges: ALTER ANY LOGIN"]
    assert "refuses to clone" in failed["privileges: VIEW ANY DEFINITION"]
    assert "'nobody' has no login" in failed["user exists"]
    weak = setup.findings(admin, setup.user, admin=True)
    assert not weak["privileges: role membership"].ok
    assert "db_owner or ALTER ANY ROLE" in weak["privileges: role membership"].detail


def test_an_rds_like_admin_is_told_which_server_rights_it_cannot_copy(setup: Setup) -> None:
    """No sysadmin: DENY needs CONTROL SERVER, GRANT needs the permission WITH GRANT OPTION,
    and only members of a fixed server role may add members to it."""
    admin = setup.login(server=RDS_MASTER_PERMISSIONS, roles=("db_owner",),
                        server_roles=RDS_MASTER_ROLES)  # fmt: skip
    found = setup.findings(admin, setup.user, admin=True)
    assert found["privileges: server roles"].ok, (
        found
    )  # processadmin: member; user-defined: ALTER ANY SERVER ROLE
    permissions = found["privileges: server permissions"]
    assert not permissions.ok
    assert "DENY VIEW ANY DATABASE on the server (needs CONTROL SERVER)" in permissions.detail
    assert "GRANT VIEW SERVER STATE on the server (needs VIEW SERVER STATE WITH GRANT OPTION)" in (
        permissions.detail
    )
    assert "VIEW DEFINITION on SERVER_PRINCIPAL" not in permissions.detail  # ALTER ANY SERVER ROLE
    with setup.model.lock:
        setup.model.server_roles["bulkadmin"].add(setup.user)
    roles = setup.findings(admin, setup.user, admin=True)["privileges: server roles"]
    assert not roles.ok
    assert "'bulkadmin' (fixed: only its members and sysadmin may add members)" in roles.detail


def test_in_master_the_admin_needs_no_database_user_rights(setup: Setup) -> None:
    original = unique_name("m")
    setup.model.create_user("master", original, PASSWORD)
    setup.extra.append(original)
    # sysadmin, because the original is in the fixed role processadmin: CONTROL SERVER alone
    # may not add members to a fixed server role.
    admin = setup.login(database="master", server_roles=("sysadmin",))
    found = setup.findings(admin, original, admin=True, database="master")
    assert all(finding.ok for finding in found.values()), found
    assert "has no database user here" in found["privileges: ALTER ANY USER"].detail
    assert "no database user here" in found["user exists"].detail


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
