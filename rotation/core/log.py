"""Structured logging, metrics and redaction for rotation functions.

Logs are Powertools JSON lines; metrics are CloudWatch EMF lines. Two lines of defence keep
secret values out of both: nothing in the framework logs a secret, and :class:`Redactor`, a
filter on the log handler, replaces every secret value the handler has seen with ``***`` in
messages, extra keys and formatted tracebacks.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from aws_lambda_powertools import Logger, Metrics

SERVICE = "rotation"
METRICS_NAMESPACE = "SecretsRotation"
MASK = "***"
# Shorter values are not redacted: masking "a" would shred every log line.
MIN_REDACTED_LENGTH = 4

_logger: Logger | None = None
_metrics: Metrics | None = None
_lock = threading.Lock()


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


_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message"}
_plain = logging.Formatter()
redactor = Redactor()


def get_logger() -> Logger:
    """Return the framework's Powertools logger, creating it on first use."""
    global _logger
    with _lock:
        if _logger is None:
            from aws_lambda_powertools import Logger

            _logger = Logger(service=SERVICE, logger_handler=CurrentStdoutHandler())
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


def get_metrics() -> Metrics:
    """Return the framework's Powertools metrics, creating them on first use."""
    global _metrics
    with _lock:
        if _metrics is None:
            from aws_lambda_powertools import Metrics

            _metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE)
        return _metrics


def record_step(engine: str, step: str, outcome: str, duration_ms: float) -> None:
    """Emit one EMF document: the step's outcome count and duration, by engine and step."""
    from aws_lambda_powertools.metrics import MetricUnit
    from aws_lambda_powertools.metrics.functions import is_metrics_disabled

    if is_metrics_disabled():
        # Powertools would stop flushing but keep accumulating values in a warm container.
        return
    metrics = get_metrics()
    metrics.add_dimension(name="engine", value=engine)
    metrics.add_dimension(name="step", value=step)
    metrics.add_metric(name=f"Step{outcome}", unit=MetricUnit.Count, value=1)
    metrics.add_metric(name="StepDuration", unit=MetricUnit.Milliseconds, value=duration_ms)
    metrics.flush_metrics()


def secret_strings(value: Any, keys: Iterable[str]) -> list[str]:
    """Return the values of ``keys`` in a decoded secret, for registration with the redactor."""
    if not isinstance(value, dict):
        return []
    return [value[k] for k in keys if isinstance(value.get(k), str)]
