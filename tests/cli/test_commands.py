"""The commands that need no database: events, rotate via RotateSecret, usage errors."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from rotation.cli import main
from rotation.cli.output import Output
from rotation.cli.rotate import TIMED_OUT, follow
from rotation.local import driver
from rotation.local import secretsmanager as sm

REGION = "us-east-1"
SECRET = {"engine": "postgres", "host": "db.invalid", "username": "app", "password": "pw-123456"}


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any], str]:
    code = main([*args, "--output", "json"])
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.err


def test_events_writes_four_files_with_one_fresh_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:app-AbCdEf"
    code, doc, _ = run_json(capsys, "events", arn, "--out", str(tmp_path / "ev"),
                            "--rotation-token", "rt-1")  # fmt: skip
    assert code == 0
    assert list(doc) == ["command", "ok", "secret_id", "token", "files", "error"]
    names = [Path(f).name for f in doc["files"]]
    assert names == ["createSecret.json", "setSecret.json", "testSecret.json", "finishSecret.json"]
    for path, step in zip(doc["files"], driver.STEPS, strict=True):
        assert json.loads(Path(path).read_text()) == {
            "Step": str(step), "SecretId": arn, "ClientRequestToken": doc["token"],
            "RotationToken": "rt-1",
        }  # fmt: skip
    code, again, _ = run_json(capsys, "events", arn, "--out", str(tmp_path / "ev2"))
    assert again["token"] != doc["token"]
    assert "RotationToken" not in json.loads(Path(again["files"][0]).read_text())


def test_events_text_output_names_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["events", "app", "--out", str(tmp_path), "--token", "t-1"]) == 0
    out = capsys.readouterr().out
    assert f"wrote {tmp_path / 'createSecret.json'}" in out
    assert "sam local invoke" in out


def test_rotate_waits_until_the_new_version_is_current(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    arn = client.create_secret(Name="app", SecretString=json.dumps(SECRET))["ARN"]
    old = next(iter(sm.labels(client, arn)))
    # moto's RotateSecret without a function moves AWSCURRENT at once (design.md section 7).
    code, doc, _ = run_json(capsys, "rotate", "app", "--wait", "--region", REGION)
    assert code == 0, doc
    assert list(doc) == ["command", "ok", "secret", "mode", "token", "outcome", "labels", "error"]
    assert doc["outcome"] == "completed"
    assert doc["mode"] == "service"
    assert doc["labels"][doc["token"]] == ["AWSCURRENT"]
    assert doc["labels"][old] == ["AWSPREVIOUS"]


def test_rotate_without_wait_only_starts(client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    client.create_secret(Name="app", SecretString=json.dumps(SECRET))
    code, doc, _ = run_json(capsys, "rotate", "app", "--region", REGION)
    assert code == 0
    assert doc["outcome"] == "started"


class FakeTime:
    """A clock that moves only when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_follow_times_out_while_the_version_stays_pending(client: Any) -> None:
    arn = client.create_secret(Name="app", SecretString=json.dumps(SECRET))["ARN"]
    old = next(iter(sm.labels(client, arn)))
    token = sm.begin_rotation(client, arn)
    time = FakeTime()
    lines, progress = io.StringIO(), io.StringIO()
    outcome = follow(client, arn, token, old, timeout=25, interval=5.0,
                     out=Output("text", stdout=lines, stderr=progress), clock=time.clock,
                     sleep=time.sleep)  # fmt: skip
    assert outcome == TIMED_OUT
    assert time.slept == [5.0] * 5
    assert lines.getvalue().count("is AWSPENDING") == 1  # shown once, not on every poll
    # Off a terminal, progress every 10 s on stderr: elapsed time, labels, how far it got.
    assert progress.getvalue().splitlines() == [
        f"  waiting {s}s: version {token[:8]} is AWSPENDING; waiting for createSecret "
        "(the pending version has no value yet)"
        for s in (10, 20)
    ]


def test_follow_shows_progress_at_every_poll_on_a_terminal(client: Any) -> None:
    arn = client.create_secret(Name="app", SecretString=json.dumps(SECRET))["ARN"]
    old = next(iter(sm.labels(client, arn)))
    token = sm.begin_rotation(client, arn)
    client.put_secret_value(
        SecretId=arn,
        ClientRequestToken=token,
        SecretString=json.dumps(SECRET),
        VersionStages=["AWSPENDING"],
    )
    time = FakeTime()
    terminal = Terminal()
    outcome = follow(client, arn, token, old, timeout=6, interval=2.0,
                     out=Output("text", stdout=io.StringIO(), stderr=terminal),
                     clock=time.clock, sleep=time.sleep)  # fmt: skip
    assert outcome == TIMED_OUT
    updates = terminal.getvalue().split("\r")
    shown = [u.removesuffix("\033[K") for u in updates if u.startswith("  waiting")]
    assert shown == [
        f"  waiting {s}s: version {token[:8]} is AWSPENDING; createSecret done; setSecret, "
        "testSecret or finishSecret running"
        for s in (0, 2, 4)
    ]
    assert terminal.getvalue().endswith("\r\033[K")  # the status line is cleared at the end


