"""Alternating users on SQL Server: what the clone gets, in master and in a user database.

Against the TDS test server (pymssql over TDS with verified TLS); the model applies exactly the
statements the engine sends, with SQL Server's permission rules (see its docstring).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from rotation.core.errors import UserManagementError
from rotation.core.staging import AWSCURRENT, AWSPENDING
from rotation.local import driver
from rotation.testing.conformance import Scenario, unique_name
from tests.engines.sqlserver.backend import SQLServerBackend
from tests.engines.sqlserver.conftest import RDS_MASTER_PERMISSIONS, RDS_MASTER_ROLES
from tests.engines.sqlserver.model import SECURABLES, SQLServerModel, tokenize

RDS_PASSWORD = "Rds'master%pw-1"


class AdminBackend(SQLServerBackend):
    """A backend whose admin secret names another login."""

    def __init__(self, base: SQLServerBackend, database: str, admin: str) -> None:
        super().__init__(base.server, base.ca_file, RDS_PASSWORD, database)
        self.admin = admin

    def admin_login(self) -> tuple[str, str]:
        return self.admin, RDS_PASSWORD


@pytest.fixture
def master(backend: SQLServerBackend) -> SQLServerBackend:
    """A backend in master whose secrets carry no dbname (as RDS writes them)."""
    return SQLServerBackend(backend.server, backend.ca_file, backend.admin_password, "master")


@pytest.fixture
def rds_admin(backend: SQLServerBackend) -> Iterator[str]:
    """Provide a login shaped like the RDS master user, db_owner of appdb."""
    model = backend.model
    name = unique_name("rdsadmin")
    model.add_login(name, RDS_PASSWORD, server=RDS_MASTER_PERMISSIONS, roles=RDS_MASTER_ROLES)
    model.map_user("appdb", name, name, schema="dbo")
    model.databases["appdb"].roles["db_owner"].add(name)
    yield name
    model.drop_user(name)


def ddl_since(model: SQLServerModel, mark: int) -> list[list[Any]]:
    return [tokenize(text) for text in model.statements[mark:]]


def server_rights(model: SQLServerModel, login: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Return a login's server roles and server permission rows (without the grantee)."""
    with model.lock:
        return model.roles_of(login), [tuple(row) for row in model.server_rows(login)]


# -- master: no database user, server roles and permissions ------------------------------------


def test_alternating_in_master_copies_server_rights_and_creates_no_user(
    master: SQLServerBackend, client: Any
) -> None:
    """RDS-created secrets name no dbname: the clone is a login with the original's server role
    memberships and GRANT / GRANT WITH GRANT OPTION / DENY server permissions, no user."""
    model = master.model
    scenario = Scenario(master, client, unique_name()).with_admin()
    clone = scenario.username + "_clone"
    assert "dbname" not in scenario.secret_value
    try:
        roles, rows = server_rights(model, scenario.username)
        assert roles == ["app_server_role", "processadmin"]
        assert {row[3] for row in rows} == {"D", "G", "W"}
        driver.rotate(scenario.handler("alternating"), client, scenario.arn)
        assert scenario.value(AWSCURRENT)["username"] == clone
        assert master.can_login(clone, scenario.value(AWSCURRENT)["password"])
        assert server_rights(model, clone) == (roles, rows)
        with model.lock:
            db = model.databases["master"]
            assert db.user_of(model.sids[scenario.username]) is None
            assert db.user_of(model.sids[clone]) is None
            assert clone not in db.users
        assert master.privileges(clone) == master.privileges(scenario.username)
    finally:
        scenario.cleanup()


def test_server_grants_run_in_master_when_the_secret_names_a_user_database(
    backend: SQLServerBackend, client: Any
) -> None:
    """Server-scoped GRANT/DENY run only in master: the engine switches after the database part."""
    scenario = Scenario(backend, client, unique_name()).with_admin()
    try:
        driver.rotate(scenario.handler("alternating"), client, scenario.arn)
        clone = scenario.username + "_clone"
        assert server_rights(backend.model, clone) == server_rights(
            backend.model, scenario.username
        )
        assert backend.privileges(clone) == backend.privileges(scenario.username)
    finally:
        scenario.cleanup()


