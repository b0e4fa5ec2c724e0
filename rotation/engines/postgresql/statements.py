"""Pure rendering of the PostgreSQL engine's statements, without a server.

:class:`PostgreSQLStatements` is a mixin of
:class:`~rotation.engines.postgresql.handler.PostgreSQLHandler` (and, through it, of the Redshift
handler, which overrides what its dialect spells differently). psycopg2 interpolates parameters
on the client and DDL takes none server-side, so names and values go through
``psycopg2.sql.Identifier`` and ``sql.Literal``; only that module of the driver is imported, and
only when a statement is rendered.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

from rotation.engines.dbapi import Statement

SCRAM_ITERATIONS = 4096
SCRAM = "scram-sha-256"
MD5 = "md5"
# Settings whose stored value is a list of possibly double-quoted elements: each element must be
# passed as its own literal, or the server stores the whole list as one element. The list is
# the one pg_dump keeps (variable_is_guc_list_quote in src/bin/pg_dump/dumputils.c).
LIST_QUOTE_SETTINGS = frozenset(
    {
        "local_preload_libraries",
        "search_path",
        "session_preload_libraries",
        "shared_preload_libraries",
        "temp_tablespaces",
        "unix_socket_directories",
    }
)


def scram_sha256_verifier(password: str, salt: bytes | None = None) -> str:
    """Return the SCRAM-SHA-256 verifier PostgreSQL stores for ``password``.

    The format is ``SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`` (RFC 5803).
    Our generated passwords are printable ASCII, for which SASLprep changes nothing.
    """
    salt = secrets.token_bytes(16) if salt is None else salt
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(raw: bytes) -> str:
        return base64.b64encode(raw).decode()

    return f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def md5_verifier(password: str, username: str) -> str:
    """Return PostgreSQL's md5 password form: ``'md5' + md5(password + role name)``.

    The role name is the salt, so a verifier only works for the role it was made for
    (https://www.postgresql.org/docs/current/catalog-pg-authid.html). Redshift uses the same form.
    """
    return "md5" + hashlib.md5((password + username).encode(), usedforsecurity=False).hexdigest()


def split_setting_list(value: str) -> list[str]:
    """Split a stored list setting (``app, "$user", public``) into its unquoted elements.

    Elements are separated by commas; a double-quoted element may hold commas, spaces and
    doubled quotes. This is how the server itself reads such values back.
    """
    items: list[str] = []
    index, end = 0, len(value)
    while True:
        while index < end and value[index].isspace():
            index += 1
        if index < end and value[index] == '"':
            index += 1
            chars: list[str] = []
            while index < end:
                if value[index] == '"':
                    if value[index + 1 : index + 2] == '"':
                        chars.append('"')
                        index += 2
                        continue
                    index += 1
                    break
                chars.append(value[index])
                index += 1
            item = "".join(chars)
        else:
            start = index
            while index < end and value[index] != ",":
                index += 1
            item = value[start:index].rstrip()
        items.append(item)
        while index < end and value[index].isspace():
            index += 1
        if index >= end:
            return items
        index += 1  # the comma


class PostgreSQLStatements:
    """Render the statements the PostgreSQL handler executes (a mixin; pure, no connection)."""

    def password_literal(self, username: str, password: str, encryption: str = SCRAM) -> Any:
        """Return the SQL literal for a role's password: the verifier the server would store.

        ``encryption`` is the session's ``password_encryption``: ``md5`` gives the md5 form
        salted with ``username`` (the role that will own it), anything else a SCRAM-SHA-256
        verifier. The server stores a verifier as given, whatever its own setting
        (https://www.postgresql.org/docs/current/sql-createrole.html), so sending what it would
        compute keeps md5-only clients and poolers working and the password out of its log.
        Passwords that are not printable ASCII go as text: SCRAM would need SASLprep for them.
        """
        from psycopg2 import sql

        if not (password.isascii() and password.isprintable()):
            return sql.Literal(password)
        if encryption == MD5:
            return sql.Literal(md5_verifier(password, username))
        return sql.Literal(scram_sha256_verifier(password))

    def password_encryption_statement(self) -> Statement:
        """Render the query for the session's ``password_encryption``."""
        return Statement("SHOW password_encryption", None, "look up password_encryption")

    # (template, action) of the statements that set a password: the ``{}`` are the user, then
    # its password's literal. A dialect that spells them differently overrides these.
    alter_password_sql = ("ALTER ROLE {} WITH PASSWORD {}", "ALTER ROLE ... PASSWORD")
    create_login_sql = ("CREATE ROLE {} WITH LOGIN PASSWORD {}", "CREATE ROLE")
    # An existing clone: it is given LOGIN with the password.
    enable_login_sql = ("ALTER ROLE {} WITH LOGIN PASSWORD {}", "ALTER ROLE ... LOGIN PASSWORD")

    def password_statement(
        self, template: tuple[str, str], username: str, password: str, encryption: str
    ) -> Statement:
        """Render a ``(template, action)`` pair for ``username`` and its password's literal."""
        from psycopg2 import sql

        text, action = template
        query = sql.SQL(text).format(
            sql.Identifier(username), self.password_literal(username, password, encryption)
        )
        return Statement(query, None, action)

    def alter_password_statement(
        self, username: str, password: str, encryption: str = SCRAM
    ) -> Statement:
        """Render :attr:`alter_password_sql`: a new password for an existing login."""
        return self.password_statement(self.alter_password_sql, username, password, encryption)

    def create_login_statement(
        self, username: str, password: str, encryption: str = SCRAM
    ) -> Statement:
        """Render :attr:`create_login_sql`: a new login with its password."""
        return self.password_statement(self.create_login_sql, username, password, encryption)

    def enable_login_statement(
        self, username: str, password: str, encryption: str = SCRAM
    ) -> Statement:
        """Render :attr:`enable_login_sql`: an existing clone given LOGIN and its password."""
        return self.password_statement(self.enable_login_sql, username, password, encryption)

    def grant_membership_statement(
        self, template: str, username: str, *, inherit: bool = False
    ) -> Statement:
        """Render ``GRANT <template> TO <user>``: the clone inherits the original's rights.

        ``inherit`` adds ``WITH INHERIT TRUE`` (PostgreSQL 16+), so the clone inherits the
        original's privileges even when the clone itself is ``NOINHERIT``, which from 16 on only
        sets the default for grants (https://www.postgresql.org/docs/16/sql-grant.html).
        """
        from psycopg2 import sql

        text = "GRANT {} TO {} WITH INHERIT TRUE" if inherit else "GRANT {} TO {}"
        query = sql.SQL(text).format(sql.Identifier(template), sql.Identifier(username))
        return Statement(query, None, "GRANT role")

    def role_attributes_statement(self, template: str, username: str) -> Statement:
        """Render the query for both roles' INHERIT, CONNECTION LIMIT and VALID UNTIL.

        VALID UNTIL comes back as text in the session's DateStyle and TimeZone, which the same
        session reads back unchanged when it is sent to the clone.
        """
        return Statement(
            "SELECT rolname, rolinherit, rolconnlimit, rolvaliduntil::text "
            "FROM pg_catalog.pg_roles WHERE rolname IN (%s, %s)",
            (template, username),
            "look up role attributes",
        )

    def alter_attributes_statement(
        self,
        username: str,
        *,
        inherit: bool | None = None,
        connection_limit: int | None = None,
        valid_until: str | None = None,
    ) -> Statement:
        """Render ``ALTER ROLE <user> WITH [NO]INHERIT CONNECTION LIMIT n VALID UNTIL '…'``.

        Only the attributes given (not None) are rendered; at least one must be.
        """
        from psycopg2 import sql

        parts: list[sql.Composable] = []
        if inherit is not None:
            parts.append(sql.SQL("INHERIT" if inherit else "NOINHERIT"))
        if connection_limit is not None:
            parts.append(sql.SQL("CONNECTION LIMIT {}").format(sql.Literal(int(connection_limit))))
        if valid_until is not None:
            parts.append(sql.SQL("VALID UNTIL {}").format(sql.Literal(valid_until)))
        if not parts:
            raise ValueError("no role attribute to alter")
        query = sql.SQL("ALTER ROLE {} WITH {}").format(
            sql.Identifier(username), sql.SQL(" ").join(parts)
        )
        return Statement(query, None, "ALTER ROLE ... attributes")

    def role_settings_statement(self, template: str, username: str) -> Statement:
        """Render the query for both roles' defaults from ``pg_db_role_setting``.

        One row per setting: role name, database name (NULL for the role's global default) and
        the stored ``name=value`` text
        (https://www.postgresql.org/docs/current/catalog-pg-db-role-setting.html).
        """
        return Statement(
            "SELECT r.rolname, d.datname, c.setting "
            "FROM pg_catalog.pg_db_role_setting s "
            "JOIN pg_catalog.pg_roles r ON r.oid = s.setrole "
            "LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase "
            "CROSS JOIN LATERAL unnest(s.setconfig) AS c(setting) "
            "WHERE r.rolname IN (%s, %s) AND (s.setdatabase = 0 OR d.oid IS NOT NULL)",
            (template, username),
            "look up role settings",
        )

    def role_setting_statement(
        self, username: str, database: str | None, name: str, value: str | None
    ) -> Statement:
        """Render ``ALTER ROLE <user> [IN DATABASE <db>] SET <name> = <value>`` (or RESET).

        ``value`` is the text ``pg_db_role_setting`` stores; None renders ``RESET <name>``. List
        settings (``search_path`` …) are passed one literal per element, others as one literal.
        """
        from psycopg2 import sql

        target = sql.SQL("ALTER ROLE {}").format(sql.Identifier(username))
        if database is not None:
            target = sql.SQL("{} IN DATABASE {}").format(target, sql.Identifier(database))
        setting = sql.SQL(".").join(sql.Identifier(part) for part in name.split("."))
        if value is None:
            query = sql.SQL("{} RESET {}").format(target, setting)
            return Statement(query, None, "ALTER ROLE ... RESET")
        elements = split_setting_list(value) if name.lower() in LIST_QUOTE_SETTINGS else [value]
        literals = sql.SQL(", ").join(sql.Literal(element) for element in elements)
        query = sql.SQL("{} SET {} = {}").format(target, setting, literals)
        return Statement(query, None, "ALTER ROLE ... SET")

    def role_exists_statement(self, username: str) -> Statement:
        """Render the query that finds a role by name."""
        return Statement(
            "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (username,), "look up role"
        )

    def membership_statement(
        self, template: str, username: str, *, inherit_option: bool = False
    ) -> Statement:
        """Render the query that tells whether ``username`` is a member of ``template``.

        With ``inherit_option`` (PostgreSQL 16+, where ``pg_auth_members`` has the column) only
        a membership that inherits counts.
        """
        condition = " AND m.inherit_option" if inherit_option else ""
        return Statement(
            "SELECT 1 FROM pg_catalog.pg_auth_members m "
            "JOIN pg_catalog.pg_roles r ON r.oid = m.roleid "
            "JOIN pg_catalog.pg_roles u ON u.oid = m.member "
            "WHERE r.rolname = %s AND u.rolname = %s" + condition,
            (template, username),
            "look up membership",
        )

    def username_limit_statement(self) -> Statement | None:
        """Render the query for the server's identifier limit in bytes (NAMEDATALEN - 1)."""
        return Statement("SHOW max_identifier_length", None, "look up max_identifier_length")
