"""Structured logging, metrics and redaction for rotation functions.

Logs are Powertools JSON lines; metrics are CloudWatch EMF lines. Two lines of defence keep
secret values out of both: nothing in the framework logs a secret, and :class:`Redactor`, a
filter on the log handler, replaces every secret value the handler has seen with ``***`` in
messages, extra keys and formatted tracebacks.

One process may run several invocations at once (the CLI's fleet commands, tests that run
handlers in threads), so nothing per invocation lives in the shared logger or metrics object:
an invocation's keys (correlation id, step, secret, engine) are held in a context variable,
which every thread and asyncio task has its own copy of, and added to each record by
:class:`InvocationContext`; each metrics document is built by an object of its own.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from rotation.core import metrics as names

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from aws_lambda_powertools import Logger

SERVICE = names.SERVICE
METRICS_NAMESPACE = names.NAMESPACE
MASK = "***"
# Shorter values are not redacted: masking "a" would shred every log line.
MIN_REDACTED_LENGTH = 4

_logger: Logger | None = None
_lock = threading.Lock()
_invocation: ContextVar[dict[str, Any] | None] = ContextVar("rotation_invocation", default=None)
_OUTCOMES = {"Succeeded": names.STEP_SUCCEEDED, "Failed": names.STEP_FAILED}


class Redactor(logging.Filter):
    """Replace known secret values in log records with ``***``."""

    def __init__(self) -> None:
        super().__init__()
        self._values: set[str] = set()

    def add(self, *values: object) -> None:
        """Register secret values to be masked from now on."""
        for value in values:
            if isinstance(value, str) and len(value) >= MIN_REDACTED_LENGTH:
                self._values.add(value)

    def finds(self, text: str) -> bool:
        """Tell whether ``text`` holds any registered value."""
        return any(value in text for value in self._values)

    def redact(self, text: str) -> str:
        """Return ``text`` with every registered value masked (longest first)."""
        for value in sorted(self._values, key=len, reverse=True):
            if value in text:
                text = text.replace(value, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102 (logging.Filter API)
        if not self._values:
            return True
        if isinstance(record.msg, str):
            record.msg = self.redact(record.getMessage())
            record.args = ()
        for key, value in list(record.__dict__.items()):
            if key not in _RESERVED and isinstance(value, str):
                setattr(record, key, self.redact(value))
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks carry driver messages; format now so the text can be redacted.
            record.exception = self.redact(_plain.formatException(record.exc_info))
            record.exception_name = type(record.exc_info[1]).__name__
            record.exc_info = None
            record.exc_text = None
        return True


class CurrentStdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that writes to whatever ``sys.stdout`` is at the time of each record.

    Powertools binds its handler to the stream of the moment the logger is created; a CLI or a
    test harness that redirects output later would otherwise lose the logs.
    """

    @property
    def stream(self) -> Any:
        """Return the current standard output."""
        return sys.stdout

    @stream.setter
    def stream(self, value: Any) -> None:  # the stream is always the current stdout
        pass


class InvocationContext(logging.Filter):
    """Add the keys of the invocation running in this thread (or task) to every record.

    Keys a call passes itself (``extra=``) win over the invocation's.
    """

    def filter(self, record: logging.LogRecord) -> bool:  # noqa: D102 (logging.Filter API)
        for key, value in (_invocation.get() or {}).items():
            if key not in record.__dict__:
                setattr(record, key, value)
        return True


def begin_invocation(**keys: Any) -> Token[dict[str, Any] | None]:
    """Start an invocation's log context in this thread; pass the token to end_invocation."""
    return _invocation.set(dict(keys))


def add_invocation_keys(**keys: Any) -> None:
    """Add keys to the log context of the invocation running in this thread."""
    current = _invocation.get()
    if current is None:
        _invocation.set(dict(keys))
    else:
        current.update(keys)  # this invocation's own dict, made by begin_invocation


