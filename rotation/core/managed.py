"""Databases whose master secret a service manages: found through the service's own API.

RDS, Aurora and DocumentDB (``ManageMasterUserPassword``) and Redshift (``ManageMasterPassword``)
keep the master credentials in a secret that holds only ``username`` and ``password``. The
database it belongs to is named by a system tag on the secret, and its endpoint, port and engine
come from the service's describe calls:

========================================  =============================================
tag (keys compared case-insensitively)    resolved with
========================================  =============================================
``aws:rds:primaryDBInstanceArn``          RDS ``DescribeDBInstances``
``aws:rds:primaryDBClusterArn``           RDS ``DescribeDBClusters`` (Aurora, Multi-AZ
                                          clusters and DocumentDB answer this call)
``aws:redshift:primaryclusterarn``        Redshift ``DescribeClusters``
``aws:redshift-serverless:namespacearn``  Redshift Serverless ``ListNamespaces`` then
                                          ``ListWorkgroups`` (both paginated)
========================================  =============================================

:class:`DatabaseDirectory` makes those calls (read-only, one boto3 client per service and region
per container, with the SDK's standard retry mode for throttling) and also lists the endpoints
that reach a copy of the same database: an instance's read replicas, a cluster's reader endpoint
and member instances. Whether a user's secret may be served by a managed admin is decided from
those answers, never from the look of a host name.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rotation.core.errors import DatabaseServiceError, SecretFormatError
from rotation.core.secrets_client import aws_error_text

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

#: The keys of a managed master secret's value; any other key set is an ordinary secret.
MANAGED_KEYS = frozenset({"username", "password"})
RDS_INSTANCE_TAG = "aws:rds:primarydbinstancearn"
RDS_CLUSTER_TAG = "aws:rds:primarydbclusterarn"
REDSHIFT_CLUSTER_TAG = "aws:redshift:primaryclusterarn"
REDSHIFT_NAMESPACE_TAG = "aws:redshift-serverless:namespacearn"
TAGS = (RDS_INSTANCE_TAG, RDS_CLUSTER_TAG, REDSHIFT_CLUSTER_TAG, REDSHIFT_NAMESPACE_TAG)


def is_managed_value(value: Mapping[str, Any]) -> bool:
    """Tell whether a secret value has the shape of a service-managed master secret."""
    return set(value) == MANAGED_KEYS


@dataclass(frozen=True)
class Endpoint:
    """A host and port, compared the way DNS compares names."""

    host: str
    port: int

    @property
    def key(self) -> tuple[str, int]:
        """Return the (host, port) pair with the host lower-cased and without a trailing dot."""
        return (self.host.strip().lower().rstrip("."), self.port)

    def __str__(self) -> str:
        return f"{self.host}:{self.port}"


@dataclass(frozen=True)
class ManagedDatabase:
    """Where a managed master secret's database lives, as its service describes it.

    Attributes:
        service: ``RDS``, ``Redshift`` or ``Redshift Serverless``.
        kind: ``instance``, ``cluster`` or ``workgroup``.
        identifier: The instance, cluster or workgroup name.
        arn: The resource ARN from the secret's tag.
        engine: The engine name the service reports (``postgres``, ``oracle-se2-cdb``, ...).
        endpoint: The writer's (primary's) endpoint: where the admin acts.
        dbname: The database the service created, if any.
    """

    service: str
    kind: str
    identifier: str
    arn: str
    engine: str
    endpoint: Endpoint
    dbname: str | None = None

    def describe(self) -> str:
        """Return e.g. ``RDS-managed, instance 'db-1', resolved to host:5432``."""
        where = f"{self.kind} {self.identifier!r}"
        return f"{self.service}-managed, {where}, resolved to {self.endpoint}"


def managed_tag(tags: Mapping[str, str]) -> tuple[str, str] | None:
    """Return the (lower-cased key, value) of the first managed-database tag, if any."""
    lowered = {key.lower(): value for key, value in tags.items()}
    for tag in TAGS:
        if lowered.get(tag):
            return tag, lowered[tag]
    return None


_clients: dict[tuple[str, str | None], Any] = {}
_clients_lock = threading.Lock()


def service_client(service: str, region: str | None) -> Any:
    """Return the container's boto3 client for a service and region, creating it once.

    ``AWS_ENDPOINT_URL_RDS`` and the like (botocore's service-specific endpoints) apply.
    """
    with _clients_lock:
        client = _clients.get((service, region))
        if client is None:
            import boto3
            from botocore.config import Config

            config = Config(
                retries={"mode": "standard", "max_attempts": 5},
                connect_timeout=5,
                read_timeout=15,
            )
            session: Any = boto3.session.Session()  # the service name is not a literal here
            client = session.client(service, region_name=region, config=config)
            _clients[(service, region)] = client
        return client


def forget_clients() -> None:
    """Drop the cached clients (tests that switch endpoints or credentials call this)."""
    with _clients_lock:
        _clients.clear()


def arn_region(arn: str) -> str | None:
    """Return the region field of an ARN, or None when it has none."""
    parts = arn.split(":")
    return (parts[3] or None) if len(parts) > 5 else None


class DatabaseDirectory:
    """Look up managed databases and their replicas with the services' describe calls."""

    def __init__(self, clients: Callable[[str, str | None], Any] | None = None) -> None:
        """Create a directory.

        Args:
            clients: Returns a boto3 client for ``(service, region)``; the container's cached
                clients when omitted (tests pass stubbed or moto-backed ones).
        """
        self._clients = clients or service_client

    # -- the database behind a managed secret -------------------------------------------------

    def resolve(self, tags: Mapping[str, str], near: Endpoint | None = None) -> ManagedDatabase:
        """Return the database a managed master secret's tags name.

        Args:
            tags: The secret's tags (DescribeSecret).
            near: The user's endpoint, to choose among several Serverless workgroups.

        Raises:
            SecretFormatError: No managed-database tag is present.
            DatabaseServiceError: The service's API failed or does not know the resource.
        """
        found = managed_tag(tags)
        if found is None:
            known = ", ".join(TAGS)
            raise SecretFormatError(
                "the admin secret holds only 'username' and 'password', as the secrets RDS and "
                f"Redshift manage do, but has none of their tags ({known}), so its database "
                "cannot be found; add engine, host and port to the secret"
            )
        tag, arn = found
        if tag == RDS_INSTANCE_TAG:
            return self._rds_instance(arn)
        if tag == RDS_CLUSTER_TAG:
            return self._rds_cluster(arn)
        if tag == REDSHIFT_CLUSTER_TAG:
            return self._redshift_cluster(arn)
        return self._redshift_workgroup(arn, near)

    def _rds_instance(self, arn: str) -> ManagedDatabase:
        instance = self._one_instance(arn)
        return ManagedDatabase(
            service="RDS",
            kind="instance",
            identifier=instance["DBInstanceIdentifier"],
            arn=arn,
            engine=instance["Engine"],
            endpoint=self._instance_endpoint(instance, arn),
            dbname=instance.get("DBName"),
        )

    def _rds_cluster(self, arn: str) -> ManagedDatabase:
        cluster = self._one_cluster(arn)
        if not cluster.get("Endpoint") or not cluster.get("Port"):
            raise DatabaseServiceError(
                f"DescribeDBClusters on {arn}: the cluster has no endpoint yet "
                f"(status {cluster.get('Status', 'unknown')})"
            )
        return ManagedDatabase(
            service="RDS",
            kind="cluster",
            identifier=cluster["DBClusterIdentifier"],
            arn=arn,
            engine=cluster["Engine"],
            endpoint=Endpoint(cluster["Endpoint"], int(cluster["Port"])),
            dbname=cluster.get("DatabaseName"),
        )

    def _redshift_cluster(self, arn: str) -> ManagedDatabase:
        # arn:aws:redshift:<region>:<account>:cluster:<name>
        name = arn.rsplit(":cluster:", 1)[-1]
        answer = self._call("redshift", arn, "DescribeClusters", ClusterIdentifier=name)
        clusters = answer.get("Clusters", [])
        if not clusters or not clusters[0].get("Endpoint"):
            raise DatabaseServiceError(f"DescribeClusters on {arn}: no cluster with an endpoint")
        cluster = clusters[0]
        return ManagedDatabase(
            service="Redshift",
            kind="cluster",
            identifier=cluster["ClusterIdentifier"],
            arn=arn,
            engine="redshift",
            endpoint=Endpoint(cluster["Endpoint"]["Address"], int(cluster["Endpoint"]["Port"])),
            dbname=cluster.get("DBName"),
        )

    def _redshift_workgroup(self, arn: str, near: Endpoint | None) -> ManagedDatabase:
        # The tag holds the namespace ARN, which carries the namespace's id, not its name;
        # GetNamespace takes only the name, and ListWorkgroups has no namespace filter.
        namespace = next(
            (
                item
                for item in self._pages("redshift-serverless", arn, "ListNamespaces", "namespaces")
                if item.get("namespaceArn") == arn
            ),
            None,
        )
        if namespace is None:
            raise DatabaseServiceError(f"ListNamespaces: no Redshift Serverless namespace {arn}")
        name = namespace["namespaceName"]
        workgroups = [
            item
            for item in self._pages("redshift-serverless", arn, "ListWorkgroups", "workgroups")
            if item.get("namespaceName") == name and item.get("endpoint")
        ]
        if not workgroups:
            raise DatabaseServiceError(
                f"ListWorkgroups: namespace {name!r} ({arn}) has no workgroup with an endpoint"
            )
        chosen = workgroups[0]
        if len(workgroups) > 1:
            matching = [
                item
                for item in workgroups
                if near is not None and _workgroup_endpoint(item).key == near.key
            ]
            if len(matching) != 1:
                names = ", ".join(sorted(item["workgroupName"] for item in workgroups))
                raise DatabaseServiceError(
                    f"ListWorkgroups: namespace {name!r} has workgroups {names} and none is the "
                    f"one the user's secret names ({near}); cannot choose the admin's endpoint"
                )
            chosen = matching[0]
        return ManagedDatabase(
            service="Redshift Serverless",
            kind="workgroup",
            identifier=chosen["workgroupName"],
            arn=arn,
            engine="redshift",
            endpoint=_workgroup_endpoint(chosen),
            dbname=namespace.get("dbName"),
        )

    # -- endpoints that reach a copy of the same database --------------------------------------

    def copies(self, database: ManagedDatabase) -> Iterator[tuple[str, Endpoint]]:
        """Yield (what, endpoint) for each endpoint that reaches the same database's data.

        For an RDS instance: its read replicas in the same region. For an RDS cluster: its
        reader endpoint and its member instances (the writer's instance endpoint included).
        Redshift has none. Each is asked of the API when first needed.
        """
        if database.service != "RDS":
            return
        if database.kind == "instance":
            instance = self._one_instance(database.arn)
            region = arn_region(database.arn)
            for replica in instance.get("ReadReplicaDBInstanceIdentifiers", []):
                # Replicas in another region are named by ARN and cannot be the same endpoint
                # as a secret rotated here; describing them would need that region's client.
                if replica.startswith("arn:") and arn_region(replica) != region:
                    continue
                described = self._one_instance(replica, source=database.arn)
                what = f"read replica {described['DBInstanceIdentifier']!r}"
                yield what, self._instance_endpoint(described, replica)
            return
        cluster = self._one_cluster(database.arn)
        if cluster.get("ReaderEndpoint"):
            yield "reader endpoint", Endpoint(cluster["ReaderEndpoint"], int(cluster["Port"]))
        writers = {
            member["DBInstanceIdentifier"]
            for member in cluster.get("DBClusterMembers", [])
            if member.get("IsClusterWriter")
        }
        members = self._pages(
            "rds",
            database.arn,
            "DescribeDBInstances",
            "DBInstances",
            Filters=[{"Name": "db-cluster-id", "Values": [cluster["DBClusterIdentifier"]]}],
        )
        for member in members:
            if not member.get("Endpoint"):
                continue
            identifier = member["DBInstanceIdentifier"]
            role = "writer instance" if identifier in writers else "reader instance"
            yield f"{role} {identifier!r}", self._instance_endpoint(member, database.arn)

    # -- calls ----------------------------------------------------------------------------------

    def _one_instance(self, identifier: str, source: str | None = None) -> dict[str, Any]:
        resource = source or identifier
        answer = self._call("rds", resource, "DescribeDBInstances", DBInstanceIdentifier=identifier)
        instances = answer.get("DBInstances", [])
        if not instances:
            raise DatabaseServiceError(f"DescribeDBInstances on {identifier}: no such instance")
        instance: dict[str, Any] = instances[0]
        return instance

    def _one_cluster(self, arn: str) -> dict[str, Any]:
        answer = self._call("rds", arn, "DescribeDBClusters", DBClusterIdentifier=arn)
        clusters = answer.get("DBClusters", [])
        if not clusters:
            raise DatabaseServiceError(f"DescribeDBClusters on {arn}: no such cluster")
        cluster: dict[str, Any] = clusters[0]
        return cluster

    @staticmethod
    def _instance_endpoint(instance: Mapping[str, Any], resource: str) -> Endpoint:
        endpoint = instance.get("Endpoint") or {}
        if not endpoint.get("Address") or not endpoint.get("Port"):
            raise DatabaseServiceError(
                f"DescribeDBInstances on {resource}: the instance has no endpoint yet "
                f"(status {instance.get('DBInstanceStatus', 'unknown')})"
            )
        return Endpoint(endpoint["Address"], int(endpoint["Port"]))

    def _call(self, service: str, resource: str, operation: str, **kwargs: Any) -> Any:
        from botocore import xform_name

        client = self._clients(service, arn_region(resource))
        try:
            return getattr(client, xform_name(operation))(**kwargs)
        except Exception as exc:
            raise _wrap(operation, resource, exc) from exc

    def _pages(
        self, service: str, resource: str, operation: str, key: str, **kwargs: Any
    ) -> Iterator[dict[str, Any]]:
        from botocore import xform_name

        client = self._clients(service, arn_region(resource))
        try:
            for page in client.get_paginator(xform_name(operation)).paginate(**kwargs):
                yield from page.get(key, [])
        except Exception as exc:
            raise _wrap(operation, resource, exc) from exc


def _workgroup_endpoint(workgroup: Mapping[str, Any]) -> Endpoint:
    endpoint = workgroup["endpoint"]
    return Endpoint(endpoint["address"], int(endpoint.get("port") or workgroup.get("port") or 0))


def _wrap(operation: str, resource: str, exc: Exception) -> DatabaseServiceError:
    if isinstance(exc, DatabaseServiceError):
        return exc
    return DatabaseServiceError(f"{operation} on {resource} failed: {aws_error_text(exc)}")
