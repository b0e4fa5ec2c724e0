"""The two rotation strategies: single user and alternating users.

A strategy decides which user the pending secret names, which credentials setSecret logs in
with, and what it asks the engine to do. Both are engine-independent.

Single user: the user changes its own password. setSecret logs in with AWSCURRENT first, so a
normal rotation causes no failed login; only when that is rejected does it probe AWSPENDING
(an earlier attempt already set it) and then AWSPREVIOUS.

Alternating users: the admin from ``masterarn`` sets the password of the user that is not
current, creating ``<user><suffix>`` with the original's privileges the first time. The current
credentials must log in before the admin acts, and all secrets must name the same server.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from rotation.core.errors import (
    ConfigurationError,
    LoginFailedError,
    SecretFormatError,
    SecretMismatchError,
    UsernameTooLongError,
)
from rotation.core.staging import AWSCURRENT, AWSPENDING, AWSPREVIOUS

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from aws_lambda_powertools import Logger

    from rotation.core.admin import AdminSecret
    from rotation.core.handler import Rotation
    from rotation.core.secret import DatabaseSecret


class Engine(Protocol):
    """What a strategy asks of a database handler.

    :class:`~rotation.core.database.DatabaseHandler` implements it. Strategies depend on this
    protocol, not on the handler class, so that the handler can choose its strategy without the
    two modules importing each other.
    """

    logger: Logger

    @property
    def display_name(self) -> str:
        """Return the engine's human name."""

    @property
    def clone_suffix(self) -> str:
        """Return the suffix that forms the alternate user's name."""

    @property
    def max_username_length(self) -> int:
        """Return the longest user name the engine accepts."""

    def parse_secret(self, value: dict[str, Any], *, admin: bool = False) -> DatabaseSecret:
        """Validate a decoded secret for this engine."""

    def load_admin(self, value: dict[str, Any], arn: str, current: DatabaseSecret) -> AdminSecret:
        """Validate the admin secret for ``current``; refuse one of another database."""

    def connect(self, secret: DatabaseSecret) -> AbstractContextManager[Any]:
        """Open a connection with a secret's credentials and close it after the block."""

    def check(self, conn: Any) -> None:
        """Run the query that proves a session works."""

    def set_password(self, conn: Any, username: str, password: str, old_password: str) -> None:
        """As ``username``, change its own password."""

    def set_user_password(self, conn: Any, username: str, password: str) -> None:
        """As the admin, set the password of an existing user."""

    def create_user_like(self, conn: Any, username: str, template: str, password: str) -> None:
        """As the admin, create or refresh ``username`` with ``template``'s rights."""

    def username_limit(self, conn: Any) -> int:
        """Return the longest user name the connected server accepts."""

    def username_length(self, username: str) -> int:
        """Return a user name's length as the engine counts it."""


class Strategy(ABC):
    """How a database credential is rotated."""

    name: ClassVar[str]

    @abstractmethod
    def pending_username(self, handler: Engine, current: DatabaseSecret) -> str:
        """Return the username the pending secret will hold."""

    @abstractmethod
    def set_secret(
        self,
        handler: Engine,
        rotation: Rotation,
        current: DatabaseSecret,
        pending: DatabaseSecret,
    ) -> None:
        """Make the database accept ``pending``; safe to re-run after a crash anywhere."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def require_same_server(first: DatabaseSecret, second: DatabaseSecret, what: str) -> None:
    """Refuse to act when two secrets name different servers.

    Raises:
        SecretMismatchError: Host or port differ.
    """
    if first.same_server_as != second.same_server_as:
        raise SecretMismatchError(
            f"the {what} names host {second.host}:{second.port}, but the current secret names "
            f"{first.host}:{first.port}; refusing to rotate across servers"
        )


class SingleUser(Strategy):
    """The user changes its own password."""

    name = "single"

    def pending_username(self, handler: Engine, current: DatabaseSecret) -> str:
        """Return the current username: single user never changes it."""
        return current.username

    def set_secret(
        self,
        handler: Engine,
        rotation: Rotation,
        current: DatabaseSecret,
        pending: DatabaseSecret,
    ) -> None:
        """Log in as current (then pending, then previous) and set the pending password."""
        require_same_server(current, pending, "pending secret")
        if pending.username != current.username:
            raise SecretMismatchError(
                "single user rotation cannot change the username; the pending secret names "
                f"{pending.username!r}, the current one {current.username!r}"
            )
        for label, secret in self._login_candidates(handler, rotation, current, pending):
            try:
                with handler.connect(secret) as conn:
                    if label == AWSPENDING:
                        handler.logger.info("pending password already set; nothing to do")
                        return
                    handler.set_password(conn, pending.username, pending.password, secret.password)
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
        handler: Engine,
        rotation: Rotation,
        current: DatabaseSecret,
        pending: DatabaseSecret,
    ) -> Iterator[tuple[str, DatabaseSecret]]:
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

    def pending_username(self, handler: Engine, current: DatabaseSecret) -> str:
        """Return the other user of the pair, checking the engine's name limit."""
        if not current.masterarn:
            raise SecretFormatError(
                "alternating users rotation needs 'masterarn' (the admin secret's ARN) "
                "in the secret"
            )
        return alternate_username(
            current.username,
            handler.clone_suffix,
            handler.max_username_length,
            handler.username_length,
        )

    def set_secret(
        self,
        handler: Engine,
        rotation: Rotation,
        current: DatabaseSecret,
        pending: DatabaseSecret,
    ) -> None:
        """Check the secrets, then have the admin set the pending user and its privileges."""
        require_same_server(current, pending, "pending secret")
        expected = self.pending_username(handler, current)
        if pending.username != expected:
            raise SecretMismatchError(
                f"the pending secret names user {pending.username!r}, but alternating from "
                f"{current.username!r} must give {expected!r}"
            )
        # Confused-deputy guard: prove the current secret is genuine before using the admin.
        try:
            with handler.connect(current) as conn:
                handler.check(conn)
        except LoginFailedError as exc:
            raise SecretMismatchError(
                f"the AWSCURRENT credentials of {current.username!r} do not log in; refusing "
                "to act with the admin secret"
            ) from exc
        assert current.masterarn is not None  # pending_username checked it
        value = rotation.read(current.masterarn, AWSCURRENT)
        admin = handler.load_admin(value, current.masterarn, current)
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


STRATEGIES: dict[str, type[Strategy]] = {"alternating": AlternatingUsers, "single": SingleUser}


def strategy_named(name: str) -> Strategy:
    """Return a strategy by name (``single`` or ``alternating``).

    Raises:
        ConfigurationError: The name is unknown.
    """
    try:
        return STRATEGIES[name]()
    except KeyError:
        raise ConfigurationError(
            f"unknown strategy {name!r}; expected one of {', '.join(STRATEGIES)}"
        ) from None
