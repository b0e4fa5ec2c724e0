"""The Secrets Manager rotation protocol, implemented once, with the safety rules of a rotation.

:class:`RotationHandler` owns the event parsing, the staging guard run before every step, the
dispatch, the idempotency of createSecret and finishSecret, and what leaves a step (no secret value
in any exception). The strategies (:mod:`rotation.core.strategies`) own the rules of setSecret:
the login order, the confused-deputy guard, the same-service checks, the admin secret. A
subclass — a database engine or your own service — provides the hooks they call:

=========================  =========================================================  ==========
hook                       what it does                                               needed by
=========================  =========================================================  ==========
``secret_schema``          the keys (and types) a secret must have (a class attribute)  all
``connect(secret)``        a context manager: a session logged in with the secret;    all
                           raise LoginFailedError when the service rejects it
``check(session)``         prove the session works                                    testSecret
``set_password``           as the user, change its own password                       single
``set_user_password``      as the admin, set a user's password                        alternating
``create_user_like``       as the admin, create the alternate user like the original  alternating
``add_credential``         add a second credential beside the current one             dual
``revoke_credential``      revoke a credential, keeping the other                     dual
``retain_credential``      make the pending password the credential, keeping the      retain
                           current one as the only other (idempotent, no failed login)
``after_finish``           runs once AWSCURRENT moved, also on a retried finishSecret  optional
``generate_secret``        build the pending value (default: a new password)          optional
=========================  =========================================================  ==========

A subclass may instead override :meth:`RotationHandler.set_secret` and
:meth:`RotationHandler.test_secret` wholesale. Missing hooks are reported when the class is
turned into a Lambda entry point (at import) or instantiated, never in the middle of a rotation.

Every step is safe to re-run after a crash at any point: Secrets Manager retries a failed
rotation with the same token, and a step may have done its work before the crash.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rotation.core import log
from rotation.core.admin import AdminSecret, load_admin
from rotation.core.config import PasswordPolicy, Settings
from rotation.core.errors import (
    ConfigurationError,
    NotPendingError,
    RotationDisabledError,
    RotationError,
    SecretTestFailedError,
    UnknownVersionError,
)
from rotation.core.event import RotationEvent, Step
from rotation.core.password import generate_password
from rotation.core.rotation import Rotation
from rotation.core.scrub import scrubbed
from rotation.core.secret import ServiceSecret
from rotation.core.secrets_client import SecretsClient, boto3_client
from rotation.core.staging import AWSCURRENT, AWSPENDING, version_with
from rotation.core.strategies import Strategy, proves_login, strategy_named

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

H = TypeVar("H", bound="RotationHandler")
LambdaHandler = Callable[[Mapping[str, Any], Any], None]


def hook(method: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a base-class method as a hook that subclasses must provide when it is used."""
    method.__rotation_hook__ = True  # type: ignore[attr-defined]
    return method


def _is_hook(method: object) -> bool:
    return bool(getattr(method, "__rotation_hook__", False))


