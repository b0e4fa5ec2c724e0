"""The step driver: invoke the four rotation steps the way Secrets Manager does.

:func:`rotate` starts a rotation in the local Secrets Manager stand-in (value-less AWSPENDING,
see :func:`rotation.local.secretsmanager.begin_rotation`), then invokes createSecret, setSecret,
testSecret and finishSecret in order with the secret's ARN, stopping at the first failure.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rotation.core.event import Step
from rotation.local.secretsmanager import begin_rotation

STEPS: tuple[Step, ...] = (Step.CREATE, Step.SET, Step.TEST, Step.FINISH)
Invoke = Callable[[Mapping[str, Any], Any], Any]


def event(
    secret_arn: str, token: str, step: Step | str, rotation_token: str | None = None
) -> dict[str, str]:
    """Build the event the service sends for one step."""
    body = {"Step": str(step), "SecretId": secret_arn, "ClientRequestToken": token}
    if rotation_token is not None:
        body["RotationToken"] = rotation_token
    return body


def write_events(
    directory: Path, secret_id: str, token: str, rotation_token: str | None = None
) -> list[Path]:
    """Write ``<directory>/<step>.json`` for the four steps (``sam local invoke -e`` files)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for step in STEPS:
        path = directory / f"{step}.json"
        body = event(secret_id, token, step, rotation_token)
        path.write_text(json.dumps(body, indent=2) + "\n")
        paths.append(path)
    return paths


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
