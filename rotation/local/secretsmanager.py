"""moto's Secrets Manager as a local stand-in, driven the way the real service drives it.

:class:`SecretsManagerStandIn` serves moto's Secrets Manager over HTTP on a free loopback port,
in this process. moto's own ``rotate_secret`` is not a faithful orchestrator (it runs functions
only in Docker, sends the secret name, and without a function moves AWSCURRENT to a version with
no value). So :func:`begin_rotation` does what RotateSecret does before it invokes the function:
it enables rotation and attaches AWSPENDING to a new, value-less version
(:mod:`rotation.local.driver` then invokes the four steps).

The helpers reach into moto's in-process backend: they work under ``moto.mock_aws`` and with a
``ThreadedMotoServer`` running in the same process.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from typing import Any

from rotation.core.staging import AWSPENDING, labelled

# Local stand-ins accept any credentials; these keep boto3 from searching for real ones.
STAND_IN_KEY = "testing"
STAND_IN_REGION = "us-east-1"


def _moto_secret(client: Any, secret_id: str) -> Any:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.secretsmanager.models import secretsmanager_backends

    backend = secretsmanager_backends[DEFAULT_ACCOUNT_ID][client.meta.region_name]
    return backend.secrets[secret_id]


def begin_rotation(client: Any, secret_id: str, token: str | None = None) -> str:
    """Enable rotation and attach AWSPENDING to a new value-less version; return its id.

    With a token that already has a version (a retried rotation), only make sure rotation is
    enabled, as the service does when it retries.
    """
    token = token or str(uuid.uuid4())
    arn = client.describe_secret(SecretId=secret_id)["ARN"]
    secret = _moto_secret(client, arn)
    secret.rotation_enabled = True
    secret.rotation_requested = True  # moto reports RotationEnabled only once this is set
    if token not in secret.versions:
        secret.remove_version_stages_from_old_versions([AWSPENDING])
        secret.versions[token] = {
            "createdate": int(time.time()),
            "version_id": token,
            "version_stages": [AWSPENDING],
        }
    return token


def disable_rotation(client: Any, secret_id: str) -> None:
    """Turn rotation off for a secret (what the service reports after CancelRotateSecret)."""
    _moto_secret(client, client.describe_secret(SecretId=secret_id)["ARN"]).rotation_enabled = False


def labels(client: Any, secret_id: str) -> dict[str, list[str]]:
    """Return ``VersionIdsToStages`` with versions that carry no label left out."""
    return labelled(client.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {}))


def value_at(client: Any, secret_id: str, stage: str) -> str:
    """Return the SecretString of the version carrying ``stage``."""
    response = client.get_secret_value(SecretId=secret_id, VersionStage=stage)
    return str(response["SecretString"])


class SecretsManagerStandIn:
    """moto's Secrets Manager served over HTTP on a free loopback port, in this process.

    In-process matters: the demo creates the value-less AWSPENDING version in moto's backend
    the way RotateSecret does (see :func:`begin_rotation`).
    """

    def __init__(self, port: int = 0) -> None:
        """Prepare the server on ``port`` of 127.0.0.1 (0: a free one).

        Raises:
            ServerUnavailableError: moto (with its server) is not installed.
        """
        try:
            from moto.server import ThreadedMotoServer
        except ImportError:
            from rotation.local.servers import ServerUnavailableError

            raise ServerUnavailableError(
                "the local Secrets Manager is moto's, which is not installed: "
                'pip install "rotation[demo]"'
            ) from None

        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.endpoint = ""

    def __enter__(self) -> SecretsManagerStandIn:
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self.server.stop()

    def client(self) -> Any:
        """Return a boto3 client for the stand-in, independent of any AWS configuration."""
        import boto3

        return boto3.session.Session().client(
            "secretsmanager",
            endpoint_url=self.endpoint,
            region_name=STAND_IN_REGION,
            aws_access_key_id=STAND_IN_KEY,
            aws_secret_access_key=STAND_IN_KEY,
        )
