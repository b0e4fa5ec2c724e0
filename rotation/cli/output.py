"""What the CLI prints: human lines or one JSON document, never a password.

Text mode writes lines to stdout as the work happens. JSON mode writes the same lines to
stderr as progress and, at the end, exactly one JSON document to stdout. Everything written
passes through the framework's redactor, so a password that slipped into a message is masked.
"""

from __future__ import annotations

import hashlib
import json
import sys
from typing import Any, TextIO

from rotation.core.log import MASK, redactor


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

    def document(self, doc: dict[str, Any]) -> None:
        """Print the command's JSON document (JSON mode only)."""
        if self.json:
            text = json.dumps(doc, indent=2, sort_keys=False, default=str)
            self.stdout.write(redactor.redact(text) + "\n")
            self.stdout.flush()


__all__ = ["MASK", "Output", "fingerprint", "format_labels", "short"]
