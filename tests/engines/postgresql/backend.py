"""The conformance backend for the real PostgreSQL servers the suite starts.

With ``rds_admin=True`` the admin is set up as RDS sets up its master user (PostgreSQL 16+
semantics): ``NOSUPERUSER CREATEROLE CREATEDB``, a member of ``rds_superuser``
(https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.PostgreSQL.CommonDBATasks.Roles.rds_superuser.html).
That admin creates the database, the schema, the table and the users, so PostgreSQL 16+ gives
it ADMIN OPTION on each user it creates (commit cf5eb37c5, CreateRole() in user.c), as on RDS.
Only the cleanup logs in as the bootstrap superuser, which DROP OWNED BY needs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import psycopg2
from psycopg2 import sql

from rotation.core.config import Settings
from rotation.engines.postgresql import PostgreSQLHandler
from tests.conftest import RunningServer

APP_DATABASE = "appdb"
RDS_MASTER = "rds_master"


class PostgreSQLBackend:
    """Users are roles with rights on a schema and a table; parity is checked per privilege."""

    handler_class: type[PostgreSQLHandler] = PostgreSQLHandler
    engine_value = "postgres"
    hostile_usernames = (
        "o'brien",
        'dq"uote',
        "back\\slash",
        "per%cent",
        "semi;colon; DROP ROLE x",
        "with space",
        "ünïcødé",
        "L" * (63 - len("_clone")),
    )
    table_privileges = ("SELECT", "INSERT", "UPDATE", "DELETE")
    # Whether the clone must also carry the original's role settings and attributes (and the
    # users get some, so that every conformance rotation copies them, crashes included).
    copies_behaviour = True

    def __init__(self, server: RunningServer, *, rds_admin: bool = False) -> None:
        self.server = server
        self.info = server.info
        self.superuser = (self.info.admin_user, self.info.admin_password)
        self.admin = self.superuser
        if rds_admin:
            # Derived from the server's own admin password, so that every backend on one server
            # (session fixtures, conformance classes) agrees on it.
            derived = hashlib.sha256(f"rds:{self.info.admin_password}".encode()).hexdigest()
            self.admin = (RDS_MASTER, derived[:24])
            self._create_rds_master()
        with self.admin_connection("postgres") as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (APP_DATABASE,))
            if not cur.fetchone():
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(APP_DATABASE)))
        with self.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("CREATE SCHEMA IF NOT EXISTS app")
            cur.execute("CREATE TABLE IF NOT EXISTS app.items (id int)")

    def _create_rds_master(self) -> None:
        """Create the admin as RDS creates its master user (not a superuser)."""
        user, password = self.admin
        with self.superuser_connection("postgres") as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rds_superuser'")
            if not cur.fetchone():
                cur.execute("CREATE ROLE rds_superuser NOLOGIN")
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,))
            verb = "ALTER" if cur.fetchone() else "CREATE"
            cur.execute(
                sql.SQL(
                    verb + " ROLE {} WITH LOGIN NOSUPERUSER INHERIT CREATEDB CREATEROLE "
                    "NOREPLICATION VALID UNTIL 'infinity' PASSWORD {}"
                ).format(sql.Identifier(user), sql.Literal(password))
            )
            cur.execute(sql.SQL("GRANT rds_superuser TO {}").format(sql.Identifier(user)))

    def admin_connection(self, dbname: str = APP_DATABASE) -> AbstractContextManager[Any]:
        """Open an autocommit connection as the admin, closed on exit."""
        return self._connection(self.admin, dbname)

    def superuser_connection(self, dbname: str = APP_DATABASE) -> AbstractContextManager[Any]:
        """Open an autocommit connection as the bootstrap superuser, closed on exit."""
        return self._connection(self.superuser, dbname)

    @contextmanager
    def _connection(self, login: tuple[str, str], dbname: str) -> Iterator[Any]:
        conn = psycopg2.connect(**self._login(*login, dbname))
        conn.autocommit = True
        try:
            yield conn
        finally:
            conn.close()

    def _login(self, user: str, password: str, dbname: str = APP_DATABASE) -> dict[str, Any]:
        tls = (
            {"sslmode": "verify-full", "sslrootcert": self.info.ca_file}
            if self.info.tls
            else {"sslmode": "disable"}
        )
        return {
            "host": self.info.host,
            "port": self.info.port,
            "user": user,
            "password": password,
            "dbname": dbname,
            "connect_timeout": 5,
            **tls,
        }

    def settings(self) -> Settings:
        return Settings(tls_ca_file=self.info.ca_file)

    def connection_fields(self) -> dict[str, Any]:
        return {
            "host": self.info.host,
            "port": self.info.port,
            "dbname": APP_DATABASE,
            "ssl": self.info.tls,
        }

    def server_version(self) -> int:
        """Return the server's version number (160002 for 16.2)."""
        with self.admin_connection() as conn:
            return int(conn.info.server_version)

    def admin_login(self) -> tuple[str, str]:
        return self.admin

    def create_user(self, username: str, password: str) -> None:
        ident = sql.Identifier(username)
        with self.admin_connection() as conn, conn.cursor() as cur:
            cur.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(ident, sql.Literal(password))
            )
            cur.execute(sql.SQL("GRANT USAGE ON SCHEMA app TO {}").format(ident))
            cur.execute(sql.SQL("GRANT SELECT, INSERT ON app.items TO {}").format(ident))
            cur.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(APP_DATABASE), ident
                )
            )
            if self.copies_behaviour:
                self._give_behaviour(cur, ident, conn.info.server_version)

    @staticmethod
    def _give_behaviour(cur: Any, ident: sql.Identifier, server_version: int) -> None:
        """Give a user role settings (global and per database) and non-default attributes."""
        cur.execute(sql.SQL('ALTER ROLE {} SET search_path = app, "$user", public').format(ident))
        cur.execute(
            sql.SQL("ALTER ROLE {} IN DATABASE {} SET statement_timeout = '5s'").format(
                ident, sql.Identifier(APP_DATABASE)
            )
        )
        cur.execute(sql.SQL("ALTER ROLE {} CONNECTION LIMIT 20").format(ident))
        if server_version >= 160000:
            # From 16 on NOINHERIT only sets the default of later grants; the clone must still
            # use the original's privileges.
            cur.execute(sql.SQL("ALTER ROLE {} NOINHERIT").format(ident))

    def drop_user(self, username: str) -> None:
        with self.superuser_connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (username,))
            if cur.fetchone():
                cur.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(username)))
                cur.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(username)))

    def can_login(self, username: str, password: str) -> bool:
        try:
            conn = psycopg2.connect(**self._login(username, password))
        except psycopg2.OperationalError as exc:
            if "password authentication failed" in str(exc):
                return False
            raise
        conn.close()
        return True

    def privileges(self, username: str) -> frozenset[str]:
        granted = set()
        with self.admin_connection() as conn, conn.cursor() as cur:
            for privilege in self.table_privileges:
                cur.execute(
                    "SELECT has_table_privilege(%s, 'app.items', %s)", (username, privilege)
                )
                if cur.fetchone()[0]:
                    granted.add(f"table app.items {privilege}")
            cur.execute("SELECT has_schema_privilege(%s, 'app', 'USAGE')", (username,))
            if cur.fetchone()[0]:
                granted.add("schema app USAGE")
            if self.copies_behaviour:
                granted |= self._behaviour(cur, username, conn.info.server_version)
        return frozenset(granted)

    @staticmethod
    def _behaviour(cur: Any, username: str, server_version: int) -> set[str]:
        """Return a role's settings and behavioural attributes, as parity entries."""
        cur.execute(
            "SELECT coalesce(d.datname, '*'), c.setting FROM pg_db_role_setting s "
            "JOIN pg_roles r ON r.oid = s.setrole "
            "LEFT JOIN pg_database d ON d.oid = s.setdatabase "
            "CROSS JOIN LATERAL unnest(s.setconfig) AS c(setting) WHERE r.rolname = %s",
            (username,),
        )
        found = {f"setting {database} {setting}" for database, setting in cur.fetchall()}
        cur.execute(
            "SELECT rolconnlimit, coalesce(rolvaliduntil, 'infinity'), rolinherit "
            "FROM pg_roles WHERE rolname = %s",
            (username,),
        )
        limit, until, inherit = cur.fetchone()
        found |= {f"connection limit {limit}", f"valid until {until}"}
        if server_version >= 160000:
            found.add(f"inherit {inherit}")
        return found

    def failed_logins(self) -> int | None:
        return self.server.failed_logins()
