"""Keep secret values out of the exceptions that leave a rotation.

A hook may raise anything, and a service's own client library may echo what it was sent (a
password in ``ALTER USER``, a request body). The log lines are masked by the redactor, but the
exception itself reaches Lambda, which prints its message, args, notes and whole chain. So what
leaves :meth:`RotationHandler.handle` is checked here: an exception (with its causes, contexts and
notes) that holds no registered secret value leaves unchanged; one that does is replaced by a
copy chain with the values masked — a :class:`~rotation.core.errors.RotationError` keeps its
class, anything else becomes a :class:`~rotation.core.errors.ServiceError` naming the original
type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rotation.core.errors import RotationError, ServiceError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rotation.core.log import Redactor


def chain(exc: BaseException) -> Iterator[BaseException]:
    """Yield ``exc`` and every exception it links to (causes and contexts), each once."""
    seen: set[int] = set()
    pending = [exc]
    while pending:
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        pending.extend(e for e in (item.__cause__, item.__context__) if e is not None)
        group = getattr(item, "exceptions", None)  # ExceptionGroup members
        if isinstance(group, tuple):
            pending.extend(e for e in group if isinstance(e, BaseException))


def texts(exc: BaseException) -> list[str]:
    """Return everything of one exception that may be printed: message, args, notes."""
    found = [_safe_str(exc), *(_text(arg) for arg in exc.args)]
    found.extend(_text(note) for note in getattr(exc, "__notes__", ()))
    return found


def leaks(exc: BaseException, redactor: Redactor) -> bool:
    """Tell whether ``exc`` or anything chained to it holds a registered secret value."""
    return any(redactor.finds(text) for item in chain(exc) for text in texts(item))


def scrubbed(exc: BaseException, redactor: Redactor) -> BaseException:
    """Return ``exc`` when it holds no secret value, else a copy chain with the values masked."""
    if not leaks(exc, redactor):
        return exc
    return _copy(exc, redactor, {})


def _copy(exc: BaseException, redactor: Redactor, done: dict[int, BaseException]) -> BaseException:
    if id(exc) in done:
        return done[id(exc)]
    message = redactor.redact(_safe_str(exc))
    clean: BaseException
    if isinstance(exc, RotationError):
        # Same class, so callers that catch it still do; only its text is replaced.
        clean = type(exc).__new__(type(exc))
        clean.args = (message,)
    else:
        clean = ServiceError(f"{type(exc).__name__}: {message}")
    done[id(exc)] = clean
    notes = [redactor.redact(_text(note)) for note in getattr(exc, "__notes__", ())]
    if notes:
        clean.__notes__ = notes
    linked = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
    clean.__cause__ = _copy(linked, redactor, done) if linked is not None else None
    clean.__suppress_context__ = True
    clean.__context__ = None
    clean.__traceback__ = exc.__traceback__  # frames and line numbers, no values
    return clean


def _safe_str(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # a broken __str__ must not hide the failure
        return type(exc).__name__


def _text(item: object) -> str:
    if isinstance(item, bytes | bytearray):
        return bytes(item).decode("utf-8", "replace")
    try:
        return str(item)
    except Exception:
        return type(item).__name__
