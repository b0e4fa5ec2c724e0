"""The README's "rotating your own service" example is real code: extract it and rotate with it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from rotation.core.config import Settings
from rotation.core.errors import SecretTestFailedError
from rotation.local import driver
from rotation.local import secretsmanager as sm

README = Path(__file__).resolve().parents[1] / "README.md"


def example_namespace() -> dict[str, Any]:
    text = README.read_text()
    match = re.search(r"<!-- example: custom-handler -->\n```python\n(.*?)```", text, re.S)
    assert match, "the README lost its custom-handler example"
    namespace: dict[str, Any] = {}
    exec(compile(match.group(1), str(README), "exec"), namespace)  # our own README, not input
    return namespace


class KeyService:
    """A service whose accounts may hold several passwords at once."""

    def __init__(self) -> None:
        self.passwords: dict[str, set[str]] = {"robot": {"first-password"}}
        self.accept_new = True

    def add_password(self, username: str, password: str) -> None:
        if self.accept_new:
            self.passwords[username].add(password)

    def login(self, username: str, password: str) -> bool:
        return password in self.passwords.get(username, set())


def test_the_readme_handler_rotates(client: Any) -> None:
    handler_class = example_namespace()["KeyServiceHandler"]
    service = KeyService()
    arn = client.create_secret(
        Name="key", SecretString=json.dumps({"username": "robot", "password": "first-password"})
    )["ARN"]
    handler = handler_class(service, settings=Settings(), client=client)
    driver.rotate(handler, client, arn)
    current = json.loads(sm.value_at(client, arn, "AWSCURRENT"))
    assert current["password"] != "first-password"
    assert service.login("robot", current["password"])


def test_the_readme_handler_fails_the_test_step_when_the_service_ignored_it(client: Any) -> None:
    handler_class = example_namespace()["KeyServiceHandler"]
    service = KeyService()
    service.accept_new = False
    arn = client.create_secret(
        Name="key2", SecretString=json.dumps({"username": "robot", "password": "first-password"})
    )["ARN"]
    with pytest.raises(SecretTestFailedError):
        driver.rotate(handler_class(service, settings=Settings(), client=client), client, arn)
    assert json.loads(sm.value_at(client, arn, "AWSCURRENT"))["password"] == "first-password"
