"""The conformance suite every engine, and any custom database handler, must pass.

Hook an engine up by writing a backend (an object with the attributes and methods of
:class:`ConformanceBackend`) and a test class::

    class TestMyEngine(EngineConformance):
        @pytest.fixture(scope="class")
        @classmethod
        def backend(cls):
            yield MyBackend(...)

The suite runs full rotations through the engine's real handler against moto's Secrets Manager,
driving the four steps the way the service does (:mod:`rotation.local.driver`). It
checks logins before and after, labels, privilege parity of alternating users, the absence of
failed logins in a normal rotation, crash-and-retry convergence after every database statement
and every Secrets Manager call, hostile user names, refusals that change nothing, and that no
password reaches the captured output.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import pytest

from rotation.core.config import Settings
from rotation.core.database import DatabaseHandler
from rotation.core.errors import (
    LoginFailedError,
    SecretMismatchError,
    SecretTestFailedError,
    UsernameTooLongError,
)
from rotation.core.event import Step
from rotation.core.password import generate_password
from rotation.core.staging import AWSCURRENT, AWSPENDING, AWSPREVIOUS
from rotation.local import driver
from rotation.local import secretsmanager as sm

REGION = "us-east-1"


class ConformanceBackend(Protocol):
    """What the suite needs to know about, and do to, one engine's server."""

    #: The handler class under test.
    handler_class: type[DatabaseHandler[Any]]
    #: The value of the secret's ``engine`` key.
    engine_value: str
    #: User names the engine must rotate; include quotes, backslash, ``%``, ``;``, spaces,
    #: non-ASCII where the engine allows them, and one at the engine's length limit less the
    #: clone suffix (so that alternating users fit).
    hostile_usernames: Sequence[str]

    def settings(self) -> Settings:
        """Return the handler settings (CA file, timeouts)."""
        ...

    def connection_fields(self) -> dict[str, Any]:
        """Return the secret keys that locate the server: host, port, dbname, ssl."""
        ...

    def admin_login(self) -> tuple[str, str]:
        """Return the admin's user name and password."""
        ...

    def create_user(self, username: str, password: str) -> None:
        """Create a login with a representative set of privileges (out of band, as admin)."""
        ...

    def drop_user(self, username: str) -> None:
        """Drop a user if it exists."""
        ...

    def can_login(self, username: str, password: str) -> bool:
        """Tell whether the server accepts these credentials."""
        ...

    def privileges(self, username: str) -> frozenset[str]:
        """Return the user's privileges, normalised so that a faithful clone's are equal."""
        ...

    def failed_logins(self) -> int | None:
        """Return the server's count of rejected logins, or None when it cannot be observed."""
        ...


class InjectedCrashError(Exception):
    """The failure fault-injection tests raise to simulate a crash."""


def unique_name(prefix: str = "app") -> str:
    """Return a fresh user name."""
    return f"{prefix}{uuid.uuid4().hex[:10]}"


class Scenario:
    """One user, its secret(s) and the handler, for one test."""

    def __init__(self, backend: ConformanceBackend, client: Any, username: str) -> None:
        self.backend = backend
        self.client = client
        self.username = username
        cls = backend.handler_class
        self.password = generate_password(Settings().password_policy(cls.password_defaults))
        backend.create_user(username, self.password)
        self.base = {"engine": backend.engine_value, **backend.connection_fields()}
        name = f"conformance/{uuid.uuid4().hex[:8]}"
        self.secret_value = {**self.base, "username": username, "password": self.password,
                             "kept": "unknown keys survive"}  # fmt: skip
        self.arn = client.create_secret(Name=name, SecretString=json.dumps(self.secret_value))[
            "ARN"
        ]
        self.admin_arn: str | None = None

    def with_admin(self) -> Scenario:
        """Add an admin secret and point the user secret at it (alternating users)."""
        admin_user, admin_password = self.backend.admin_login()
        admin_value = {**self.base, "username": admin_user, "password": admin_password}
        self.admin_arn = self.client.create_secret(
            Name=f"conformance-admin/{uuid.uuid4().hex[:8]}", SecretString=json.dumps(admin_value)
        )["ARN"]
        self.secret_value["masterarn"] = self.admin_arn
        self.client.put_secret_value(SecretId=self.arn, SecretString=json.dumps(self.secret_value))
        return self

    def handler(self, strategy: str) -> DatabaseHandler[Any]:
        """Build the engine's handler for a strategy, on the moto client."""
        return self.backend.handler_class(
            strategy=strategy, settings=self.backend.settings(), client=self.client
        )

    def value(self, stage: str) -> dict[str, Any]:
        """Return the decoded secret at a stage."""
        result: dict[str, Any] = json.loads(sm.value_at(self.client, self.arn, stage))
        return result

    def labels(self) -> dict[str, list[str]]:
        """Return the secret's labelled versions."""
        return sm.labels(self.client, self.arn)

    def cleanup(self) -> None:
        """Drop the user and its clone."""
        suffix = self.backend.handler_class.clone_suffix
        for name in (self.username, self.username + suffix):
            self.backend.drop_user(name)