def test_an_rds_like_admin_copies_the_server_roles_it_may_add_members_to(
    backend: SQLServerBackend, client: Any, rds_admin: str
) -> None:
    """Unlike AWS's function, which copies no server role membership, the clone gets them: the
    RDS master may add members to processadmin (it is one) and to user-defined roles
    (ALTER ANY SERVER ROLE)."""
    admin_backend = AdminBackend(backend, "appdb", rds_admin)
    model = backend.model
    scenario = Scenario(admin_backend, client, unique_name()).with_admin()
    with model.lock:  # keep what the RDS master may give: roles and a permission on a role
        grants = model.server_permissions[scenario.username]
        for key in [k for k in grants if k[0] == 100 and k[1] != "CONNECT SQL"]:
            del grants[key]
    try:
        driver.rotate(scenario.handler("alternating"), client, scenario.arn)
        clone = scenario.username + "_clone"
        assert server_rights(model, clone) == server_rights(model, scenario.username)
        assert model.roles_of(clone) == ["app_server_role", "processadmin"]
    finally:
        scenario.cleanup()


def test_a_permission_the_rds_master_cannot_grant_stops_the_rotation_naming_it(
    backend: SQLServerBackend, client: Any, rds_admin: str
) -> None:
    """DENY of a server permission needs CONTROL SERVER, which the RDS master lacks: a clear
    error names it, and no clone with fewer rights is ever promoted."""
    admin_backend = AdminBackend(backend, "appdb", rds_admin)
    model = backend.model
    scenario = Scenario(admin_backend, client, unique_name()).with_admin()
    with model.lock:
        grants = model.server_permissions[scenario.username]
        for key in [k for k in grants if k[0] == 100 and k[1] != "CONNECT SQL"]:
            del grants[key]
        grants[(100, "VIEW ANY DATABASE", None)] = "D"
    try:
        token = str(uuid.uuid4())
        with pytest.raises(UserManagementError) as info:
            driver.rotate(scenario.handler("alternating"), client, scenario.arn, token=token)
        message = str(info.value)
        assert "DENY VIEW ANY DATABASE on the server" in message
        assert "4613" in message
        assert scenario.value(AWSCURRENT)["username"] == scenario.username
        assert AWSPENDING in scenario.labels()[token]
        for password in (RDS_PASSWORD, scenario.value(AWSPENDING)["password"]):
            assert password not in message
    finally:
        scenario.cleanup()


def test_the_admin_must_see_every_server_principal(master: SQLServerBackend, client: Any) -> None:
    """Catalog views hide what the admin may not view; without VIEW ANY DEFINITION the rotation
    refuses instead of cloning a login with silently fewer server role memberships."""
    model = master.model
    admin = unique_name("blind")
    model.add_login(admin, RDS_PASSWORD, server=("ALTER ANY LOGIN",), roles=("processadmin",))
    scenario = Scenario(AdminBackend(master, "master", admin), client, unique_name()).with_admin()
    try:
        mark = len(model.statements)
        with pytest.raises(UserManagementError, match="VIEW ANY DEFINITION"):
            driver.rotate(scenario.handler("alternating"), client, scenario.arn)
        assert model.statements[mark:] == []
    finally:
        scenario.cleanup()
        model.drop_user(admin)


# -- a user database: the database user is found by SID -----------------------------------------


