"""The service conformance suite: passed by a correct service, failed by broken ones by name."""

from __future__ import annotations

from typing import Any

import pytest

from rotation.core.config import Settings
from rotation.core.handler import RotationHandler
from rotation.testing.service import RuleBrokenError, ServiceConformance
from tests.core.keystore import AdminKeyStoreHandler, KeyStore, KeyStoreHandler, Session

ENDPOINT = "keys.example"


class KeyStoreBackend:
    """Credentials on the in-memory key store; the admin ``root`` manages them when needed."""

    def __init__(self, handler_class: type[RotationHandler], strategy: str) -> None:
        self.handler_class = handler_class
        self.strategy = strategy
        self.store = KeyStore()
        KeyStoreHandler.stores[ENDPOINT] = self.store
        self.store.passwords["root"] = {"Root-password-1"}

    def settings(self) -> Settings:
        return Settings()

    def create(self, name: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        self.store.passwords[name] = {"Initial-password-1"}
        value = {"username": name, "password": "Initial-password-1", "endpoint": ENDPOINT}
        admin = None
        if self.handler_class.admin_sets_passwords:
            admin = {"username": "root", "password": "Root-password-1", "endpoint": ENDPOINT}
        return value, admin

    def works(self, value: dict[str, Any]) -> bool:
        return self.store.login(value["username"], value["password"])

    def remove(self, name: str) -> None:
        self.store.passwords.pop(name, None)


class TestDualCredentials(ServiceConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls) -> KeyStoreBackend:
        return KeyStoreBackend(KeyStoreHandler, "dual")


class TestSingleCredentialSetByTheAdmin(ServiceConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls) -> KeyStoreBackend:
        return KeyStoreBackend(AdminKeyStoreHandler, "single")


class TestSingleCredentialOwnPassword(ServiceConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls) -> KeyStoreBackend:
        return KeyStoreBackend(KeyStoreHandler, "single")


# -- handlers that break a rule, and the suite naming it ---------------------------------------


class AppendsOnEveryRun(KeyStoreHandler):
    """A setSecret that is not idempotent: each run adds a new credential, failing the second."""

    def add_credential(self, conn: Session, username: str, password: str) -> None:
        if password in conn.store.passwords[username]:
            raise RuntimeError("credential already exists")  # a service that refuses duplicates
        conn.add(username, password)


class NeverRevokes(KeyStoreHandler):
    """A dual-credential service that forgets to revoke the old credential."""

    def revoke_credential(self, conn: Session, username: str, password: str) -> None:
        pass


class RevokesBeforeTheSwitch(KeyStoreHandler):
    """Replaces the credential in setSecret although it claims to keep both."""

    def add_credential(self, conn: Session, username: str, password: str) -> None:
        conn.replace(username, password)


def run(handler_class: type[RotationHandler], strategy: str, test: str, **kwargs: Any) -> str:
    """Run one suite test against a broken handler; return the rule it reports."""
    import boto3
    from moto import mock_aws

    suite = ServiceConformance()
    backend = KeyStoreBackend(handler_class, strategy)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        from rotation.testing.service import Case

        case = Case(backend, client)
        method = getattr(suite, test)
        arguments = (backend, client) if test.startswith("test_a_crash") else (backend, case)
        with pytest.raises(RuleBrokenError) as caught:
            method(*arguments, **kwargs)
    return str(caught.value)


def test_a_setsecret_that_is_not_idempotent_fails_naming_the_rule() -> None:
    message = run(
        AppendsOnEveryRun, "dual", "test_every_step_twice_changes_nothing_the_second_time"
    )
    assert message.startswith("rule broken: setSecret is idempotent: run 2 of setSecret raised")


def test_a_dual_service_that_never_revokes_fails_naming_the_rule() -> None:
    message = run(NeverRevokes, "dual", "test_rotates_twice_and_the_right_credentials_work")
    assert message.startswith("rule broken: the old credential is gone after the rotation")


def test_a_dual_service_that_drops_the_old_credential_early_fails_naming_the_rule() -> None:
    message = run(
        RevokesBeforeTheSwitch, "dual", "test_rotates_twice_and_the_right_credentials_work"
    )
    assert message.startswith("rule broken: dual credentials keep the current one until")


def test_a_service_that_is_not_crash_safe_fails_naming_the_call() -> None:
    message = run(
        AppendsOnEveryRun, "dual", "test_a_crash_after_any_call_then_a_retry_converges",
        where="service",
    )  # fmt: skip
    assert "crash-safe: a retry after a crash at service call" in message
