"""Alternating users with the admin secret Redshift manages, on the md5 PostgreSQL stand-in.

moto plays Redshift's DescribeClusters (its cluster's address is pinned to the stand-in); moto
creates no secret for ``ManageMasterPassword``, so the test makes one the way Redshift does:
``redshift!<cluster>-<user>`` holding only username and password, tagged
``aws:redshift:primaryclusterarn`` (https://docs.aws.amazon.com/redshift/latest/mgmt/
redshift-secrets-manager-integration.html; the tag key as AWS's Redshift rotation function reads
it). Serverless namespaces are covered with a Stubber in tests/core/test_managed.py.
"""

from __future__ import annotations

import json
from typing import Any

import boto3

from rotation.core.staging import AWSCURRENT
from rotation.local import driver
from rotation.testing.conformance import Scenario, unique_name
from tests.conftest import RunningServer
from tests.core.moto_rds import REGION, pin
from tests.engines.redshift.backend import RedshiftBackend


def test_alternating_rotation_with_the_admin_secret_redshift_manages(
    redshift_server: RunningServer, client: Any
) -> None:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.redshift.models import redshift_backends

    backend = RedshiftBackend(redshift_server)
    redshift = boto3.client("redshift", region_name=REGION)
    redshift.create_cluster(
        ClusterIdentifier="warehouse", NodeType="ra3.xlplus", MasterUsername="awsuser",
        MasterUserPassword="Unused-password-1", Port=backend.info.port, DBName="dev",
    )  # fmt: skip
    pin(redshift_backends[DEFAULT_ACCOUNT_ID][REGION].clusters["warehouse"], address="127.0.0.1")
    admin_user, admin_password = backend.admin_login()
    admin_arn = client.create_secret(
        Name="redshift!warehouse-awsuser",
        SecretString=json.dumps({"username": admin_user, "password": admin_password}),
        Tags=[{"Key": "aws:redshift:primaryclusterarn",
               "Value": f"arn:aws:redshift:{REGION}:{DEFAULT_ACCOUNT_ID}:cluster:warehouse"},
              {"Key": "aws:secretsmanager:owningService", "Value": "redshift"}],
    )["ARN"]  # fmt: skip
    scenario = Scenario(backend, client, unique_name("rs"))
    scenario.secret_value["masterarn"] = admin_arn
    client.put_secret_value(SecretId=scenario.arn, SecretString=json.dumps(scenario.secret_value))
    try:
        handler = scenario.handler("alternating")
        driver.rotate(handler, client, scenario.arn)
        first = scenario.value(AWSCURRENT)
        assert first["username"] == scenario.username + handler.clone_suffix
        assert backend.can_login(first["username"], first["password"])
        assert backend.privileges(first["username"]) == backend.privileges(scenario.username)
        driver.rotate(handler, client, scenario.arn)
        assert scenario.value(AWSCURRENT)["username"] == scenario.username
    finally:
        scenario.cleanup()
