"""Measure speed and memory of rotations (``make bench``); prints figures, asserts nothing.

Figures: cold import time of a handler module, per-step latency of full rotations on a throwaway
PostgreSQL and MariaDB (moto for Secrets Manager), Secrets Manager calls, database statements
and failed logins per rotation, peak traced memory of one rotation, password generation rate,
and the Redshift clone of a user with grants on 2,000 tables (PostgreSQL stand-in with md5
passwords): statements and time, batched vs. one GRANT per table.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from typing import Any

ROTATIONS = 10
WIDE_TABLES = 2000
WIDE_RUNS = 3


def cold_import_ms(module: str, runs: int = 7) -> float:
    """Return the median cumulative import time of ``module`` in a fresh interpreter.

    Read from ``-X importtime``, so interpreter start-up is not counted.
    """

    def run() -> float:
        result = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {module}"],
            capture_output=True,
            text=True,
            check=True,
        )
        for line in reversed(result.stderr.splitlines()):
            fields = [field.strip() for field in line.split("|")]
            if len(fields) == 3 and fields[2] == module:
                return int(fields[1]) / 1000
        raise RuntimeError(f"no import time reported for {module}")

    return statistics.median(run() for _ in range(runs))


def rotation_figures(engine: str, strategy: str) -> dict[str, Any]:
    """Rotate ROTATIONS times and return latency, call and statement figures."""
    import boto3
    from moto import mock_aws

    from rotation.core.event import Step
    from rotation.local import driver
    from rotation.local import secretsmanager as sm
    from rotation.local.servers import MariaDBServer, PostgreSQLServer
    from rotation.testing.conformance import Scenario
    from tests.conftest import RunningServer
    from tests.engines.mariadb.backend import MariaDBBackend
    from tests.engines.postgresql.backend import PostgreSQLBackend

    server = PostgreSQLServer() if engine == "postgresql" else MariaDBServer()
    backend_class = PostgreSQLBackend if engine == "postgresql" else MariaDBBackend
    with server as info, mock_aws():
        backend: Any = backend_class(RunningServer(info, server))
        client = boto3.client("secretsmanager", region_name="us-east-1")
        scenario = Scenario(backend, client, "benchuser")
        if strategy == "alternating":
            scenario.with_admin()
        handler = scenario.handler(strategy)
        calls: Counter[str] = Counter()
        statements: list[str] = []
        handler.secrets.call_listener = lambda operation: calls.update([operation])
        handler.statement_listener = statements.append
        step_ms: dict[str, list[float]] = {step.value: [] for step in driver.STEPS}
        failed_before = backend.failed_logins()
        for index in range(ROTATIONS):
            arn = scenario.arn
            if index == ROTATIONS - 1:  # trace memory of one rotation only: tracing is slow
                tracemalloc.start()
            token = sm.begin_rotation(client, arn)
            for step in driver.STEPS:
                started = time.perf_counter()
                handler.handle(driver.event(arn, token, Step(step)))
                step_ms[step.value].append((time.perf_counter() - started) * 1000)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        step_ms = {step: times[:-1] for step, times in step_ms.items()}
        failed = (backend.failed_logins() or 0) - (failed_before or 0)
        scenario.cleanup()
    return {
        "engine": engine,
        "strategy": strategy,
        "median_ms": {step: round(statistics.median(v), 1) for step, v in step_ms.items()},
        "total_median_ms": round(sum(statistics.median(v) for v in step_ms.values()), 1),
        "secrets_manager_calls_per_rotation": {k: v / ROTATIONS for k, v in sorted(calls.items())},
        "statements_per_rotation": len(statements) / ROTATIONS,
        "failed_logins": failed,
        "peak_traced_kib": round(peak / 1024),
    }


def redshift_wide_clone_figures(tables: int = WIDE_TABLES) -> dict[str, Any]:
    """Clone a Redshift user with four privileges on each of ``tables`` tables, two ways.

    Ours: the engine's batched, per-batch committed GRANTs. Baseline: one GRANT per table in
    one transaction, as before (and as a plain per-object copy does). Run on PostgreSQL with
    md5 passwords, the Redshift stand-in; the figures are statements and seconds per clone.
    """
    import boto3
    from moto import mock_aws

    from rotation.engines.redshift import RedshiftHandler
    from rotation.local.servers import PostgreSQLServer
    from tests.conftest import RunningServer
    from tests.engines.redshift.backend import RedshiftBackend
    from tests.engines.support import admin_secret

    class PerTableBaseline(RedshiftHandler):
        """One GRANT per table (all its privileges), everything in one transaction."""

        def create_user_like(self, conn: Any, username: str, template: str, password: str) -> None:
            objects: dict[tuple[str, tuple[str, ...]], list[str]] = {}
            for kind, names, privilege in self.privileges_of(conn, template):
                objects.setdefault((kind, names), []).append(privilege)
            statements = [self.create_login_statement(username, password)]
            statements += [
                self.grant_statement(kind, privileges, [names], username)
                for (kind, names), privileges in sorted(objects.items())
            ]
            self.run(conn, statements)

    server = PostgreSQLServer(host_auth="md5", password_encryption="md5")
    with server as info, mock_aws():
        backend = RedshiftBackend(RunningServer(info, server))
        client = boto3.client("secretsmanager", region_name="us-east-1")
        backend.create_user("wide", "Wide-password-1")
        with backend.admin_connection() as conn, conn.cursor() as cur:
            cur.execute("CREATE SCHEMA wide")
            cur.execute(
                "DO $$ BEGIN FOR i IN 1..%s LOOP "
                "EXECUTE format('CREATE TABLE wide.t%%s (id int)', i); "
                "EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON wide.t%%s TO wide', i); "
                "END LOOP; END $$",
                (tables,),
            )
            cur.execute("GRANT USAGE ON SCHEMA wide TO wide")
        figures: dict[str, Any] = {"tables": tables, "privileges_per_table": 4}
        for label, cls in (("batched", RedshiftHandler), ("per_table_baseline", PerTableBaseline)):
            statements: list[str] = []
            seconds: list[float] = []
            for _ in range(WIDE_RUNS):
                handler = cls("alternating", settings=backend.settings(), client=client)
                statements.clear()
                handler.statement_listener = statements.append
                with handler.connect(admin_secret(backend, RedshiftHandler)) as conn:
                    started = time.perf_counter()
                    handler.create_user_like(conn, "wide_clone", "wide", "Clone-password-1")
                    seconds.append(time.perf_counter() - started)
                if backend.privileges("wide_clone") != backend.privileges("wide"):
                    raise RuntimeError(f"{label}: the clone's privileges differ")
                backend.drop_user("wide_clone")
            figures[label] = {
                "statements": len(statements),
                "grant_statements": sum(a.startswith("GRANT") for a in statements),
                "median_seconds": round(statistics.median(seconds), 3),
            }
    return figures


def password_rate() -> float:
    """Return generated passwords per second under the default policy."""
    from rotation.core.config import PasswordPolicy
    from rotation.core.password import generate_password

    policy = PasswordPolicy()
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < 0.5:
        generate_password(policy)
        count += 1
    return count / (time.perf_counter() - started)


def main() -> None:
    """Print the figures as JSON."""
    # Keep the handlers' own logs and EMF lines out of the figures.
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    report: dict[str, Any] = {
        "cold_import_ms": {
            module: round(cold_import_ms(module), 1)
            for module in ("rotation", "rotation.engines.postgresql", "rotation.engines.mariadb")
        },
        "rotations": [
            rotation_figures(engine, strategy)
            for engine in ("postgresql", "mariadb")
            for strategy in ("single", "alternating")
        ],
        "redshift_clone_of_a_user_with_many_tables": redshift_wide_clone_figures(),
        "passwords_per_second": round(password_rate()),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
