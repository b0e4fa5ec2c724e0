"""Run one invocation of a Lambda handler the way the Python runtime does, in this interpreter.

Not imported: :mod:`rotation.local.invoke` runs this file as a script with the function's
runtime interpreter in isolated mode (``python -I -S``), so ``sys.path`` holds the standard
library and nothing else until this script adds the built artifact (Lambda's ``/var/task``,
first) and the runtime's own AWS SDK (Lambda's ``/var/runtime``, after it). Standard library
only, and nothing of ``rotation``: the handler must import the ``rotation`` its artifact carries.

Arguments: ``HANDLER ARTIFACT RUNTIME_DIR RESULT_FILE``; the event is JSON on stdin. The
function's output goes to stdout/stderr as it happens. The outcome goes to RESULT_FILE as JSON:
``{"response": ..., "error": null | {...}, "init_ms", "duration_ms", "max_memory_mb"}``, where
an error has the fields the runtime returns for a failed invocation (``errorMessage``,
``errorType``, ``requestId``, ``stackTrace``) and is also logged as ``[ERROR] Type: message``
with its traceback, as the runtime logs it
(https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html).
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import sys
import time
import traceback
from typing import Any

# Runtime error types the Python runtime reports when the handler cannot be loaded.
IMPORT_ERROR = "Runtime.ImportModuleError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
MALFORMED_HANDLER = "Runtime.MalformedHandlerName"


class LambdaContext:
    """The context object the Python runtime passes to a handler."""

    def __init__(self, request_id: str, deadline: float) -> None:
        env = os.environ
        self.aws_request_id = request_id
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        region = env.get("AWS_REGION", "us-east-1")
        account = env.get("AWS_ACCOUNT_ID", "123456789012")
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:{account}:function:{self.function_name}"
        )
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        """Return the milliseconds left before the function's timeout."""
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class HandlerError(Exception):
    """The handler could not be loaded (the runtime's ``Runtime.*`` errors)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type


def load_handler(handler: str) -> Any:
    """Import ``module.attribute`` as the runtime does."""
    module_name, _, attribute = handler.rpartition(".")
    if not module_name:
        raise HandlerError(MALFORMED_HANDLER, f"Bad handler '{handler}': not module.function")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise HandlerError(IMPORT_ERROR, f"Unable to import module '{module_name}': {exc}") from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise HandlerError(
            HANDLER_NOT_FOUND, f"Handler '{attribute}' missing on module '{module_name}'"
        ) from None


def error_result(exc: BaseException, request_id: str) -> dict[str, Any]:
    """Return the runtime's error document for ``exc`` and log it as the runtime does."""
    error_type = exc.error_type if isinstance(exc, HandlerError) else type(exc).__name__
    frames = traceback.extract_tb(exc.__traceback__)
    # Leave out this script's own frames, as the runtime leaves out its bootstrap.
    frames = traceback.StackSummary.from_list([f for f in frames if f.filename != __file__])
    stack = [] if isinstance(exc, HandlerError) else traceback.format_list(frames)
    result = {
        "errorMessage": str(exc),
        "errorType": error_type,
        "requestId": request_id,
        "stackTrace": stack,
    }
    lines = [f"[ERROR] {error_type}: {exc}", "Traceback (most recent call last):"]
    lines += [line for entry in stack for line in entry.rstrip("\n").splitlines()]
    print("\n".join(lines), flush=True)
    return result


def main(argv: list[str]) -> int:
    """Load the handler, invoke it once with the event on stdin, write the outcome."""
    handler_path, artifact, runtime_dir, result_file = argv
    sys.path.insert(0, artifact)
    sys.path.append(runtime_dir)
    request_id = os.environ.get("_ROTATION_REQUEST_ID", "")
    timeout = float(os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3"))
    event = json.loads(sys.stdin.read() or "{}")
    outcome: dict[str, Any] = {"response": None, "error": None, "duration_ms": 0.0}
    started = time.perf_counter()
    try:
        entry = load_handler(handler_path)
    except HandlerError as exc:
        outcome["error"] = error_result(exc, request_id)
        entry = None
    outcome["init_ms"] = (time.perf_counter() - started) * 1000
    if entry is not None:
        context = LambdaContext(request_id, time.monotonic() + timeout)
        started = time.perf_counter()
        try:
            response = entry(event, context)
            json.dumps(response)  # the runtime returns JSON: an unserialisable result fails
            outcome["response"] = response
        except Exception as exc:
            outcome["error"] = error_result(exc, request_id)
        outcome["duration_ms"] = (time.perf_counter() - started) * 1000
    sys.stdout.flush()
    sys.stderr.flush()
    # Linux reports the peak resident set size in KiB.
    outcome["max_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    with open(result_file, "w") as handle:
        json.dump(outcome, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
