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
#: The system privileges rotation looks for in SESSION_PRIVS: making the clone and setting
#: passwords, and the GRANT ANY ones that let the admin give grants it holds without an option.
SESSION_PRIVILEGES = ("CREATE USER", "ALTER USER", "GRANT ANY ROLE", "GRANT ANY PRIVILEGE",
                      "GRANT ANY OBJECT PRIVILEGE")  # fmt: skip


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


def split_grantee(statement: str, grantee: str) -> tuple[str, str]:
    """Split one granted-DDL statement into what is granted and its grant option.

    ``grantee`` is a quoted name as ENQUOTE_NAME returns it: the last ``TO <grantee>``, followed
    only by a grant option. ``GRANT "R" TO "APP" WITH ADMIN OPTION`` gives
    ``('GRANT "R"', ' WITH ADMIN OPTION')``.

    Raises:
        UserManagementError: The statement is not a GRANT to ``grantee``.
    """
    for option in GRANT_OPTIONS:
        tail = " TO " + grantee + option
        if statement.startswith("GRANT ") and statement.endswith(tail):
            return statement[: -len(tail)], option
    raise UserManagementError("a granted-DDL statement of the original could not be re-addressed")


def readdress_grant(statement: str, template: str, clone: str) -> str:
    """Rewrite one granted-DDL statement of ``template`` so that it grants to ``clone``.

    Raises:
        UserManagementError: The statement is not a GRANT to ``template``.
    """
    head, option = split_grantee(statement, template)
    return head + " TO " + clone + option


def grant_sys_object_statement(
    object_name: str, grantee: str, privilege: str, *, grant_option: bool
) -> Statement:
    """Render RDS's call that grants a privilege on a SYS object (names as bind variables).

    ``object_name`` and ``grantee`` are dictionary names (exact case, unquoted), as the procedure
    wants them. ``p_grant_option`` (12.1.0.2.v4 and later) is only passed when true, so the call
    also works where the parameter does not exist.
    https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.Oracle.CommonDBATasks.TransferPrivileges.html
    """
    option = ", p_grant_option => TRUE" if grant_option else ""
    return Statement(
        "BEGIN rdsadmin.rdsadmin_util.grant_sys_object(p_obj_name => :obj_name, "
        f"p_grantee => :grantee, p_privilege => :privilege{option}); END;",
        (object_name, grantee, privilege),
        "rdsadmin.rdsadmin_util.grant_sys_object",
    )


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

    def session_privileges_statement(self) -> Statement:
        """Render the query for the session's system privileges that rotation looks at."""
        wanted = ", ".join("'" + name + "'" for name in SESSION_PRIVILEGES)
        return Statement(
            "SELECT PRIVILEGE FROM SESSION_PRIVS WHERE PRIVILEGE IN (" + wanted + ")",
            None,
            "look up session privileges",
        )

    def session_user_statement(self) -> Statement:
        """Render the query for the session's user name (the dictionary name)."""
        return Statement("SELECT USER FROM DUAL", None, "look up session user")

    def admin_roles_statement(self) -> Statement:
        """Render the query for the roles the session may grant: held WITH ADMIN OPTION.

        Directly (USER_ROLE_PRIVS) or through an enabled role (ROLE_ROLE_PRIVS, which shows the
        roles the user has access to; SESSION_ROLES, the enabled ones).
        """
        return Statement(
            "SELECT GRANTED_ROLE FROM USER_ROLE_PRIVS WHERE ADMIN_OPTION = 'YES' "
            "UNION SELECT GRANTED_ROLE FROM ROLE_ROLE_PRIVS WHERE ADMIN_OPTION = 'YES' "
            "AND ROLE IN (SELECT ROLE FROM SESSION_ROLES)",
            None,
            "look up roles held WITH ADMIN OPTION",
        )

    def admin_privileges_statement(self) -> Statement:
        """Render the query for the system privileges the session holds WITH ADMIN OPTION."""
        return Statement(
            "SELECT PRIVILEGE FROM USER_SYS_PRIVS WHERE ADMIN_OPTION = 'YES' "
            "UNION SELECT PRIVILEGE FROM ROLE_SYS_PRIVS WHERE ADMIN_OPTION = 'YES' "
            "AND ROLE IN (SELECT ROLE FROM SESSION_ROLES)",
            None,
            "look up system privileges held WITH ADMIN OPTION",
        )

    def grantable_objects_statement(self) -> Statement:
        """Render the query for the object privileges granted to the session WITH GRANT OPTION."""
        return Statement(
            "SELECT PRIVILEGE, OWNER, TABLE_NAME FROM USER_TAB_PRIVS "
            "WHERE GRANTEE = USER AND GRANTABLE = 'YES'",
            None,
            "look up object privileges held WITH GRANT OPTION",
        )

    def sys_objects_via_admin_roles_statement(self) -> Statement:
        """Render the query for SYS object privileges of roles granted to the session WITH ADMIN.

        What RDS's grant_sys_object may pass on besides privileges held WITH GRANT OPTION.
        """
        return Statement(
            "SELECT PRIVILEGE, TABLE_NAME FROM ROLE_TAB_PRIVS WHERE OWNER = 'SYS' "
            "AND COLUMN_NAME IS NULL AND ROLE IN "
            "(SELECT GRANTED_ROLE FROM USER_ROLE_PRIVS WHERE ADMIN_OPTION = 'YES')",
            None,
            "look up SYS object privileges of roles held WITH ADMIN OPTION",
        )

    def rdsadmin_statement(self) -> Statement:
        """Render the query telling whether RDS's rdsadmin.rdsadmin_util is available."""
        return Statement(
            "SELECT 1 FROM ALL_OBJECTS WHERE OWNER = 'RDSADMIN' "
            "AND OBJECT_NAME = 'RDSADMIN_UTIL' AND OBJECT_TYPE = 'PACKAGE'",
            None,
            "look up rdsadmin_util",
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
