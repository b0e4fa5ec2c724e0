"""The Oracle handler: connections (TCP and TCPS), error mapping and the primitives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rotation.core.config import PasswordPolicy
from rotation.core.errors import (
    ConfigurationError,
    ConnectError,
    SecretFormatError,
    UserManagementError,
)
from rotation.engines.dbapi import DBAPIHandler, Statement
from rotation.engines.oracle.grants import (
    Authority,
    Grant,
    Route,
    parse_grant,
    refuse_ungrantable,
    route,
)
from rotation.engines.oracle.preflight import OraclePreflight
from rotation.engines.oracle.statements import (
    GRANT_KINDS,
    OracleStatements,
    grant_sys_object_statement,
    quote_password,
    split_ddl,
)
from rotation.engines.oracle.tls import (
    LEGACY_SETTING,
    LEGACY_SUITES,
    client_context,
    handshake_advice,
)

if TYPE_CHECKING:
    from oracledb import Connection

    from rotation.core.database import TLS
    from rotation.core.secret import DatabaseSecret
else:
    Connection = Any

#: Port of the TCPS listener when the secret has no ``ssl_port`` (RDS's SSL option default).
DEFAULT_TCPS_PORT = 2484
# ORA-01017: invalid username/password. A locked (ORA-28000) or expired (ORA-28001) account is
# not a wrong password: retrying other versions' passwords cannot help, so it is a ConnectError.
LOGIN_REJECTED = frozenset({"ORA-01017"})
NO_GRANTS = "ORA-31608"  # GET_GRANTED_DDL: "specified object of type ... not found"
PASSWORD_REUSED = "ORA-28007"  # the profile forbids reusing a password in the history
# "Passwords can be at most 30 bytes long":
# https://docs.oracle.com/en/database/oracle/oracle-database/19/dbseg/minimum-requirements-passwords.html
MAX_PASSWORD_BYTES = 30


class OracleHandler(OracleStatements, OraclePreflight, DBAPIHandler[Connection]):
    """Rotate Oracle database users (statements and preflight hooks come from the mixins)."""

    engine = "oracle"
    display_name = "Oracle"
    engine_values = frozenset({"oracle"})
    # Admin secrets may carry the engine as RDS reports it (RDS's Engine values, RDS Custom
    # included), e.g. when RDS manages the master secret and DescribeDBInstances supplies it.
    admin_engine_values = frozenset(
        {"oracle", "oracle-ee", "oracle-ee-cdb", "oracle-se2", "oracle-se2-cdb",
         "custom-oracle-ee", "custom-oracle-ee-cdb", "custom-oracle-se2", "custom-oracle-se2-cdb"}
    )  # fmt: skip
    default_port = 1521
    default_dbname = None
    dbname_required = True  # the service name
    # 128 bytes from 12.2, 30 before; the server's own limit is checked before any change.
    max_username_length = 128
    clone_suffix = "_CLONE"
    driver_module = "oracledb"
    extra = "oracle"
    check_query = "SELECT 1 FROM DUAL"
    password_defaults = PasswordPolicy(length=30)
    # The password is delimited by double quotes in ALTER USER and cannot contain one.
    required_exclude_characters = '"'

    def enforce_password_policy(self, policy: PasswordPolicy) -> PasswordPolicy:
        """Exclude ``"`` and refuse a length Oracle cannot store.

        Generated passwords are ASCII, so characters are bytes.

        Raises:
            ConfigurationError: PASSWORD_LENGTH is over Oracle's 30 bytes.
        """
        if policy.length > MAX_PASSWORD_BYTES:
            raise ConfigurationError(
                f"Oracle passwords are at most {MAX_PASSWORD_BYTES} bytes; "
                f"PASSWORD_LENGTH is {policy.length}"
            )
        return super().enforce_password_policy(policy)

    def parse_secret(self, value: dict[str, Any], *, admin: bool = False) -> DatabaseSecret:
        """Validate a secret, its user name's quoting and its optional ``ssl_port``."""
        secret = super().parse_secret(value, admin=admin)
        name, what = secret.username, "admin secret" if admin else "secret"
        quoted = len(name) > 2 and name[0] == name[-1] == '"'
        if "\x00" in name or '"' in (name[1:-1] if quoted else name):
            raise SecretFormatError(
                f"the {what}'s username is not a valid Oracle user name (double quotes may only "
                "enclose the whole name)"
            )
        if quoted and not admin and self.strategy.name == "alternating":
            raise SecretFormatError(
                "alternating users needs an unquoted username: a clone name cannot be formed "
                "from a quoted one"
            )
        self.tcps_port(secret)
        return secret

    # -- connections --------------------------------------------------------------------------

    def tcps_port(self, secret: DatabaseSecret) -> int:
        """Return the TCPS listener's port: the secret's ``ssl_port``, else 2484.

        The ``port`` key stays the plaintext listener's, as RDS writes it into its secrets.

        Raises:
            SecretFormatError: ``ssl_port`` is not a port number.
        """
        raw = secret.raw.get("ssl_port")
        if raw is None or raw == "":
            return DEFAULT_TCPS_PORT
        text = str(raw).strip()
        if isinstance(raw, bool) or not text.isdigit() or not 0 < int(text) < 65536:
            raise SecretFormatError("the secret's 'ssl_port' must be a port number (1-65535)")
        return int(text)

    def connect_options(self, secret: DatabaseSecret, tls: TLS) -> dict[str, Any]:
        """Return the keyword arguments of ``oracledb.connect`` (Easy Connect, service name)."""
        options: dict[str, Any] = {
            "user": secret.username,
            "password": secret.password,
            "host": secret.host,
            "port": secret.port,
            "service_name": secret.dbname,
            "protocol": "tcp",
            "tcp_connect_timeout": float(self.settings.connect_timeout),
            "retry_count": 0,
        }
        if tls.enabled:
            legacy = self.settings.oracle_tls_legacy_ciphers
            context = client_context(tls.ca_file, legacy_ciphers=legacy)
            options.update(
                protocol="tcps",
                port=self.tcps_port(secret),
                ssl_server_dn_match=True,
                ssl_context=context,
            )
        return options

    def open_connection(self, secret: DatabaseSecret, tls: TLS) -> Connection:
        """Connect in thin mode over TCP, or TCPS with a verified certificate and host name."""
        oracledb = self.driver()
        options = self.connect_options(secret, tls)
        legacy = tls.enabled and self.settings.oracle_tls_legacy_ciphers
        if legacy:
            # Explicitly asked for, and still said every time: these suites lack forward secrecy.
            self.logger.warning(
                f"{LEGACY_SETTING} is set: TCPS also accepts {', '.join(LEGACY_SUITES)} "
                "(RSA key exchange, no forward secrecy); set an ECDHE SQLNET.CIPHER_SUITE in "
                "the option group and turn the setting off",
                extra={"host": secret.host, "port": options["port"]},
            )
        try:
            conn: Connection = oracledb.connect(**options)
        except oracledb.Error as exc:
            if self.is_login_rejection(exc):
                raise self.connect_error(secret, exc) from exc
            where = f"{secret.host}:{options['port']} ({options['protocol'].upper()})"
            detail = self.describe_error(exc)
            advice = handshake_advice(exc, legacy_ciphers=legacy) if tls.enabled else None
            if advice:
                detail = f"{detail}; {advice}"
            raise ConnectError(f"cannot connect to Oracle at {where}: {detail}") from exc
        return conn

    def is_login_rejection(self, exc: BaseException) -> bool:
        """Tell whether the server answered ORA-01017."""
        return self.error_code(exc) in LOGIN_REJECTED

    def error_code(self, exc: BaseException) -> str | None:
        """Return the error's ``ORA-nnnnn`` or ``DPY-nnnn`` code."""
        error = exc.args[0] if exc.args else None
        return getattr(error, "full_code", None) or None

    def describe_error(self, exc: BaseException) -> str:
        """Return the driver's message lines (each starts with its code), without help links.

        A connect error's second line holds the reason (``DPY-6006`` host name mismatch,
        certificate verify failed, connection refused); the messages carry no SQL text.
        """
        lines = [line.strip() for line in str(exc).strip().splitlines()]
        kept = [line for line in lines if line and not line.startswith("Help:")][:3]
        return self.redactor.redact(" / ".join(kept)) if kept else type(exc).__name__

    # -- primitives ---------------------------------------------------------------------------

    def enquote(self, conn: Connection, name: str) -> str:
        """Return a user name quoted by the server, checked to be one quoted identifier."""
        rows = self.execute(conn, self.enquote_statement(name))
        quoted = str(rows[0][0]) if rows and rows[0][0] is not None else ""
        inner = quoted[1:-1]
        if len(quoted) < 3 or quoted[0] != '"' or quoted[-1] != '"' or '"' in inner:
            raise UserManagementError("ENQUOTE_NAME returned no single quoted identifier")
        return quoted

    def set_password(
        self, conn: Connection, username: str, password: str, old_password: str
    ) -> None:
        """Change the logged-in user's own password, naming the old one.

        ``REPLACE`` is required of users without ALTER USER when a password verify function is
        in force, and accepted otherwise; the old password is the one this session logged in
        with.
        """
        quoted = self.enquote(conn, username)
        self.run(conn, [self.alter_password_statement(quoted, password, old_password)])

    def set_user_password(self, conn: Connection, username: str, password: str) -> None:
        """As the admin, set another user's password."""
        self._set_password(conn, self.enquote(conn, username), password)
        self.commit(conn)

    def user_exists(self, conn: Connection, username: str) -> bool:
        """Tell whether a user exists."""
        return bool(self.execute(conn, self.user_exists_statement(self.enquote(conn, username))))

    def create_user_like(
        self, conn: Connection, username: str, template: str, password: str
    ) -> None:
        """Create or refresh the clone, then give it each of the original's grants it lacks.

        Everything is read and decided first: the original's grants, the clone's, and what the
        admin may grant. A grant the admin cannot give stops the rotation before any change,
        naming it. The password is set before the grants and grants are only added, so a re-run
        after a crash at any statement completes the clone. DDL commits statement by statement.
        """
        quote_password(password)  # refuse a bad password before any change
        source, clone = self.enquote(conn, template), self.enquote(conn, username)
        exists = bool(self.execute(conn, self.user_exists_statement(clone)))
        plan = self.clone_grants(conn, source, clone, clone_exists=exists)
        refuse_ungrantable(plan, template)
        if exists:
            self._set_password(conn, clone, password)
        else:
            self.execute(conn, self.create_user_statement(clone, password))
        for grant, how in plan:
            if how is Route.SYS_OBJECT:
                assert grant.object_name is not None  # route() gives SYS_OBJECT only then
                statement = grant_sys_object_statement(
                    grant.object_name, clone[1:-1], grant.name, grant_option=bool(grant.option)
                )
            else:
                # Server-generated DDL with every name quoted; only the grantee was rewritten.
                statement = Statement(grant.statement, None, "replay grant")
            self.execute(conn, statement)
        self.commit(conn)

    def clone_grants(
        self, conn: Connection, source: str, clone: str, *, clone_exists: bool
    ) -> list[tuple[Grant, Route | str]]:
        """Return each grant of the original the clone lacks, with how the admin gives it.

        Read-only. ``source`` and ``clone`` are quoted names; a grant the admin cannot give
        comes with the reason instead of a :class:`Route`.

        Raises:
            UserManagementError: No grant of the original is visible (nothing to copy from).
        """
        grants = [
            parse_grant(kind, line, source, clone) for kind, line in self._grants(conn, source)
        ]
        if not grants:
            raise UserManagementError(
                f"found no grants of user {source[1:-1]!r}; the admin needs SELECT_CATALOG_ROLE "
                "to read them"
            )
        have = {line for _, line in self._grants(conn, clone)} if clone_exists else set()
        authority = self.grant_authority(conn)
        return [(grant, route(grant, authority)) for grant in grants if grant.statement not in have]

    def grant_authority(self, conn: Connection) -> Authority:
        """Read what the session may grant from its own privileges (read-only)."""

        def column(statement: Statement) -> frozenset[str]:
            return frozenset(str(row[0]) for row in self.execute(conn, statement))

        user = self.execute(conn, self.session_user_statement())[0][0]
        grantable = self.execute(conn, self.grantable_objects_statement())
        via_roles = self.execute(conn, self.sys_objects_via_admin_roles_statement())
        return Authority(
            user=str(user),
            privileges=column(self.session_privileges_statement()),
            admin_roles=column(self.admin_roles_statement()),
            admin_privileges=column(self.admin_privileges_statement()),
            grantable=frozenset((str(p), str(o), str(n)) for p, o, n in grantable),
            sys_via_admin_roles=frozenset((str(p), str(n)) for p, n in via_roles),
            rdsadmin=bool(self.execute(conn, self.rdsadmin_statement())),
        )

    def _set_password(self, conn: Connection, quoted: str, password: str) -> None:
        try:
            self.execute(conn, self.alter_password_statement(quoted, password))
        except UserManagementError as exc:
            # A random pending password already in the history was set by an earlier attempt
            # of this rotation; testSecret proves it.
            if self.error_code(exc.__cause__ or exc) != PASSWORD_REUSED:
                raise
            self.logger.info("pending password already set on an earlier attempt")

    def _grants(self, conn: Connection, quoted: str) -> list[tuple[str, str]]:
        """Return a user's grants as (kind, GET_GRANTED_DDL statement), roles first."""
        lines: list[tuple[str, str]] = []
        for kind in GRANT_KINDS:
            try:
                rows = self.execute(conn, self.granted_ddl_statement(kind, quoted))
            except UserManagementError as exc:
                if self.error_code(exc.__cause__ or exc) == NO_GRANTS:
                    continue
                raise
            for (value,) in rows:
                text = value.read() if hasattr(value, "read") else value
                lines += [(kind, line) for line in split_ddl(str(text or ""))]
        return lines