class RotationHandler:
    """Base class of every rotation function.

    Subclass it to rotate a credential of your own service: declare ``secret_schema`` and
    provide the hooks of the strategy you use (see the module docstring), or override
    :meth:`set_secret` and :meth:`test_secret` yourself. Expose
    ``MyHandler.lambda_handler(strategy="single")`` as the function's handler.

    Attributes:
        engine: Name used in logs and metrics.
        display_name: Human name for messages.
        secret_keys: Keys of the secret JSON whose values are secret (masked in logs).
        secret_schema: Required keys of the secret and their types (``password`` always).
        identity_keys: Keys that name the service; secrets that differ in them are refused as
            belonging to another service (the same-server check).
        admin_sets_passwords: Whether the admin from ``masterarn`` changes passwords for single
            user and dual credentials (services where users cannot change their own).
        clone_suffix: Appended to the user name to form the alternate user.
        max_username_length: Longest user name the service accepts.
        password_defaults: The password policy before environment variables apply.
    """

    engine: ClassVar[str] = "custom"
    display_name: ClassVar[str] = "the service"
    secret_keys: ClassVar[tuple[str, ...]] = ("password",)
    secret_schema: ClassVar[Mapping[str, type | tuple[type, ...]]] = {}
    identity_keys: ClassVar[tuple[str, ...]] = ()
    admin_sets_passwords: ClassVar[bool] = False
    clone_suffix: ClassVar[str] = "_clone"
    max_username_length: ClassVar[int] = 128
    password_defaults: ClassVar[PasswordPolicy] = PasswordPolicy()
    # Characters the service can never accept in a password, excluded whatever
    # EXCLUDE_CHARACTERS says (Oracle: the double quote that delimits it in DDL).
    required_exclude_characters: ClassVar[str] = ""
    # Hooks needed whatever the strategy (DatabaseHandler: the connection its connect() opens).
    always_required_hooks: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        strategy: Strategy | str = "single",
        *,
        settings: Settings | None = None,
        client: SecretsClient | Any | None = None,
    ) -> None:
        """Create a handler.

        Args:
            strategy: ``"single"``, ``"alternating"``, ``"dual"``, ``"retain"`` or a Strategy
                instance.
            settings: Settings; read from the environment when omitted.
            client: A :class:`SecretsClient` or a boto3 Secrets Manager client; the
                container's shared client for the configured endpoint when omitted.

        Raises:
            ConfigurationError: The class lacks a hook the strategy needs, or a setting is bad.
        """
        self.strategy = strategy_named(strategy) if isinstance(strategy, str) else strategy
        self.require_hooks(self.strategy)
        self.settings = settings if settings is not None else Settings.from_env()
        if client is None:
            client = boto3_client(self.settings.secrets_manager_endpoint)
        self.secrets = client if isinstance(client, SecretsClient) else SecretsClient(client)
        self.password_policy = self.enforce_password_policy(
            self.settings.password_policy(self.password_defaults)
        )
        self.logger = log.get_logger()
        self.redactor = log.redactor

    @classmethod
    def missing_hooks(cls, strategy: Strategy | str = "single") -> list[str]:
        """Return the hooks this class lacks for ``strategy`` (empty when it is complete)."""
        chosen = strategy_named(strategy) if isinstance(strategy, str) else strategy
        needed: list[str] = list(cls.always_required_hooks)
        if getattr(cls.set_secret, "__rotation_generic__", False):
            needed += ["connect", *chosen.required_hooks(cls)]  # type: ignore[arg-type]
        if getattr(cls.test_secret, "__rotation_generic__", False):
            needed += ["connect", "check"]
        return sorted({name for name in needed if _is_hook(getattr(cls, name, None))})

    @classmethod
    def require_hooks(cls, strategy: Strategy | str = "single") -> None:
        """Refuse a class that lacks a hook its strategy (or testSecret) would call.

        Raises:
            ConfigurationError: Names every missing hook.
        """
        missing = cls.missing_hooks(strategy)
        if missing:
            name = strategy if isinstance(strategy, str) else strategy.name
            raise ConfigurationError(
                f"{cls.__name__} cannot rotate with the {name!r} strategy: it does not provide "
                f"{', '.join(f'{hook}()' for hook in missing)} (see RotationHandler's hooks)"
            )

    # -- Lambda entry -------------------------------------------------------------------------

    @classmethod
    def lambda_handler(cls: type[H], **kwargs: Any) -> LambdaHandler:
        """Return a Lambda entry point that builds one handler per container, on first use.

        The class is checked for missing hooks now, so a module that exposes an incomplete
        handler fails at import (the function's init), before any rotation step runs.
        """
        cls.require_hooks(kwargs.get("strategy", "single"))
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

        Whatever a hook raises leaves without secret values: an exception that holds one (in
        its message, args, notes or chained causes) is replaced by a masked copy
        (:mod:`rotation.core.scrub`).

        Raises:
            RotationError: The step failed; Secrets Manager stops this rotation attempt.
        """
        failure: Exception | None = None
        try:
            self._handle(event)
        except Exception as exc:
            failure = exc
        if failure is None:
            return
        safe = scrubbed(failure, self.redactor)
        if safe is failure:
            raise failure
        raise safe from safe.__cause__

    def _handle(self, event: Mapping[str, Any]) -> None:
        started = time.perf_counter()
        try:
            parsed = RotationEvent.from_dict(event)
        except RotationError:
            self.logger.exception("invalid rotation event")
            raise
        context = log.begin_invocation(
            correlation_id=parsed.token,
            step=parsed.step.value,
            secret_id=parsed.secret_id,
            engine=self.engine,
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
            log.end_invocation(context)

    def _guard(self, event: RotationEvent) -> Rotation | None:
        """Check the secret's state; return None when the step has nothing to do."""
        metadata = self.secrets.describe(event.secret_id)
        log.add_invocation_keys(secret_arn=metadata.arn)
        if not metadata.rotation_enabled:
            raise RotationDisabledError(f"rotation is not enabled on secret {metadata.arn}")
        labels = metadata.stages.get(event.token)
        if labels is None:
            raise UnknownVersionError(
                f"version {event.token} of secret {metadata.arn} does not exist"
            )
        rotation = Rotation(self.secrets, event, metadata, self.redactor, self.secret_keys)
        if AWSCURRENT in labels:
            if event.step is Step.FINISH:
                # A crash after UpdateSecretVersionStage: the switch happened, what follows it
                # may not have. after_finish is idempotent, so it runs again.
                self.logger.info("version is already AWSCURRENT; finishing what follows")
                self.after_finish(rotation)
            else:
                self.logger.info("version is already AWSCURRENT; nothing to do")
            return None
        if AWSPENDING not in labels:
            raise NotPendingError(
                f"version {event.token} of secret {metadata.arn} is not AWSPENDING"
            )
        return rotation

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
        """Move AWSCURRENT to the token's version, then run :meth:`after_finish`."""
        current_version = version_with(rotation.metadata.stages, AWSCURRENT)
        self.secrets.move_current(rotation.arn, rotation.token, current_version)
        self.logger.info("moved AWSCURRENT", extra={"from_version": current_version})
        self.after_finish(rotation.after_switch(current_version))

    # -- secrets --------------------------------------------------------------------------------

    def parse_secret(self, value: dict[str, Any], *, admin: bool = False) -> Any:
        """Validate a decoded secret against ``secret_schema`` (hook; engines use their own).

        Raises:
            SecretFormatError: A required key is missing or of the wrong type.
        """
        return ServiceSecret.parse(value, self.secret_schema, self.identity_keys, admin=admin)

    def load_admin(self, value: dict[str, Any], arn: str, current: Any) -> AdminSecret:
        """Validate the admin secret for ``current`` and refuse one of another service.

        Raises:
            SecretFormatError: Not a valid admin secret.
            SecretMismatchError: It names another server or service than ``current``.
        """
        admin = load_admin(
            value, arn, current, parse=lambda raw: self.parse_secret(raw, admin=True)
        )
        self.logger.info("admin secret ready", extra={"admin": admin.describe()})
        return admin

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
        """Return the pending value: the strategy's username and a new password (hook).

        The current value is validated first, so an invalid secret is never copied into
        AWSPENDING.
        """
        secret = self.parse_secret(current)
        username = self.strategy.pending_username(self, secret)
        pending: dict[str, Any] = secret.replace_credentials(username, self.generate_password())
        return pending

    def set_secret(self, rotation: Rotation) -> None:
        """Make the service accept the pending value, as the strategy prescribes (hook)."""
        current = self.parse_secret(rotation.current())
        pending = self.parse_secret(rotation.pending())
        self.strategy.set_secret(self, rotation, current, pending)

    set_secret.__rotation_generic__ = True  # type: ignore[attr-defined]

    def test_secret(self, rotation: Rotation) -> None:
        """Log in with the pending credentials and run :meth:`check` (hook).

        Raises:
            SecretTestFailedError: The pending credentials do not log in.
        """
        pending = self.parse_secret(rotation.pending())
        proves_login(
            self,
            pending,
            lambda: SecretTestFailedError(
                f"the pending credentials of user {pending.username!r} do not log in"
            ),
        )
        self.logger.info("pending credentials log in", extra={"username": pending.username})

    test_secret.__rotation_generic__ = True  # type: ignore[attr-defined]

    def after_finish(self, rotation: Rotation) -> None:
        """Act after AWSCURRENT moved (hook; default: the strategy's, e.g. revoke the old key).

        Runs right after the switch and again when Secrets Manager retries finishSecret for a
        version that is already AWSCURRENT (a crash after the switch), so it must be idempotent.
        """
        self.strategy.after_finish(self, rotation)

    # -- the service's primitives (hooks) -------------------------------------------------------

    @hook
    def connect(self, secret: Any) -> AbstractContextManager[Any]:
        """Return a context manager: a session logged in with ``secret``, closed after it (hook).

        Raises:
            LoginFailedError: The service rejected the credentials.
            ConnectError: Anything else prevented a session.
        """
        raise NotImplementedError("subclasses of RotationHandler must provide a connect() method")

    @hook
    def check(self, conn: Any) -> None:
        """Prove a session works (hook), e.g. a cheap authenticated call."""
        raise NotImplementedError("subclasses of RotationHandler must provide a check() method")

    @hook
    def set_password(self, conn: Any, username: Any, password: str, old_password: str) -> None:
        """As ``username``, change its own password (hook; single user).

        ``old_password`` is the password this session logged in with.
        """
        raise NotImplementedError(
            "subclasses of RotationHandler must provide a set_password() method"
        )

    @hook
    def set_user_password(self, conn: Any, username: Any, password: str) -> None:
        """As the admin, set the password of an existing user (hook; alternating users)."""
        raise NotImplementedError(
            "subclasses of RotationHandler must provide a set_user_password() method"
        )

    @hook
    def create_user_like(self, conn: Any, username: str, template: str, password: str) -> None:
        """As the admin, make ``username`` a login with ``password`` and ``template``'s rights.

        Must be idempotent and complete the job when re-run after a crash at any statement:
        create the user if missing, set the password, then add whatever privileges it lacks.
        """
        raise NotImplementedError(
            "subclasses of RotationHandler must provide a create_user_like() method"
        )

    @hook
    def add_credential(self, conn: Any, username: Any, password: str) -> None:
        """Make ``password`` work for ``username`` beside its current one (hook; dual).

        Must be idempotent: adding a credential the user already has changes nothing.
        """
        raise NotImplementedError(
            "subclasses of RotationHandler must provide an add_credential() method"
        )

    @hook
    def revoke_credential(self, conn: Any, username: Any, password: str) -> None:
        """Make ``password`` stop working for ``username``, keeping the other (hook; dual).

        Must be idempotent: revoking a credential that is already gone changes nothing.
        """
        raise NotImplementedError(
            "subclasses of RotationHandler must provide a revoke_credential() method"
        )

    @hook
    def retain_credential(
        self, conn: Any, username: Any, password: str, current_password: str
    ) -> None:
        """Make ``password`` the credential and keep ``current_password`` beside it (hook; retain).

        ``current_password`` (the one the rotation logged in with) becomes the only other
        working credential, replacing any older one. Must be idempotent without a failed login:
        re-run after a crash at any point, it must neither retire ``current_password`` nor keep
        ``password`` from working. Raise :class:`CredentialNotRetainedError`, having changed
        nothing, when the service will not keep two; the strategy then replaces the password.
        """
        raise NotImplementedError(
            "subclasses of RotationHandler must provide a retain_credential() method"
        )

    def username_limit(self, conn: Any) -> int:
        """Return the longest user name the connected service accepts (hook)."""
        return self.max_username_length

    def username_length(self, username: str) -> int:
        """Return a user name's length as the service counts it (hook; default characters)."""
        return len(username)
