"""The conformance backend for the real MariaDB server the suite starts."""

from __future__ import annotations

import re
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pymysql

from rotation.core.config import Settings
from rotation.engines.mariadb import MariaDBHandler
from rotation.engines.mysql import MySQLHandler
from rotation.engines.mysql.grants import grantee
from tests.conftest import RunningServer

APP_DATABASE = "appdb"


class MariaDBBackend:
    """Users exist at '%' and require TLS (when the server offers it); parity is SHOW GRANTS."""

    handler_class: type[MySQLHandler] = MariaDBHandler
    engine_value = "mariadb"
    hostile_usernames = (
        "o'brien",
        'dq"uote',
        "back\\slash",
        "bq`tick",
        "per%cent",
        "semi;colon; DROP USER x",
        "with space",
        "ünïcødé",
        "M" * (128 - len("_clone")),
    )
    host = "%"

    def __init__(self, server: RunningServer) -> None:
        self.server = server
        self.info = server.info
        with self.admin_connection() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {APP_DATABASE}")
            cur.execute(f"CREATE TABLE IF NOT EXISTS {APP_DATABASE}.items (id int)")

    def _login(self, user: str, password: str) -> dict[str, Any]:
        options: dict[str, Any] = {
            "host": self.info.host,
            "port": self.info.port,
            "user": user,
            "password": password,
            "connect_timeout": 5,
        }
        if self.info.tls:
            options["ssl"] = ssl.create_default_context(cafile=self.info.ca_file)
        else:
            options["ssl_disabled"] = True
        return options

    @contextmanager
    def admin_connection(self) -> Iterator[Any]:
        """Open an autocommit connection as the admin, closed on exit."""
        conn = pymysql.connect(
            **self._login(self.info.admin_user, self.info.admin_password), autocommit=True
        )
        try:
            yield conn
        finally:
            conn.close()

    def settings(self) -> Settings:
        return Settings(tls_ca_file=self.info.ca_file)

    def connection_fields(self) -> dict[str, Any]:
        return {"host": self.info.host, "port": self.info.port, "ssl": self.info.tls}

    def admin_login(self) -> tuple[str, str]:
        return self.info.admin_user, self.info.admin_password

    def create_user(self, username: str, password: str) -> None:
        require = " REQUIRE SSL" if self.info.tls else ""
        with self.admin_connection() as conn, conn.cursor() as cur:
            cur.execute(
                f"CREATE USER %s@%s IDENTIFIED BY %s{require}", (username, self.host, password)
            )
            cur.execute(f"GRANT SELECT, INSERT ON {APP_DATABASE}.* TO %s@%s", (username, self.host))
            cur.execute(f"GRANT UPDATE ON {APP_DATABASE}.items TO %s@%s", (username, self.host))

    def drop_user(self, username: str) -> None:
        if len(username) > MariaDBHandler.max_username_length:
            return  # such a user cannot exist
        with self.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("DROP USER IF EXISTS %s@%s", (username, self.host))

    def can_login(self, username: str, password: str) -> bool:
        try:
            conn = pymysql.connect(**self._login(username, password))
        except pymysql.OperationalError as exc:
            if exc.args and exc.args[0] in (1045, 1698):
                return False
            raise
        conn.close()
        return True

    def privileges(self, username: str) -> frozenset[str]:
        own = grantee(username, self.host)
        with self.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("SHOW GRANTS FOR %s@%s", (username, self.host))
            lines = {
                re.sub(r" IDENTIFIED BY PASSWORD '[^']*'", "", row[0]).replace(own, "<user>")
                for row in cur.fetchall()
            }
            cur.execute(
                "SELECT ssl_type FROM mysql.user WHERE User = %s AND Host = %s",
                (username, self.host),
            )
            row = cur.fetchone()
        lines.add(f"REQUIRE {row[0] if row else None}")
        return frozenset(lines)

    def failed_logins(self) -> int | None:
        return self.server.failed_logins()
