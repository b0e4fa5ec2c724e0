"""Pure rendering of the Oracle engine's statements, without any driver or server.

:class:`OracleStatements` is a mixin of :class:`~rotation.engines.oracle.handler.OracleHandler`;
the module functions are the small pure helpers its statements and the clone's grant replay use.
"""

from __future__ import annotations

from rotation.core.errors import SecretFormatError, UserManagementError
from rotation.engines.dbapi import Statement

#: Characters Oracle accepts in neither a quoted identifier nor a password.
FORBIDDEN = ('"', "\x00")
GRANT_KINDS = ("ROLE_GRANT", "SYSTEM_GRANT", "OBJECT_GRANT")
GRANT_OPTIONS = ("", " WITH ADMIN OPTION", " WITH GRANT OPTION", " WITH HIERARCHY OPTION")


def quote_password(password: str) -> str:
    """Return ``password`` as the quoted identifier ``IDENTIFIED BY`` takes.

    Raises:
        SecretFormatError: The password holds ``"`` or NUL, which Oracle cannot store; it is
            refused rather than altered (the message does not include it).
    """
    if any(char in password for char in FORBIDDEN):
        raise SecretFormatError(
            "the password contains a double quote or NUL character, which Oracle passwords "
            "cannot contain"
        )
    return '"' + password + '"'


def split_ddl(text: str) -> list[str]:
    """Split GET_GRANTED_DDL output into statements: one per line, outside quoted names."""
    statements: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == "\n" and not quoted:
            statements.append("".join(current).strip())
            current = []
        else:
            current.append(char)
    statements.append("".join(current).strip())
    return [statement for statement in statements if statement]


def readdress_grant(statement: str, template: str, clone: str) -> str:
    """Rewrite one granted-DDL statement of ``template`` so that it grants to ``clone``.

    ``template`` and ``clone`` are quoted names as ENQUOTE_NAME returns them. The grantee is the
    last ``TO <template>``, followed only by a grant option.

    Raises:
        UserManagementError: The statement is not a GRANT to ``template``.
    """
    for option in GRANT_OPTIONS:
        tail = " TO " + template + option
        if statement.startswith("GRANT ") and statement.endswith(tail):
            return statement[: -len(tail)] + " TO " + clone + option
    raise UserManagementError("a granted-DDL statement of the original could not be re-addressed")


class OracleStatements:
    """Render the statements the Oracle handler executes (a mixin; pure, no connection)."""

    def enquote_statement(self, name: str) -> Statement:
        """Render the query that quotes a user name on the server (capitalising if unquoted)."""
        # The one-argument form: a BOOLEAN argument is not valid SQL before 23ai.
        return Statement(
            "SELECT SYS.DBMS_ASSERT.ENQUOTE_NAME(:name) FROM DUAL", (name,), "ENQUOTE_NAME"
        )

    def user_exists_statement(self, quoted: str) -> Statement:
        """Render the query that finds a user by its exact (dictionary) name."""
        return Statement(
            "SELECT 1 FROM SYS.ALL_USERS WHERE USERNAME = :name", (quoted[1:-1],), "look up user"
        )

    def username_limit_statement(self) -> Statement:
        """Render the query for the width of user names (128 from 12.2, 30 before)."""
        return Statement(
            "SELECT DATA_LENGTH FROM SYS.ALL_TAB_COLUMNS WHERE OWNER = 'SYS' "
            "AND TABLE_NAME = 'ALL_USERS' AND COLUMN_NAME = 'USERNAME'",
            None,
            "look up user name limit",
        )

    def granted_ddl_statement(self, kind: str, quoted: str) -> Statement:
        """Render the query for a user's grants of one kind, as DDL."""
        return Statement(
            "SELECT SYS.DBMS_METADATA.GET_GRANTED_DDL(:kind, :grantee) FROM DUAL",
            (kind, quoted[1:-1]),
            "GET_GRANTED_DDL",
        )

    def alter_password_statement(
        self, quoted: str, password: str, old_password: str | None = None
    ) -> Statement:
        """Render ``ALTER USER <quoted> IDENTIFIED BY "<pw>"`` (with ``REPLACE "<old>"``)."""
        sql = "ALTER USER " + quoted + " IDENTIFIED BY " + quote_password(password)
        if old_password is not None:
            sql += " REPLACE " + quote_password(old_password)
        return Statement(sql, None, "ALTER USER ... IDENTIFIED BY")

    def create_user_statement(self, quoted: str, password: str) -> Statement:
        """Render ``CREATE USER <quoted> IDENTIFIED BY "<pw>"``."""
        sql = "CREATE USER " + quoted + " IDENTIFIED BY " + quote_password(password)
        return Statement(sql, None, "CREATE USER")