def test_follow_reports_failure_when_pending_disappears(client: Any) -> None:
    arn = client.create_secret(Name="app", SecretString=json.dumps(SECRET))["ARN"]
    old = next(iter(sm.labels(client, arn)))
    token = sm.begin_rotation(client, arn)
    client.update_secret_version_stage(SecretId=arn, VersionStage="AWSPENDING",
                                       RemoveFromVersionId=token)  # fmt: skip
    outcome = follow(client, arn, token, old, 10, 1, Output("text", stdout=io.StringIO()),
                     sleep=lambda s: pytest.fail("must not wait"))  # fmt: skip
    assert outcome == "failed"


def test_unknown_secret_is_one_error_line_exit_1(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc, err = run_json(capsys, "rotate", "missing", "--region", REGION)
    assert code == 1
    assert doc == {"command": "rotate", "ok": False, "error": doc["error"]}
    assert doc["error"]["type"] == "SecretsManagerError"
    assert err.splitlines() == [f"rotation: error: {doc['error']['message']}"]
    assert "ResourceNotFoundException" in err


def test_debug_adds_the_traceback(client: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["rotate", "missing", "--region", REGION, "--debug"]) == 1
    assert "Traceback (most recent call last)" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        ["bogus"],
        ["check"],  # neither SECRET_ID nor --file
        ["step", "createSecret", "app", "--token", "t", "--engine", "nope", "--strategy", "single"],
        ["demo", "--rounds", "0"],
        ["check", "--file", "/nonexistent/secret.json", "--engine", "postgresql"],
    ],
)
def test_usage_errors_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert "error" in err


def test_help_documents_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for line in ("0    success", "1    the rotation", "2    usage or configuration error"):
        assert line in out
    for command in ("demo", "check", "rotate", "step", "events", "status", "repair"):
        assert command in out


def test_global_options_work_after_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--output", "json", "events", "a", "--out", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["command"] == "events"
    assert main(["events", "a", "--out", str(tmp_path), "--output", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["command"] == "events"


def _no_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    from rotation.local.servers import PostgreSQLServer, ServerUnavailableError

    def unavailable(self: Any) -> Any:
        raise ServerUnavailableError("initdb not found (apt-get install postgresql)")

    monkeypatch.setattr(PostgreSQLServer, "start", unavailable)


ERRORS = {
    "demo": (["demo"], "ServerUnavailableError", 1),
    "check": (["check", "--file", "/nonexistent/secret.json", "--engine", "postgresql"],
              "UsageError", 2),
    "rotate": (["rotate", "missing", "--region", REGION], "SecretsManagerError", 1),
    "step": (["step", "createSecret", "missing", "--token", "t-1", "--engine", "postgresql",
              "--strategy", "single", "--region", REGION, "--log-level", "ERROR"],
             "SecretsManagerError", 1),
    "events": (["events", "app", "--out", "/dev/null/events"], "UsageError", 2),
    "status": (["status", "missing", "--region", REGION, "--endpoint-url", "http://127.0.0.1:9"],
               None, 1),
    "repair": (["repair", "missing", "--region", REGION], "SecretsManagerError", 1),
}  # fmt: skip


@pytest.mark.parametrize("command", sorted(ERRORS))
def test_error_documents_hold_exactly_what_the_readme_says(
    client: Any,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    """README, JSON output: on an error only command, ok and error {type, message}."""
    args, kind, exit_status = ERRORS[command]
    _no_postgresql(monkeypatch)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # status: nothing listens on port 9
    code, doc, err = run_json(capsys, *args)
    if command == "status":  # one unreadable secret is a result, not an error
        assert code == 1
        assert doc["error"] is None
        assert doc["secrets"][0]["problems"] == ["unreadable"]
        return
    assert code == exit_status
    assert doc == {"command": command, "ok": False,
                   "error": {"type": kind, "message": doc["error"]["message"]}}  # fmt: skip
    assert doc["error"]["message"]
    assert f"rotation: error: {doc['error']['message']}" in err.splitlines()


def test_argument_errors_print_a_document_in_json_mode(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["status", "--concurrency", "0", "--output", "json"])
    captured = capsys.readouterr()
    assert code == 2
    doc = json.loads(captured.out)
    assert list(doc) == ["command", "ok", "error"]
    assert doc["command"] == "status"
    assert doc["error"]["type"] == "UsageError"
    assert "--concurrency" in doc["error"]["message"]
    assert captured.err.startswith("usage: rotation status")
    code = main(["status", "--concurrency", "0"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert "rotation: error: argument --concurrency" in captured.err
