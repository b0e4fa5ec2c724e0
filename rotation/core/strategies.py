"""The rotation strategies: single user, alternating users, dual credentials, retain previous.

A strategy decides which user the pending secret names, which credentials setSecret logs in
with, and what it asks the service to do. All are service-independent: they drive any
:class:`~rotation.core.handler.RotationHandler` through the :class:`Service` protocol, so a
database engine and a custom service get the same safety rules.

Single user: the credential is replaced. setSecret logs in with AWSCURRENT first, so a normal
rotation causes no failed login; only when that is rejected does it probe AWSPENDING (an earlier
attempt already set it) and then AWSPREVIOUS. The user changes its own password, or, for services
that declare ``admin_sets_passwords``, the admin from ``masterarn`` does — after the current
credentials proved genuine.

Alternating users: the admin from ``masterarn`` sets the password of the user that is not
current, creating ``<user><suffix>`` with the original's privileges the first time. The current
credentials must log in before the admin acts, and all secrets must name the same server.

Dual credentials: for services that accept two credentials of one user at once (API keys, Redis
ACL passwords). setSecret adds the pending credential and keeps the current one working; after
AWSCURRENT moved, the previous credential is revoked. Clients that still hold the old one keep
working until the switch.

Retain previous (dual credentials that are not revoked): for services that keep one previous
password beside the current one (MySQL 8.0.14+ ``RETAIN CURRENT PASSWORD``). setSecret makes the
pending password the primary and keeps the current one as the secondary, which replaces the
secondary of the rotation before; nothing is revoked at the switch, so the previous password keeps
working until the next rotation, like AWSPREVIOUS (``revoke_now=True`` revokes it at the switch).
Where the service refuses (a privilege it lacks), the password is replaced as single user does,
with a warning.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from rotation.core.errors import (
    ConfigurationError,
    CredentialNotRetainedError,
    LoginFailedError,
    SecretFormatError,
    SecretMismatchError,
    UsernameTooLongError,
)
from rotation.core.staging import AWSCURRENT, AWSPENDING, AWSPREVIOUS

if TYPE_CHECKING:
    from collections.abc import Mapping
    from contextlib import AbstractContextManager

    from aws_lambda_powertools import Logger

    from rotation.core.admin import AdminSecret
    from rotation.core.rotation import Rotation


class Credential(Protocol):
    """What a strategy reads of a validated secret (DatabaseSecret, ServiceSecret)."""

    @property
    def raw(self) -> Mapping[str, Any]:
        """Return the secret's JSON object."""

    @property
    def username(self) -> Any:
        """Return the user name (None for services without one)."""

    @property
    def password(self) -> str:
        """Return the password."""

    @property
    def masterarn(self) -> str | None:
        """Return the admin secret's ARN, if any."""

    @property
    def same_server_as(self) -> Any:
        """Return what decides whether two secrets name the same server or service."""

    @property
    def where(self) -> str:
        """Return the server or service, for messages."""


class Service(Protocol):
    """What a strategy asks of a handler (:class:`~rotation.core.handler.RotationHandler`).

    Strategies depend on this protocol, not on the handler classes, so that handlers can choose
    their strategy without the modules importing each other.
    """

    logger: Logger

    @property
    def display_name(self) -> str:
        """Return the service's human name."""

    @property
    def clone_suffix(self) -> str:
        """Return the suffix that forms the alternate user's name."""

    @property
    def max_username_length(self) -> int:
        """Return the longest user name the service accepts."""

    @property
    def admin_sets_passwords(self) -> bool:
        """Tell whether the admin from ``masterarn`` changes passwords (single, dual)."""

    def parse_secret(self, value: dict[str, Any], *, admin: bool = False) -> Any:
        """Validate a decoded secret."""

    def load_admin(self, value: dict[str, Any], arn: str, current: Any) -> AdminSecret:
        """Validate the admin secret for ``current``; refuse one of another server."""

    def connect(self, secret: Any) -> AbstractContextManager[Any]:
        """Open a session with a secret's credentials and close it after the block."""

    def check(self, conn: Any) -> None:
        """Run what proves a session works."""

    def set_password(self, conn: Any, username: Any, password: str, old_password: str) -> None:
        """As ``username``, change its own password."""

    def set_user_password(self, conn: Any, username: Any, password: str) -> None:
        """As the admin, set the password of an existing user."""

    def create_user_like(self, conn: Any, username: str, template: str, password: str) -> None:
        """As the admin, create or refresh ``username`` with ``template``'s rights."""

    def add_credential(self, conn: Any, username: Any, password: str) -> None:
        """Make ``password`` a second working credential of ``username`` (idempotent)."""

    def retain_credential(
        self, conn: Any, username: Any, password: str, current_password: str
    ) -> None:
        """Make ``password`` the credential and keep ``current_password`` beside it (idempotent)."""

    def revoke_credential(self, conn: Any, username: Any, password: str) -> None:
        """Make ``password`` stop working for ``username``, keeping the other (idempotent)."""

    def username_limit(self, conn: Any) -> int:
        """Return the longest user name the connected server accepts."""

    def username_length(self, username: str) -> int:
        """Return a user name's length as the service counts it."""


