"""Alternating users on the DocumentDB test server with the admin secret DocumentDB manages.

DocumentDB's managed master secrets go through the RDS mechanism: the RDS API's
DescribeDBClusters answers for DocumentDB clusters (``Engine: docdb``) —
https://docs.aws.amazon.com/documentdb/latest/developerguide/docdb-secrets-manager.html and
botocore's rds model. moto cannot create DocumentDB clusters, so a Stubber answers, asserting
the request; the endpoint it gives is the wire-protocol test server.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
from botocore.stub import Stubber

from rotation.core.managed import DatabaseDirectory
from rotation.core.staging import AWSCURRENT
from rotation.local import driver
from rotation.testing.conformance import Scenario, unique_name
from tests.engines.documentdb.backend import ADMIN_PASSWORD, ADMIN_USER, DocumentDBBackend
from tests.engines.documentdb.server import MongoTestServer

CLUSTER_ARN = "arn:aws:rds:us-east-1:123456789012:cluster:docdb-1"


def test_alternating_rotation_with_the_admin_secret_documentdb_manages(
    tls_server: MongoTestServer, ca_file: str, client: Any
) -> None:
    backend = DocumentDBBackend(tls_server, ca_file, "localhost")
    scenario = Scenario(backend, client, unique_name("docdb"))
    admin_arn = client.create_secret(
        Name="rds!cluster-0f1e2d3c",
        SecretString=json.dumps({"username": ADMIN_USER, "password": ADMIN_PASSWORD}),
        Tags=[{"Key": "aws:rds:primaryDBClusterArn", "Value": CLUSTER_ARN},
              {"Key": "aws:secretsmanager:owningService", "Value": "rds"}],
    )["ARN"]  # fmt: skip
    scenario.secret_value["masterarn"] = admin_arn
    client.put_secret_value(SecretId=scenario.arn, SecretString=json.dumps(scenario.secret_value))
    rds = boto3.client("rds", region_name="us-east-1")
    cluster = {"DBClusterIdentifier": "docdb-1", "Engine": "docdb", "Endpoint": "localhost",
               "ReaderEndpoint": "docdb-1.cluster-ro.invalid", "Port": tls_server.port,
               "Status": "available"}  # fmt: skip
    stub = Stubber(rds)
    for _ in range(2):  # one lookup per setSecret
        stub.add_response(
            "describe_db_clusters", {"DBClusters": [cluster]}, {"DBClusterIdentifier": CLUSTER_ARN}
        )
    handler = scenario.handler("alternating")
    handler.directory = DatabaseDirectory(lambda service, region: rds)
    try:
        with stub:
            driver.rotate(handler, client, scenario.arn)
            first = scenario.value(AWSCURRENT)
            assert first["username"] == scenario.username + handler.clone_suffix
            assert backend.can_login(first["username"], first["password"])
            assert backend.privileges(first["username"]) == backend.privileges(scenario.username)
            driver.rotate(handler, client, scenario.arn)
        stub.assert_no_pending_responses()
        second = scenario.value(AWSCURRENT)
        assert second["username"] == scenario.username
        assert backend.can_login(second["username"], second["password"])
    finally:
        scenario.cleanup()
