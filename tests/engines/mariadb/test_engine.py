"""MariaDB engine behaviour on the real server beyond the conformance suite."""

from __future__ import annotations

from typing import Any

from rotation.engines.mariadb import MariaDBHandler
from tests.engines.mariadb.backend import APP_DATABASE, MariaDBBackend
from tests.engines.support import admin_secret


def test_mariadb_reports_its_real_user_name_limit(maria: MariaDBBackend, client: Any) -> None:
    handler = MariaDBHandler(settings=maria.settings(), client=client)
    with handler.connect(admin_secret(maria, MariaDBHandler)) as conn:
        assert handler.username_limit(conn) == 128


def test_mariadb_clone_copies_tls_requirement_and_every_host(
    maria: MariaDBBackend, client: Any
) -> None:
    with maria.admin_connection() as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE USER 'multi'@'10.0.0.%' IDENTIFIED BY 'Initial-password-1' REQUIRE X509"
        )
        cur.execute(f"GRANT SELECT ON {APP_DATABASE}.* TO 'multi'@'10.0.0.%'")
        cur.execute("CREATE USER 'multi'@'%' IDENTIFIED BY 'Initial-password-1'")
    try:
        handler = MariaDBHandler(settings=maria.settings(), client=client)
        with handler.connect(admin_secret(maria, MariaDBHandler)) as conn:
            handler.create_user_like(conn, "multi_clone", "multi", "Clone-password-12")
        with maria.admin_connection() as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT Host, ssl_type FROM mysql.user WHERE User = 'multi_clone' ORDER BY Host"
            )
            assert cur.fetchall() == (("%", ""), ("10.0.0.%", "X509"))
            cur.execute("SHOW GRANTS FOR 'multi_clone'@'10.0.0.%'")
            assert any(f"SELECT ON `{APP_DATABASE}`.*" in row[0] for row in cur.fetchall())
    finally:
        with maria.admin_connection() as conn, conn.cursor() as cur:
            for user in ("multi", "multi_clone"):
                for host in ("%", "10.0.0.%"):
                    cur.execute("DROP USER IF EXISTS %s@%s", (user, host))
