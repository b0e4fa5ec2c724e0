"""One rotation step's view of the secret being rotated, and of the secrets it names.

:class:`Rotation` is what the handler's hooks and the strategies receive: the validated event,
DescribeSecret's answer, and reads of AWSCURRENT, AWSPENDING, AWSPREVIOUS or any other secret
(an admin secret), each read once and registered for redaction.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from rotation.core import log
from rotation.core.secret import parse_json_object
from rotation.core.staging import AWSCURRENT, AWSPENDING, AWSPREVIOUS, version_with

if TYPE_CHECKING:
    from rotation.core.event import RotationEvent
    from rotation.core.secrets_client import SecretMetadata, SecretsClient


class Rotation:
    """One step's view of the secret being rotated, with values read lazily and once.

    Attributes:
        event: The validated event.
        metadata: DescribeSecret's answer, read by the staging guard.
    """

    def __init__(
        self,
        client: SecretsClient,
        event: RotationEvent,
        metadata: SecretMetadata,
        redactor: log.Redactor,
        secret_keys: tuple[str, ...],
    ) -> None:
        self.client = client
        self.event = event
        self.metadata = metadata
        self._redactor = redactor
        self._secret_keys = secret_keys
        self._cache: dict[tuple[str, str, str | None], dict[str, Any]] = {}

    @property
    def arn(self) -> str:
        """Return the secret's ARN (as DescribeSecret gave it)."""
        return self.metadata.arn

    @property
    def token(self) -> str:
        """Return the ClientRequestToken: the pending version's id."""
        return self.event.token

    def current(self) -> dict[str, Any]:
        """Return the AWSCURRENT value."""
        return self.read(self.arn, AWSCURRENT)

    def pending(self) -> dict[str, Any]:
        """Return the AWSPENDING value stored under this rotation's token."""
        return self.read(self.arn, AWSPENDING, self.token)

    def previous(self) -> dict[str, Any] | None:
        """Return the AWSPREVIOUS value, or None when no version carries that label."""
        version = version_with(self.metadata.stages, AWSPREVIOUS)
        if version is None:
            return None
        return self.read(self.arn, AWSPREVIOUS, version)

    def read(self, secret_id: str, stage: str, version_id: str | None = None) -> dict[str, Any]:
        """Return one version of any secret as a JSON object, registering it for redaction."""
        key = (secret_id, stage, version_id)
        if key not in self._cache:
            text = self.client.get_string(secret_id, stage, version_id)
            what = "secret" if secret_id == self.arn else f"secret {secret_id}"
            value = parse_json_object(text, f"{what} ({stage})")
            self._redactor.add(*log.secret_strings(value, self._secret_keys))
            self._cache[key] = value
        return self._cache[key]

    def after_switch(self, old_current: str | None) -> Rotation:
        """Return this rotation as it stands once AWSCURRENT moved to its token.

        The service moves AWSPREVIOUS to the version that was current; values are read afresh.
        """
        stages = {
            version: tuple(label for label in labels if label not in (AWSCURRENT, AWSPREVIOUS))
            for version, labels in self.metadata.stages.items()
        }
        stages[self.token] = (*stages.get(self.token, ()), AWSCURRENT)
        if old_current is not None and old_current != self.token:
            stages[old_current] = (*stages.get(old_current, ()), AWSPREVIOUS)
        metadata = replace(self.metadata, stages=stages)
        return Rotation(self.client, self.event, metadata, self._redactor, self._secret_keys)
