"""``rotation demo`` run as a user types it, against throwaway PostgreSQL and MariaDB servers."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from rotation.cli import main
from rotation.local.servers import MariaDBServer, PostgreSQLServer, ServerUnavailableError

# The demo starts its own throwaway servers.
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_SCRIPT = Path(sys.executable).parent / "rotation"


def _require(server: type[Any]) -> None:
    from rotation.local.servers import mariadb_binaries, postgres_bindir

    try:
        (postgres_bindir if server is PostgreSQLServer else mariadb_binaries)()
    except ServerUnavailableError as exc:
        pytest.skip(str(exc))


@pytest.mark.parametrize(
    ("engine", "strategy", "server"),
    [
        ("postgresql", "single", PostgreSQLServer),
        ("postgresql", "alternating", PostgreSQLServer),
        ("mariadb", "single", MariaDBServer),
        ("mariadb", "alternating", MariaDBServer),
    ],
)
def test_demo_as_typed(engine: str, strategy: str, server: type[Any]) -> None:
    _require(server)
    command = [str(CONSOLE_SCRIPT), "demo", "--engine", engine, "--strategy", strategy,
               "--rounds", "2"]  # fmt: skip
    if not CONSOLE_SCRIPT.exists():
        command = [sys.executable, "-m", "rotation", *command[1:]]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=180)
    out = result.stdout
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo passed: 2 rotation(s)" in out
    assert result.stderr == ""  # no logs, tracebacks or library noise at the default level
    for number in (1, 2):
        assert f"round {number}: RotateSecret" in out
    steps = re.findall(
        r"^  (createSecret|setSecret|testSecret|finishSecret) +ok +\d+ ms$", out, re.M
    )
    assert steps == ["createSecret", "setSecret", "testSecret", "finishSecret"] * 2
    labels = re.findall(
        r"^  labels:  (\w{8}) AWSCURRENT,AWSPENDING \| (\w{8}) AWSPREVIOUS$", out, re.M
    )
    assert len(labels) == 2
    assert labels[1][1] == labels[0][0]  # round 1's current became round 2's previous
    proofs = re.findall(r"^  proof:   (new|old) +(\S+) / (sha256:[0-9a-f]{8}) (logs in|is rejected)"
                        r".*\[ok\]$", out, re.M)  # fmt: skip
    assert len(proofs) == 4
    if strategy == "single":
        assert [p[3] for p in proofs] == ["logs in", "is rejected"] * 2
        assert {p[1] for p in proofs} == {"app_demo"}
    else:
        assert [p[3] for p in proofs] == ["logs in"] * 4
        assert [p[1] for p in proofs] == [
            "app_demo_clone",
            "app_demo",
            "app_demo",
            "app_demo_clone",
        ]
    # The new password of round 1 is the old one of round 2: fingerprints track the change.
    assert proofs[0][2] == proofs[3][2]
    assert len({p[2] for p in proofs}) == 3


def test_demo_json_prints_no_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Run the demo in-process to learn every password it makes, then search the output."""
    _require(PostgreSQLServer)
    import rotation.core.handler as handler_module
    import rotation.local.servers as servers_module

    made: list[str] = []

    def remember(original: Any) -> Any:
        def wrapper(*args: Any) -> str:
            value: str = original(*args)
            made.append(value)
            return value

        return wrapper

    monkeypatch.setattr(handler_module, "generate_password",
                        remember(handler_module.generate_password))  # fmt: skip
    monkeypatch.setattr(servers_module, "generate_admin_password",
                        remember(servers_module.generate_admin_password))  # fmt: skip
    code = main(["demo", "--strategy", "alternating", "--rounds", "2", "--output", "json",
                 "--log-level", "DEBUG"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 0, captured.err
    doc = json.loads(captured.out)
    assert list(doc) == ["command", "ok", "engine", "strategy", "stand_ins", "rounds", "secret",
                         "user", "privileges", "error"]  # fmt: skip
    assert doc["ok"] is True
    assert doc["error"] is None
    assert [len(r["steps"]) for r in doc["rounds"]] == [4, 4]
    assert set(doc["rounds"][0]) == {"round", "token", "steps", "labels", "proof"}
    assert len(made) == 4  # admin, app user, two rotations
    assert '"level":"INFO"' in captured.err  # the handler's logs did run, on stderr
    for secret in made:
        assert secret not in captured.out
        assert secret not in captured.err


def test_demo_refuses_missing_binaries(monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    import rotation.local.servers as servers_module

    monkeypatch.setattr(servers_module.glob, "glob", lambda pattern: [])
    monkeypatch.setattr(servers_module.shutil, "which", lambda *a, **k: None)
    code = main(["demo"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines() == [
        "rotation: error: PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
        "sudo apt-get install postgresql"
    ]


def test_demo_without_moto_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "moto.server", None)  # as if [demo] were not installed
    code = main(["demo"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines() == [
        "rotation: error: the local Secrets Manager is moto's, which is not installed: "
        'pip install "rotation[demo]"'
    ]


def test_retain_on_mysql_runs_on_the_double_and_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """Both passwords work after the switch; the oldest is rejected one rotation later. No
    server here has MySQL's dual passwords, so the demo runs on the double and says it does."""
    code = main(["demo", "--engine", "mysql", "--strategy", "retain", "--rounds", "3"])
    text = capsys.readouterr().out
    assert code == 0, text
    assert "not by a MySQL server" in text
    assert "in process, no network" in text
    assert "demo passed: 3 rotation(s)" in text
    proofs = re.findall(
        r"^  proof:   (\w+) +\S+ / \S+ (logs in|is rejected).*\[(\w+)\]$", text, re.M
    )
    assert proofs == [
        ("new", "logs in", "ok"), ("old", "logs in", "ok"),
        *[("new", "logs in", "ok"), ("old", "logs in", "ok"), ("older", "is rejected", "ok")] * 2,
    ]  # fmt: skip


def test_retain_on_mariadb_is_refused_before_anything_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def must_not_start(self: Any) -> Any:
        raise AssertionError("a server was started")

    monkeypatch.setattr(MariaDBServer, "start", must_not_start)
    code = main(["demo", "--engine", "mariadb", "--strategy", "retain"])
    assert code == 2
    assert "MariaDB has no dual passwords" in capsys.readouterr().err
