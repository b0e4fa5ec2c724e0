"""``rotation invoke`` runs the built functions through all four steps, as Secrets Manager would.

Each step is one ``rotation invoke <LogicalId> -e <event> --env-vars <file>`` of the artifact
``make test`` built (``.aws-sam/test-build``), in an interpreter of its runtime, against the
suite's throwaway PostgreSQL and MariaDB servers and moto's Secrets Manager served over HTTP
from this process (the function runs in another process and reaches it like the real service).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rotation.cli import main
from rotation.local import secretsmanager as sm
from rotation.local.sandbox import function_id
from rotation.testing.conformance import Scenario, unique_name
from tests.conftest import RunningServer
from tests.engines.mariadb.backend import MariaDBBackend
from tests.engines.postgresql.backend import PostgreSQLBackend
from tests.sam.artifacts import built_target, load_runtime_sdk

pytestmark = pytest.mark.sam

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


@pytest.fixture(scope="module")
def secrets_manager() -> Iterator[sm.SecretsManagerStandIn]:
    """Serve moto's Secrets Manager on a loopback port for the invoked functions."""
    with sm.SecretsManagerStandIn() as stand_in:
        yield stand_in


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Any:
    """Provide the engine's backend on the suite's throwaway server."""
    engine = request.param
    if engine == "postgresql":
        server: RunningServer = request.getfixturevalue("postgresql_server")
        return PostgreSQLBackend(server)
    return MariaDBBackend(request.getfixturevalue("mariadb_server"))


def rotate_by_invoking(
    template: Path,
    fn: str,
    scenario: Scenario,
    endpoint: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> tuple[str, list[str]]:
    """Begin a rotation, invoke the four steps; return the token and each step's stderr."""
    token = sm.begin_rotation(scenario.client, scenario.arn)
    assert main(["events", scenario.arn, "--out", str(tmp_path / "events"), "--token", token]) == 0
    env_file = tmp_path / "env.json"
    variables = {"SECRETS_MANAGER_ENDPOINT": endpoint}
    if scenario.backend.settings().tls_ca_file:
        variables["ROTATION_TLS_CA_FILE"] = scenario.backend.settings().tls_ca_file
    env_file.write_text(json.dumps({fn: variables}))
    capsys.readouterr()
    logs = []
    for step in STEPS:
        event = tmp_path / "events" / f"{step}.json"
        args = ["invoke", fn, "-t", str(template), "-e", str(event), "--env-vars", str(env_file)]
        code = main(args)
        captured = capsys.readouterr()
        assert code == 0, captured.err[-3000:]
        assert captured.out == "null\n"  # the handler returns nothing, as SAM prints it
        assert scenario.password not in captured.out + captured.err
        logs.append(captured.err)
    return token, logs


@pytest.mark.parametrize("backend", ["postgresql", "mariadb"], indirect=True)
@pytest.mark.parametrize("strategy", ["single", "alternating"])
def test_the_built_function_rotates_through_four_invocations(
    build: tuple[Path, str],
    backend: Any,
    strategy: str,
    secrets_manager: sm.SecretsManagerStandIn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    build_dir, interpreter = build
    runtime, _ = built_target(build_dir)
    engine = "postgresql" if isinstance(backend, PostgreSQLBackend) else "mariadb"
    fn = function_id(engine, strategy)
    scenario = Scenario(backend, secrets_manager.client(), unique_name("inv"))
    try:
        if strategy == "alternating":
            scenario.with_admin()
        current = next(
            v for v, s in sm.labels(scenario.client, scenario.arn).items() if "AWSCURRENT" in s
        )
        token, logs = rotate_by_invoking(
            build_dir / "template.yaml", fn, scenario, secrets_manager.endpoint, tmp_path, capsys
        )
        assert sm.labels(scenario.client, scenario.arn)[token] == ["AWSCURRENT", "AWSPENDING"]
        assert sm.labels(scenario.client, scenario.arn)[current] == ["AWSPREVIOUS"]
        new = scenario.value("AWSCURRENT")
        assert backend.can_login(new["username"], new["password"])
        if strategy == "single":
            assert not backend.can_login(scenario.username, scenario.password)
        else:
            assert new["username"] == scenario.username + backend.handler_class.clone_suffix
        for step, err in zip(STEPS, logs, strict=True):
            lines = err.splitlines()
            # What ran: the artifact's code, in the runtime's interpreter.
            handler = f"{strategy}_user{'s' if strategy == 'alternating' else ''}_handler"
            assert lines[0] == f"Invoking rotation.engines.{engine}.{handler} ({runtime})"
            assert (
                lines[1]
                == f"Code: {(build_dir / fn).resolve()} (no Docker; interpreter {interpreter})"
            )
            records = [json.loads(x) for x in lines if x.startswith('{"level"')]
            assert records, err
            request_id = next(x for x in lines if x.startswith("START ")).split()[2]
            for record in records:
                assert record["step"] == step
                assert record["correlation_id"] == token
                assert record["function_request_id"] == request_id
                assert record["function_name"] == fn
            assert records[-1]["message"] == "step succeeded"
    finally:
        scenario.cleanup()


def test_an_artifact_without_boto3_rotates_with_the_runtimes_sdk(
    build: tuple[Path, str],
    mariadb_server: RunningServer,
    secrets_manager: sm.SecretsManagerStandIn,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """What ``make build SAM_BUNDLE_BOTO3=0`` makes: the function uses the runtime's boto3."""
    build_dir, _ = build
    fn = function_id("mariadb", "single")
    slim = tmp_path / "build"
    slim.mkdir()
    shutil.copy(build_dir / "template.yaml", slim / "template.yaml")
    shutil.copytree(build_dir / fn, slim / fn, symlinks=True)
    removed = load_runtime_sdk().prune(slim / fn)
    assert {"boto3", "botocore", "s3transfer"} <= set(removed)
    assert not (slim / fn / "botocore").exists()
    assert (slim / fn / "jmespath").is_dir()  # Powertools needs it: it stays
    backend = MariaDBBackend(mariadb_server)
    scenario = Scenario(backend, secrets_manager.client(), unique_name("slim"))
    try:
        token, _ = rotate_by_invoking(
            slim / "template.yaml", fn, scenario, secrets_manager.endpoint, tmp_path, capsys
        )
        assert sm.labels(scenario.client, scenario.arn)[token] == ["AWSCURRENT", "AWSPENDING"]
        new = scenario.value("AWSCURRENT")
        assert backend.can_login(new["username"], new["password"])
    finally:
        scenario.cleanup()
