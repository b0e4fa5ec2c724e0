"""Invoke a built Lambda function on this machine, as ``sam local invoke`` does, without Docker.

The handler runs in a fresh interpreter of the function's runtime version (found on PATH or
under pyenv; else this interpreter, which the caller is told about), in isolated mode, with only
the built artifact and a stand-in for the runtime's own AWS SDK on ``sys.path``
(:mod:`rotation.local.lambda_bootstrap`). So exactly the dependencies the artifact carries are
used, in the order Lambda uses them.

The environment is the one the SAM CLI gives a function
(https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-using-invoke.html):
the ``AWS_*`` variables with the local credentials and region (placeholder credentials when there
are none), then each variable the template declares, with its template value, overridden by the
shell's environment, then by the ``--env-vars`` file: its ``Parameters`` object applies to every
function, the object named after the function's logical id to that function. Variables the
template does not declare are not passed, as in the SAM CLI.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rotation.core.errors import ConfigurationError
from rotation.local.template import LOCAL_ACCOUNT_ID, FunctionConfig

BOOTSTRAP = Path(__file__).resolve().with_name("lambda_bootstrap.py")
# What the Lambda Python runtime carries besides the standard library: the AWS SDK and its
# dependencies, on sys.path after the function's code.
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
# The SAM CLI's credentials when none are configured; a local stand-in accepts any.
PLACEHOLDER_CREDENTIALS = ("defaultkey", "defaultsecret", None)
DEFAULT_REGION = "us-east-1"
# Lambda allows an init phase of up to 10 s besides the function's timeout.
INIT_ALLOWANCE_S = 10.0


class EnvVarsError(ConfigurationError):
    """Raise when an ``--env-vars`` file is not in the SAM CLI's format."""


@dataclass(frozen=True)
class Invocation:
    """The outcome of one invocation.

    Attributes:
        request_id: The invocation's request id.
        response: The handler's return value, or the runtime's error document.
        failed: Whether the handler raised (or could not be loaded, or timed out).
        init_ms: Time to import the handler (Lambda's Init Duration).
        duration_ms: Time the handler ran.
        max_memory_mb: Peak resident memory of the interpreter.
    """

    request_id: str
    response: Any
    failed: bool
    init_ms: float
    duration_ms: float
    max_memory_mb: int


def find_interpreter(runtime: str) -> str | None:
    """Return an interpreter of ``runtime``'s version (``python3.13``): on PATH or under pyenv."""
    version = runtime.removeprefix("python")
    candidates = [runtime]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(
        str(p) for p in Path(pyenv_root, "versions").glob(f"{version}*/bin/{runtime}")
    )
    for candidate in candidates:
        if shutil.which(candidate) is None:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.executable)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0:
            return probe.stdout.strip()
    return None


def read_env_vars(path: Path) -> dict[str, dict[str, Any]]:
    """Read an ``--env-vars`` file: a JSON object of objects (SAM CLI format).

    Raises:
        EnvVarsError: The file is unreadable, not JSON, or a value is not an object.
    """
    try:
        data = json.loads(path.read_text())
    except OSError as exc:
        raise EnvVarsError(f"cannot read {path}: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise EnvVarsError(f"{path} is not JSON: {exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise EnvVarsError(
            f'{path}: expected {{"<LogicalId>": {{"NAME": "value"}}, "Parameters": {{...}}}}'
        )
    return data


def local_credentials() -> tuple[str, tuple[str, str, str | None]]:
    """Return the region and credentials of the local AWS configuration, as the SAM CLI does.

    Only the environment, the shared files and the configured processes are asked: never the
    instance or container metadata endpoints, which do not exist on a laptop.
    """
    import botocore.session

    session = botocore.session.Session()
    resolver = session.get_component("credential_provider")
    for name in ("container-role", "iam-role"):
        resolver.remove(name)
    region = session.get_config_variable("region") or DEFAULT_REGION
    credentials = resolver.load_credentials()
    if credentials is None:
        return region, PLACEHOLDER_CREDENTIALS
    frozen = credentials.get_frozen_credentials()
    return region, (frozen.access_key, frozen.secret_key, frozen.token)


def environment(
    fn: FunctionConfig,
    env_vars: Mapping[str, Mapping[str, Any]],
    shell: Mapping[str, str],
    region: str,
    credentials: tuple[str, str, str | None],
    request_id: str,
) -> dict[str, str]:
    """Return the environment the function runs with (see the module docstring)."""
    key, secret, token = credentials
    env = {
        "AWS_SAM_LOCAL": "true",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(fn.timeout_s)),
        "AWS_LAMBDA_FUNCTION_HANDLER": fn.handler,
        "AWS_LAMBDA_FUNCTION_NAME": fn.logical_id,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"aws/lambda/{fn.logical_id}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_ACCOUNT_ID": LOCAL_ACCOUNT_ID,
        "LAMBDA_TASK_ROOT": str(fn.code_dir),
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "_HANDLER": fn.handler,
        "_ROTATION_REQUEST_ID": request_id,
    }
    if token:
        env["AWS_SESSION_TOKEN"] = token
    overrides = {**env_vars.get("Parameters", {}), **env_vars.get(fn.logical_id, {})}
    for name, value in fn.variables.items():
        if name in overrides:
            chosen: Any = overrides[name]
        elif name in shell:
            chosen = shell[name]
        else:
            chosen = value
        if chosen is None:
            continue  # left unset by the template (AWS::NoValue)
        env[name] = _text(chosen)
    return env


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict | list):
        return ""
    return str(value)


