"""Keep stdout for the command's own output while the handler runs inside the CLI.

The handler logs through a Powertools logger that writes to the current stdout (what Lambda
wants), and flushes CloudWatch EMF metric lines to stdout with ``print``. For a command's
duration that logger's handler is muted and a twin with the same JSON formatter and redaction
filter writes to stderr at the chosen level; anything else printed to stdout (EMF lines, which
mean nothing on a laptop) goes to stderr at DEBUG and is dropped otherwise. The command's own
output goes to the stdout captured before the block (:class:`rotation.cli.output.Output`).
"""

from __future__ import annotations

import io
import logging
import sys
from contextlib import contextmanager, redirect_stdout
from typing import TYPE_CHECKING, Any

from rotation.core.log import get_logger, redactor

if TYPE_CHECKING:
    from collections.abc import Iterator

MUTED = logging.CRITICAL + 1
# Libraries whose INFO lines are noise on a terminal (moto's HTTP server logs every request).
QUIET_LOGGERS = ("werkzeug",)


class CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler bound to whatever ``sys.stderr`` is when a record is written."""

    @property
    def stream(self) -> Any:
        """Return the current standard error."""
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:  # always the current stderr
        pass


class StrayOutput(io.TextIOBase):
    """Where library prints go during a command: stderr when debugging, nowhere otherwise."""

    def __init__(self, show: bool) -> None:
        self.show = show

    def write(self, text: str) -> int:  # noqa: D102 (io API)
        if self.show:
            sys.stderr.write(redactor.redact(text))
        return len(text)


@contextmanager
def logs_to_stderr(level: str) -> Iterator[None]:
    """Send the handler's JSON logs to stderr at ``level`` until the block ends."""
    logger = get_logger()
    stdout_handler = logger.registered_handler
    # Powertools logs through the standard logger of its service name.
    std_logger = logging.getLogger(logger.name)
    twin = CurrentStderrHandler()
    twin.setFormatter(stdout_handler.formatter)
    twin.addFilter(redactor)
    saved_levels = (stdout_handler.level, logger.log_level)
    quiet = {name: logging.getLogger(name).level for name in QUIET_LOGGERS}
    stdout_handler.setLevel(MUTED)
    std_logger.addHandler(twin)
    logger.setLevel(level)
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    try:
        with redirect_stdout(StrayOutput(show=level == "DEBUG")):
            yield
    finally:
        std_logger.removeHandler(twin)
        stdout_handler.setLevel(saved_levels[0])
        logger.setLevel(saved_levels[1])
        for name, old in quiet.items():
            logging.getLogger(name).setLevel(old)
