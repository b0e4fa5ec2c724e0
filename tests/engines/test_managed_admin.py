"""Alternating users with the admin secret RDS manages, on the real PostgreSQL and MariaDB.

moto plays RDS (DescribeDBInstances, DescribeDBClusters, the ``rds!…`` secret and its tags); the
endpoints it describes are pinned to the throwaway servers, so every rotation below logs in and
clones for real. The user secrets name the servers as ``127.0.0.1`` (the writer) or ``localhost``
(a read replica / reader endpoint: the same server under another name, as a replica reaches the
same data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from rotation.core.errors import SecretMismatchError
from rotation.core.staging import AWSCURRENT
from rotation.local import driver
from rotation.testing.conformance import Scenario, unique_name
from tests.conftest import RunningServer
from tests.core.moto_rds import (
    REGION,
    managed_cluster,
    managed_instance,
    read_replica,
    store_credentials,
)
from tests.engines.mysql.backend import MySQLOnMariaDBBackend
from tests.engines.support import admin_secret

# The servers are chosen per parameter (request.getfixturevalue), which the fixture-based
# marking in tests/conftest.py cannot see.
pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Case:
    backend: str  # fixture name
    engine: str  # as RDS reports it
    topology: str  # instance | cluster
    user_host: str  # what the user secret names

    def __str__(self) -> str:
        return f"{self.backend}-{self.engine}-{self.topology}-{self.user_host}"


CASES = [
    Case("pg", "postgres", "instance", "127.0.0.1"),
    Case("pg", "postgres", "instance", "localhost"),  # a read replica
    Case("pg", "aurora-postgresql", "cluster", "127.0.0.1"),  # the writer endpoint
    Case("pg", "aurora-postgresql", "cluster", "localhost"),  # the reader endpoint
    Case("maria", "mariadb", "instance", "127.0.0.1"),
    Case("maria", "mariadb", "instance", "localhost"),
    Case("mysql_on_maria", "aurora-mysql", "cluster", "127.0.0.1"),
    Case("mysql_on_maria", "aurora-mysql", "cluster", "localhost"),
]


@pytest.fixture(scope="module")
def mysql_on_maria(mariadb_server: RunningServer) -> MySQLOnMariaDBBackend:
    return MySQLOnMariaDBBackend(mariadb_server)


def managed_admin(rds: Any, case: Case, port: int) -> str:
    """Create the RDS resource for a case; return the ARN of the secret RDS manages for it."""
    name = unique_name("db-").replace("_", "-")
    if case.topology == "instance":
        instance = managed_instance(rds, name, case.engine, "127.0.0.1", port)
        read_replica(rds, f"{name}-ro", name, "localhost")
        return str(instance["MasterUserSecret"]["SecretArn"])
    cluster = managed_cluster(
        rds, name, case.engine, port, writer="127.0.0.1", reader="localhost",
        members={f"{name}-a": "writer-instance.invalid", f"{name}-b": "reader-instance.invalid"},
    )  # fmt: skip
    return str(cluster["MasterUserSecret"]["SecretArn"])


def point_at(scenario: Scenario, admin_arn: str, host: str) -> None:
    scenario.secret_value.update(host=host, masterarn=admin_arn)
    value = json.dumps(scenario.secret_value)
    scenario.client.put_secret_value(SecretId=scenario.arn, SecretString=value)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_alternating_rotation_with_the_admin_secret_rds_manages(
    request: pytest.FixtureRequest, client: Any, case: Case
) -> None:
    backend = request.getfixturevalue(case.backend)
    rds = boto3.client("rds", region_name=REGION)
    scenario = Scenario(backend, client, unique_name("managed"))
    try:
        admin_arn = managed_admin(rds, case, backend.info.port)
        store_credentials(client, admin_arn, *backend.admin_login())
        assert set(json.loads(scenario_value(client, admin_arn))) == {"username", "password"}
        point_at(scenario, admin_arn, case.user_host)
        failed_before = backend.failed_logins()
        handler = scenario.handler("alternating")
        driver.rotate(handler, client, scenario.arn)
        first = scenario.value(AWSCURRENT)
        assert first["username"] == scenario.username + handler.clone_suffix
        assert first["host"] == case.user_host  # the user's secret keeps its own endpoint
        assert backend.can_login(first["username"], first["password"])
        assert backend.privileges(first["username"]) == backend.privileges(scenario.username)
        driver.rotate(handler, client, scenario.arn)
        second = scenario.value(AWSCURRENT)
        assert second["username"] == scenario.username
        assert backend.can_login(second["username"], second["password"])
        if failed_before is not None:  # no rotation step caused a rejected login
            assert backend.failed_logins() == failed_before
        assert not backend.can_login(scenario.username, scenario.password)
    finally:
        scenario.cleanup()


def scenario_value(client: Any, secret_arn: str) -> str:
    response = client.get_secret_value(SecretId=secret_arn, VersionStage=AWSCURRENT)
    return str(response["SecretString"])


@pytest.mark.parametrize("backend_name", ["pg", "maria"])
def test_a_managed_admin_of_another_endpoint_is_refused_before_anything_changes(
    request: pytest.FixtureRequest, client: Any, backend_name: str
) -> None:
    backend = request.getfixturevalue(backend_name)
    rds = boto3.client("rds", region_name=REGION)
    scenario = Scenario(backend, client, unique_name("elsewhere"))
    try:
        engine = "postgres" if backend_name == "pg" else "mariadb"
        # The same host, another port: RDS says the admin's database is somewhere else.
        other_port = backend.info.port + 1
        instance = managed_instance(rds, "db-elsewhere", engine, "127.0.0.1", other_port)
        admin_arn = instance["MasterUserSecret"]["SecretArn"]
        store_credentials(client, admin_arn, *backend.admin_login())
        point_at(scenario, admin_arn, "127.0.0.1")
        labels_before = scenario.labels()
        handler = scenario.handler("alternating")
        with pytest.raises(SecretMismatchError) as caught:
            driver.rotate(handler, client, scenario.arn)
        message = str(caught.value)
        assert f"127.0.0.1:{backend.info.port}" in message  # the user's endpoint
        assert f"127.0.0.1:{other_port}" in message  # where RDS says the admin's database is
        assert "instance 'db-elsewhere'" in message
        clone = scenario.username + handler.clone_suffix
        with handler.connect(admin_secret(backend, backend.handler_class)) as conn:
            assert not handler.user_exists(conn, clone)
        assert scenario.value(AWSCURRENT)["username"] == scenario.username
        assert {v: s for v, s in scenario.labels().items() if "AWSCURRENT" in s} == {
            v: s for v, s in labels_before.items() if "AWSCURRENT" in s
        }
    finally:
        scenario.cleanup()
