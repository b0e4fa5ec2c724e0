"""``rotation invoke`` with a small function of our own: environment, output, errors, timeouts.

The pack's built functions are invoked in ``tests/sam/test_invoke.py``; here a handler written
for the test runs in this interpreter (any runtime works: it has no compiled parts).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from rotation.cli import main
from rotation.local import invoke as runner
from rotation.local.invoke import EnvVarsError, environment, read_env_vars
from rotation.local.template import FunctionConfig, function_config

RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"
APP = """
import json, os, sys, threading

print("init: module imported")


def handler(event, context):
    print(json.dumps({"request": context.aws_request_id, "name": context.function_name,
                      "memory": context.memory_limit_in_mb,
                      "remaining": context.get_remaining_time_in_millis() > 0}))
    if event.get("raise"):
        raise ValueError("the event asked for it")
    if event.get("hang"):
        threading.Event().wait()
    keys = ["A", "B", "C", "D", "UNDECLARED", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SAM_LOCAL"]
    return {"env": {k: os.environ.get(k) for k in keys}, "boto3": _boto3_from()}


def _boto3_from():
    import boto3
    return os.path.realpath(boto3.__file__)
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Return a directory with a built template and its one function's artifact."""
    (tmp_path / "Fn" / "app").mkdir(parents=True)
    (tmp_path / "Fn" / "app" / "__init__.py").write_text(APP)
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Parameters:\n  Level: {Type: String, Default: INFO}\n"
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        f"      CodeUri: Fn\n      Handler: app.handler\n      Runtime: {RUNTIME}\n"
        "      MemorySize: 512\n      Timeout: 1\n"
        "      Environment:\n        Variables:\n"
        "          A: from-template\n          B: !Ref Level\n          C: !Ref AWS::NoValue\n"
        "          D: from-template\n"
    )
    return tmp_path


def config(project: Path) -> FunctionConfig:
    return function_config(project / "template.yaml", "Fn", {}, "us-east-1")


def test_environment_follows_the_sam_cli_priorities(project: Path) -> None:
    fn = config(project)
    env_vars = {"Parameters": {"A": "from-parameters", "D": "from-parameters"},
                "Fn": {"D": "from-function", "UNDECLARED": "ignored"}}  # fmt: skip
    shell = {"A": "from-shell", "B": "from-shell", "UNDECLARED": "ignored", "HOME": "/root"}
    env = environment(fn, env_vars, shell, "eu-central-1", ("key", "secret", "token"), "r-1")
    assert env["A"] == "from-parameters"  # the file beats the shell
    assert env["B"] == "from-shell"  # the shell beats the template
    assert "C" not in env  # AWS::NoValue: unset
    assert env["D"] == "from-function"  # the function's object beats Parameters
    assert "UNDECLARED" not in env  # only what the template declares
    assert "HOME" not in env
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-central-1"
    assert (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]) == ("key", "secret")
    assert env["AWS_SESSION_TOKEN"] == "token"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "Fn"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "512"
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_{RUNTIME}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[1, 2]", "expected"),
        ('{"Fn": "A=1"}', "expected"),
        ("{not json", "is not JSON"),
    ],
)
def test_env_vars_file_must_be_in_the_sam_format(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "env.json"
    path.write_text(text)
    with pytest.raises(EnvVarsError, match=message):
        read_env_vars(path)


def invoke_cli(
    project: Path, capsys: pytest.CaptureFixture[str], event: dict[str, Any], *extra: str
) -> tuple[int, str, str]:
    (project / "event.json").write_text(json.dumps(event))
    code = main(["invoke", "Fn", "-t", str(project / "template.yaml"),
                 "-e", str(project / "event.json"), *extra])  # fmt: skip
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_invoke_prints_logs_on_stderr_and_the_response_on_stdout(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(project / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(project / "none"))
    (project / "env.json").write_text(json.dumps({"Fn": {"A": "from-file"}}))
    code, out, err = invoke_cli(project, capsys, {}, "--env-vars", str(project / "env.json"))
    assert code == 0, err
    response = json.loads(out)
    assert response["env"]["A"] == "from-file"
    assert response["env"]["B"] == "INFO"
    assert response["env"]["C"] is None
    assert response["env"]["UNDECLARED"] is None
    assert response["env"]["AWS_SAM_LOCAL"] == "true"
    # No credentials configured: the SAM CLI's placeholders, which a local stand-in accepts.
    assert response["env"]["AWS_ACCESS_KEY_ID"] == "defaultkey"
    # boto3 comes from the runtime's stand-in, after the artifact (which carries none).
    assert "site-packages" in response["boto3"]
    lines = err.splitlines()
    assert lines[0] == f"Invoking app.handler ({RUNTIME})"
    request_id = next(line for line in lines if line.startswith("START ")).split()[2]
    assert f"END RequestId: {request_id}" in lines
    report = next(line for line in lines if line.startswith("REPORT "))
    assert report.startswith(f"REPORT RequestId: {request_id}\tInit Duration: ")
    assert "\tMemory Size: 512 MB\t" in report
    assert "init: module imported" in lines
    context = json.loads(next(line for line in lines if line.startswith('{"request"')))
    assert context == {"request": request_id, "name": "Fn", "memory": "512", "remaining": True}


def test_a_failing_handler_prints_the_runtime_error_document_and_exits_1(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = invoke_cli(project, capsys, {"raise": True})
    assert code == 1
    error = json.loads(out)
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "the event asked for it"
    assert error["stackTrace"]
    assert any("in handler" in frame for frame in error["stackTrace"])
    assert not any("lambda_bootstrap" in frame for frame in error["stackTrace"])
    assert "[ERROR] ValueError: the event asked for it" in err.splitlines()


def test_a_handler_that_cannot_be_imported_is_a_runtime_import_error(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (project / "template.yaml").read_text().replace("app.handler", "missing.handler")
    (project / "template.yaml").write_text(text)
    (project / "Fn" / "missing").mkdir()
    (project / "Fn" / "missing" / "__init__.py").write_text("import not_installed_anywhere\n")
    code, out, _ = invoke_cli(project, capsys, {})
    assert code == 1
    error = json.loads(out)
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"].startswith("Unable to import module 'missing'")


def test_a_handler_past_its_timeout_is_stopped(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "INIT_ALLOWANCE_S", 0.0)
    code, out, _ = invoke_cli(project, capsys, {"hang": True})
    assert code == 1
    error = json.loads(out)
    assert error["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]


def test_without_the_runtimes_interpreter_this_one_runs_and_says_so(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runner, "find_interpreter", lambda runtime: None)
    code, out, err = invoke_cli(project, capsys, {})
    assert code == 0, err
    assert f"No {RUNTIME} interpreter here: running with Python" in err
    assert json.loads(out)["env"]["A"] == "from-template"


def test_json_output_is_one_document(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = invoke_cli(project, capsys, {"raise": True}, "--output", "json")
    assert code == 1
    doc = json.loads(out)
    assert doc["command"] == "invoke"
    assert doc["ok"] is False
    assert doc["failed"] is True
    assert doc["response"]["errorType"] == "ValueError"
    assert doc["function"] == "Fn"
    assert doc["runtime"] == RUNTIME
    assert "START RequestId" in err
