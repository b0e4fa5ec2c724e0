"""The conformance suite for any RotationHandler subclass: your own service's rotation.

Hook a service up with a backend (an object with the attributes and methods of
:class:`ServiceBackend`) and a test class::

    class TestMyService(ServiceConformance):
        @pytest.fixture(scope="class")
        @classmethod
        def backend(cls):
            return MyServiceBackend(...)

The backend creates a credential on the real service (and, where the service needs one, an
admin credential), says whether a secret value works, and removes what it created. The suite
runs the handler's four steps against moto's Secrets Manager the way the service invokes them
(:mod:`rotation.local.driver`) and checks the protocol's rules, naming the rule when one breaks:

* full rotations, twice: the new credential works; with one credential the old one is rejected
  after setSecret, with dual credentials both work until finishSecret and the old one is
  rejected after it; the labels end valid;
* every step twice in a row changes nothing the second time (idempotent steps);
* a crash after every Secrets Manager call and after every call the handler makes on a
  service session, then a retry with the same token, ends in the same state (crash safety);
* a current secret that does not work changes nothing;
* no secret value reaches the captured output.

Needs pytest and moto (``pip install "rotation[testing]"``). Clean-up runs whatever a test did.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol

import pytest

from rotation.core.event import Step
from rotation.core.staging import AWSCURRENT, AWSPENDING, AWSPREVIOUS
from rotation.local import driver
from rotation.local import secretsmanager as sm

if TYPE_CHECKING:
    from rotation.core.config import Settings
    from rotation.core.handler import RotationHandler

REGION = "us-east-1"


class ServiceBackend(Protocol):
    """What the suite needs to know about, and do to, one service."""

    #: The handler class under test.
    handler_class: type[RotationHandler]
    #: The strategy its function uses: ``single`` or ``dual`` (or ``alternating``).
    strategy: str

    def settings(self) -> Settings:
        """Return the handler settings."""
        ...

    def create(self, name: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """Create a credential named ``name`` on the service.

        Returns:
            The secret value that holds it, and the admin secret's value when the service's
            secrets need one (the suite stores it and sets ``masterarn``), else None.
        """
        ...

    def works(self, value: dict[str, Any]) -> bool:
        """Tell whether the credentials in a secret value are accepted by the service."""
        ...

    def remove(self, name: str) -> None:
        """Remove everything :meth:`create` made for ``name`` (and anything rotation added)."""
        ...

    # Optional: ``handler(strategy=..., settings=..., client=...)`` builds the handler, for
    # classes whose constructor takes more (the suite calls ``handler_class(...)`` otherwise).


class InjectedCrashError(Exception):
    """The failure the crash tests raise to simulate a crash."""


class RuleBrokenError(AssertionError):
    """A protocol rule the handler broke; the message names it."""


def rule(name: str, condition: bool, detail: str) -> None:
    """Fail with the rule's name when ``condition`` does not hold."""
    if not condition:
        raise RuleBrokenError(f"rule broken: {name}: {detail}")


class Case:
    """One credential, its secret(s) in moto and the handler, for one test."""

    def __init__(self, backend: ServiceBackend, client: Any) -> None:
        self.backend = backend
        self.client = client
        self.name = f"rot{uuid.uuid4().hex[:10]}"
        self.value, admin = backend.create(self.name)
        if admin is not None:
            admin_arn = client.create_secret(
                Name=f"{self.name}-admin", SecretString=json.dumps(admin)
            )["ARN"]
            self.value = {**self.value, "masterarn": admin_arn}
        self.arn: str = client.create_secret(Name=self.name, SecretString=json.dumps(self.value))[
            "ARN"
        ]

    def handler(self) -> RotationHandler:
        """Build the handler under test on the moto client (``backend.handler()`` if it has one)."""
        options: dict[str, Any] = {
            "strategy": self.backend.strategy,
            "settings": self.backend.settings(),
            "client": self.client,
        }
        build = getattr(self.backend, "handler", None)
        if callable(build):  # handlers whose constructor takes more, e.g. the service's client
            built: RotationHandler = build(**options)
            return built
        return self.backend.handler_class(**options)

    def at(self, stage: str) -> dict[str, Any]:
        """Return the decoded secret value at a stage."""
        result: dict[str, Any] = json.loads(sm.value_at(self.client, self.arn, stage))
        return result

    def labels(self) -> dict[str, list[str]]:
        """Return the secret's labelled versions."""
        return sm.labels(self.client, self.arn)