@pytest.fixture
def impostor(backend: SQLServerBackend) -> Iterator[tuple[str, str]]:
    """A login whose user is named differently, and another principal carrying its name.

    Yields (login, its user's name). The impostor is a user named like the login but mapped to
    another login, with other rights.
    """
    model = backend.model
    login, other = unique_name("sid"), unique_name("other")
    user = f"{login}_user"
    with model.lock:
        model.add_login(login, "Login'pw%1")
        model.add_login(other, "Other'pw%1")
        model.map_user("appdb", user, login)
        model.map_user("appdb", login, other, schema="dbo")  # the impostor
        db = model.databases["appdb"]
        db.roles["db_datareader"].add(user)
        model._grant(db, user, (1, "INSERT", "app", "items", None), "W")
        db.roles["db_datawriter"].add(login)
        model._grant(db, login, (3, "SELECT", "app", None, None), "G")
    yield login, user
    for name in (login, other, login + "_clone"):
        model.drop_user(name)


def alternating_secret(backend: SQLServerBackend, client: Any, login: str) -> tuple[Any, str]:
    """Store the fixture login's secret with the admin's as masterarn; return handler and ARN."""
    base = {"engine": "sqlserver", **backend.connection_fields()}
    admin = {**base, "username": "admin", "password": backend.admin_password}
    admin_arn = client.create_secret(Name=f"a/{login}", SecretString=json.dumps(admin))["ARN"]
    value = {**base, "username": login, "password": "Login'pw%1", "masterarn": admin_arn}
    arn = client.create_secret(Name=f"u/{login}", SecretString=json.dumps(value))["ARN"]
    handler = SQLServerBackend.handler_class(
        strategy="alternating", settings=backend.settings(), client=client
    )
    return handler, arn


def test_the_database_user_is_found_by_sid_not_by_name(
    backend: SQLServerBackend, client: Any, impostor: tuple[str, str]
) -> None:
    login, user = impostor
    model = backend.model
    handler, arn = alternating_secret(backend, client, login)
    with model.lock:
        impostor_before = model.databases["appdb"].rows(login)
    driver.rotate(handler, client, arn)
    clone = login + "_clone"
    with model.lock:
        db = model.databases["appdb"]
        assert db.user_of(model.sids[clone]) == f"{user}_clone"
        assert clone not in db.users  # no user was made after the impostor's name
        assert db.users[f"{user}_clone"].default_schema == "app"
        assert sorted(r for r, m in db.roles.items() if f"{user}_clone" in m) == ["db_datareader"]
        assert db.rows(login) == impostor_before
    assert backend.privileges(clone) == backend.privileges(login)
    assert backend.can_login(clone, json.loads(client.get_secret_value(
        SecretId=arn, VersionStage=AWSCURRENT)["SecretString"])["password"])  # fmt: skip


def test_a_principal_holding_the_clone_users_name_is_not_taken_over(
    backend: SQLServerBackend, client: Any, impostor: tuple[str, str]
) -> None:
    login, user = impostor
    model = backend.model
    squatter = unique_name("sq")
    model.add_login(squatter, "Sq'pw%1")
    model.map_user("appdb", f"{user}_clone", squatter)
    handler, arn = alternating_secret(backend, client, login)
    try:
        mark = len(model.statements)
        with pytest.raises(UserManagementError, match="already exists and is not the user"):
            driver.rotate(handler, client, arn)
        assert model.statements[mark:] == []
        assert login + "_clone" not in model.logins
    finally:
        model.drop_user(squatter)


# -- securable classes --------------------------------------------------------------------------

# One grant on each class AWS's function copies and the engine formerly skipped.
EXTRA_GRANTS = [
    ((5, "EXECUTE", None, "AppClr", None), "G"),
    ((6, "REFERENCES", "app", "money_t", None), "W"),
    ((10, "EXECUTE", "app", "OrderSchema", None), "G"),
    ((15, "REFERENCES", None, "//app/Request", None), "G"),
    ((16, "REFERENCES", None, "//app/Contract", None), "D"),
    ((17, "SEND", None, "//app/Svc", None), "G"),
    ((18, "VIEW DEFINITION", None, "AppBinding", None), "G"),
    ((19, "VIEW DEFINITION", None, "AppRoute", None), "G"),
    ((23, "REFERENCES", None, "AppCatalog", None), "G"),
    ((24, "VIEW DEFINITION", None, "AppKey", None), "W"),
    ((25, "CONTROL", None, "AppCert", None), "G"),
    ((26, "REFERENCES", None, "AppAsym", None), "D"),
]


