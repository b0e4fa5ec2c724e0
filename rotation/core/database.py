"""Rotation of database credentials: a thin layer over the generic protocol.

:class:`DatabaseHandler` adds what databases share to
:class:`~rotation.core.handler.RotationHandler`, whose strategies already own the login order,
the confused-deputy guard and the same-server checks: the AWS templates' secret JSON
(:class:`~rotation.core.secret.DatabaseSecret`), the TLS policy around every connection, admin
secrets that RDS or Redshift manage, and the read-only hooks of ``rotation check``. An engine
subclass declares its facts as class attributes and implements:

* :meth:`DatabaseHandler.open_connection` — connect with given credentials and TLS mode;
* ``set_password`` — change the logged-in user's own password (single user);
* ``set_user_password`` — as the admin, set another user's password (alternating users);
* ``create_user_like`` — as the admin, create or refresh the clone so it has the password and
  exactly the privileges of the original (alternating users);
* ``check`` — the query that proves a session works.
"""

from __future__ import annotations

import enum
import importlib
import re
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from rotation.core.admin import AdminSecret, load_admin
from rotation.core.errors import ConnectError, DriverNotInstalledError, LoginFailedError
from rotation.core.handler import RotationHandler, hook
from rotation.core.managed import DatabaseDirectory
from rotation.core.secret import DatabaseSecret

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import ModuleType

    from rotation.core.strategies import Strategy

C = TypeVar("C")
# How the drivers (OpenSSL through libpq, ssl, pymongo, python-oracledb) say that no trusted CA
# signed the server's certificate.
UNTRUSTED_CERTIFICATE = re.compile(
    r"certificate verify failed|certificate_verify_failed|unable to get local issuer"
    r"|self[- ]signed certificate|unknown ca\b",
    re.IGNORECASE,
)
# A trusted certificate for another name (OpenSSL via ssl says "certificate verify failed" too).
HOST_NAME_MISMATCH = re.compile(
    r"hostname mismatch|does not match host ?name|IP address mismatch", re.IGNORECASE
)


class TLSMode(enum.Enum):
    """How a connection protects its traffic."""

    VERIFIED = "verified"  # TLS, certificate chain and host name checked
    PLAINTEXT = "plaintext"


@dataclass(frozen=True)
class TLS:
    """The TLS settings for one connection attempt."""

    mode: TLSMode
    ca_file: str | None = None

    @property
    def enabled(self) -> bool:
        """Tell whether the connection uses TLS."""
        return self.mode is TLSMode.VERIFIED


@dataclass(frozen=True)
class Finding:
    """One preflight check's outcome, for ``rotation check``.

    Attributes:
        name: What was checked ("privileges: ALTER ROLE", "TLS protocol", ...).
        ok: Whether the check passed; None when the server cannot tell ("not checked").
        detail: A one-line reason, without secret values.
        warning: The rotation will work, but not as asked (e.g. a fallback); shown as WARN.
    """

    name: str
    ok: bool | None
    detail: str
    warning: bool = False


