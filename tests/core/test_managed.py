"""Locating the database of a service-managed master secret (moto's RDS/Redshift, a Stubber)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from rotation.core.errors import DatabaseServiceError, SecretFormatError
from rotation.core.managed import (
    DatabaseDirectory,
    Endpoint,
    is_managed_value,
    managed_tag,
)
from rotation.core.registry import ENGINES, engine_class
from tests.core.moto_rds import REGION, managed_cluster, managed_instance, read_replica

NAMESPACE_ARN = "arn:aws:redshift-serverless:us-east-1:123456789012:namespace/0b1c-uuid"


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """Provide moto-backed RDS, Redshift and Secrets Manager clients."""
    with mock_aws():
        yield {
            service: boto3.client(service, region_name=REGION)
            for service in ("rds", "redshift", "secretsmanager")
        }


def directory_on(aws: dict[str, Any]) -> DatabaseDirectory:
    """Return a directory whose calls go to the given clients, recording the regions asked."""
    return DatabaseDirectory(lambda service, region: aws[service])


def tags_of(aws: dict[str, Any], secret_arn: str) -> dict[str, str]:
    described = aws["secretsmanager"].describe_secret(SecretId=secret_arn)
    return {tag["Key"]: tag["Value"] for tag in described["Tags"]}


def test_only_a_value_of_exactly_username_and_password_is_a_managed_shape() -> None:
    assert is_managed_value({"username": "u", "password": "p"})
    assert not is_managed_value({"username": "u", "password": "p", "host": "h"})
    assert not is_managed_value({"username": "u"})


def test_tags_are_matched_case_insensitively_and_in_a_fixed_order() -> None:
    arn = "arn:aws:rds:us-east-1:1:db:x"
    assert managed_tag({"aws:rds:primaryDBInstanceArn": arn}) == (
        "aws:rds:primarydbinstancearn",
        arn,
    )
    assert managed_tag({"AWS:REDSHIFT:PRIMARYCLUSTERARN": "c"}) == (
        "aws:redshift:primaryclusterarn",
        "c",
    )
    assert managed_tag({"aws:secretsmanager:owningService": "rds", "team": "x"}) is None


def test_a_managed_shape_without_a_tag_is_a_format_error() -> None:
    with pytest.raises(SecretFormatError, match="has none of their tags"):
        DatabaseDirectory(lambda *_: None).resolve({"aws:secretsmanager:owningService": "rds"})


def test_an_rds_managed_instance_secret_resolves_to_its_endpoint(aws: dict[str, Any]) -> None:
    instance = managed_instance(aws["rds"], "db-1", "postgres", "db-1.example", 6543, DBName="app")
    secret_arn = instance["MasterUserSecret"]["SecretArn"]
    tags = tags_of(aws, secret_arn)  # as RDS tags it: aws:rds:primaryDBInstanceArn
    database = directory_on(aws).resolve(tags)
    assert (database.service, database.kind, database.identifier) == ("RDS", "instance", "db-1")
    assert database.endpoint == Endpoint("db-1.example", 6543)
    assert (database.engine, database.dbname, database.arn) == (
        "postgres",
        "app",
        instance["DBInstanceArn"],
    )
    assert database.describe() == "RDS-managed, instance 'db-1', resolved to db-1.example:6543"


def test_an_instance_is_copied_by_its_read_replicas(aws: dict[str, Any]) -> None:
    instance = managed_instance(aws["rds"], "db-1", "mysql", "db-1.example", 3306)
    read_replica(aws["rds"], "db-1-ro", "db-1", "db-1-ro.example")
    directory = directory_on(aws)
    database = directory.resolve(tags_of(aws, instance["MasterUserSecret"]["SecretArn"]))
    assert list(directory.copies(database)) == [
        ("read replica 'db-1-ro'", Endpoint("db-1-ro.example", 3306))
    ]


def test_a_cluster_secret_resolves_to_the_writer_and_lists_readers(aws: dict[str, Any]) -> None:
    cluster = managed_cluster(
        aws["rds"], "aurora-1", "aurora-postgresql", 5433, writer="writer.example",
        reader="reader.example", members={"aurora-1-a": "a.example", "aurora-1-b": "b.example"},
    )  # fmt: skip
    directory = directory_on(aws)
    database = directory.resolve(tags_of(aws, cluster["MasterUserSecret"]["SecretArn"]))
    assert (database.kind, database.identifier, database.engine) == (
        "cluster",
        "aurora-1",
        "aurora-postgresql",
    )
    assert database.endpoint == Endpoint("writer.example", 5433)
    assert list(directory.copies(database)) == [
        ("reader endpoint", Endpoint("reader.example", 5433)),
        ("writer instance 'aurora-1-a'", Endpoint("a.example", 5433)),
        ("reader instance 'aurora-1-b'", Endpoint("b.example", 5433)),
    ]


def test_a_deleted_instance_is_a_typed_error_naming_the_call_and_resource(
    aws: dict[str, Any],
) -> None:
    instance = managed_instance(aws["rds"], "db-gone", "postgres", "gone.example", 5432)
    tags = tags_of(aws, instance["MasterUserSecret"]["SecretArn"])
    aws["rds"].delete_db_instance(DBInstanceIdentifier="db-gone", SkipFinalSnapshot=True)
    with pytest.raises(DatabaseServiceError) as caught:
        directory_on(aws).resolve(tags)
    message = str(caught.value)
    assert message.startswith(f"DescribeDBInstances on {instance['DBInstanceArn']} failed: ")
    assert "DBInstanceNotFound" in message


def test_a_redshift_cluster_secret_resolves_with_describe_clusters(aws: dict[str, Any]) -> None:
    aws["redshift"].create_cluster(
        ClusterIdentifier="warehouse", NodeType="ra3.xlplus", MasterUsername="awsuser",
        MasterUserPassword="Aa1-unused-password", Port=5440, DBName="analytics",
    )  # fmt: skip
    arn = f"arn:aws:redshift:{REGION}:123456789012:cluster:warehouse"
    # Redshift tags its managed secrets with this key (moto creates no such secret).
    database = directory_on(aws).resolve({"aws:redshift:primaryclusterarn": arn})
    assert (database.service, database.identifier, database.engine) == (
        "Redshift",
        "warehouse",
        "redshift",
    )
    assert database.endpoint.port == 5440
    assert database.endpoint.host.startswith("warehouse.")
    assert database.dbname == "analytics"
    assert list(directory_on(aws).copies(database)) == []


class ServerlessStub:
    """A Redshift Serverless client whose every request is asserted (moto has none)."""

    def __init__(self) -> None:
        self.client = boto3.client(
            "redshift-serverless", region_name=REGION,
            aws_access_key_id="testing", aws_secret_access_key="testing",
        )  # fmt: skip
        self.stub = Stubber(self.client)

    def namespaces(self, pages: list[list[dict[str, Any]]]) -> None:
        self._pages("list_namespaces", "namespaces", pages)

    def workgroups(self, pages: list[list[dict[str, Any]]]) -> None:
        self._pages("list_workgroups", "workgroups", pages)

    def _pages(self, method: str, key: str, pages: list[list[dict[str, Any]]]) -> None:
        for index, items in enumerate(pages):
            response: dict[str, Any] = {key: items}
            if index + 1 < len(pages):
                response["nextToken"] = f"{method}-{index + 1}"
            expected = {"nextToken": f"{method}-{index}"} if index else {}
            self.stub.add_response(method, response, expected)

    def directory(self) -> DatabaseDirectory:
        return DatabaseDirectory(lambda service, region: self.client)


def namespace(name: str, arn: str) -> dict[str, Any]:
    return {"namespaceArn": arn, "namespaceName": name, "namespaceId": name, "dbName": "dev"}


def workgroup(name: str, namespace_name: str, host: str, port: int = 5439) -> dict[str, Any]:
    return {
        "workgroupName": name,
        "namespaceName": namespace_name,
        "endpoint": {"address": host, "port": port},
    }


def test_a_serverless_namespace_is_found_across_pages_of_both_lists() -> None:
    serverless = ServerlessStub()
    serverless.namespaces([[namespace("other", "arn:other")], [namespace("sales", NAMESPACE_ARN)]])
    serverless.workgroups(
        [[workgroup("wg-other", "other", "o.example")], [workgroup("wg-sales", "sales", "s.ex")]]
    )
    with serverless.stub:
        database = serverless.directory().resolve(
            {"aws:redshift-serverless:namespaceArn": NAMESPACE_ARN}
        )
    serverless.stub.assert_no_pending_responses()
    assert (database.service, database.kind, database.identifier) == (
        "Redshift Serverless",
        "workgroup",
        "wg-sales",
    )
    assert database.endpoint == Endpoint("s.ex", 5439)


def test_several_workgroups_are_told_apart_by_the_user_endpoint() -> None:
    def run(near: Endpoint) -> Any:
        serverless = ServerlessStub()
        serverless.namespaces([[namespace("sales", NAMESPACE_ARN)]])
        serverless.workgroups(
            [[workgroup("wg-a", "sales", "a.ex"), workgroup("wg-b", "sales", "b.ex", 5440)]]
        )
        with serverless.stub:
            return serverless.directory().resolve(
                {"aws:redshift-serverless:namespacearn": NAMESPACE_ARN}, near=near
            )

    assert run(Endpoint("B.EX.", 5440)).identifier == "wg-b"
    with pytest.raises(DatabaseServiceError, match="has workgroups wg-a, wg-b and none is"):
        run(Endpoint("c.ex", 5439))


def test_an_unknown_namespace_and_a_refused_call_are_typed_errors() -> None:
    serverless = ServerlessStub()
    serverless.namespaces([[namespace("other", "arn:other")]])
    with serverless.stub, pytest.raises(DatabaseServiceError, match="no Redshift Serverless"):
        serverless.directory().resolve({"aws:redshift-serverless:namespacearn": NAMESPACE_ARN})
    denied = ServerlessStub()
    denied.stub.add_client_error("list_namespaces", "AccessDeniedException", "not authorized")
    with denied.stub, pytest.raises(DatabaseServiceError) as caught:
        denied.directory().resolve({"aws:redshift-serverless:namespacearn": NAMESPACE_ARN})
    assert str(caught.value) == (
        f"ListNamespaces on {NAMESPACE_ARN} failed: AccessDeniedException: not authorized"
    )


def test_the_clients_are_asked_for_the_region_of_the_resource() -> None:
    asked: list[tuple[str, str | None]] = []

    class Refusing:
        def describe_db_instances(self, **_: Any) -> Any:
            raise RuntimeError("offline")

    def clients(service: str, region: str | None) -> Any:
        asked.append((service, region))
        return Refusing()

    with pytest.raises(DatabaseServiceError, match="failed: RuntimeError"):
        DatabaseDirectory(clients).resolve(
            {"aws:rds:primaryDBInstanceArn": "arn:aws:rds:eu-west-3:1:db:x"}
        )
    assert asked == [("rds", "eu-west-3")]


# The Engine values RDS reports (botocore's rds model, CreateDBInstance and CreateDBCluster),
# DocumentDB's cluster engine, and Redshift's; each must be accepted by exactly the engine of
# ours that rotates it, as the admin secret's engine.
ENGINE_NAMES = {
    "postgres": "postgresql", "aurora-postgresql": "postgresql",
    "mysql": "mysql", "aurora-mysql": "mysql",
    "mariadb": "mariadb",
    "oracle-ee": "oracle", "oracle-ee-cdb": "oracle", "oracle-se2": "oracle",
    "oracle-se2-cdb": "oracle", "custom-oracle-ee": "oracle", "custom-oracle-ee-cdb": "oracle",
    "custom-oracle-se2": "oracle", "custom-oracle-se2-cdb": "oracle",
    "sqlserver-ee": "sqlserver", "sqlserver-se": "sqlserver", "sqlserver-ex": "sqlserver",
    "sqlserver-web": "sqlserver", "sqlserver-dev-ee": "sqlserver",
    "custom-sqlserver-ee": "sqlserver", "custom-sqlserver-se": "sqlserver",
    "custom-sqlserver-web": "sqlserver", "custom-sqlserver-dev": "sqlserver",
    "docdb": "documentdb",
    "redshift": "redshift",
    "db2-ae": None, "db2-ce": None, "db2-se": None, "neptune": None,
}  # fmt: skip


@pytest.mark.parametrize(("name", "engine"), sorted(ENGINE_NAMES.items()))
def test_each_service_engine_name_belongs_to_exactly_one_of_our_engines(
    name: str, engine: str | None
) -> None:
    accepting = [ours for ours in ENGINES if name in engine_class(ours).admin_engine_values]
    assert accepting == ([engine] if engine else [])


@pytest.mark.parametrize("operation", ["CreateDBInstance", "CreateDBCluster"])
def test_the_table_knows_every_engine_botocore_documents(operation: str) -> None:
    model = botocore.session.get_session().get_service_model("rds")
    text = model.operation_model(operation).input_shape.members["Engine"].documentation
    documented = set(re.findall(r"<code>([a-z0-9-]+)</code>", text))
    assert "postgres" in documented
    assert documented - set(ENGINE_NAMES) == set()


def test_a_managed_secret_is_not_read_from_json_keys_alone() -> None:
    # Only the exact two-key shape triggers the lookup; a value with extra keys is an ordinary
    # secret and needs no DescribeSecret (no extra permission for existing set-ups).
    assert not is_managed_value(json.loads('{"username": "u", "password": "p", "engine": "e"}'))