class Strategy(ABC):
    """How a credential is rotated.

    Attributes:
        name: The strategy's name (``single``, ``alternating``, ``dual``, ``retain``).
        hooks: The handler methods it calls, besides ``connect``; a handler that relies on the
            strategy (does not override ``set_secret``) must provide them.
    """

    name: ClassVar[str]
    hooks: ClassVar[tuple[str, ...]]

    @abstractmethod
    def pending_username(self, handler: Service, current: Credential) -> Any:
        """Return the username the pending secret will hold."""

    @abstractmethod
    def set_secret(
        self, handler: Service, rotation: Rotation, current: Credential, pending: Credential
    ) -> None:
        """Make the service accept ``pending``; safe to re-run after a crash anywhere."""

    def after_finish(self, handler: Service, rotation: Rotation) -> None:  # noqa: B027
        """Act once AWSCURRENT has moved (idempotent; also runs on a retried finishSecret).

        Most strategies have nothing to do after the switch; dual credentials revoke the old one.
        """

    def required_hooks(self, handler: Service) -> tuple[str, ...]:
        """Return the handler methods this strategy will call for ``handler``."""
        return self.hooks

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def require_same_server(first: Credential, second: Credential, what: str) -> None:
    """Refuse to act when two secrets name different servers or services.

    Raises:
        SecretMismatchError: They differ (host and port, or the service's identity keys).
    """
    if first.same_server_as != second.same_server_as:
        raise SecretMismatchError(
            f"the {what} names host {second.where}, but the current secret names "
            f"{first.where}; refusing to rotate across servers"
        )


def require_same_user(current: Credential, pending: Credential, strategy: str) -> None:
    """Refuse a pending secret whose user differs, for strategies that keep the user."""
    if pending.username != current.username:
        raise SecretMismatchError(
            f"{strategy} rotation cannot change the username; the pending secret names "
            f"{pending.username!r}, the current one {current.username!r}"
        )


def require_same_credential_owner(
    handler: Service, current: Credential, pending: Credential, strategy: str
) -> None:
    """Refuse a pending secret of another server or user, or a missing admin the service needs."""
    require_same_server(current, pending, "pending secret")
    require_same_user(current, pending, strategy)
    require_admin_if_needed(handler, current)


def proves_login(service: Service, secret: Credential, refusal: Callable[[], Exception]) -> None:
    """Log in with ``secret`` and run ``check``; a rejected login raises ``refusal()`` instead.

    Raises:
        Exception: ``refusal()``, chained to the LoginFailedError, when the login is rejected.
    """
    try:
        with service.connect(secret) as conn:
            service.check(conn)
    except LoginFailedError as exc:
        raise refusal() from exc


def require_admin_if_needed(handler: Service, current: Credential) -> None:
    """Refuse a secret without ``masterarn`` for a service whose admin sets the passwords."""
    if handler.admin_sets_passwords and not current.masterarn:
        raise SecretFormatError(
            f"{handler.display_name} users cannot change their own password: the secret needs "
            "'masterarn' (the admin secret's ARN)"
        )


