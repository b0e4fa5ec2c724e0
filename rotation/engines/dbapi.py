"""Shared machinery of the DB-API (PEP 249) engines: statements, execution, error mapping."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rotation.core.database import DatabaseHandler
from rotation.core.errors import (
    ConnectError,
    LoginFailedError,
    SecretTestFailedError,
    UserManagementError,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from rotation.core.secret import DatabaseSecret

C = TypeVar("C")


@dataclass(frozen=True, repr=False)
class Statement:
    """One SQL statement as an engine renders it, ready for ``cursor.execute``.

    Attributes:
        sql: Text, or a driver object that renders to text (``psycopg2.sql.Composable``).
        params: Parameters for the driver to bind, or None for none.
        action: A short label that is safe to log and put in errors (no names, no values).
    """

    sql: Any
    params: Sequence[Any] | None = None
    action: str = "statement"

    def __repr__(self) -> str:
        # The SQL or the parameters may hold a password.
        return f"Statement(action={self.action!r})"


class DBAPIHandler(DatabaseHandler[C]):
    """A database handler whose driver follows PEP 249."""

    check_query: ClassVar[str] = "SELECT 1"

    def execute(self, conn: C, statement: Statement) -> list[tuple[Any, ...]]:
        """Execute one statement and return its rows (empty for statements without rows).

        Raises:
            UserManagementError: The driver raised; the message carries the action, the
                driver's error code and the first line of its message, redacted.
        """
        driver_error = self.driver().Error
        try:
            cursor = conn.cursor()  # type: ignore[attr-defined]
            try:
                cursor.execute(statement.sql, statement.params)
                rows = list(cursor.fetchall()) if cursor.description else []
            finally:
                cursor.close()
        except driver_error as exc:
            raise UserManagementError(
                f"{statement.action} failed: {self.describe_error(exc)}"
            ) from exc
        self.statement_done(statement.action)
        return rows

    def run(self, conn: C, statements: Iterable[Statement]) -> None:
        """Execute statements in order, then commit."""
        for statement in statements:
            self.execute(conn, statement)
        self.commit(conn)

    def commit(self, conn: C) -> None:
        """Commit the connection's transaction."""
        conn.commit()  # type: ignore[attr-defined]

    def username_limit_statement(self) -> Statement | None:
        """Render the query for the server's user name limit, or None to trust the class (hook)."""
        return None

    def username_limit(self, conn: C) -> int:
        """Return the limit the server reports, or ``max_username_length`` when it says nothing."""
        statement = self.username_limit_statement()
        if statement is None:
            return self.max_username_length
        rows = self.execute(conn, statement)
        return int(rows[0][0]) if rows and rows[0][0] else self.max_username_length

    def check(self, conn: C) -> None:
        """Run ``check_query`` and expect the single value 1."""
        rows = self.execute(conn, Statement(self.check_query, None, "check query"))
        if not rows or rows[0][0] != 1:
            raise SecretTestFailedError("the check query did not return 1")

    # -- error mapping ------------------------------------------------------------------------

    def describe_error(self, exc: BaseException) -> str:
        """Return a one-line, redacted description of a driver error."""
        code = self.error_code(exc)
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        text = self.redactor.redact(text)
        return f"{code}: {text}" if code else text

    def error_code(self, exc: BaseException) -> str | None:
        """Return the driver's error code (SQLSTATE, errno), if it has one (hook)."""
        return None

    def is_login_rejection(self, exc: BaseException) -> bool:
        """Tell whether a connect error means the credentials were rejected (hook)."""
        raise NotImplementedError(
            "subclasses of DBAPIHandler must provide an is_login_rejection() method"
        )

    def connect_error(self, secret: DatabaseSecret, exc: BaseException) -> ConnectError:
        """Map a driver's connect error to LoginFailedError or ConnectError."""
        where = f"{self.display_name} at {secret.host}:{secret.port}"
        if self.is_login_rejection(exc):
            return LoginFailedError(f"{where} rejected the login of user {secret.username!r}")
        return ConnectError(f"cannot connect to {where}: {self.describe_error(exc)}")


def text_value(value: Any) -> str:
    """Return a column value as text (drivers may return bytes for catalog columns)."""
    if isinstance(value, bytes | bytearray):
        return value.decode()
    return "" if value is None else str(value)
