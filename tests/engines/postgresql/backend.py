"""The conformance backend for the real PostgreSQL server the suite starts."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
from psycopg2 import sql

from rotation.core.config import Settings
from rotation.engines.postgresql import PostgreSQLHandler
from tests.conftest import RunningServer

APP_DATABASE = "appdb"


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

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.info = server.info
        with self.admin_connection("postgres") as conn, conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (APP_DATABASE,))
            if not cur.fetchone():
                cur.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(APP_DATABASE)))
        with self.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("CREATE SCHEMA IF NOT EXISTS app")
            cur.execute("CREATE TABLE IF NOT EXISTS app.items (id int)")

    @contextmanager
    def admin_connection(self, dbname: str = APP_DATABASE) -> Iterator[Any]:
        """Open an autocommit connection as the admin, closed on exit."""
        conn = psycopg2.connect(
            **self._login(self.info.admin_user, self.info.admin_password, dbname)
        )
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

    def admin_login(self) -> tuple[str, str]:
        return self.info.admin_user, self.info.admin_password

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

    def drop_user(self, username: str) -> None:
        with self.admin_connection() as conn, conn.cursor() as cur:
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
        return frozenset(granted)

    def failed_logins(self) -> int | None:
        return self.server.failed_logins()
