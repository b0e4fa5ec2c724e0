"""``rotation repair``: clears a stuck AWSPENDING, shows what it discards, never touches AWSCURRENT.

Secrets Manager is moto in-process; the login checks run against the in-memory fake engine here
and against a real PostgreSQL in ``test_repair_on_postgresql``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rotation.cli import main, repair
from rotation.core.config import Settings
from rotation.local import secretsmanager as sm
from rotation.testing.fake import FakeDatabase, FakeDatabaseHandler
from tests.cli.fleet import stick_pending, version_creation_dates
from tests.conftest import RunningServer

REGION = "us-east-1"


class Case:
    """A secret with a stuck AWSPENDING, its fake database, and the repair's stage calls."""

    def __init__(self, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.client = client
        self.db = FakeDatabase()
        self.db.add_user("app", "Current-password-1")
        self.value = {"engine": "fake", "host": self.db.host, "port": self.db.port,
                      "username": "app", "password": "Current-password-1"}  # fmt: skip
        self.arn = client.create_secret(Name="app", SecretString=json.dumps(self.value))["ARN"]
        self.current = next(iter(sm.labels(client, self.arn)))
        self.stage_calls: list[dict[str, Any]] = []
        real_client = repair.secrets_manager_client

        def recording_client(args: Any) -> Any:
            made = real_client(args)
            made.meta.events.register(
                "before-call.secrets-manager.UpdateSecretVersionStage",
                # The request as sent: its JSON body holds exactly the API parameters.
                lambda params, **_: self.stage_calls.append(json.loads(params["body"])),
            )
            return made

        def fake_handler(args: Any, value: dict[str, Any], client: Any) -> FakeDatabaseHandler:
            if value.get("engine") != "fake":
                from rotation.core.errors import ConfigurationError

                raise ConfigurationError(f"no engine for {value.get('engine')!r}")
            return FakeDatabaseHandler(strategy="single", settings=Settings(), client=client,
                                       database=self.db)  # fmt: skip

        monkeypatch.setattr(repair, "secrets_manager_client", recording_client)
        monkeypatch.setattr(repair, "handler_for", fake_handler)

    def stick(self, password: str | None = None) -> str:
        """Leave AWSPENDING on a new version, with a value holding ``password`` if given."""
        value = None if password is None else json.dumps({**self.value, "password": password})
        return stick_pending(self.client, self.arn, datetime.now(UTC) - timedelta(hours=3), value)

    def labels(self) -> dict[str, list[str]]:
        return sm.labels(self.client, self.arn)

    def run(
        self, capsys: pytest.CaptureFixture[str], *args: str
    ) -> tuple[int, dict[str, Any], str]:
        code = main(["repair", "app", "--region", REGION, "--output", "json", *args])
        captured = capsys.readouterr()
        return code, json.loads(captured.out), captured.err


@pytest.fixture
def case(client: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Case]:
    with version_creation_dates():
        yield Case(client, monkeypatch)


def test_nothing_to_repair(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    before = case.labels()
    code, doc, _ = case.run(capsys, "--yes")
    assert code == 0
    assert doc["stuck"] is False
    assert doc["repaired"] is False
    assert case.stage_calls == []
    assert case.labels() == before


def test_a_value_less_pending_version_is_removed(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    pending = case.stick()
    code, doc, err = case.run(capsys, "--yes")
    assert code == 0, doc
    assert doc["pending_version"] == pending
    assert doc["pending_login"]["status"] == "no value"
    assert "current_login" not in doc  # nothing to compare: the pending version holds nothing
    assert doc["repaired"] is True
    # Only AWSPENDING is removed, only from that version; AWSCURRENT stays where it was.
    assert case.stage_calls == [{"SecretId": case.arn, "VersionStage": "AWSPENDING",
                                 "RemoveFromVersionId": pending}]  # fmt: skip
    assert case.labels() == {case.current: ["AWSCURRENT"]}
    assert doc["labels"] == {case.current: ["AWSCURRENT"]}
    assert f"AWSPENDING is on version {pending}, created 3h 0m ago" in err


def test_a_pending_password_the_database_rejects_is_discarded(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    pending = case.stick("Never-set-password-1")
    code, doc, _ = case.run(capsys, "--yes")
    assert code == 0
    assert doc["pending_login"]["status"] == "rejected"
    assert case.stage_calls == [{"SecretId": case.arn, "VersionStage": "AWSPENDING",
                                 "RemoveFromVersionId": pending}]  # fmt: skip
    assert case.labels() == {case.current: ["AWSCURRENT"]}


def test_refuses_to_discard_the_only_password_that_logs_in(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    """setSecret changed the password, then the rotation failed: pending is the working one."""
    pending = case.stick("Pending-password-1")
    case.db.passwords["app"] = "Pending-password-1"
    before = case.labels()
    code, doc, err = case.run(capsys, "--yes")
    assert code == 1
    assert doc["pending_login"]["status"] == "logs in"
    assert doc["current_login"]["status"] == "rejected"
    assert doc["repaired"] is False
    assert "only one that logs in" in doc["refused"]
    assert "WARNING: the database accepts only the pending password" in err
    assert case.stage_calls == []
    assert case.labels() == before
    # --force does it, still only to AWSPENDING.
    code, doc, _ = case.run(capsys, "--yes", "--force")
    assert code == 0
    assert case.stage_calls == [{"SecretId": case.arn, "VersionStage": "AWSPENDING",
                                 "RemoveFromVersionId": pending}]  # fmt: skip
    assert case.labels() == {case.current: ["AWSCURRENT"]}


def test_both_passwords_log_in_so_the_pending_one_may_go(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    """Alternating users: the clone has the pending password, the user still the current one."""
    case.db.add_user("app_clone", "Clone-password-1")
    value = {**case.value, "username": "app_clone", "password": "Clone-password-1"}
    pending = stick_pending(case.client, case.arn, datetime.now(UTC),
                            json.dumps(value))  # fmt: skip
    code, doc, _ = case.run(capsys, "--yes")
    assert code == 0
    assert doc["pending_login"]["status"] == "logs in"
    assert doc["current_login"]["status"] == "logs in"
    assert case.stage_calls[0]["RemoveFromVersionId"] == pending


class Keyboard(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "repaired"), [("y\n", True), ("n\n", False), ("\n", False)])
def test_asks_first(
    case: Case,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: str,
    repaired: bool,
) -> None:
    pending = case.stick()
    monkeypatch.setattr("sys.stdin", Keyboard(answer))
    code, doc, err = case.run(capsys)
    assert f"Remove AWSPENDING from version {pending}? [y/N]" in err
    assert code == (0 if repaired else 1)
    assert doc["repaired"] is repaired
    assert bool(case.stage_calls) is repaired
    expected = {case.current: ["AWSCURRENT"]}
    assert (case.labels() == expected) is repaired


def test_without_a_terminal_it_needs_yes(
    case: Case, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    case.stick()
    before = case.labels()
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))  # piped input is not a confirmation
    code, doc, _ = case.run(capsys)
    assert code == 2
    assert doc == {"command": "repair", "ok": False,
                   "error": {"type": "UsageError", "message": doc["error"]["message"]}}  # fmt: skip
    assert "--yes" in doc["error"]["message"]
    assert case.labels() == before


def test_a_secret_of_no_known_engine_is_repaired_without_a_login_check(
    case: Case, capsys: pytest.CaptureFixture[str]
) -> None:
    value = json.dumps({"api_key": "k-123456"})
    pending = stick_pending(case.client, case.arn, datetime.now(UTC), value)
    code, doc, _ = case.run(capsys, "--yes")
    assert code == 0
    assert doc["pending_login"]["status"] == "not checked"
    assert case.stage_calls[0]["RemoveFromVersionId"] == pending


@pytest.mark.integration
def test_repair_on_postgresql(
    postgresql_server: RunningServer, client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real engine's connect: the pending password logs in, the current one no longer."""
    from psycopg2 import sql

    from rotation.testing.conformance import unique_name
    from tests.engines.postgresql.backend import PostgreSQLBackend

    backend = PostgreSQLBackend(postgresql_server)
    username = unique_name("rep")
    backend.create_user(username, "Current-password-1")
    value = {"engine": "postgres", **backend.connection_fields(), "username": username,
             "password": "Current-password-1"}  # fmt: skip
    arn = client.create_secret(Name=username, SecretString=json.dumps(value))["ARN"]
    current = next(iter(sm.labels(client, arn)))
    pending_value = json.dumps({**value, "password": "Pending-password-1"})
    pending = stick_pending(client, arn, datetime.now(UTC), pending_value)
    with backend.admin_connection() as conn, conn.cursor() as cur:  # setSecret ran, then failed
        cur.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(
            sql.Identifier(username), sql.Literal("Pending-password-1")))  # fmt: skip
    ca = ["--ca-file", backend.info.ca_file] if backend.info.ca_file else []

    code = main(["repair", username, "--region", REGION, "--output", "json", "--yes", *ca])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1
    assert doc["pending_login"]["status"] == "logs in"
    assert doc["current_login"]["status"] == "rejected"
    assert sm.labels(client, arn) == {current: ["AWSCURRENT"], pending: ["AWSPENDING"]}
    assert "Pending-password-1" not in json.dumps(doc)