class SingleUser(Strategy):
    """The credential is replaced: by the user itself, or by the admin where the service says so."""

    name = "single"
    hooks = ("set_password",)

    def pending_username(self, handler: Service, current: Credential) -> Any:
        """Return the current username: single user never changes it."""
        return current.username

    def required_hooks(self, handler: Service) -> tuple[str, ...]:
        """Return ``set_password``, or ``set_user_password`` where the admin sets passwords."""
        return ("set_user_password",) if handler.admin_sets_passwords else self.hooks

    def set_secret(
        self,
        handler: Service,
        rotation: Rotation,
        current: Credential,
        pending: Credential,
        *,
        current_rejected: bool = False,
    ) -> None:
        """Log in as current (then pending, then previous) and set the pending password.

        ``current_rejected`` says that the caller's own login with AWSCURRENT was just rejected,
        so the probing starts at AWSPENDING without a second failed login.
        """
        require_same_credential_owner(handler, current, pending, "single user")
        candidates = self._login_candidates(handler, rotation, current, pending)
        for label, secret in candidates:
            if current_rejected and label == AWSCURRENT:
                continue
            try:
                with handler.connect(secret) as conn:
                    if label == AWSPENDING:
                        handler.logger.info("pending password already set; nothing to do")
                        return
                    if handler.admin_sets_passwords:
                        # The login above proved the secret genuine; now the admin acts.
                        admin = _admin(handler, rotation, current)
                        with handler.connect(admin.session) as admin_conn:
                            _replace_password(handler, admin_conn, pending, "", admin=True)
                    else:
                        _replace_password(handler, conn, pending, secret.password, admin=False)
                    handler.logger.info("set the pending password", extra={"login": label})
                    return
            except LoginFailedError:
                handler.logger.info(
                    "login rejected; trying the next version", extra={"login": label}
                )
        raise LoginFailedError(
            f"user {current.username!r} could not log in with the AWSCURRENT, AWSPENDING or "
            "AWSPREVIOUS password"
        )

    @staticmethod
    def _login_candidates(
        handler: Service, rotation: Rotation, current: Credential, pending: Credential
    ) -> Iterator[tuple[str, Credential]]:
        """Yield the versions to log in with, reading AWSPREVIOUS only if it comes to that."""
        yield AWSCURRENT, current
        yield AWSPENDING, pending
        previous_value = rotation.previous()
        if previous_value is None:
            return
        previous = handler.parse_secret(previous_value)
        same_user = previous.username == current.username
        tried = previous.password in (current.password, pending.password)
        if same_user and not tried and previous.same_server_as == current.same_server_as:
            yield AWSPREVIOUS, previous


class AlternatingUsers(Strategy):
    """The admin sets the password of whichever of user / user+suffix is not current."""

    name = "alternating"
    hooks = ("check", "set_user_password", "create_user_like")

    def pending_username(self, handler: Service, current: Credential) -> str:
        """Return the other user of the pair, checking the engine's name limit."""
        if not current.masterarn:
            raise SecretFormatError(
                "alternating users rotation needs 'masterarn' (the admin secret's ARN) "
                "in the secret"
            )
        if not isinstance(current.username, str):
            raise SecretFormatError("alternating users rotation needs a 'username' to alternate")
        return alternate_username(
            current.username,
            handler.clone_suffix,
            handler.max_username_length,
            handler.username_length,
        )

    def set_secret(
        self, handler: Service, rotation: Rotation, current: Credential, pending: Credential
    ) -> None:
        """Check the secrets, then have the admin set the pending user and its privileges."""
        require_same_server(current, pending, "pending secret")
        expected = self.pending_username(handler, current)
        if pending.username != expected:
            raise SecretMismatchError(
                f"the pending secret names user {pending.username!r}, but alternating from "
                f"{current.username!r} must give {expected!r}"
            )
        _confused_deputy_guard(handler, current)
        admin = _admin(handler, rotation, current)
        if pending.username == admin.secret.username:
            raise SecretMismatchError("the pending user must not be the admin user")
        original = original_username(pending.username, handler.clone_suffix)
        # The admin logs in to the user's database on the writer, as the AWS templates do.
        with handler.connect(admin.session) as conn:
            limit = handler.username_limit(conn)
            length = handler.username_length(pending.username)
            if length > limit:
                raise UsernameTooLongError(
                    f"user name {pending.username!r} is {length} long as "
                    f"{handler.display_name} counts; this server allows {limit}"
                )
            if pending.username == original:
                handler.set_user_password(conn, pending.username, pending.password)
            else:
                handler.create_user_like(conn, pending.username, original, pending.password)
        handler.logger.info("pending user ready", extra={"username": pending.username})