def counting_sessions(handler: RotationHandler, after_call: Callable[[str], None]) -> None:
    """Make every call on a session the handler opens report itself after it returns.

    The handler's ``connect`` is wrapped (on the instance) so that the session it yields is a
    proxy: each method call on it runs, then ``after_call(name)`` — which the crash tests use to
    crash right after the service changed.
    """
    original = handler.connect

    @contextmanager
    def connect(secret: Any) -> Iterator[Any]:
        with original(secret) as session:
            yield _Counting(session, after_call)

    handler.connect = connect  # type: ignore[method-assign]


class _Counting:
    def __init__(self, target: Any, after_call: Callable[[str], None]) -> None:
        self._target = target
        self._after_call = after_call

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._target, name)
        if not callable(value):
            return value

        def call(*args: Any, **kwargs: Any) -> Any:
            result = value(*args, **kwargs)
            self._after_call(name)
            return result

        return call


class ServiceConformance:
    """Mix-in of protocol tests for a service handler; subclasses provide ``backend``."""

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls) -> Iterator[ServiceBackend]:
        """Provide the service's backend (override in the service's test class)."""
        raise NotImplementedError("service conformance classes must provide a backend fixture")

    @pytest.fixture
    def client(self) -> Iterator[Any]:
        """Provide a moto Secrets Manager client."""
        import boto3
        from moto import mock_aws

        with mock_aws():
            yield boto3.client("secretsmanager", region_name=REGION)

    @pytest.fixture
    def case(self, backend: ServiceBackend, client: Any) -> Iterator[Case]:
        """Provide a fresh credential with its secret; remove it whatever the test did."""
        made = Case(backend, client)
        try:
            yield made
        finally:
            backend.remove(made.name)

    # -- rotations ------------------------------------------------------------------------------

    def test_rotates_twice_and_the_right_credentials_work(
        self, backend: ServiceBackend, case: Case
    ) -> None:
        """After each rotation the new credential works and the old one no longer does."""
        handler = case.handler()
        dual = backend.strategy == "dual"
        old = case.value
        for _ in range(2):
            token = driver.rotate(handler, case.client, case.arn, steps=[Step.CREATE, Step.SET])
            pending = case.at(AWSPENDING)
            rule(
                "setSecret makes the pending credential work",
                backend.works(pending),
                "the service rejects the pending secret after setSecret",
            )
            rule(
                "dual credentials keep the current one until the switch"
                if dual
                else "a single credential is replaced at setSecret",
                backend.works(old) is dual,
                f"the old credential {'stopped' if dual else 'still'} work(s) after setSecret",
            )
            driver.rotate(
                handler, case.client, case.arn, token=token, steps=[Step.TEST, Step.FINISH]
            )
            current = case.at(AWSCURRENT)
            rule(
                "finishSecret makes the pending version current",
                current == pending,
                "AWSCURRENT does not hold the tested value",
            )
            rule("the new credential works", backend.works(current), "rejected after finish")
            rule(
                "the old credential is gone after the rotation",
                not backend.works(old),
                "the previous credential still works after finishSecret",
            )
            labels = case.labels()
            rule(
                "labels end valid",
                AWSCURRENT in labels[token]
                and all(
                    AWSPENDING not in stages or version == token
                    for version, stages in labels.items()
                ),
                f"labels are {labels}",
            )
            old = current
        rule("AWSPREVIOUS holds the replaced value", case.at(AWSPREVIOUS) != old, "it does not")

    def test_every_step_twice_changes_nothing_the_second_time(
        self, backend: ServiceBackend, case: Case
    ) -> None:
        """Secrets Manager may run any step again: each must be idempotent."""
        handler = case.handler()
        token = sm.begin_rotation(case.client, case.arn)
        for step in driver.STEPS:
            for attempt in (1, 2):
                try:
                    handler.handle(driver.event(case.arn, token, step))
                except Exception as exc:
                    rule(
                        f"{step} is idempotent",
                        False,
                        f"run {attempt} of {step} raised {type(exc).__name__}: {exc}",
                    )
            if step is Step.SET:
                rule(
                    f"{step} is idempotent",
                    backend.works(case.at(AWSPENDING)),
                    "the pending credential does not work after setSecret ran twice",
                )
        rule(
            "a rotation run step by step twice completes",
            backend.works(case.at(AWSCURRENT)),
            "the current credential does not work",
        )
        rule(
            "the old credential is gone after the rotation",
            not backend.works(case.value),
            "the original credential still works",
        )

    @pytest.mark.parametrize("where", ["secrets manager", "service"])
    def test_a_crash_after_any_call_then_a_retry_converges(
        self, backend: ServiceBackend, client: Any, where: str
    ) -> None:
        """Crash after the n-th call (for every n), retry with the same token: same end state."""
        crash_at = 0
        while True:
            crash_at += 1
            case = Case(backend, client)
            try:
                calls = 0

                def count(name: str, limit: int = crash_at) -> None:
                    nonlocal calls
                    calls += 1
                    if calls == limit:
                        raise InjectedCrashError(f"crash after call {limit} ({name})")

                handler = case.handler()
                if where == "service":
                    counting_sessions(handler, count)
                else:
                    handler.secrets.call_listener = count
                token = str(uuid.uuid4())
                crashed = False
                try:
                    driver.rotate(handler, client, case.arn, token=token)
                except InjectedCrashError:
                    crashed = True
                except Exception as exc:  # a crash must surface as such, not as another error
                    rule(
                        "a crash is reported as what it was",
                        False,
                        f"after a crash at call {crash_at}: {type(exc).__name__}: {exc}",
                    )
                retry = case.handler()
                try:
                    driver.rotate(retry, client, case.arn, token=token)
                except Exception as exc:
                    rule(
                        f"crash-safe: a retry after a crash at {where} call {crash_at} completes",
                        False,
                        f"{type(exc).__name__}: {exc}",
                    )
                current = case.at(AWSCURRENT)
                rule(
                    f"crash-safe: after a crash at {where} call {crash_at} the new credential "
                    "works",
                    backend.works(current),
                    "it is rejected",
                )
                rule(
                    f"crash-safe: after a crash at {where} call {crash_at} the old credential "
                    "is gone",
                    not backend.works(case.value),
                    "it still works",
                )
                rule(
                    "crash-safe: the retried version is current",
                    AWSCURRENT in case.labels()[token],
                    f"labels are {case.labels()}",
                )
            finally:
                backend.remove(case.name)
            if not crashed:
                return  # every call point has been crashed at

    def test_a_current_secret_that_does_not_work_changes_nothing(
        self, backend: ServiceBackend, case: Case
    ) -> None:
        """Nothing acts on the word of a secret whose own credentials are rejected."""
        broken = {**case.value, "password": "Not-the-password-1"}
        for _ in range(2):  # AWSPREVIOUS too must not work
            case.client.put_secret_value(SecretId=case.arn, SecretString=json.dumps(broken))
        with pytest.raises(Exception):  # noqa: B017, PT011 -- which error is the handler's choice
            driver.rotate(case.handler(), case.client, case.arn)
        rule(
            "a refused rotation changes nothing",
            backend.works(case.value),
            "the service's credential changed although the secret did not work",
        )
        rule(
            "a refused rotation changes nothing",
            case.at(AWSCURRENT) == broken,
            "AWSCURRENT changed",
        )

    def test_no_secret_value_in_the_output(
        self, case: Case, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
    ) -> None:
        """Logs and output never carry a password, old or new."""
        driver.rotate(case.handler(), case.client, case.arn)
        captured = capsys.readouterr()
        text = captured.out + captured.err + caplog.text
        for value in (case.value, case.at(AWSCURRENT)):
            rule(
                "no secret value in the output",
                value["password"] not in text,
                "a password appears in the logs",
            )
