"""The ``rotation`` command line: run, check, invoke and operate rotations locally.

Commands: demo, sandbox, check, rotate, step, events, invoke, status, repair, init-service.

``main()`` parses the arguments, routes the handler's logs to stderr, runs one command and maps
its outcome to an exit code (0 ok, 1 failed, 2 usage or configuration error, 130 interrupted).
Errors are one line on stderr; ``--debug`` adds the traceback. In JSON mode every run, failed or
not, prints one document on stdout with at least ``command``, ``ok`` and ``error`` (null or
``{"type", "message"}``); a run that ends with an error prints exactly those three keys.
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
from rotation.cli.init_service import run as run_init_service
from rotation.cli.invoke import run as run_invoke
from rotation.cli.logs import logs_to_stderr
from rotation.cli.output import Output
from rotation.cli.parser import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    CommandLineError,
    build_parser,
)
from rotation.cli.repair import run as run_repair
from rotation.cli.rotate import run as run_rotate
from rotation.cli.sandbox import run as run_sandbox
from rotation.cli.status import run as run_status
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
    "init-service": run_init_service,
    "invoke": run_invoke,
    "repair": run_repair,
    "rotate": run_rotate,
    "sandbox": run_sandbox,
    "status": run_status,
    "step": run_step,
}


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__


def _aws_configuration_error(exc: BaseException) -> bool:
    """Tell whether the SDK gave up for lack of configuration: profile, region, credentials."""
    from botocore.exceptions import (
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    kinds = (NoCredentialsError, NoRegionError, PartialCredentialsError, ProfileNotFound)
    return any(isinstance(cause, kinds) for cause in _causes(exc))


def exit_code(exc: BaseException) -> int:
    """Return the exit code for an error that ended a command."""
    # Missing server binaries or drivers are the machine's state, not a typing mistake.
    if isinstance(exc, ServerUnavailableError | DriverNotInstalledError):
        return EXIT_FAILED
    if isinstance(exc, ConfigurationError) or _aws_configuration_error(exc):
        return EXIT_USAGE
    return EXIT_FAILED


def describe(exc: BaseException) -> str:
    """Return a one-line description of an error, without a traceback."""
    from rotation.core.errors import RotationError

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, RotationError) or _aws_configuration_error(exc):
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


def _bad_command_line(exc: CommandLineError, argv: list[str]) -> int:
    """Report arguments argparse rejected: usage and one error line; in JSON mode a document."""
    json_mode = any(
        arg == "--output=json" or (arg == "--output" and argv[i + 1 : i + 2] == ["json"])
        for i, arg in enumerate(argv)
    )
    out = Output("json" if json_mode else "text")
    out.stderr.write(exc.usage)
    out.error(str(exc))
    command = next((arg for arg in argv if arg in COMMANDS), None)
    error = {"type": "UsageError", "message": str(exc)}
    out.document({"command": command, "ok": False, "error": error})
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``rotation`` command line and return its exit code."""
    parser = build_parser(COMMANDS)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help or --version
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except CommandLineError as exc:
        return _bad_command_line(exc, list(sys.argv[1:] if argv is None else argv))
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
            error = {"type": "KeyboardInterrupt", "message": "interrupted"}
            # Only the three keys the README promises: what the command gathered before it
            # stopped is incomplete and would read as a result.
            doc = {"command": args.command, "ok": False, "error": error}
            out.error("interrupted; everything started was stopped")
            code = EXIT_INTERRUPTED
        except Exception as exc:
            if args.debug:
                sys.stderr.write(redactor.redact(traceback.format_exc()))
            error = {"type": type(exc).__name__, "message": describe(exc)}
            doc = {"command": args.command, "ok": False, "error": error}
            out.error(describe(exc))
            code = exit_code(exc)
    out.document(doc)
    return code


__all__ = ["main"]