class DualCredentials(Strategy):
    """Two credentials of one user at once: add the new one, revoke the old after the switch.

    Attributes:
        revoke_previous: Whether the previous credential is revoked once AWSCURRENT moved.
    """

    name = "dual"
    hooks: ClassVar[tuple[str, ...]] = ("add_credential", "revoke_credential")
    revoke_previous: bool = True

    def pending_username(self, handler: Service, current: Credential) -> Any:
        """Return the current username: the user keeps its name and gains a credential."""
        return current.username

    def set_secret(
        self, handler: Service, rotation: Rotation, current: Credential, pending: Credential
    ) -> None:
        """Prove the current credential, then add the pending one beside it (idempotent)."""
        self.check_secrets(handler, current, pending)
        # The current credential stays valid until after the switch, so it must log in; an
        # admin never acts on the word of a secret that does not.
        with _acting_session(handler, rotation, current, self.admin_acts(handler, current)) as conn:
            handler.add_credential(conn, pending.username, pending.password)
        handler.logger.info("added the pending credential; the current one still works")

    def check_secrets(self, handler: Service, current: Credential, pending: Credential) -> None:
        """Refuse secrets of another server or user, or without the admin the service needs."""
        require_same_credential_owner(handler, current, pending, f"{self.name} credentials")

    def admin_acts(self, handler: Service, current: Credential) -> bool:
        """Tell whether the admin from ``masterarn`` acts (where the service says so)."""
        return handler.admin_sets_passwords and bool(current.masterarn)

    def after_finish(self, handler: Service, rotation: Rotation) -> None:
        """Revoke the previous credential once AWSCURRENT moved (idempotent)."""
        if not self.revoke_previous:
            handler.logger.info(
                "the previous credential keeps working until the next rotation replaces it"
            )
            return
        current = handler.parse_secret(rotation.current())
        previous_value = rotation.previous()
        if previous_value is None:
            return
        previous = handler.parse_secret(previous_value)
        if previous.username != current.username or previous.password == current.password:
            return
        # The new credential must work before the old one goes.
        with _acting_session(handler, rotation, current, self.admin_acts(handler, current)) as conn:
            handler.revoke_credential(conn, previous.username, previous.password)
        handler.logger.info("revoked the previous credential")


class RetainPrevious(DualCredentials):
    """Single user whose previous password keeps working until the next rotation replaces it.

    setSecret, logged in with AWSCURRENT, has ``retain_credential`` make the pending password the
    credential and keep the current one as the only other (MySQL: ``ALTER USER ... IDENTIFIED BY
    <pending> REPLACE <current> RETAIN CURRENT PASSWORD``); the admin from ``masterarn`` acts
    instead when the secret names one. Nothing is revoked at the switch unless ``revoke_now``.

    When the service refuses to keep two (:class:`CredentialNotRetainedError`: a privilege or a
    feature it lacks), the password is replaced as single user does and a warning says that
    clients still holding the old password fail until they fetch the new one. A retry after such
    a fallback finds AWSCURRENT rejected and continues as single user does, from AWSPENDING.
    """

    name = "retain"
    hooks = ("retain_credential",)

    def __init__(self, *, revoke_now: bool = False) -> None:
        """Create the strategy; ``revoke_now`` revokes the previous password at the switch."""
        self.revoke_previous = revoke_now

    def required_hooks(self, handler: Service) -> tuple[str, ...]:
        """Return ``retain_credential``, single user's hooks (the fallback), maybe revoke's."""
        revoke = ("revoke_credential",) if self.revoke_previous else ()
        return (*self.hooks, *SingleUser().required_hooks(handler), *revoke)

    def admin_acts(self, handler: Service, current: Credential) -> bool:
        """Tell whether the admin acts: whenever the secret names one in ``masterarn``."""
        return bool(current.masterarn)

    def set_secret(
        self, handler: Service, rotation: Rotation, current: Credential, pending: Credential
    ) -> None:
        """Log in as current, then retain it beside the pending password (or replace it)."""
        self.check_secrets(handler, current, pending)
        admin = self.admin_acts(handler, current)
        with ExitStack() as stack:
            try:
                own = stack.enter_context(handler.connect(current))
            except LoginFailedError:
                # RETAIN keeps the current password working, so only a fallback of an earlier
                # attempt (or a change outside the rotation) retired it: go on as single user.
                handler.logger.info("AWSCURRENT is rejected; continuing as single user does")
                SingleUser().set_secret(handler, rotation, current, pending, current_rejected=True)
                return
            conn = (
                stack.enter_context(handler.connect(_admin(handler, rotation, current).session))
                if admin
                else own
            )
            try:
                handler.retain_credential(
                    conn, pending.username, pending.password, current.password
                )
            except CredentialNotRetainedError as exc:
                handler.logger.warning(
                    "the service will not keep the current password beside the new one; "
                    "replacing it instead: clients still holding it fail until they fetch the "
                    "new one",
                    extra={"reason": str(exc)},
                )
                _replace_password(handler, conn, pending, current.password, admin=admin)
                handler.logger.info("set the pending password (single user fallback)")
                return
        handler.logger.info("set the pending password; the current one keeps working")

    def after_finish(self, handler: Service, rotation: Rotation) -> None:
        """Revoke the previous password when ``revoke_now``; warn if the service refuses."""
        try:
            super().after_finish(handler, rotation)
        except CredentialNotRetainedError as exc:
            handler.logger.warning(
                "could not revoke the previous password; it keeps working until the next "
                "rotation replaces it",
                extra={"reason": str(exc)},
            )

    def __repr__(self) -> str:
        return f"RetainPrevious(revoke_now={self.revoke_previous})"


