"""The Secrets Manager rotation protocol, implemented once.

:class:`RotationHandler` owns the event parsing, the staging guard run before every step, the
dispatch, and the idempotency of createSecret and finishSecret. Subclasses fill in three hooks:

* :meth:`RotationHandler.generate_secret` builds the pending value from the current one;
* :meth:`RotationHandler.set_secret` makes the service accept the pending value;
* :meth:`RotationHandler.test_secret` proves the pending value works.

Every step is safe to re-run after a crash at any point: Secrets Manager retries a failed
rotation with the same token, and a step may have done its work before the crash.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any, ClassVar, TypeVar

from rotation.core import log
from rotation.core.config import PasswordPolicy, Settings
from rotation.core.errors import (
    NotPendingError,
    RotationDisabledError,
    RotationError,
    UnknownVersionError,
)
from rotation.core.event import RotationEvent, Step
from rotation.core.password import generate_password
from rotation.core.secret import parse_json_object
from rotation.core.secrets_client import SecretMetadata, SecretsClient, boto3_client
from rotation.core.staging import AWSCURRENT, AWSPENDING, AWSPREVIOUS, version_with

H = TypeVar("H", bound="RotationHandler")
LambdaHandler = Callable[[Mapping[str, Any], Any], None]


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


class RotationHandler:
    """Base class of every rotation function.

    Subclass it to rotate a credential of your own service: implement :meth:`set_secret` and
    :meth:`test_secret` (and :meth:`generate_secret` when a new password is not all that
    changes). Expose ``MyHandler.lambda_handler()`` as the function's handler.

    Attributes:
        engine: Name used in logs and metrics.
        secret_keys: Keys of the secret JSON whose values are secret (masked in logs).
        password_defaults: The password policy before environment variables apply.
    """

    engine: ClassVar[str] = "custom"
    secret_keys: ClassVar[tuple[str, ...]] = ("password",)
    password_defaults: ClassVar[PasswordPolicy] = PasswordPolicy()
    # Characters the service can never accept in a password, excluded whatever
    # EXCLUDE_CHARACTERS says (Oracle: the double quote that delimits it in DDL).
    required_exclude_characters: ClassVar[str] = ""

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        client: SecretsClient | Any | None = None,
    ) -> None:
        """Create a handler.

        Args:
            settings: Settings; read from the environment when omitted.
            client: A :class:`SecretsClient` or a boto3 Secrets Manager client; the
                container's shared client for the configured endpoint when omitted.
        """
        self.settings = settings if settings is not None else Settings.from_env()
        if client is None:
            client = boto3_client(self.settings.secrets_manager_endpoint)
        self.secrets = client if isinstance(client, SecretsClient) else SecretsClient(client)
        self.password_policy = self.enforce_password_policy(
            self.settings.password_policy(self.password_defaults)
        )
        self.logger = log.get_logger()
        self.redactor = log.redactor

    # -- Lambda entry -------------------------------------------------------------------------

    @classmethod
    def lambda_handler(cls: type[H], **kwargs: Any) -> LambdaHandler:
        """Return a Lambda entry point that builds one handler per container, on first use."""
        instance: list[H] = []

        def entry(event: Mapping[str, Any], context: Any = None) -> None:
            if not instance:
                instance.append(cls(**kwargs))
            log.with_lambda_context(instance[0].handle)(event, context)

        entry.__doc__ = f"Lambda entry point of {cls.__name__}."
        entry.__qualname__ = entry.__name__ = f"{cls.__name__}_lambda_handler"
        return entry

    def __call__(self, event: Mapping[str, Any], context: Any = None) -> None:
        """Handle one invocation (so an instance can serve as a Lambda handler)."""
        self.handle(event, context)

    def handle(self, event: Mapping[str, Any], context: Any = None) -> None:
        """Validate the event, run the staging guard and the requested step.

        Raises:
            RotationError: The step failed; Secrets Manager stops this rotation attempt.
        """
        started = time.perf_counter()
        try:
            parsed = RotationEvent.from_dict(event)
        except RotationError:
            self.logger.exception("invalid rotation event")
            raise
        self.logger.set_correlation_id(parsed.token)
        self.logger.append_keys(
            step=parsed.step.value, secret_id=parsed.secret_id, engine=self.engine
        )
        outcome = "Failed"
        try:
            rotation = self._guard(parsed)
            if rotation is not None:
                self.logger.info("running step")
                self._dispatch(rotation)
                self.logger.info("step succeeded")
            outcome = "Succeeded"
        except RotationError:
            self.logger.exception("step failed")
            raise
        except Exception:
            self.logger.exception("step failed with an unexpected error")
            raise
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            log.record_step(self.engine, parsed.step.value, outcome, elapsed_ms)
            self.logger.remove_keys(["step", "secret_id", "secret_arn", "engine"])
            self.logger.set_correlation_id(None)

    def _guard(self, event: RotationEvent) -> Rotation | None:
        """Check the secret's state; return None when the step has nothing to do."""
        metadata = self.secrets.describe(event.secret_id)
        self.logger.append_keys(secret_arn=metadata.arn)
        if not metadata.rotation_enabled:
            raise RotationDisabledError(f"rotation is not enabled on secret {metadata.arn}")
        labels = metadata.stages.get(event.token)
        if labels is None:
            raise UnknownVersionError(
                f"version {event.token} of secret {metadata.arn} does not exist"
            )
        if AWSCURRENT in labels:
            self.logger.info("version is already AWSCURRENT; nothing to do")
            return None
        if AWSPENDING not in labels:
            raise NotPendingError(
                f"version {event.token} of secret {metadata.arn} is not AWSPENDING"
            )
        return Rotation(self.secrets, event, metadata, self.redactor, self.secret_keys)

    def _dispatch(self, rotation: Rotation) -> None:
        step = rotation.event.step
        if step is Step.CREATE:
            self.create_step(rotation)
        elif step is Step.SET:
            self.set_secret(rotation)
        elif step is Step.TEST:
            self.test_secret(rotation)
        else:
            self.finish_step(rotation)

    # -- the steps the core owns --------------------------------------------------------------

    def create_step(self, rotation: Rotation) -> None:
        """Store a new pending value unless this token already has one."""
        current = rotation.current()
        if self.secrets.pending_exists(rotation.arn, rotation.token):
            self.logger.info("pending value already stored; nothing to do")
            return
        pending = self.generate_secret(current)
        self.redactor.add(*log.secret_strings(pending, self.secret_keys))
        self.secrets.put_pending(
            rotation.arn, rotation.token, json.dumps(pending), rotation.event.rotation_token
        )
        self.logger.info("stored the pending value")

    def finish_step(self, rotation: Rotation) -> None:
        """Move AWSCURRENT to the token's version (the guard has ruled out 'already there')."""
        current_version = version_with(rotation.metadata.stages, AWSCURRENT)
        self.secrets.move_current(rotation.arn, rotation.token, current_version)
        self.logger.info("moved AWSCURRENT", extra={"from_version": current_version})

    # -- hooks for subclasses -----------------------------------------------------------------

    def enforce_password_policy(self, policy: PasswordPolicy) -> PasswordPolicy:
        """Return ``policy`` with what the service can never accept left out (hook).

        The default adds ``required_exclude_characters`` to the excluded characters. Engines
        with stricter rules override it and raise ConfigurationError for settings they refuse.
        """
        missing = "".join(
            c for c in self.required_exclude_characters if c not in policy.exclude_characters
        )
        if not missing:
            return policy
        return replace(policy, exclude_characters=policy.exclude_characters + missing)

    def generate_password(self) -> str:
        """Return a new password under the configured policy."""
        password = generate_password(self.password_policy)
        self.redactor.add(password)
        return password

    def generate_secret(self, current: dict[str, Any]) -> dict[str, Any]:
        """Return the pending value: by default the current one with a new ``password``."""
        return {**current, "password": self.generate_password()}

    def set_secret(self, rotation: Rotation) -> None:
        """Make the service accept the pending value. Must be safe to re-run."""
        raise NotImplementedError(
            "subclasses of RotationHandler must provide a set_secret() method"
        )

    def test_secret(self, rotation: Rotation) -> None:
        """Prove the pending value works; raise SecretTestFailedError when it does not."""
        raise NotImplementedError(
            "subclasses of RotationHandler must provide a test_secret() method"
        )
