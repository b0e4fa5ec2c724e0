"""The DocumentDB preflight hooks of ``rotation check``: PyMongo over TLS to the wire-protocol
test server, which answers ``buildInfo``, ``connectionStatus`` and ``usersInfo`` and records
every command it receives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from rotation.cli import main
from rotation.core.config import Settings
from rotation.core.database import Finding
from rotation.engines.documentdb import DocumentDBHandler
from rotation.engines.documentdb.preflight import granted_actions
from rotation.testing.conformance import unique_name
from tests.engines.documentdb.backend import ADMIN_PASSWORD, ADMIN_USER, AUTH_DB, OWN_PASSWORD_ROLE
from tests.engines.documentdb.server import MongoTestServer

REGION = "us-east-1"
PASSWORD = "App-password-123"
READ_ONLY = {"hello", "isMaster", "ismaster", "saslStart", "saslContinue", "ping", "buildInfo",
             "connectionStatus", "usersInfo", "endSessions", "getEngineVersion"}  # fmt: skip


class Setup:
    """Users added to a TLS test server for one test, removed afterwards.

    Users live in ``admin``; secrets name ``dbname`` (the auth database, as AWS's functions use
    it), which only a DocumentDB server accepts when it is not ``admin``.
    """

    def __init__(self, server: MongoTestServer, ca_file: str, dbname: str = AUTH_DB) -> None:
        self.server = server
        self.directory = server.directory
        self.ca_file = ca_file
        self.dbname = dbname
        self.names: list[str] = []
        self.user = self.add([("readWrite", "appdb"), ("read", "reporting"),
                              (OWN_PASSWORD_ROLE, AUTH_DB)])  # fmt: skip

    def add(self, roles: list[tuple[str, str]], actions: set[str] | None = None) -> str:
        """Add a user with roles (and a custom role of ``actions``, if given)."""
        name = unique_name("doc")
        if actions is not None:
            self.directory.add_role(AUTH_DB, name + "-role", actions)
            roles = [*roles, (name + "-role", AUTH_DB)]
        self.directory.add_user(AUTH_DB, name, PASSWORD, roles)
        self.names.append(name)
        return name

    def secret(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        where = {"host": "localhost", "port": self.server.port, "dbname": self.dbname,
                 "ssl": True}  # fmt: skip
        return {"engine": "docdb", **where, "username": username, "password": password}

    def handler(self) -> DocumentDBHandler:
        offline = boto3.client("secretsmanager", region_name=REGION)
        return DocumentDBHandler(settings=Settings(tls_ca_file=self.ca_file), client=offline)

    def state(self) -> Any:
        with self.directory.lock:
            return {key: (list(user.roles), dict(user.credentials))
                    for key, user in self.directory.users.items()}  # fmt: skip

    def findings(
        self, login: str, username: str, *, admin: bool, password: str = PASSWORD
    ) -> dict[str, Finding]:
        handler, before, seen = self.handler(), self.state(), len(self.directory.commands)
        with handler.connect(handler.parse_secret(self.secret(login, password), admin=admin)) as c:
            found = handler.privilege_findings(c, username, admin=admin)
        assert self.state() == before
        assert {name for _, name, _ in self.directory.commands[seen:]} <= READ_ONLY
        return {finding.name: finding for finding in found}

    def cleanup(self) -> None:
        for name in self.names:
            self.directory.drop_user(AUTH_DB, name)
            self.directory.custom_roles.pop((name + "-role", AUTH_DB), None)


@pytest.fixture
def setup(tls_server: MongoTestServer, ca_file: str) -> Iterator[Setup]:
    made = Setup(tls_server, ca_file)
    yield made
    made.cleanup()


@pytest.fixture
def documentdb_setup(documentdb_server: MongoTestServer, ca_file: str) -> Iterator[Setup]:
    """DocumentDB 4.0, secrets with ``dbname: appdb``."""
    made = Setup(documentdb_server, ca_file, dbname="appdb")
    yield made
    made.cleanup()


def test_granted_actions_match_database_any_database_and_any_resource() -> None:
    status = {"authInfo": {"authenticatedUserPrivileges": [
        {"resource": {"db": "admin", "collection": ""}, "actions": ["createUser"]},
        {"resource": {"db": "admin", "collection": "users"}, "actions": ["find"]},
        {"resource": {"db": "", "collection": ""}, "actions": ["viewUser"]},
        {"resource": {"cluster": True}, "actions": ["serverStatus"]},
        {"resource": {"anyResource": True}, "actions": ["anyAction"]},
    ]}}  # fmt: skip
    assert granted_actions(status, "admin") == {"createUser", "viewUser", "anyAction"}
    assert granted_actions(status, "appdb") == {"viewUser", "anyAction"}
    assert granted_actions({"ok": 1}, "admin") == set()


def test_session_facts_report_version_and_tls(setup: Setup) -> None:
    handler = setup.handler()
    with handler.connect(handler.parse_secret(setup.secret(setup.user))) as conn:
        facts = handler.session_facts(conn)
    assert facts["server_version"] == "5.0.0"
    assert facts["tls"] == "on"
    assert facts["tls_version"].startswith("TLS")


def test_session_facts_say_when_tls_is_off(plain_server: MongoTestServer) -> None:
    handler = DocumentDBHandler(client=boto3.client("secretsmanager", region_name=REGION))
    value = {"engine": "mongo", "host": "127.0.0.1", "port": plain_server.port, "ssl": False,
             "username": ADMIN_USER, "password": ADMIN_PASSWORD}  # fmt: skip
    with handler.connect(handler.parse_secret(value, admin=True)) as conn:
        assert handler.session_facts(conn) == {"server_version": "5.0.0", "tls": "off"}


def test_single_user_needs_change_own_password(setup: Setup) -> None:
    found = setup.findings(setup.user, setup.user, admin=False)
    assert list(found) == ["privileges: changeOwnPassword"]
    assert found["privileges: changeOwnPassword"].ok
    reader = setup.add([("readWrite", "appdb")])
    found = setup.findings(reader, reader, admin=False)
    assert not found["privileges: changeOwnPassword"].ok
    assert "missing changeOwnPassword on 'admin'" in found["privileges: changeOwnPassword"].detail


def test_the_least_privileged_admin_passes(setup: Setup) -> None:
    found = setup.findings(ADMIN_USER, setup.user, admin=True, password=ADMIN_PASSWORD)
    assert list(found) == ["privileges: createUser", "privileges: changePassword",
                           "privileges: viewUser", "privileges: grantRole",
                           "privileges: revokeRole", "user exists",
                           "privileges: grantRole on the original's role databases"]  # fmt: skip
    assert all(finding.ok for finding in found.values()), found


def test_an_admin_of_the_auth_database_only_cannot_grant_the_data_roles(setup: Setup) -> None:
    admin = setup.add([("userAdmin", AUTH_DB)])
    found = setup.findings(admin, setup.user, admin=True)
    failed = {name: f.detail for name, f in found.items() if not f.ok}
    assert failed == {
        "privileges: grantRole on the original's role databases": "missing on 'appdb', 'reporting'"
    }


def test_a_weak_admin_is_told_what_is_missing(setup: Setup) -> None:
    admin = setup.add([], actions={"createUser"})
    found = setup.findings(admin, setup.user, admin=True)
    assert found["privileges: createUser"].ok
    failed = {name: f.detail for name, f in found.items() if not f.ok}
    missing = {"changePassword", "viewUser", "grantRole", "revokeRole"}
    assert set(failed) == {f"privileges: {action}" for action in missing} | {"user exists"}
    assert "viewUser" in failed["user exists"]
    found = setup.findings(ADMIN_USER, "nobody", admin=True, password=ADMIN_PASSWORD)
    assert found["user exists"].detail == "'nobody' not found in 'admin'"
    assert not found["user exists"].ok


# -- rotation check, in-process, with moto for Secrets Manager ------------------------------


def test_check_shows_pass_and_fail_for_the_privileges(
    setup: Setup, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    def check(arn: str) -> tuple[int, dict[str, dict[str, str]]]:
        code = main(["check", arn, "--region", REGION, "--output", "json",
                     "--ca-file", setup.ca_file])  # fmt: skip
        out = capsys.readouterr().out
        assert PASSWORD not in out
        assert ADMIN_PASSWORD not in out
        return code, {c["name"]: c for c in json.loads(out)["checks"]}

    before = setup.state()
    admin = client.create_secret(
        Name="adm", SecretString=json.dumps(setup.secret(ADMIN_USER, ADMIN_PASSWORD))
    )["ARN"]
    value = {**setup.secret(setup.user), "masterarn": admin}
    arn = client.create_secret(Name="app", SecretString=json.dumps(value))["ARN"]
    code, checks = check(arn)
    assert code == 0, checks
    assert checks["privileges: createUser"]["status"] == "pass"
    assert checks["user exists"]["status"] == "pass"
    assert "TLS" in checks["TLS"]["detail"]
    assert all(c["status"] != "not checked" for c in checks.values())
    reader = setup.add([("readWrite", "appdb")])
    single = client.create_secret(Name="reader", SecretString=json.dumps(setup.secret(reader)))
    code, checks = check(single["ARN"])
    assert code == 1
    assert checks["login"]["status"] == "pass"
    assert checks["privileges: changeOwnPassword"]["status"] == "fail"
    before[(AUTH_DB, reader)] = setup.state()[(AUTH_DB, reader)]
    assert setup.state() == before


# -- DocumentDB ---------------------------------------------------------------------------------


def test_documentdb_user_without_change_own_password_is_not_checked_rather_than_failed(
    documentdb_setup: Setup,
) -> None:
    """DocumentDB documents no changeOwnPassword rule, so its absence is not a failure there.

    No DocumentDB built-in role lists changeOwnPassword (role_based_access_control.html), and
    AWS's single-user function changes the user's own password with updateUser. The server is
    told apart from MongoDB by getEngineVersion, which only DocumentDB answers.
    """
    reader = documentdb_setup.add([("readWrite", "appdb")])
    seen = len(documentdb_setup.directory.commands)
    found = documentdb_setup.findings(reader, reader, admin=False)
    finding = found["privileges: changeOwnPassword"]
    assert finding.ok is None
    assert "does not document" in finding.detail
    sent = documentdb_setup.directory.commands[seen:]
    assert ("getEngineVersion", "admin") in {(name, db) for _, name, db in sent}


def test_the_own_password_privilege_is_read_on_admin_whatever_the_dbname(
    documentdb_setup: Setup,
) -> None:
    """changePassword granted on admin only (where the user lives) counts for ``dbname: appdb``."""
    user = documentdb_setup.add([("readWrite", "appdb"), ("userAdmin", AUTH_DB)])
    found = documentdb_setup.findings(user, user, admin=False)
    assert found["privileges: changeOwnPassword"].ok is True
    assert "'admin'" in found["privileges: changeOwnPassword"].detail


def test_the_admin_is_checked_on_admin_whatever_the_dbname(documentdb_setup: Setup) -> None:
    found = documentdb_setup.findings(
        ADMIN_USER, documentdb_setup.user, admin=True, password=ADMIN_PASSWORD
    )
    assert all(finding.ok for finding in found.values()), found
    assert found["user exists"].detail == f"{documentdb_setup.user!r} found in 'admin'"
    # The original's roles on appdb and reporting need grantRole there; admin is checked above.
    grant = found["privileges: grantRole on the original's role databases"]
    assert grant.detail == "held on 'appdb', 'reporting'"


def test_check_reports_not_checked_for_a_documentdb_user_and_exits_0(
    documentdb_setup: Setup, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    reader = documentdb_setup.add([("readWrite", "appdb")])
    arn = client.create_secret(
        Name="docdb-reader", SecretString=json.dumps(documentdb_setup.secret(reader))
    )["ARN"]
    code = main(["check", arn, "--region", REGION, "--output", "json",
                 "--ca-file", documentdb_setup.ca_file])  # fmt: skip
    checks = {c["name"]: c for c in json.loads(capsys.readouterr().out)["checks"]}
    assert checks["privileges: changeOwnPassword"]["status"] == "not checked"
    assert code == 0, checks
