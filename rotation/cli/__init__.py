"""The ``rotation`` command line: demo, sandbox, check, rotate, step, events and invoke.

``main()`` parses the arguments, routes the handler's logs to stderr, runs one command and maps
its outcome to an exit code (0 ok, 1 failed, 2 usage error, 130 interrupted). Errors are one line
on stderr; ``--debug`` adds the traceback. In JSON mode every run, failed or not, prints one
document on stdout with at least ``command``, ``ok`` and ``error`` (null or
``{"type", "message"}``).
"""

from __future__ import annotations

import signal
import sys
import traceback
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rotation.cli.check import run as run_check
from rotation.cli.demo import run as run_demo
from rotation.cli.events import run as run_events
from rotation.cli.invoke import run as run_invoke
from rotation.cli.logs import logs_to_stderr
from rotation.cli.output import Output
from rotation.cli.parser import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    build_parser,
)
from rotation.cli.rotate import run as run_rotate
from rotation.cli.sandbox import run as run_sandbox
from rotation.cli.step import run as run_step
from rotation.core.errors import ConfigurationError, DriverNotInstalledError
from rotation.core.log import redactor
from rotation.local.servers import ServerUnavailableError

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

COMMANDS = {
    "check": run_check,
    "demo": run_demo,
    "events": run_events,
    "invoke": run_invoke,
    "rotate": run_rotate,
    "sandbox": run_sandbox,
    "step": run_step,
}


def exit_code(exc: BaseException) -> int:
    """Return the exit code for an error that ended a command."""
    # Missing server binaries or drivers are the machine's state, not a typing mistake.
    if isinstance(exc, ServerUnavailableError | DriverNotInstalledError):
        return EXIT_FAILED
    if isinstance(exc, ConfigurationError):
        return EXIT_USAGE
    return EXIT_FAILED


def describe(exc: BaseException) -> str:
    """Return a one-line description of an error, without a traceback."""
    from rotation.core.errors import RotationError

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, RotationError):
        return text or type(exc).__name__
    return f"unexpected {type(exc).__name__}: {text} (run with --debug for the traceback)"


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C, so the stand-ins are cleaned up either way."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rotation`` command line and return its exit code."""
    parser = build_parser(COMMANDS)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help, --version, or a usage error (code 2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    out = Output(args.output)
    doc: dict[str, Any] = {"command": args.command, "ok": False}
    default_level = "INFO" if args.command == "step" else "WARNING"
    level = args.log_level or ("DEBUG" if args.debug else default_level)
    code = EXIT_OK
    with logs_to_stderr(level), sigterm_as_interrupt():
        try:
            doc["ok"] = bool(args.run(args, out, doc))
            code = EXIT_OK if doc["ok"] else EXIT_FAILED
            doc["error"] = None
        except KeyboardInterrupt:
            doc["error"] = {"type": "KeyboardInterrupt", "message": "interrupted"}
            out.error("interrupted; everything started was stopped")
            code = EXIT_INTERRUPTED
        except Exception as exc:
            if args.debug:
                sys.stderr.write(redactor.redact(traceback.format_exc()))
            doc["error"] = {"type": type(exc).__name__, "message": describe(exc)}
            out.error(describe(exc))
            code = exit_code(exc)
    out.document(doc)
    return code


__all__ = ["main"]