class DatabaseHandler(RotationHandler, Generic[C]):
    """Rotate the credentials of a database user, single user or alternating users.

    Attributes:
        engine: Registry name of the engine (``postgresql``, ``mysql``, ...).
        display_name: Human name for messages.
        engine_values: Values of the secret's ``engine`` key this engine accepts.
        admin_engine_values: Values accepted in the admin (``masterarn``) secret.
        default_port: Port when the secret has none.
        default_dbname: Database when the secret has none.
        dbname_required: Whether a secret must name a database.
        max_username_length: Longest user name the engine accepts (servers may say otherwise,
            see :meth:`username_limit`).
        clone_suffix: Appended to the user name to form the alternate user.
        driver_module: The driver's import name.
        extra: The pip extra that installs the driver.
    """

    display_name: ClassVar[str]
    engine_values: ClassVar[frozenset[str]]
    admin_engine_values: ClassVar[frozenset[str]]
    default_port: ClassVar[int]
    default_dbname: ClassVar[str | None] = None
    dbname_required: ClassVar[bool] = False
    max_username_length: ClassVar[int]
    clone_suffix: ClassVar[str] = "_clone"
    driver_module: ClassVar[str]
    extra: ClassVar[str]
    # connect() is this class's: it opens the engine's connections under the TLS policy.
    always_required_hooks = ("open_connection",)

    def __init__(self, strategy: Strategy | str = "single", **kwargs: Any) -> None:
        """Create a handler for one strategy (``"single"``, ``"alternating"`` or an instance)."""
        super().__init__(strategy, **kwargs)
        # Called with a statement's safe label after each database statement succeeded;
        # fault-injection tests raise from it to simulate a crash at that point.
        self.statement_listener: Callable[[str], None] | None = None
        # Where service-managed admin secrets' databases are (RDS and Redshift describe calls).
        self.directory = DatabaseDirectory()

    def statement_done(self, action: str) -> None:
        """Tell the statement listener, if any, that a statement has taken effect."""
        if self.statement_listener is not None:
            self.statement_listener(action)

    # -- what databases add to the generic protocol ---------------------------------------------

    def parse_secret(self, value: dict[str, Any], *, admin: bool = False) -> DatabaseSecret:
        """Validate a decoded secret for this engine (the AWS templates' JSON)."""
        return DatabaseSecret.parse(value, self, admin=admin)

    def load_admin(self, value: dict[str, Any], arn: str, current: DatabaseSecret) -> AdminSecret:
        """Validate the admin secret for ``current``, locating a service-managed one's database.

        The admin logs in to the user's database (on the writer, for a managed one).

        Raises:
            SecretFormatError: Not a valid admin secret for this engine.
            DatabaseServiceError: RDS or Redshift could not say where its database is.
            SecretMismatchError: The admin's database is not the one ``current`` names.
        """
        admin = load_admin(
            value,
            arn,
            current,
            parse=lambda raw: self.parse_secret(raw, admin=True),
            tags=lambda: self.secrets.describe(arn).tags,
            directory=self.directory,
            session=lambda secret: self.parse_secret(
                {**secret.raw, "dbname": current.dbname}, admin=True
            ),
        )
        self.logger.info("admin secret ready", extra={"admin": admin.describe()})
        return admin

    # -- connections and TLS ------------------------------------------------------------------

    def tls_attempts(self, secret: DatabaseSecret) -> list[TLS]:
        """Return the TLS modes to try, in order, for a secret.

        ``ssl: true`` and an absent ``ssl`` mean verified TLS; ``ssl: false`` means plaintext.
        Only when ``ssl`` is absent and the plaintext fallback setting is on is plaintext tried
        after a failed TLS attempt.
        """
        verified = TLS(TLSMode.VERIFIED, self.settings.tls_ca_file)
        if secret.ssl is False:
            return [TLS(TLSMode.PLAINTEXT)]
        if secret.ssl is None and self.settings.tls_allow_plaintext_fallback:
            return [verified, TLS(TLSMode.PLAINTEXT)]
        return [verified]

    @contextmanager
    def connect(self, secret: DatabaseSecret) -> Iterator[C]:
        """Open a connection with a secret's credentials, under the TLS policy, and close it.

        Raises:
            LoginFailedError: The server rejected the credentials (never retried in plaintext).
            ConnectError: The server could not be reached or TLS failed.
        """
        with self.session(secret) as (conn, _tls):
            yield conn

    @contextmanager
    def session(self, secret: DatabaseSecret) -> Iterator[tuple[C, TLS]]:
        """Like :meth:`connect`, but also yield the TLS mode the connection actually uses."""
        attempts = self.tls_attempts(secret)
        for index, tls in enumerate(attempts):
            try:
                conn = self.open_connection(secret, tls)
                break
            except LoginFailedError:
                raise
            except ConnectError as exc:
                if index + 1 == len(attempts):
                    text = str(exc)
                    if (
                        tls.enabled
                        and UNTRUSTED_CERTIFICATE.search(text)
                        and not HOST_NAME_MISMATCH.search(text)
                    ):
                        raise self.untrusted_certificate(exc) from exc.__cause__ or exc
                    raise
                self.logger.warning(
                    "TLS connection failed; falling back to PLAINTEXT because "
                    "ROTATION_TLS_ALLOW_PLAINTEXT_FALLBACK is set",
                    extra={"host": secret.host, "port": secret.port, "reason": str(exc)},
                )
        try:
            yield conn, tls
        finally:
            self.close_connection(conn)

    def untrusted_certificate(self, exc: ConnectError) -> ConnectError:
        """Return ``exc`` with what to do about a certificate no trusted CA signed."""
        where = self.settings.tls_ca_file or "the system trust store"
        return ConnectError(
            f"{exc}; the server's certificate is not signed by a CA in {where}: RDS, Aurora and "
            "DocumentDB need the regional or global RDS bundle (the functions `make build` "
            "builds carry it) - see README#tls"
        )

    @classmethod
    def driver(cls) -> ModuleType:
        """Import the engine's driver on first use.

        Raises:
            DriverNotInstalledError: The driver is not installed; the message names the extra.
        """
        try:
            return importlib.import_module(cls.driver_module)
        except ImportError:
            raise DriverNotInstalledError(cls.engine, cls.driver_module, cls.extra) from None

    # -- engine primitives --------------------------------------------------------------------

    @hook
    def open_connection(self, secret: DatabaseSecret, tls: TLS) -> C:
        """Connect to the database (hook).

        Raises:
            LoginFailedError: The server rejected the credentials.
            ConnectError: Anything else prevented a session.
        """
        raise NotImplementedError(
            "subclasses of DatabaseHandler must provide an open_connection() method"
        )

    def close_connection(self, conn: C) -> None:
        """Close a connection, ignoring errors (hook; default calls ``conn.close()``)."""
        # A failed close must not hide the step's outcome.
        with suppress(Exception):
            conn.close()  # type: ignore[attr-defined]

    def session_facts(self, conn: C) -> dict[str, str]:
        """Describe an open session for preflight reports (hook; read-only).

        Engines report what they can cheaply learn, e.g. ``server_version``, ``tls_version``
        and ``tls_cipher``. The default reports nothing.
        """
        return {}

    def privilege_findings(self, conn: C, username: str, *, admin: bool) -> list[Finding]:
        """Tell whether the session's user holds what rotation will need (hook; read-only).

        Args:
            conn: A session of the user (single user) or of the admin (alternating users).
            username: The user whose password will change (single) or that will be cloned.
            admin: True when ``conn`` is the admin's session.

        The default reports nothing, which ``rotation check`` shows as "not checked".
        """
        return []