def end_invocation(token: Token[dict[str, Any] | None]) -> None:
    """End an invocation's log context: restore what this thread had before it began."""
    _invocation.reset(token)


_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}
_plain = logging.Formatter()
redactor = Redactor()
invocation_context = InvocationContext()


def get_logger() -> Logger:
    """Return the framework's Powertools logger, creating it on first use."""
    global _logger
    with _lock:
        if _logger is None:
            from aws_lambda_powertools import Logger

            _logger = Logger(service=SERVICE, logger_handler=CurrentStdoutHandler())
            # On the logger, not a handler: every handler (the CLI adds one) sees the keys.
            logging.getLogger(_logger.name).addFilter(invocation_context)
            _logger.registered_handler.addFilter(redactor)
            quiet_sdk_loggers()
        return _logger


def with_lambda_context(
    handle: Callable[[Mapping[str, Any], Any], None],
) -> Callable[[Mapping[str, Any], Any], None]:
    """Wrap a handler so that its log lines carry the invocation's Lambda context.

    Powertools' ``inject_lambda_context`` adds ``function_request_id``, ``function_name``,
    ``function_arn``, ``function_memory_size`` and ``cold_start`` to every line
    (https://docs.aws.amazon.com/powertools/python/latest/core/logger/#capturing-lambda-context-info).
    It never logs the event here, whatever ``POWERTOOLS_LOGGER_LOG_EVENT`` says: an explicit
    ``log_event=False`` wins over the variable. Without a context (the CLI, tests calling the
    handler directly) there is nothing to add.
    """
    logger = get_logger()
    injected = logger.inject_lambda_context(handle, log_event=False)

    def invoke(event: Mapping[str, Any], context: Any = None) -> None:
        if context is None:
            handle(event, context)
        else:
            injected(event, context)

    return invoke


def quiet_sdk_loggers() -> None:
    """Hold the AWS SDK's loggers at WARNING, whatever the function's log level.

    botocore logs request and response bodies, secret values included, at DEBUG.
    """
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def record_step(engine: str, step: str, outcome: str, duration_ms: float) -> None:
    """Emit the step's outcome count and duration as EMF documents (see rotation.core.metrics).

    One document by engine and step; inside Lambda a second one, the outcome count by function,
    which the template's per-function alarm watches. ``outcome`` is Succeeded or Failed.
    """
    from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    if is_metrics_disabled():
        return
    name = _OUTCOMES[outcome]
    # A new object per document: a shared Metrics object keeps its dimensions between calls,
    # so concurrent invocations would mix their engines and steps.
    by_step = EphemeralMetrics(namespace=names.NAMESPACE, service=names.SERVICE)
    by_step.add_dimension(name="engine", value=engine)
    by_step.add_dimension(name="step", value=step)
    by_step.add_metric(name=name, unit=MetricUnit.Count, value=1)
    by_step.add_metric(name=names.STEP_DURATION, unit=MetricUnit.Milliseconds, value=duration_ms)
    documents = [by_step.serialize_metric_set()]
    function = os.environ.get(names.FUNCTION_NAME_VARIABLE)
    if function:
        by_function = EphemeralMetrics(namespace=names.NAMESPACE, service=names.SERVICE)
        by_function.add_dimension(name="function", value=function)
        by_function.add_metric(name=name, unit=MetricUnit.Count, value=1)
        documents.append(by_function.serialize_metric_set())
    # One write per line (print() writes the newline apart), so lines of concurrent
    # invocations never run into each other; stdout of the moment, as Powertools prints.
    sys.stdout.write("".join(json.dumps(d, separators=(",", ":")) + "\n" for d in documents))
    sys.stdout.flush()


def secret_strings(value: Any, keys: Iterable[str]) -> list[str]:
    """Return the values of ``keys`` in a decoded secret, for registration with the redactor."""
    if not isinstance(value, dict):
        return []
    return [value[k] for k in keys if isinstance(value.get(k), str)]
