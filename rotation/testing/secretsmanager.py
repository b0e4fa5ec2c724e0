"""Drive a rotation against moto's Secrets Manager the way the real service does.

moto's own ``rotate_secret`` is not a faithful orchestrator (it runs functions only in Docker,
sends the secret name, and without a function moves AWSCURRENT to a version with no value). So
:func:`begin_rotation` does what RotateSecret does before it invokes the function: it enables
rotation and attaches AWSPENDING to a new, value-less version. :func:`rotate` then invokes the
four steps in order with the secret's ARN, as the service does.

These helpers reach into moto's in-process backend: they work under ``moto.mock_aws`` and with a
``ThreadedMotoServer`` running in the same process.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rotation.core.event import Step
from rotation.core.staging import AWSPENDING

STEPS: tuple[Step, ...] = (Step.CREATE, Step.SET, Step.TEST, Step.FINISH)
Invoke = Callable[[Mapping[str, Any], Any], Any]


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


def event(
    secret_arn: str, token: str, step: Step | str, rotation_token: str | None = None
) -> dict[str, str]:
    """Build the event the service sends for one step."""
    body = {"Step": str(step), "SecretId": secret_arn, "ClientRequestToken": token}
    if rotation_token is not None:
        body["RotationToken"] = rotation_token
    return body


def rotate(
    invoke: Invoke,
    client: Any,
    secret_id: str,
    token: str | None = None,
    steps: Sequence[Step] = STEPS,
    rotation_token: str | None = None,
) -> str:
    """Run a rotation through ``invoke`` (a handler or Lambda entry) and return the token.

    Raises whatever the failing step raises, as the service stops at a failed step.
    """
    arn = client.describe_secret(SecretId=secret_id)["ARN"]
    token = begin_rotation(client, arn, token)
    for step in steps:
        invoke(event(arn, token, step, rotation_token), None)
    return token


def labels(client: Any, secret_id: str) -> dict[str, list[str]]:
    """Return ``VersionIdsToStages`` with versions that carry no label left out."""
    stages = client.describe_secret(SecretId=secret_id).get("VersionIdsToStages", {})
    return {version: sorted(tags) for version, tags in stages.items() if tags}


def value_at(client: Any, secret_id: str, stage: str) -> str:
    """Return the SecretString of the version carrying ``stage``."""
    response = client.get_secret_value(SecretId=secret_id, VersionStage=stage)
    return str(response["SecretString"])
