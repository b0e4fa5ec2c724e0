"""Throwaway database servers prepared with an application database, table and user.

Each stand-in is a context manager that removes everything it created, also when the block
is left by Ctrl-C. It creates the demo's application user with a few privileges and reads a
table as proof that a login really works.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from rotation.local.servers import MariaDBServer, PostgreSQLServer, ServerInfo, ThrowawayServer

if TYPE_CHECKING:
    from types import TracebackType

APP_DATABASE = "appdb"


class DatabaseStandIn:
    """A throwaway server with an application database, table and user."""

    display_name: ClassVar[str]
    server_class: ClassVar[type[ThrowawayServer]]

    def __init__(self) -> None:
        self.server = self.server_class()
        self.info: ServerInfo | None = None

    def __enter__(self) -> DatabaseStandIn:
        self.info = self.server.start()
        self.prepare()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.stop()

    @property
    def running(self) -> ServerInfo:
        """Return the server's connection facts (after start)."""
        assert self.info is not None, "start the stand-in first"
        return self.info

    def connection_fields(self) -> dict[str, Any]:
        """Return the secret keys that locate the application database."""
        info = self.running
        return {"host": info.host, "port": info.port, "dbname": APP_DATABASE, "ssl": info.tls}

    def prepare(self) -> None:
        """Create the application database and table (hook)."""
        raise NotImplementedError

    def create_user(self, username: str, password: str) -> list[str]:
        """Create the application user; return the privileges granted, for display (hook)."""
        raise NotImplementedError

    def read_table(self, conn: Any) -> int:
        """Count the table's rows through a user's session: proof its privileges work."""
        cursor = conn.cursor()
        try:
            cursor.execute(self.table_query)
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    table_query: ClassVar[str]

    def store_secrets(
        self,
        client: Any,
        engine_value: str,
        username: str,
        password: str,
        name: str,
        admin_name: str | None = None,
    ) -> str:
        """Store the user's secret as RDS would; with ``admin_name``, an admin secret too.

        The admin secret holds this server's admin login, and the user's secret names it in
        ``masterarn`` (alternating users). Returns the user secret's ARN.
        """
        value: dict[str, Any] = {"engine": engine_value, **self.connection_fields(),
                                 "username": username, "password": password}  # fmt: skip
        if admin_name is not None:
            info = self.running
            admin = {**value, "username": info.admin_user, "password": info.admin_password}
            created = client.create_secret(Name=admin_name, SecretString=json.dumps(admin))
            value["masterarn"] = created["ARN"]
        arn: str = client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
        return arn


class PostgreSQLStandIn(DatabaseStandIn):
    """A throwaway PostgreSQL cluster (also the stand-in for Redshift)."""

    display_name = "PostgreSQL"
    server_class = PostgreSQLServer
    table_query = "SELECT count(*) FROM app.items"

    def _admin(self, dbname: str) -> Any:
        import psycopg2

        info = self.running
        options: dict[str, Any] = {
            "host": info.host,
            "port": info.port,
            "dbname": dbname,
            "user": info.admin_user,
            "password": info.admin_password,
        }
        if info.tls:
            options.update(sslmode="verify-full", sslrootcert=info.ca_file)
        conn = psycopg2.connect(**options)
        conn.autocommit = True
        return conn

    def prepare(self) -> None:
        """Create database ``appdb`` with table ``app.items``."""
        conn = self._admin("postgres")
        try:
            conn.cursor().execute("CREATE DATABASE appdb")
        finally:
            conn.close()
        conn = self._admin(APP_DATABASE)
        try:
            cur = conn.cursor()
            cur.execute("CREATE SCHEMA app")
            cur.execute("CREATE TABLE app.items (id int)")
            cur.execute("INSERT INTO app.items VALUES (1), (2), (3)")
        finally:
            conn.close()

    def create_user(self, username: str, password: str) -> list[str]:
        """Create a login role that may read and insert into ``app.items``."""
        from psycopg2 import sql

        ident = sql.Identifier(username)
        statements = [
            sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(ident, sql.Literal(password)),
            sql.SQL("GRANT CONNECT ON DATABASE appdb TO {}").format(ident),
            sql.SQL("GRANT USAGE ON SCHEMA app TO {}").format(ident),
            sql.SQL("GRANT SELECT, INSERT ON app.items TO {}").format(ident),
        ]
        conn = self._admin(APP_DATABASE)
        try:
            for statement in statements:
                conn.cursor().execute(statement)
        finally:
            conn.close()
        return ["CONNECT on appdb", "USAGE on schema app", "SELECT, INSERT on app.items"]


class MariaDBStandIn(DatabaseStandIn):
    """A throwaway MariaDB server (also the stand-in for MySQL)."""

    display_name = "MariaDB"
    server_class = MariaDBServer
    table_query = "SELECT COUNT(*) FROM appdb.items"

    def _admin(self) -> Any:
        import ssl

        import pymysql

        info = self.running
        tls: dict[str, Any] = (
            {"ssl": ssl.create_default_context(cafile=info.ca_file)}
            if info.tls
            else {"ssl_disabled": True}
        )
        return pymysql.connect(host=info.host, port=info.port, user=info.admin_user,
                               password=info.admin_password, autocommit=True, **tls)  # fmt: skip

    def prepare(self) -> None:
        """Create table ``appdb.items`` (the server created ``appdb``)."""
        conn = self._admin()
        try:
            cur = conn.cursor()
            cur.execute("CREATE TABLE appdb.items (id int)")
            cur.execute("INSERT INTO appdb.items VALUES (1), (2), (3)")
        finally:
            conn.close()

    def create_user(self, username: str, password: str) -> list[str]:
        """Create ``user@'%'`` requiring TLS (when offered), reading and inserting in appdb."""
        require = " REQUIRE SSL" if self.running.tls else ""
        conn = self._admin()
        try:
            cur = conn.cursor()
            cur.execute(f"CREATE USER %s@'%%' IDENTIFIED BY %s{require}", (username, password))
            cur.execute("GRANT SELECT, INSERT ON appdb.* TO %s@'%%'", (username,))
        finally:
            conn.close()
        return ["SELECT, INSERT on appdb.*"] + (["REQUIRE SSL"] if require else [])


class RedshiftStandIn(PostgreSQLStandIn):
    """PostgreSQL with md5 authentication, so Redshift's md5 password hashes can log in.

    The Redshift engine sends ``'md5' + md5(password + user)`` (Redshift has no SCRAM). The
    throwaway cluster authenticates with scram-sha-256, which cannot check an md5 hash; its
    ``md5`` method checks both kinds, so the stand-in switches to it.
    """

    display_name = "PostgreSQL (md5 authentication, as a Redshift stand-in)"

    def __init__(self) -> None:
        super().__init__()
        self.server = PostgreSQLServer(host_auth="md5")
