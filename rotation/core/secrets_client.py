"""A thin, typed wrapper over the boto3 Secrets Manager client.

The boto3 client is created once per container (per endpoint) and reused across invocations:
building one costs tens of milliseconds and the AWS templates pay that on every step.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rotation.core.errors import ConfigurationError, SecretsManagerError
from rotation.core.staging import AWSCURRENT, AWSPENDING

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from mypy_boto3_secretsmanager import SecretsManagerClient

_clients: dict[str | None, SecretsManagerClient] = {}
_clients_lock = threading.Lock()


def boto3_client(endpoint_url: str | None = None) -> SecretsManagerClient:
    """Return the container's Secrets Manager client for ``endpoint_url``, creating it once."""
    with _clients_lock:
        client = _clients.get(endpoint_url)
        if client is None:
            import boto3
            from botocore.config import Config
            from botocore.exceptions import NoRegionError

            config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5)
            try:
                client = boto3.session.Session().client(
                    "secretsmanager", endpoint_url=endpoint_url, config=config
                )
            except NoRegionError:
                raise ConfigurationError(
                    "no AWS region is configured: set AWS_REGION or AWS_DEFAULT_REGION"
                ) from None
            _clients[endpoint_url] = client
        return client


def forget_clients() -> None:
    """Drop the cached clients (tests that switch endpoints or credentials call this)."""
    with _clients_lock:
        _clients.clear()


@dataclass(frozen=True)
class SecretMetadata:
    """What DescribeSecret says about a secret, reduced to what rotation needs."""

    arn: str
    name: str
    rotation_enabled: bool
    stages: Mapping[str, tuple[str, ...]]
    # Tag keys as stored (system tags such as aws:rds:primaryDBInstanceArn included).
    tags: Mapping[str, str] = field(default_factory=dict)


class SecretsClient:
    """Secrets Manager operations used by a rotation, with errors mapped to our tree."""

    def __init__(self, client: SecretsManagerClient) -> None:
        self.client = client
        operation = client.meta.service_model.operation_model("PutSecretValue")
        # Older botocore (as bundled in some Lambda runtimes) lacks RotationToken.
        members = operation.input_shape.members if operation.input_shape is not None else {}
        self.supports_rotation_token = "RotationToken" in members
        # Called with the operation name after each successful call; fault-injection tests
        # raise from it to simulate a crash right after Secrets Manager answered.
        self.call_listener: Callable[[str], None] | None = None

    def describe(self, secret_id: str) -> SecretMetadata:
        """Return the secret's ARN, name, rotation flag, version labels and tags."""
        response = self._call("DescribeSecret", SecretId=secret_id)
        stages = {
            version: tuple(labels)
            for version, labels in response.get("VersionIdsToStages", {}).items()
        }
        return SecretMetadata(
            arn=response["ARN"],
            name=response["Name"],
            rotation_enabled=bool(response.get("RotationEnabled")),
            stages=stages,
            tags={tag["Key"]: tag.get("Value", "") for tag in response.get("Tags", [])},
        )

    def get_string(
        self, secret_id: str, stage: str = AWSCURRENT, version_id: str | None = None
    ) -> str | None:
        """Return a version's SecretString (None for a binary secret).

        The stage is always sent, as resource policies may condition on it.
        """
        kwargs: dict[str, Any] = {"SecretId": secret_id, "VersionStage": stage}
        if version_id is not None:
            kwargs["VersionId"] = version_id
        response = self._call("GetSecretValue", **kwargs)
        value = response.get("SecretString")
        return value if isinstance(value, str) else None

    def pending_exists(self, secret_id: str, token: str) -> bool:
        """Tell whether the pending version already holds a value."""
        try:
            self.client.get_secret_value(
                SecretId=secret_id, VersionId=token, VersionStage=AWSPENDING
            )
        except self.client.exceptions.ResourceNotFoundException:
            self._called("GetSecretValue")
            return False
        except Exception as exc:
            raise _wrap("GetSecretValue", exc) from exc
        self._called("GetSecretValue")
        return True

    def put_pending(
        self, secret_id: str, token: str, secret_string: str, rotation_token: str | None
    ) -> None:
        """Store the pending value under the token's version with the AWSPENDING label."""
        kwargs: dict[str, Any] = {
            "SecretId": secret_id,
            "ClientRequestToken": token,
            "SecretString": secret_string,
            "VersionStages": [AWSPENDING],
        }
        if rotation_token and self.supports_rotation_token:
            kwargs["RotationToken"] = rotation_token
        self._call("PutSecretValue", **kwargs)

    def move_current(self, secret_id: str, to_version: str, from_version: str | None) -> None:
        """Move AWSCURRENT to ``to_version``; the service moves AWSPREVIOUS along."""
        kwargs: dict[str, Any] = {
            "SecretId": secret_id,
            "VersionStage": AWSCURRENT,
            "MoveToVersionId": to_version,
        }
        if from_version is not None:
            kwargs["RemoveFromVersionId"] = from_version
        self._call("UpdateSecretVersionStage", **kwargs)

    def _call(self, operation: str, **kwargs: Any) -> Any:
        from botocore import xform_name

        method = getattr(self.client, xform_name(operation))
        try:
            response = method(**kwargs)
        except Exception as exc:
            raise _wrap(operation, exc) from exc
        self._called(operation)
        return response

    def _called(self, operation: str) -> None:
        if self.call_listener is not None:
            self.call_listener(operation)


def aws_error_text(exc: Exception) -> str:
    """Describe an AWS SDK error by its code and the service's message (never a request)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'Unknown')}: {error.get('Message', '')}"
    if isinstance(exc, BotoCoreError):
        return f"{type(exc).__name__}: {exc}"
    return type(exc).__name__


def _wrap(operation: str, exc: Exception) -> SecretsManagerError:
    return SecretsManagerError(f"{operation} failed: {aws_error_text(exc)}")