class EngineConformance:
    """Mix-in of conformance tests; subclasses provide the ``backend`` fixture."""

    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls) -> Iterator[ConformanceBackend]:
        """Provide the engine's backend (override in the engine's test class)."""
        raise NotImplementedError("conformance test classes must provide a backend fixture")

    @pytest.fixture
    def client(self) -> Iterator[Any]:
        """Provide a moto Secrets Manager client."""
        import boto3
        from moto import mock_aws

        with mock_aws():
            yield boto3.client("secretsmanager", region_name=REGION)

    @pytest.fixture
    def scenario(self, backend: ConformanceBackend, client: Any) -> Iterator[Scenario]:
        """Provide a fresh user with its secret."""
        made = Scenario(backend, client, unique_name())
        yield made
        made.cleanup()

    # -- single user ----------------------------------------------------------------------

    def test_single_user_rotates_twice(
        self, backend: ConformanceBackend, scenario: Scenario
    ) -> None:
        """Each rotation: the new password logs in, the old does not, labels move, no failures."""
        handler = scenario.handler("single")
        before = backend.failed_logins()
        old_password, old_token = scenario.password, None
        for _ in range(2):
            token = driver.rotate(handler, scenario.client, scenario.arn)
            current = scenario.value(AWSCURRENT)
            assert current["username"] == scenario.username
            assert current["password"] != old_password
            assert current["kept"] == "unknown keys survive"
            assert backend.can_login(scenario.username, current["password"])
            labels = scenario.labels()
            assert AWSCURRENT in labels[token]
            if old_token is not None:
                assert labels[old_token] == [AWSPREVIOUS]
            # Counted before probing the old password, which is meant to fail.
            if before is not None:
                assert backend.failed_logins() == before, "a normal rotation caused failed logins"
            assert not backend.can_login(scenario.username, old_password)
            before = backend.failed_logins()
            old_password, old_token = current["password"], token

    def test_single_user_wrong_current_password_changes_nothing(
        self, backend: ConformanceBackend, scenario: Scenario
    ) -> None:
        """When no version's password logs in, setSecret fails and changes nothing."""
        broken = {**scenario.secret_value, "password": "Wrong-password-123"}
        for _ in range(2):  # AWSPREVIOUS too must hold a wrong password
            scenario.client.put_secret_value(SecretId=scenario.arn, SecretString=json.dumps(broken))
        handler = scenario.handler("single")
        with pytest.raises(LoginFailedError):
            driver.rotate(handler, scenario.client, scenario.arn)
        assert scenario.value(AWSCURRENT)["password"] == "Wrong-password-123"
        assert backend.can_login(scenario.username, scenario.password)

    def test_single_user_falls_back_to_previous_password(
        self, backend: ConformanceBackend, scenario: Scenario
    ) -> None:
        """A current version with a wrong password: AWSPREVIOUS logs in and the rotation heals."""
        broken = {**scenario.secret_value, "password": "Wrong-password-123"}
        scenario.client.put_secret_value(SecretId=scenario.arn, SecretString=json.dumps(broken))
        driver.rotate(scenario.handler("single"), scenario.client, scenario.arn)
        current = scenario.value(AWSCURRENT)
        assert backend.can_login(scenario.username, current["password"])
        assert not backend.can_login(scenario.username, scenario.password)

    def test_test_step_fails_when_pending_was_never_set(self, scenario: Scenario) -> None:
        """TestSecret proves the database accepts the pending password for real."""
        handler = scenario.handler("single")
        with pytest.raises(SecretTestFailedError):
            driver.rotate(handler, scenario.client, scenario.arn, steps=[Step.CREATE, Step.TEST])
        assert scenario.value(AWSCURRENT)["password"] == scenario.password

    # -- alternating users ----------------------------------------------------------------

    def test_alternating_users_rotates_twice(
        self, backend: ConformanceBackend, scenario: Scenario
    ) -> None:
        """The clone is created with equal privileges, then the pair alternates back."""
        scenario.with_admin()
        handler = scenario.handler("alternating")
        clone = scenario.username + backend.handler_class.clone_suffix
        before = backend.failed_logins()

        first = driver.rotate(handler, scenario.client, scenario.arn)
        current = scenario.value(AWSCURRENT)
        assert current["username"] == clone
        assert backend.can_login(clone, current["password"])
        assert backend.can_login(scenario.username, scenario.password), "original must keep working"
        assert backend.privileges(clone) == backend.privileges(scenario.username)

        second = driver.rotate(handler, scenario.client, scenario.arn)
        current, previous = scenario.value(AWSCURRENT), scenario.value(AWSPREVIOUS)
        assert current["username"] == scenario.username
        assert previous["username"] == clone
        assert backend.can_login(scenario.username, current["password"])
        assert backend.can_login(clone, previous["password"])
        assert backend.privileges(clone) == backend.privileges(scenario.username)
        labels = scenario.labels()
        assert AWSCURRENT in labels[second]
        assert labels[first] == [AWSPREVIOUS]
        if before is not None:
            assert backend.failed_logins() == before, "a normal rotation caused failed logins"
        assert not backend.can_login(scenario.username, scenario.password)

    def test_alternating_refuses_when_current_does_not_log_in(
        self, backend: ConformanceBackend, scenario: Scenario
    ) -> None:
        """The admin is never used on behalf of a secret whose own credentials fail."""
        scenario.with_admin()
        broken = {**scenario.secret_value, "password": "Wrong-password-123"}
        scenario.client.put_secret_value(SecretId=scenario.arn, SecretString=json.dumps(broken))
        with pytest.raises(SecretMismatchError):
            driver.rotate(scenario.handler("alternating"), scenario.client, scenario.arn)
        clone = scenario.username + backend.handler_class.clone_suffix
        assert not backend.can_login(clone, scenario.value(AWSPENDING)["password"])

    def test_alternating_refuses_admin_for_another_server(
        self, backend: ConformanceBackend, scenario: Scenario
    ) -> None:
        """An admin secret naming another host is refused before it is used."""
        scenario.with_admin()
        assert scenario.admin_arn is not None
        admin_user, admin_password = backend.admin_login()
        elsewhere = {**scenario.base, "host": "other-host.example", "username": admin_user,
                     "password": admin_password}  # fmt: skip
        scenario.client.put_secret_value(
            SecretId=scenario.admin_arn, SecretString=json.dumps(elsewhere)
        )
        with pytest.raises(SecretMismatchError):
            driver.rotate(scenario.handler("alternating"), scenario.client, scenario.arn)

    # -- crash and retry ------------------------------------------------------------------

    @pytest.mark.parametrize("strategy", ["single", "alternating"])
    def test_crash_after_each_database_statement_converges(
        self, backend: ConformanceBackend, client: Any, strategy: str
    ) -> None:
        """A crash after any statement, then a retry with the same token, completes cleanly."""

        def attach(handler: DatabaseHandler[Any], listener: Callable[[str], None]) -> None:
            handler.statement_listener = listener

        self._crash_each_point(backend, client, strategy, attach)

    @pytest.mark.parametrize("strategy", ["single", "alternating"])
    def test_crash_after_each_secrets_manager_call_converges(
        self, backend: ConformanceBackend, client: Any, strategy: str
    ) -> None:
        """A crash after any Secrets Manager call, then a retry, completes cleanly."""

        def attach(handler: DatabaseHandler[Any], listener: Callable[[str], None]) -> None:
            handler.secrets.call_listener = listener

        self._crash_each_point(backend, client, strategy, attach)

    def _crash_each_point(
        self,
        backend: ConformanceBackend,
        client: Any,
        strategy: str,
        attach: Callable[[DatabaseHandler[Any], Callable[[str], None]], None],
    ) -> None:
        points = self._count_points(backend, client, strategy, attach)
        assert points > 0
        for crash_at in range(1, points + 1):
            scenario = Scenario(backend, client, unique_name("crash"))
            if strategy == "alternating":
                scenario.with_admin()
            try:
                handler = scenario.handler(strategy)
                seen = [0]

                def crash(_: str, seen: list[int] = seen, crash_at: int = crash_at) -> None:
                    seen[0] += 1
                    if seen[0] == crash_at:
                        raise InjectedCrashError(f"crash at point {crash_at}")

                attach(handler, crash)
                token = str(uuid.uuid4())
                with pytest.raises(InjectedCrashError):
                    driver.rotate(handler, client, scenario.arn, token=token)
                retry = scenario.handler(strategy)
                driver.rotate(retry, client, scenario.arn, token=token)
                self._assert_converged(backend, scenario, token, strategy)
            finally:
                scenario.cleanup()

    def _count_points(
        self,
        backend: ConformanceBackend,
        client: Any,
        strategy: str,
        attach: Callable[[DatabaseHandler[Any], Callable[[str], None]], None],
    ) -> int:
        scenario = Scenario(backend, client, unique_name("count"))
        if strategy == "alternating":
            scenario.with_admin()
        try:
            handler = scenario.handler(strategy)
            seen: list[str] = []
            attach(handler, seen.append)
            driver.rotate(handler, client, scenario.arn)
            return len(seen)
        finally:
            scenario.cleanup()

    def _assert_converged(
        self, backend: ConformanceBackend, scenario: Scenario, token: str, strategy: str
    ) -> None:
        assert AWSCURRENT in scenario.labels()[token]
        current = scenario.value(AWSCURRENT)
        assert backend.can_login(current["username"], current["password"])
        if strategy == "single":
            assert not backend.can_login(scenario.username, scenario.password)
        else:
            clone = scenario.username + backend.handler_class.clone_suffix
            assert current["username"] == clone
            assert backend.privileges(clone) == backend.privileges(scenario.username)
            assert backend.can_login(scenario.username, scenario.password)

    # -- names, limits, secrecy -------------------------------------------------------------

    @pytest.mark.parametrize("strategy", ["single", "alternating"])
    def test_hostile_usernames_rotate(
        self, backend: ConformanceBackend, client: Any, strategy: str
    ) -> None:
        """Quotes, backslashes, %, ;, spaces, non-ASCII and names at the limit all rotate."""
        assert backend.hostile_usernames, "a backend must list hostile user names"
        for username in backend.hostile_usernames:
            scenario = Scenario(backend, client, username)
            try:
                if strategy == "alternating":
                    scenario.with_admin()
                driver.rotate(scenario.handler(strategy), client, scenario.arn)
                current = scenario.value(AWSCURRENT)
                assert backend.can_login(current["username"], current["password"]), username
                if strategy == "alternating":
                    assert backend.privileges(current["username"]) == backend.privileges(username)
                else:
                    assert not backend.can_login(username, scenario.password), username
            finally:
                scenario.cleanup()

    def test_alternating_name_over_the_limit_is_refused_before_any_change(
        self, backend: ConformanceBackend, client: Any
    ) -> None:
        """CreateSecret refuses a clone name that cannot fit, so nothing is stored."""
        cls = backend.handler_class
        length = cls.max_username_length - len(cls.clone_suffix) + 1
        username = unique_name("long")
        username += "x" * (length - len(username))
        scenario = Scenario(backend, client, username)
        try:
            scenario.with_admin()
            token = str(uuid.uuid4())
            with pytest.raises(UsernameTooLongError):
                driver.rotate(scenario.handler("alternating"), client, scenario.arn, token=token)
            assert scenario.value(AWSCURRENT)["password"] == scenario.password
            with pytest.raises(client.exceptions.ResourceNotFoundException):
                client.get_secret_value(
                    SecretId=scenario.arn, VersionId=token, VersionStage=AWSPENDING
                )
        finally:
            scenario.cleanup()

    @pytest.mark.parametrize("strategy", ["single", "alternating"])
    def test_no_password_in_output(
        self, scenario: Scenario, strategy: str, capfd: pytest.CaptureFixture[str]
    ) -> None:
        """No password of any version, nor the admin's, appears in logs or metrics."""
        if strategy == "alternating":
            scenario.with_admin()
        handler = scenario.handler(strategy)
        for _ in range(2):
            driver.rotate(handler, scenario.client, scenario.arn)
        out, err = capfd.readouterr()
        assert '"step succeeded"' in out or "step succeeded" in out + err, "logs were not captured"
        passwords = {scenario.password, scenario.backend.admin_login()[1]}
        versions = scenario.client.list_secret_version_ids(SecretId=scenario.arn)["Versions"]
        for version in versions:
            value = scenario.client.get_secret_value(
                SecretId=scenario.arn, VersionId=version["VersionId"]
            )
            passwords.add(json.loads(value["SecretString"])["password"])
        for password in passwords:
            assert password not in out
            assert password not in err
