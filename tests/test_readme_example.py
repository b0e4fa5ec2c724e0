"""The README's "Rotating your own service" section is real code: every block runs here."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from rotation.cli import main
from rotation.core.config import Settings
from rotation.core.staging import AWSCURRENT
from rotation.local import driver
from rotation.local import secretsmanager as sm
from rotation.testing.service import Case

README = Path(__file__).resolve().parents[1] / "README.md"


def block(name: str, language: str = "python") -> str:
    text = README.read_text()
    match = re.search(rf"<!-- example: {name} -->\n```{language}\n(.*?)```", text, re.S)
    assert match, f"the README lost its {name} example"
    return match.group(1)


class KeyService:
    """A service whose accounts may hold several passwords at once."""

    def __init__(self) -> None:
        self.passwords: dict[str, set[str]] = {"robot": {"first-password"}}

    def login(self, username: str, password: str) -> bool:
        return password in self.passwords.get(username, set())

    def ping(self) -> None:
        pass

    def add_password(self, username: str, password: str) -> None:
        self.passwords[username].add(password)

    def remove_password(self, username: str, password: str) -> None:
        self.passwords[username].discard(password)


def namespace() -> dict[str, Any]:
    found: dict[str, Any] = {"KeyService": KeyService}
    for name in ("custom-handler", "service-conformance"):
        exec(compile(block(name), str(README), "exec"), found)  # our own README, not input
    return found


def test_the_readme_handler_rotates_with_two_passwords_until_the_switch(client: Any) -> None:
    handler_class = namespace()["KeyServiceHandler"]
    service = KeyService()
    value = {"username": "robot", "password": "first-password", "endpoint": "keys"}
    arn = client.create_secret(Name="key", SecretString=json.dumps(value))["ARN"]
    handler = handler_class(service, strategy="dual", settings=Settings(), client=client)
    driver.rotate(handler, client, arn)
    current = json.loads(sm.value_at(client, arn, AWSCURRENT))
    assert service.passwords["robot"] == {current["password"]}  # the old one was revoked


def test_the_readme_conformance_class_passes_its_suite() -> None:
    found = namespace()
    suite, backend = found["TestKeyService"](), found["KeyServiceBackend"](KeyService())
    with mock_aws():
        client = boto3.client("secretsmanager", region_name="us-east-1")
        for test in ("test_rotates_twice_and_the_right_credentials_work",
                     "test_every_step_twice_changes_nothing_the_second_time"):  # fmt: skip
            case = Case(backend, client)
            getattr(suite, test)(backend, case)
            backend.remove(case.name)
        suite.test_a_crash_after_any_call_then_a_retry_converges(backend, client, "service")


def test_the_readme_init_service_commands_run(tmp_path: Path) -> None:
    lines = [line.split("#")[0].strip() for line in block("init-service", "sh").splitlines()]
    generate, then = (line for line in lines if line)
    args = shlex.split(generate)
    assert args[:2] == ["rotation", "init-service"]
    args[args.index("--dir") + 1] = str(tmp_path / "acme")
    assert main(args[1:]) == 0
    directory, test = (part.strip() for part in then.split("&&"))
    assert directory == "cd acme"
    tested = subprocess.run([sys.executable, "-m", *shlex.split(test), "-p", "no:cacheprovider"],
                            cwd=tmp_path / "acme", capture_output=True, text=True, timeout=600,
                            check=False)  # fmt: skip
    assert tested.returncode == 0, tested.stdout[-2000:]