def test_every_extra_securable_class_is_replayed(backend: SQLServerBackend, client: Any) -> None:
    assert {key[0] for key, _ in EXTRA_GRANTS} == set(SECURABLES)
    model = backend.model
    scenario = Scenario(backend, client, unique_name()).with_admin()
    with model.lock:
        db = model.databases["appdb"]
        for key, state in EXTRA_GRANTS:
            model._grant(db, scenario.username, key, state)
    try:
        mark = len(model.statements)
        driver.rotate(scenario.handler("alternating"), client, scenario.arn)
        clone = scenario.username + "_clone"
        with model.lock:
            rows = {row for row in model.databases["appdb"].rows(clone) if row[0] in SECURABLES}
            assert rows == {row for row in db.rows(scenario.username) if row[0] in SECURABLES}
        assert len(rows) == len(EXTRA_GRANTS)
        forms = {" ".join(t for t in ddl[ddl.index("ON") + 1 : ddl.index("::")])
                 for ddl in ddl_since(model, mark) if "::" in ddl}  # fmt: skip
        assert forms >= {"ASSEMBLY", "TYPE", "XML SCHEMA COLLECTION", "MESSAGE TYPE", "CONTRACT",
                         "SERVICE", "REMOTE SERVICE BINDING", "ROUTE", "FULLTEXT CATALOG",
                         "SYMMETRIC KEY", "CERTIFICATE", "ASYMMETRIC KEY"}  # fmt: skip
        assert backend.privileges(clone) == backend.privileges(scenario.username)
    finally:
        scenario.cleanup()


@pytest.mark.parametrize(
    ("database", "scope", "desc"),
    [
        ("appdb", "database", "DATABASE_SCOPED_CREDENTIAL"),
        ("master", "server", "AVAILABILITY_GROUP"),
    ],
)
def test_an_unknown_class_is_refused_naming_it_and_a_retry_completes(
    backend: SQLServerBackend, client: Any, database: str, scope: str, desc: str
) -> None:
    """Refused before the first change. Once the operator acts, the same token completes: the
    database grant is removed from the original; the server one is given to a clone login the
    operator creates (the engine then only resets its password and adds the rest)."""
    model = backend.model
    where = SQLServerBackend(backend.server, backend.ca_file, backend.admin_password, database)
    scenario = Scenario(where, client, unique_name()).with_admin()
    clone = scenario.username + "_clone"
    with model.lock:
        if scope == "database":
            key = (32, "CONTROL", None, "cred", None)
            model._grant(model.databases[database], scenario.username, key, "G")
        else:
            model.server_permissions[scenario.username][(108, "CONNECT", "ag1")] = "G"
    try:
        token = str(uuid.uuid4())
        mark = len(model.statements)
        with pytest.raises(UserManagementError) as info:
            driver.rotate(scenario.handler("alternating"), client, scenario.arn, token=token)
        assert f"{scope} permissions on securable class {desc}" in str(info.value)
        assert model.statements[mark:] == []
        assert clone not in model.logins
        with model.lock:
            if scope == "database":
                del model.databases[database].permissions[scenario.username][key]
            else:
                model.add_login(clone, "Made'by%hand-1")
                model.server_permissions[clone][(108, "CONNECT", "ag1")] = "G"
        driver.rotate(scenario.handler("alternating"), client, scenario.arn, token=token)
        assert AWSCURRENT in scenario.labels()[token]
        assert where.can_login(clone, scenario.value(AWSCURRENT)["password"])
        assert where.privileges(clone) == where.privileges(scenario.username)
    finally:
        scenario.cleanup()
