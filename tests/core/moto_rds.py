"""moto's RDS and Redshift as the managed services, with endpoints the tests choose.

moto serves DescribeDBInstances, DescribeDBClusters and DescribeClusters and creates RDS-managed
master secrets (``rds!db-…`` with the ``aws:rds:primaryDBInstanceArn`` tag, as RDS does). Its host
names are computed properties (``<id>.aaaaaaaaaa.<region>.rds.amazonaws.com``), so a test that
wants a described endpoint to reach a throwaway server pins the name on that one model object.
moto stores the managed secret with a fixed value; tests store the real credentials over it.
moto has no Redshift Serverless and creates no secret for ``ManageMasterPassword``: those tests
use a Stubber and a secret tagged by hand.
"""

from __future__ import annotations

import json
from typing import Any

from moto.core.models import DEFAULT_ACCOUNT_ID

REGION = "us-east-1"


def rds_backend() -> Any:
    """Return moto's in-process RDS backend of the test account and region."""
    from moto.rds.models import rds_backends

    return rds_backends[DEFAULT_ACCOUNT_ID][REGION]


def pin(model: Any, **values: Any) -> None:
    """Give one moto model object fixed values for attributes that are properties in moto."""
    cls = type(model)
    # moto's model metaclass derives the service from the module name; keep it.
    model.__class__ = type(
        f"Pinned{cls.__name__}", (cls,), {"__module__": cls.__module__, **values}
    )


def store_credentials(client: Any, secret_arn: str, username: str, password: str) -> None:
    """Make a managed secret's AWSCURRENT value hold real credentials (only the two keys)."""
    value = json.dumps({"username": username, "password": password})
    client.put_secret_value(SecretId=secret_arn, SecretString=value)


def managed_instance(
    rds: Any, identifier: str, engine: str, host: str, port: int, **extra: Any
) -> dict[str, Any]:
    """Create an RDS instance whose master secret RDS manages; pin its endpoint address."""
    if engine == "mariadb":
        extra.setdefault("EngineVersion", "10.11.9")  # moto has no default version for it
    instance: dict[str, Any] = rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        DBInstanceClass="db.t3.micro",
        Engine=engine,
        MasterUsername="master",
        ManageMasterUserPassword=True,
        Port=port,
        AllocatedStorage=20,
        **extra,
    )["DBInstance"]
    pin(rds_backend().databases[identifier], address=host)
    return instance


def read_replica(rds: Any, identifier: str, source: str, host: str) -> None:
    """Create a read replica of an instance; pin its endpoint address."""
    rds.create_db_instance_read_replica(
        DBInstanceIdentifier=identifier, SourceDBInstanceIdentifier=source
    )
    pin(rds_backend().databases[identifier], address=host)


def managed_cluster(
    rds: Any,
    identifier: str,
    engine: str,
    port: int,
    *,
    writer: str,
    reader: str,
    members: dict[str, str],
) -> dict[str, Any]:
    """Create a cluster with a managed master secret and member instances, endpoints pinned.

    Args:
        rds: A boto3 RDS client on moto.
        identifier: The cluster identifier.
        engine: ``aurora-postgresql``, ``aurora-mysql``, ...
        port: The cluster's (and its members') port.
        writer: The cluster (writer) endpoint's host name.
        reader: The reader endpoint's host name.
        members: Instance identifier -> its endpoint host, the first one becomes the writer.
    """
    rds.create_db_cluster(
        DBClusterIdentifier=identifier,
        Engine=engine,
        MasterUsername="master",
        ManageMasterUserPassword=True,
        Port=port,
    )
    for member, host in members.items():
        rds.create_db_instance(
            DBInstanceIdentifier=member,
            DBInstanceClass="db.r6g.large",
            Engine=engine,
            DBClusterIdentifier=identifier,
        )
        model = rds_backend().databases[member]
        pin(model, address=host)
        model.port = port  # members listen on the cluster's port (moto gives them the default)
    pin(rds_backend().clusters[identifier], endpoint=writer, reader_endpoint=reader)
    cluster: dict[str, Any] = rds.describe_db_clusters(DBClusterIdentifier=identifier)[
        "DBClusters"
    ][0]
    return cluster
