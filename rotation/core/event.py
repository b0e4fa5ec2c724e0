"""Typed view of the event Secrets Manager sends to a rotation function."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from rotation.core.errors import InvalidEventError


class Step(enum.StrEnum):
    """The four steps of a rotation, in the order Secrets Manager invokes them."""

    CREATE = "createSecret"
    SET = "setSecret"
    TEST = "testSecret"
    FINISH = "finishSecret"


@dataclass(frozen=True)
class RotationEvent:
    """One invocation of a rotation function.

    Attributes:
        step: Which of the four steps to run.
        secret_id: The secret's ARN (or name, as some emulators send it).
        token: The ClientRequestToken: the version id of the pending secret.
        rotation_token: Opaque token to forward to PutSecretValue, when the service sent one.
    """

    step: Step
    secret_id: str
    token: str
    rotation_token: str | None = None

    @classmethod
    def from_dict(cls, event: Mapping[str, Any]) -> RotationEvent:
        """Validate a raw Lambda event and build a RotationEvent from it.

        Raises:
            InvalidEventError: A field is missing, empty or not a string, or the step is unknown.
        """
        if not isinstance(event, Mapping):
            raise InvalidEventError(f"the event must be a JSON object, not {type(event).__name__}")
        fields = {name: _required_string(event, name) for name in ("Step", "SecretId")}
        token = _required_string(event, "ClientRequestToken")
        try:
            step = Step(fields["Step"])
        except ValueError:
            known = ", ".join(s.value for s in Step)
            raise InvalidEventError(
                f"unknown Step {fields['Step']!r}; expected one of {known}"
            ) from None
        rotation_token = event.get("RotationToken")
        if rotation_token is not None and not isinstance(rotation_token, str):
            raise InvalidEventError("RotationToken must be a string when present")
        return cls(step, fields["SecretId"], token, rotation_token or None)


def _required_string(event: Mapping[str, Any], name: str) -> str:
    value = event.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidEventError(f"the event has no {name}")
    return value
