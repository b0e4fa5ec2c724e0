"""The admin secret: ordinary or service-managed, and the same-database rule."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from rotation.core.admin import load_admin
from rotation.core.errors import SecretFormatError, SecretMismatchError
from rotation.core.managed import Endpoint, ManagedDatabase
from rotation.core.secret import DatabaseSecret
from rotation.engines.postgresql import PostgreSQLHandler

INSTANCE_ARN = "arn:aws:rds:us-east-1:123456789012:db:db-1"
ADMIN_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds!db-1-AbCdEf"
TAGS = {"aws:rds:primaryDBInstanceArn": INSTANCE_ARN, "aws:secretsmanager:owningService": "rds"}
DB = ManagedDatabase(
    service="RDS",
    kind="instance",
    identifier="db-1",
    arn=INSTANCE_ARN,
    engine="postgres",
    endpoint=Endpoint("db-1.abc.us-east-1.rds.amazonaws.com", 5432),
    dbname="postgres",
)


class Directory:
    """Answers as RDS would for one instance with one read replica."""

    def __init__(self) -> None:
        self.resolved: list[tuple[Mapping[str, str], Endpoint | None]] = []

    def resolve(self, tags: Mapping[str, str], near: Endpoint | None = None) -> ManagedDatabase:
        self.resolved.append((tags, near))
        return DB

    def copies(self, database: ManagedDatabase) -> Iterator[tuple[str, Endpoint]]:
        yield "read replica 'db-1-ro'", Endpoint("db-1-ro.abc.us-east-1.rds.amazonaws.com", 5432)


def user(host: str = DB.endpoint.host, port: int = 5432, **extra: Any) -> DatabaseSecret:
    value = {"engine": "postgres", "host": host, "port": port, "username": "app",
             "password": "App-password-1", "dbname": "appdb", "masterarn": ADMIN_ARN,
             **extra}  # fmt: skip
    return DatabaseSecret.parse(value, PostgreSQLHandler)


def load(value: dict[str, Any], current: DatabaseSecret, directory: Directory | None = None) -> Any:
    described: list[str] = []

    def tags() -> Mapping[str, str]:
        described.append(ADMIN_ARN)
        return TAGS

    admin = load_admin(
        value,
        ADMIN_ARN,
        current,
        parse=lambda raw: DatabaseSecret.parse(raw, PostgreSQLHandler, admin=True),
        tags=tags,
        directory=directory or Directory(),  # type: ignore[arg-type]
    )
    return admin, described


MANAGED = {"username": "master", "password": "Master-password-1"}


def test_a_managed_admin_takes_endpoint_and_engine_from_the_service() -> None:
    directory = Directory()
    admin, described = load(MANAGED, user(), directory)
    assert described == [ADMIN_ARN]  # DescribeSecret, for the tags
    assert directory.resolved == [(TAGS, Endpoint(DB.endpoint.host, 5432))]
    assert (admin.secret.engine, admin.secret.host, admin.secret.port) == (
        "postgres",
        DB.endpoint.host,
        5432,
    )
    assert admin.secret.username == "master"
    assert admin.session.dbname == "appdb"  # the user's database, not the service's
    assert admin.serves == "same endpoint"
    assert admin.describe() == (
        f"user 'master' from {ADMIN_ARN} ({DB.describe()}); the user's same endpoint"
    )
    assert "Master-password-1" not in admin.describe() + repr(admin)


def test_a_read_replica_the_service_lists_is_served_by_the_writer() -> None:
    admin, _ = load(MANAGED, user("DB-1-RO.abc.us-east-1.rds.amazonaws.com."))
    assert admin.serves == "read replica 'db-1-ro'"
    assert admin.session.host == DB.endpoint.host  # the admin acts on the writer


@pytest.mark.parametrize(
    ("host", "port"),
    [("db-2.abc.us-east-1.rds.amazonaws.com", 5432), (DB.endpoint.host, 5433)],
)
def test_an_endpoint_the_service_does_not_list_is_refused_naming_both(host: str, port: int) -> None:
    with pytest.raises(SecretMismatchError) as caught:
        load(MANAGED, user(host, port))
    message = str(caught.value)
    assert f"{host}:{port}" in message
    assert f"{DB.endpoint}" in message
    assert "refusing to rotate across servers" in message


def test_an_ordinary_admin_secret_needs_no_describe_call_and_the_same_host() -> None:
    value = {"engine": "postgres", "host": DB.endpoint.host, "port": 5432,
             "username": "master", "password": "Master-password-1"}  # fmt: skip
    directory = Directory()
    admin, described = load(value, user(), directory)
    assert described == []
    assert directory.resolved == []
    assert admin.managed is None
    assert admin.describe().endswith(f"(host {DB.endpoint}); the user's same endpoint")
    # Not even a replica counts for an ordinary admin: only a service-managed one is located.
    with pytest.raises(SecretMismatchError, match=r"names host .*5432, but the current secret"):
        load(value, user("db-1-ro.abc.us-east-1.rds.amazonaws.com"))


def test_a_managed_admin_of_another_engine_is_refused() -> None:
    class OtherEngine(Directory):
        def resolve(self, tags: Mapping[str, str], near: Endpoint | None = None) -> Any:
            return ManagedDatabase("RDS", "instance", "db-1", INSTANCE_ARN, "mysql", DB.endpoint)

    with pytest.raises(SecretFormatError, match="engine 'mysql' is not one the postgresql"):
        load(MANAGED, user(), OtherEngine())
