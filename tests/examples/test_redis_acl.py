"""The custom-service example (templates/custom/redis_acl.py) on a real Redis, both shapes.

The suite starts a throwaway redis-server (rotation.local.servers.RedisServer) with an ACL admin;
the example's handler passes the service conformance suite as a single credential and as dual
credentials, with the admin secret from ``masterarn`` managing the users.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from rotation.core.config import Settings
from rotation.testing.service import ServiceConformance
from tests.conftest import RunningServer

EXAMPLE = Path(__file__).resolve().parents[2] / "templates" / "custom" / "redis_acl.py"


def load_example() -> ModuleType:
    """Import the example the way its Lambda function does (a top-level module)."""
    if "redis_acl" in sys.modules:
        return sys.modules["redis_acl"]
    spec = importlib.util.spec_from_file_location("redis_acl", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["redis_acl"] = module
    spec.loader.exec_module(module)
    return module


class RedisBackend:
    """Users on the throwaway Redis; the admin secret is the server's ACL admin."""

    def __init__(self, server: RunningServer, strategy: str) -> None:
        self.handler_class = load_example().RedisACLHandler
        self.strategy = strategy
        self.info = server.info
        self.admin = redis.Redis(
            host=self.info.host,
            port=self.info.port,
            username=self.info.admin_user,
            password=self.info.admin_password,
        )

    def settings(self) -> Settings:
        return Settings()

    def create(self, name: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        password = "Initial-password-1"
        self.admin.execute_command("ACL", "SETUSER", name, "on", f">{password}", "~app:*",
                                   "+@read", "+@write", "+ping")  # fmt: skip
        where = {"host": self.info.host, "port": self.info.port}
        admin = {**where, "username": self.info.admin_user, "password": self.info.admin_password}
        return {**where, "username": name, "password": password}, admin

    def works(self, value: dict[str, Any]) -> bool:
        client = redis.Redis(host=value["host"], port=value["port"], username=value["username"],
                             password=value["password"], retry=Retry(NoBackoff(), 0))  # fmt: skip
        try:
            return bool(client.ping())
        except redis.AuthenticationError:
            return False
        finally:
            client.close()

    def remove(self, name: str) -> None:
        self.admin.execute_command("ACL", "DELUSER", name)


class TestRedisSingleCredential(ServiceConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, redis_server: RunningServer) -> RedisBackend:
        return RedisBackend(redis_server, "single")


class TestRedisDualCredentials(ServiceConformance):
    @pytest.fixture(scope="class")
    @classmethod
    def backend(cls, redis_server: RunningServer) -> RedisBackend:
        return RedisBackend(redis_server, "dual")


def test_the_example_exposes_both_lambda_entry_points() -> None:
    module = load_example()
    assert callable(module.single_user_handler)
    assert callable(module.dual_credentials_handler)
    assert module.RedisACLHandler.missing_hooks("single") == []
    assert module.RedisACLHandler.missing_hooks("dual") == []