def _replace_password(
    handler: Service, conn: Any, pending: Credential, old_password: str, *, admin: bool
) -> None:
    """Set the pending password in place of the old one: as the admin, or as the user."""
    if admin:
        handler.set_user_password(conn, pending.username, pending.password)
    else:
        handler.set_password(conn, pending.username, pending.password, old_password)


@contextmanager
def _acting_session(
    handler: Service, rotation: Rotation, current: Credential, admin: bool
) -> Iterator[Any]:
    """Log in with ``current``, then yield the session that acts: the admin's or that one.

    Raises:
        SecretMismatchError: ``current`` does not log in (no one acts on its word).
    """
    with ExitStack() as stack:
        try:
            own = stack.enter_context(handler.connect(current))
        except LoginFailedError as exc:
            raise SecretMismatchError(
                f"the AWSCURRENT credentials of {current.username!r} do not log in; refusing "
                "to act on them"
            ) from exc
        if admin:
            yield stack.enter_context(handler.connect(_admin(handler, rotation, current).session))
        else:
            yield own


def _confused_deputy_guard(handler: Service, current: Credential) -> None:
    """Prove the current secret genuine before an admin acts on its word.

    Raises:
        SecretMismatchError: The current credentials do not log in.
    """
    proves_login(
        handler,
        current,
        lambda: SecretMismatchError(
            f"the AWSCURRENT credentials of {current.username!r} do not log in; refusing "
            "to act with the admin secret"
        ),
    )


def _admin(handler: Service, rotation: Rotation, current: Credential) -> AdminSecret:
    """Read and check the admin secret the current secret names."""
    assert current.masterarn is not None  # callers checked
    return handler.load_admin(
        rotation.read(current.masterarn, AWSCURRENT), current.masterarn, current
    )


def alternate_username(
    username: str, suffix: str, limit: int, measure: Callable[[str], int] = len
) -> str:
    """Return the other name of the pair ``name`` / ``name + suffix``.

    Args:
        username: The current user name.
        suffix: The clone suffix.
        limit: The longest name the engine accepts.
        measure: How the engine counts a name's length (characters unless it says otherwise).

    Raises:
        UsernameTooLongError: ``username + suffix`` exceeds ``limit``.
    """
    if username.endswith(suffix) and len(username) > len(suffix):
        return username[: -len(suffix)]
    alternate = username + suffix
    if measure(alternate) > limit:
        raise UsernameTooLongError(
            f"cannot alternate user {username!r}: {alternate!r} would be {measure(alternate)} "
            f"long, over the limit of {limit}"
        )
    return alternate


def original_username(username: str, suffix: str) -> str:
    """Return the original (non-clone) name of the pair ``username`` belongs to."""
    if username.endswith(suffix) and len(username) > len(suffix):
        return username[: -len(suffix)]
    return username


STRATEGIES: dict[str, type[Strategy]] = {
    "alternating": AlternatingUsers,
    "dual": DualCredentials,
    "retain": RetainPrevious,
    "single": SingleUser,
}


def strategy_named(name: str) -> Strategy:
    """Return a strategy by name (``single``, ``alternating``, ``dual`` or ``retain``).

    Raises:
        ConfigurationError: The name is unknown.
    """
    try:
        return STRATEGIES[name]()
    except KeyError:
        raise ConfigurationError(
            f"unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}"
        ) from None