def _runtime_dir(directory: Path) -> Path:
    """Link this environment's copy of what the Lambda runtime carries into ``directory``."""
    directory.mkdir()
    for name in RUNTIME_PACKAGES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            continue
        origin = Path(spec.origin)
        source = origin.parent if spec.submodule_search_locations else origin
        (directory / source.name).symlink_to(source)
    return directory


def invoke(
    fn: FunctionConfig,
    event: str,
    env: Mapping[str, str],
    interpreter: str,
    on_output: Callable[[str], None],
) -> Invocation:
    """Run the handler once with ``event`` (JSON text); pass each output line to ``on_output``."""
    request_id = env.get("_ROTATION_REQUEST_ID") or str(uuid.uuid4())
    with tempfile.TemporaryDirectory(prefix="rotation-invoke-") as scratch:
        result_file = Path(scratch) / "result.json"
        runtime_dir = _runtime_dir(Path(scratch) / "runtime")
        process = subprocess.Popen(
            [interpreter, "-I", "-S", str(BOOTSTRAP), fn.handler, str(fn.code_dir),
             str(runtime_dir), str(result_file)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            cwd=fn.code_dir, env=dict(env), text=True, errors="replace",
        )  # fmt: skip
        timed_out = threading.Event()

        def expire() -> None:
            timed_out.set()
            process.kill()

        watchdog = threading.Timer(fn.timeout_s + INIT_ALLOWANCE_S, expire)
        watchdog.start()
        try:
            assert process.stdin is not None
            assert process.stdout is not None
            process.stdin.write(event)
            process.stdin.close()
            for line in process.stdout:
                on_output(line.rstrip("\n"))
            process.wait()
        finally:
            watchdog.cancel()
            if process.poll() is None:
                process.kill()
                process.wait()
        if timed_out.is_set() or not result_file.is_file():
            # The error types Lambda reports for a timeout and for a runtime that died.
            kind, reason = (
                ("Sandbox.Timedout", f"Task timed out after {fn.timeout_s:.2f} seconds")
                if timed_out.is_set()
                else ("Runtime.ExitError", f"Runtime exited with status {process.returncode}")
            )
            error = {"errorMessage": f"RequestId: {request_id} Error: {reason}",
                     "errorType": kind, "requestId": request_id, "stackTrace": []}  # fmt: skip
            return Invocation(request_id, error, True, 0.0, fn.timeout_s * 1000, 0)
        outcome = json.loads(result_file.read_text())
    failed = outcome["error"] is not None
    return Invocation(
        request_id=request_id,
        response=outcome["error"] if failed else outcome["response"],
        failed=failed,
        init_ms=float(outcome["init_ms"]),
        duration_ms=float(outcome["duration_ms"]),
        max_memory_mb=int(outcome["max_memory_mb"]),
    )


def current_interpreter() -> str:
    """Return this interpreter, the fallback when the runtime's version is not installed."""
    return sys.executable
