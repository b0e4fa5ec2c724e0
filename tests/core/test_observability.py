"""Structured logs, EMF metrics and redaction."""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from typing import Any

import pytest

from rotation.core import log
from rotation.core import metrics as names
from rotation.core.config import Settings
from rotation.core.errors import LoginFailedError
from rotation.core.handler import Rotation
from rotation.local import driver
from rotation.local import secretsmanager as sm
from rotation.testing.fake import FakeDatabase, FakeDatabaseHandler
from tests.core.conftest import fake_secret


def json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_logs_carry_token_step_secret_and_engine(
    handler: FakeDatabaseHandler, client: Any, secret_arn: str, capfd: pytest.CaptureFixture[str]
) -> None:
    token = driver.rotate(handler, client, secret_arn)
    records = [r for r in json_lines(capfd.readouterr().out) if "level" in r]
    assert {r["step"] for r in records} == {
        "createSecret",
        "setSecret",
        "testSecret",
        "finishSecret",
    }
    for record in records:
        assert record["correlation_id"] == token
        assert record["secret_arn"] == secret_arn
        assert record["engine"] == "fake"
        assert record["service"] == "rotation"


def test_metrics_report_outcome_and_duration_per_engine_and_step(
    handler: FakeDatabaseHandler,
    client: Any,
    db: FakeDatabase,
    secret_arn: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    driver.rotate(handler, client, secret_arn)
    db.passwords["app"] = "changed-behind-our-back"
    db.passwords["app"] = "changed-again"
    with pytest.raises(LoginFailedError):
        driver.rotate(handler, client, secret_arn)
    documents = [d for d in json_lines(capfd.readouterr().out) if "_aws" in d]
    # Outside Lambda (no AWS_LAMBDA_FUNCTION_NAME) only the documents by engine and step.
    assert all("step" in d for d in documents)
    outcomes = [(d["step"], "StepSucceeded" in d, "StepFailed" in d) for d in documents]
    assert outcomes[:4] == [
        (s, True, False) for s in ("createSecret", "setSecret", "testSecret", "finishSecret")
    ]
    assert ("setSecret", False, True) in outcomes[4:]
    for document in documents:
        directive = document["_aws"]["CloudWatchMetrics"][0]
        assert directive["Namespace"] == "SecretsRotation"
        assert directive["Dimensions"] == [list(names.STEP_DIMENSIONS)]
        assert document["engine"] == "fake"
        assert document["StepDuration"][0] >= 0


def test_redactor_masks_messages_arguments_extras_and_tracebacks(
    capfd: pytest.CaptureFixture[str],
) -> None:
    secret = "Redact-me-please-123"
    log.redactor.add(secret)
    logger = log.get_logger()
    logger.info("message with %s inside", secret, extra={"detail": f"x{secret}y"})
    try:
        raise ValueError(f"driver said {secret}")
    except ValueError:
        logger.exception("failure")
    out = capfd.readouterr().out
    assert secret not in out
    records = json_lines(out)
    assert records[0]["message"] == "message with *** inside"
    assert records[0]["detail"] == "x***y"
    assert "driver said ***" in records[1]["exception"]


def test_short_values_are_not_redacted() -> None:
    redactor = log.Redactor()
    redactor.add("abc", None, 5)
    assert redactor.redact("abc") == "abc"


def test_botocore_is_held_at_warning() -> None:
    logging.getLogger("botocore").setLevel(logging.DEBUG)
    log.quiet_sdk_loggers()
    assert logging.getLogger("botocore").level == logging.WARNING


def test_disabled_metrics_are_neither_printed_nor_accumulated(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    for _ in range(120):  # past Powertools' 100-value auto-flush
        log.record_step("fake", "setSecret", "Succeeded", 1.0)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED")
    log.record_step("fake", "testSecret", "Failed", 2.0)
    [document] = [d for d in json_lines(capfd.readouterr().out) if "_aws" in d]
    # Nothing from the disabled calls was kept for a later document.
    assert document["StepFailed"] == [1.0]
    assert "StepSucceeded" not in document
    assert document["StepDuration"] == [2.0]


def test_inside_lambda_each_outcome_is_also_counted_by_function(
    handler: FakeDatabaseHandler,
    client: Any,
    db: FakeDatabase,
    secret_arn: str,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The template's per-function alarm watches exactly this metric (tests/sam checks it)."""
    monkeypatch.setenv(names.FUNCTION_NAME_VARIABLE, "rotation-MyFunction")
    db.passwords["app"] = "changed-behind-our-back"
    with pytest.raises(LoginFailedError):
        driver.rotate(handler, client, secret_arn)
    documents = [d for d in json_lines(capfd.readouterr().out) if "_aws" in d]
    by_function = [d for d in documents if "function" in d]
    assert [d["_aws"]["CloudWatchMetrics"][0]["Dimensions"] for d in by_function] == [
        [list(names.FUNCTION_DIMENSIONS)]
    ] * 2  # createSecret succeeded, setSecret failed
    assert [(names.STEP_SUCCEEDED in d, names.STEP_FAILED in d) for d in by_function] == [
        (True, False),
        (False, True),
    ]
    for document in by_function:
        assert document["function"] == "rotation-MyFunction"
        assert document["service"] == names.SERVICE
        assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == names.NAMESPACE


THREADS = 8


class BarrierHandler(FakeDatabaseHandler):
    """Wait in setSecret until every thread is inside an invocation, so their logs interleave."""

    barrier = threading.Barrier(THREADS, timeout=60)

    def set_secret(self, rotation: Rotation) -> None:
        self.logger.info("before the barrier")
        self.barrier.wait()
        self.logger.info("after the barrier")
        super().set_secret(rotation)


class Lines(logging.Handler):
    """Keep every formatted line with the thread that logged it."""

    def __init__(self, formatter: logging.Formatter) -> None:
        super().__init__()
        self.setFormatter(formatter)
        self.lines: list[tuple[int, dict[str, Any]]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append((threading.get_ident(), json.loads(self.format(record))))


def test_concurrent_invocations_log_their_own_keys(
    client: Any, capfd: pytest.CaptureFixture[str]
) -> None:
    logger = log.get_logger()
    lines = Lines(logger.registered_handler.formatter)
    std_logger = logging.getLogger(logger.name)
    std_logger.addHandler(lines)
    BarrierHandler.barrier.reset()
    rotations: dict[int, tuple[str, str]] = {}  # thread -> (secret ARN, token)
    errors: list[BaseException] = []

    def rotate(number: int) -> None:
        db = FakeDatabase(host=f"db{number}.example")
        db.add_user("app", f"Initial-password-{number}")
        value = fake_secret(db, password=f"Initial-password-{number}")
        arn = client.create_secret(Name=f"app{number}", SecretString=json.dumps(value))["ARN"]
        handler = BarrierHandler(strategy="single", settings=Settings(), client=client, database=db)
        try:
            rotations[threading.get_ident()] = (arn, driver.rotate(handler, client, arn))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=rotate, args=(n,)) for n in range(THREADS)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        std_logger.removeHandler(lines)
    assert not errors
    assert len(rotations) == THREADS
    per_thread = Counter(thread for thread, _ in lines.lines)
    assert set(per_thread) == set(rotations)
    for thread, record in lines.lines:
        arn, token = rotations[thread]
        assert record["correlation_id"] == token, record
        assert record["secret_id"] == arn, record
        assert record["secret_arn"] == arn, record
        assert record["engine"] == "fake", record
        assert record["step"] in {"createSecret", "setSecret", "testSecret", "finishSecret"}
    after = [(t, r["step"]) for t, r in lines.lines if r["message"] == "after the barrier"]
    assert sorted(t for t, _ in after) == sorted(rotations)
    assert {step for _, step in after} == {"setSecret"}
    # Each metrics document is one invocation's step: no value of another one mixed in.
    documents = [d for d in json_lines(capfd.readouterr().out) if "_aws" in d]
    assert Counter(d["step"] for d in documents) == dict.fromkeys(
        ("createSecret", "setSecret", "testSecret", "finishSecret"), THREADS
    )
    for document in documents:
        assert document["StepSucceeded"] == [1.0]
        assert len(document["StepDuration"]) == 1
    # Nothing is left behind for what this thread logs next.
    logger.info("outside any invocation")
    [record] = json_lines(capfd.readouterr().out)
    assert not {"correlation_id", "step", "secret_id", "secret_arn", "engine"} & set(record)


class FakeLambdaContext:
    """The attributes of the Python runtime's context object that Powertools reads."""

    function_name = "rotation-SecretsManagerRDSPostgreSQLRotationSingleUser"
    memory_limit_in_mb = "256"
    invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{function_name}"

    def __init__(self, request_id: str) -> None:
        self.aws_request_id = request_id


def test_lambda_entry_logs_carry_the_lambda_context_and_never_the_event(
    monkeypatch: pytest.MonkeyPatch,
    client: Any,
    db: FakeDatabase,
    secret_arn: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    # Asking Powertools to log events must not make the rotation functions log theirs.
    monkeypatch.setenv("POWERTOOLS_LOGGER_LOG_EVENT", "true")
    # A fresh container: Powertools keeps the cold start flag per process.
    monkeypatch.setattr("aws_lambda_powertools.logging.logger.is_cold_start", True)
    entry = FakeDatabaseHandler.bound_to(db).lambda_handler(strategy="single", client=client)
    token = sm.begin_rotation(client, secret_arn)
    for number, step in enumerate(driver.STEPS):
        entry(driver.event(secret_arn, token, step), FakeLambdaContext(f"request-{number}"))
    records = [r for r in json_lines(capfd.readouterr().out) if "level" in r]
    assert records
    by_step = {r["step"]: r for r in records}
    for number, step in enumerate(driver.STEPS):
        record = by_step[str(step)]
        assert record["function_request_id"] == f"request-{number}"
        assert record["function_name"] == FakeLambdaContext.function_name
        assert record["function_arn"] == FakeLambdaContext.invoked_function_arn
        assert record["function_memory_size"] == "256"
        assert record["correlation_id"] == token
    # cold_start is true only for the container's first invocation.
    assert {r["cold_start"] for r in records if r["function_request_id"] == "request-0"} == {True}
    assert {r["cold_start"] for r in records if r["function_request_id"] != "request-0"} == {False}
    for record in records:
        assert "ClientRequestToken" not in json.dumps(record)  # no event dump
        assert not isinstance(record["message"], dict)
