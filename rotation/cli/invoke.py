"""``rotation invoke``: ``sam local invoke`` for the pack's functions, without Docker.

It takes ``sam local invoke``'s inputs (a logical id, ``-e`` event file, ``--env-vars`` file,
``-t`` template, ``--parameter-overrides``) and prints what it prints: ``Invoking <handler>
(<runtime>)``, the ``START``/``END``/``REPORT`` lines around the function's own output on
stderr, and the function's response (or the runtime's error document) on stdout. The code that
runs is the built artifact, in an interpreter of the function's runtime version
(:mod:`rotation.local.invoke`). Exit code 1 when the function failed.
"""

from __future__ import annotations

import json
import math
import os
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rotation.cli.parser import UsageError
from rotation.core.log import redactor
from rotation.local import invoke as runner
from rotation.local.template import default_template, function_config

if TYPE_CHECKING:
    import argparse

    from rotation.cli.output import Output


def run(args: argparse.Namespace, out: Output, doc: dict[str, Any]) -> bool:
    """Invoke the function once; return whether it succeeded."""
    template = Path(args.template) if args.template else default_template(Path.cwd())
    region, credentials = runner.local_credentials()
    region = args.region or region
    fn = function_config(template, args.function, _overrides(args.parameter_overrides), region)
    event = _event(args.event)
    env_vars = runner.read_env_vars(Path(args.env_vars)) if args.env_vars else {}
    interpreter = runner.find_interpreter(fn.runtime)
    doc.update(function=fn.logical_id, handler=fn.handler, runtime=fn.runtime,
               code=str(fn.code_dir), interpreter=interpreter or sys.executable)  # fmt: skip

    def err(text: str) -> None:
        out.stderr.write(redactor.redact(text) + "\n")
        out.stderr.flush()

    err(f"Invoking {fn.handler} ({fn.runtime})")
    if interpreter is None:
        interpreter = runner.current_interpreter()
        err(f"No {fn.runtime} interpreter here: running with Python {sys.version.split()[0]} "
            f"({interpreter}); compiled drivers built for {fn.runtime} may not load")  # fmt: skip
    err(f"Code: {fn.code_dir} (no Docker; interpreter {interpreter})")
    request_id = str(uuid.uuid4())
    env = runner.environment(fn, env_vars, os.environ, region, credentials, request_id)
    err(f"START RequestId: {request_id} Version: $LATEST")
    result = runner.invoke(fn, event, env, interpreter, err)
    err(f"END RequestId: {request_id}")
    err(
        f"REPORT RequestId: {request_id}\tInit Duration: {result.init_ms:.2f} ms\t"
        f"Duration: {result.duration_ms:.2f} ms\tBilled Duration: "
        f"{math.ceil(result.init_ms + result.duration_ms)} ms\tMemory Size: {fn.memory_mb} MB\t"
        f"Max Memory Used: {result.max_memory_mb} MB\t"
    )
    doc.update(
        request_id=request_id,
        response=result.response,
        failed=result.failed,
        init_ms=round(result.init_ms, 2),
        duration_ms=round(result.duration_ms, 2),
    )
    if not out.json:
        out.stdout.write(redactor.redact(json.dumps(result.response)) + "\n")
        out.stdout.flush()
    return not result.failed


def _event(path: str | None) -> str:
    """Return the event's JSON text: a file, ``-`` for stdin, or ``{}`` (as sam local invoke)."""
    if path is None:
        return "{}"
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read event file {path}: {exc.strerror}") from None
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"event file {path} is not JSON: {exc}") from None
    return text


def _overrides(pairs: list[str] | None) -> dict[str, str]:
    """Parse ``Key=Value`` pairs (or SAM's ``ParameterKey=K,ParameterValue=V``)."""
    overrides = {}
    for pair in pairs or []:
        if pair.startswith("ParameterKey="):
            key_part, _, value_part = pair.partition(",ParameterValue=")
            key, value = key_part.removeprefix("ParameterKey="), value_part
        else:
            key, sep, value = pair.partition("=")
            if not sep:
                raise UsageError(f"parameter override {pair!r} is not Key=Value")
        overrides[key] = value
    return overrides
