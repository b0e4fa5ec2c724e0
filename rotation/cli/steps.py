"""Run the four steps through a handler, as Secrets Manager would, showing each as it runs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rotation.core.errors import RotationError
from rotation.local.driver import STEPS, event

if TYPE_CHECKING:
    from rotation.cli.output import Output
    from rotation.core.handler import RotationHandler


def run_steps(
    handler: RotationHandler, arn: str, token: str, out: Output, record: list[dict[str, Any]]
) -> bool:
    """Invoke createSecret .. finishSecret in order; stop at the first failed step.

    Each step's outcome and duration is printed and appended to ``record``.

    Returns:
        True when all four steps succeeded.
    """
    for step in STEPS:
        started = time.perf_counter()
        try:
            handler.handle(event(arn, token, step), None)
        except RotationError as exc:
            ms = round((time.perf_counter() - started) * 1000)
            record.append({"step": str(step), "ok": False, "ms": ms, "error": str(exc)})
            out.say(f"  {step!s:<13} FAILED {ms:>5} ms  {exc}")
            return False
        ms = round((time.perf_counter() - started) * 1000)
        record.append({"step": str(step), "ok": True, "ms": ms})
        out.say(f"  {step!s:<13} ok     {ms:>5} ms")
    return True
