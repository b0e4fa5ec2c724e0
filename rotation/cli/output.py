"""What the CLI prints: human lines or one JSON document, never a password.

Text mode writes lines to stdout as the work happens. JSON mode writes the same lines to
stderr as progress and, at the end, exactly one JSON document to stdout. Everything written
passes through the framework's redactor, so a password that slipped into a message is masked.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from rotation.core.log import MASK, redactor

if TYPE_CHECKING:
    from collections.abc import Callable


def fingerprint(secret: str) -> str:
    """Return a short, non-reversible tag that shows whether a password changed."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:8]


def short(version_id: str | None) -> str:
    """Return the first 8 characters of a version id, for tables."""
    return (version_id or "-")[:8]


def format_labels(labels: dict[str, list[str]]) -> str:
    """Render ``{version: [labels]}`` as ``abcd1234 AWSCURRENT | ef567890 AWSPREVIOUS``."""
    order = {"AWSCURRENT": 0, "AWSPENDING": 1, "AWSPREVIOUS": 2}
    items = sorted(labels.items(), key=lambda item: min(order.get(x, 9) for x in item[1]))
    return " | ".join(f"{short(version)} {','.join(tags)}" for version, tags in items)


class Output:
    """The command's voice: ``say`` for lines, ``document`` for the final JSON."""

    def __init__(self, mode: str, stdout: TextIO | None = None, stderr: TextIO | None = None):
        self.json = mode == "json"
        self.stdout = stdout if stdout is not None else sys.stdout
        self.stderr = stderr if stderr is not None else sys.stderr

    def say(self, text: str = "") -> None:
        """Print a human line: on stdout in text mode, as progress on stderr in JSON mode."""
        stream = self.stderr if self.json else self.stdout
        stream.write(redactor.redact(text) + "\n")
        stream.flush()

    def error(self, text: str) -> None:
        """Print one error line on stderr."""
        self.stderr.write(f"rotation: error: {redactor.redact(text)}\n")
        self.stderr.flush()

    def progress(
        self, clock: Callable[[], float] = time.monotonic, every: float = 10.0
    ) -> Progress:
        """Return a status line on stderr for work that takes a while."""
        return Progress(self.stderr, clock, every)

    def document(self, doc: dict[str, Any]) -> None:
        """Print the command's JSON document (JSON mode only)."""
        if self.json:
            text = json.dumps(doc, indent=2, sort_keys=False, default=str)
            self.stdout.write(redactor.redact(text) + "\n")
            self.stdout.flush()


class Progress:
    """A status line on stderr: rewritten in place on a terminal, else a line every ``every`` s.

    Progress never goes to stdout, so tables and JSON documents stay clean for pipes.
    """

    def __init__(self, stream: TextIO, clock: Callable[[], float], every: float) -> None:
        self.stream = stream
        self.clock = clock
        self.every = every
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        # Off a terminal the first line comes after ``every`` s: quick work leaves no trace.
        self._last = clock()
        self._shown = False

    def update(self, text: str) -> None:
        """Show ``text`` as the current state (on a terminal at once, elsewhere when due)."""
        text = redactor.redact(text)
        if self.tty:
            self.stream.write(f"\r{text}\033[K")
            self._shown = True
        else:
            now = self.clock()
            if now - self._last < self.every:
                return
            self._last = now
            self.stream.write(text + "\n")
        self.stream.flush()

    def clear(self) -> None:
        """Remove the status line from a terminal (before other output, and at the end)."""
        if self.tty and self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False


__all__ = ["MASK", "Output", "Progress", "fingerprint", "format_labels", "short"]
