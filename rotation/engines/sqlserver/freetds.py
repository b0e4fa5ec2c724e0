"""What pymssql's bundled FreeTDS needs around it: certificate checks and error numbers.

FreeTDS verifies a server certificate only when its configuration file names a ``ca file``, and
pymssql has no argument for one. :func:`verifying_ca` points ``FREETDSCONF`` at a generated file
for the duration of one connect. pymssql's errors carry FreeTDS's and the server's numbers in
ways that need untangling (:func:`number_and_text`).
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

SERVER_MESSAGE = "20018"  # FreeTDS: the server sent an error message
_DBLIB_NOISE = "DB-Lib error message"
_FREETDS_FIRST = re.compile(r"DB-Lib error message (\d+)")
_lock = threading.Lock()  # FREETDSCONF is process-wide; connects that set it take turns
_conf_files: dict[str, str] = {}


def number_and_text(exc: BaseException) -> tuple[int | None, str]:
    """Return the error number and message of a pymssql error.

    Query errors carry ``(number, message)``; connect errors wrap that pair in one more tuple.
    """
    args: tuple[Any, ...] = exc.args
    if len(args) == 1 and isinstance(args[0], tuple):
        args = args[0]
    if len(args) >= 2 and isinstance(args[0], int):
        raw = args[1]
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        # pymssql reports the number of the last server message the process saw, even one from
        # an earlier connection. Unless FreeTDS's first word is 20018 ("check messages from the
        # server") or a server message leads the text, FreeTDS's own number (20009 unreachable,
        # 20002 TLS or protocol failure) is the cause, not a stale 18456.
        freetds = _FREETDS_FIRST.match(text)
        if freetds and freetds.group(1) != SERVER_MESSAGE:
            return int(freetds.group(1)), text
        return args[0], text
    return None, str(exc)


def first_line(text: str) -> str:
    """Return the first line of an error text, without FreeTDS's trailing messages."""
    line = text.split(_DBLIB_NOISE)[0].strip() or text.strip()
    return line.splitlines()[0] if line else ""


def _conf_for(ca_file: str) -> str:
    """Return the path of a FreeTDS configuration that verifies certificates with ``ca_file``."""
    path = _conf_files.get(ca_file)
    if path is None:
        handle, path = tempfile.mkstemp(prefix="rotation-freetds-", suffix=".conf")
        with os.fdopen(handle, "w") as conf:
            conf.write(f"[global]\n\tca file = {ca_file}\n\tcheck certificate hostname = yes\n")
        _conf_files[ca_file] = path
    return path


@contextmanager
def verifying_ca(ca_file: str) -> Iterator[None]:
    """Make connects inside the block check the chain against ``ca_file`` and the host name."""
    with _lock:
        previous = os.environ.get("FREETDSCONF")
        os.environ["FREETDSCONF"] = _conf_for(ca_file)
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("FREETDSCONF", None)
            else:
                os.environ["FREETDSCONF"] = previous
