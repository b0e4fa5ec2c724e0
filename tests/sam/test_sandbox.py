"""``rotation sandbox`` + ``rotation invoke``: the pack's own event files, step by step.

The sandbox runs as a user starts it, in its own process, with its own throwaway server and
Secrets Manager stand-in; the shipped ``templates/<engine>/events/*.json`` and ``env.json`` are
then invoked unchanged against it, with the endpoint and CA it exports, from the built function.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import pytest

from rotation.cli import main
from rotation.local.sandbox import FIRST_TOKEN, function_id, secret_name
from rotation.local.servers import ServerUnavailableError, mariadb_binaries, postgres_bindir
from tests.sam.artifacts import BUILD_DIR, ROOT

# The sandbox starts its own database server.
pytestmark = [pytest.mark.sam, pytest.mark.integration]

STEPS = ("createSecret", "setSecret", "testSecret", "finishSecret")


def read_until(stream: IO[str], marker: str, seen: list[str]) -> None:
    """Read lines into ``seen`` until one contains ``marker``."""
    for line in stream:
        seen.append(line.rstrip("\n"))
        if marker in line:
            return
    raise AssertionError(f"the sandbox ended before printing {marker!r}:\n" + "\n".join(seen))


@pytest.fixture
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, list[str]]]:
    """Start ``rotation sandbox`` for (engine, strategy); yield the process and its output."""
    engine, strategy = request.param
    try:
        (postgres_bindir if engine == "postgresql" else mariadb_binaries)()
    except ServerUnavailableError as exc:
        pytest.skip(str(exc))
    process = subprocess.Popen(
        [sys.executable, "-m", "rotation", "sandbox", "--engine", engine,
         "--strategy", strategy, "--dir", str(tmp_path / "box")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
    )  # fmt: skip
    # Never hang the suite on a sandbox that stopped answering.
    watchdog = threading.Timer(300, process.kill)
    watchdog.start()
    seen: list[str] = []
    try:
        assert process.stdout is not None
        read_until(process.stdout, "Enter:", seen)
        yield process, seen
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
        process.wait()


def invoke(fn: str, event: Path, env_vars: Path, capsys: pytest.CaptureFixture[str]) -> str:
    template = BUILD_DIR / "template.yaml"
    code = main(["invoke", fn, "-t", str(template), "-e", str(event), "--env-vars", str(env_vars)])
    captured = capsys.readouterr()
    assert code == 0, captured.err[-3000:]
    assert captured.out == "null\n"
    return captured.err


@pytest.mark.parametrize(
    "sandbox", [("postgresql", "single"), ("mariadb", "alternating")], indirect=True
)
def test_the_shipped_events_rotate_the_sandbox_secret(
    build: tuple[Path, str],
    sandbox: tuple[Any, list[str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    process, seen = sandbox
    engine = "postgresql" if "PostgreSQL" in seen[0] else "mariadb"
    strategy = "alternating" if "alternating" in seen[0] else "single"
    fn = function_id(engine, strategy)
    box = tmp_path / "box"
    assert "secret:          arn:aws:secretsmanager:" in "\n".join(seen)
    assert secret_name(engine) in "\n".join(seen)
    # The shell file the sandbox writes is what `source` would export.
    for line in (box / "sandbox.env").read_text().splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        monkeypatch.setenv(name, shlex.split(value)[0])
    shipped = ROOT / "templates" / engine
    for step in STEPS:
        err = invoke(fn, shipped / "events" / f"{step}.json", shipped / "env.json", capsys)
        records = [json.loads(x) for x in err.splitlines() if x.startswith('{"level"')]
        assert {r["correlation_id"] for r in records} == {FIRST_TOKEN}
        assert records[-1]["message"] == "step succeeded"
    # Enter: the next rotation, with the sandbox's own files (no shell variables needed).
    monkeypatch.delenv("SECRETS_MANAGER_ENDPOINT")
    monkeypatch.delenv("ROTATION_TLS_CA_FILE")
    process.stdin.write("\n")
    process.stdin.flush()
    read_until(process.stdout, "rotation 2:", seen)
    assert f"labels: {FIRST_TOKEN[:8]} AWSCURRENT,AWSPENDING" in seen[-2]
    event = json.loads((box / "events" / "createSecret.json").read_text())
    assert event["ClientRequestToken"] != FIRST_TOKEN
    assert event["SecretId"].startswith("arn:aws:secretsmanager:")
    for step in STEPS:
        invoke(fn, box / "events" / f"{step}.json", box / "env.json", capsys)
    out, err = process.communicate("q\n", timeout=120)
    assert process.returncode == 0, err
    assert "sandbox stopped; stand-ins removed" in out
