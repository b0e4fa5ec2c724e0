"""The admin secret of alternating users: read, located when a service manages it, checked.

An admin secret is either an ordinary database secret (``engine``, ``host``, ``username``,
``password``, ...) or one that RDS, Aurora, DocumentDB or Redshift manages, whose value holds only
``username`` and ``password``. For the latter the database is found through the service's API
(:mod:`rotation.core.managed`): its writer endpoint, port and engine become the admin's
connection, and the user's database name is kept, as the AWS functions do.

Either way the admin may act only for a user secret of the same database: the same endpoint, or
(for a managed admin) an endpoint that the service says reaches a copy of it — a read replica
of the admin's instance, or the reader endpoint or a member instance of the admin's cluster. The
admin then works on the writer. Anything else is refused before anything changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rotation.core.errors import SecretMismatchError
from rotation.core.managed import Endpoint, ManagedDatabase, is_managed_value

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from rotation.core.managed import DatabaseDirectory


@dataclass(frozen=True)
class AdminSecret:
    """An admin secret ready to act for one user secret.

    Attributes:
        arn: Where it was read from (the user secret's ``masterarn``).
        secret: The admin's credentials and the endpoint they act on (the writer).
        session: The same, in the user's database: what the admin logs in with.
        managed: The database a service manages it for, or None for an ordinary secret.
        serves: How the user's endpoint relates to the admin's (``same endpoint``,
            ``read replica 'db-2'``, ``reader endpoint``, ...).
    """

    arn: str
    secret: Any
    session: Any
    managed: ManagedDatabase | None
    serves: str

    def describe(self) -> str:
        """Return a one-line description without secret values."""
        where = self.managed.describe() if self.managed is not None else f"host {self.secret.where}"
        return f"user {self.secret.username!r} from {self.arn} ({where}); the user's {self.serves}"


def load_admin(
    value: Mapping[str, Any],
    arn: str,
    current: Any,
    *,
    parse: Callable[[dict[str, Any]], Any],
    tags: Callable[[], Mapping[str, str]] | None = None,
    directory: DatabaseDirectory | None = None,
    session: Callable[[Any], Any] | None = None,
) -> AdminSecret:
    """Validate an admin secret's value for a user secret, locating a managed one's database.

    Args:
        value: The admin secret's decoded AWSCURRENT value.
        arn: The admin secret's id (the user secret's ``masterarn``).
        current: The user's validated AWSCURRENT secret.
        parse: Validates a value as the engine's admin secret.
        tags: Returns the admin secret's tags (DescribeSecret); called for managed shapes only.
        directory: Answers where a managed database and its copies are; without one (custom
            services) no admin secret is looked up in a service's API.
        session: Returns the secret the admin logs in with, from the validated admin secret
            (databases: the same, in the user's database); the admin secret itself by default.

    Raises:
        SecretFormatError: The value is not a valid admin secret, or a managed one has no tag.
        DatabaseServiceError: The database service could not say where the database is.
        SecretMismatchError: The admin's database is not the one the user secret names.
    """
    managed: ManagedDatabase | None = None
    raw = dict(value)
    if directory is not None and tags is not None and is_managed_value(value):
        managed = directory.resolve(tags(), near=Endpoint(current.host, current.port))
        endpoint = managed.endpoint
        raw.update(engine=managed.engine, host=endpoint.host, port=endpoint.port)
        # The service knows the endpoint and engine; the database is the user's, as in the
        # AWS functions (the service's own database only when the user secret names none).
        if current.dbname or managed.dbname:
            raw["dbname"] = current.dbname or managed.dbname
    secret = parse(raw)
    serves = _relation(current, secret, managed, directory)
    acting = session(secret) if session is not None else secret
    return AdminSecret(arn=arn, secret=secret, session=acting, managed=managed, serves=serves)


def _relation(
    current: Any,
    admin: Any,
    managed: ManagedDatabase | None,
    directory: DatabaseDirectory | None,
) -> str:
    """Return how the user's endpoint reaches the admin's database, or refuse.

    Raises:
        SecretMismatchError: The user's endpoint is not the admin's, nor (for a managed admin)
            one the service lists as reaching a copy of the admin's database.
    """
    if current.same_server_as == admin.same_server_as:
        return "same endpoint"
    if managed is None or directory is None:
        raise SecretMismatchError(
            f"the admin secret names host {admin.where}, but the current secret "
            f"names {current.where}; refusing to rotate across servers"
        )
    here = Endpoint(current.host, current.port)
    for what, endpoint in directory.copies(managed):
        if endpoint.key == here.key:
            return what
    raise SecretMismatchError(
        f"the admin secret is {managed.describe()}, but the current secret names {here}, which "
        f"is neither that endpoint nor one the {managed.service} API lists for the same "
        "database (read replica, reader endpoint, member instance); refusing to rotate across "
        "servers"
    )
