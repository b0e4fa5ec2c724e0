"""Fixtures of the Oracle tests: handlers on an offline client, and the fake server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from rotation.core.config import Settings
from rotation.engines.oracle import OracleHandler
from tests.engines.oracle.backend import make_server, patched_driver
from tests.engines.oracle.fake import FakeOracle

MakeHandler = Callable[..., OracleHandler]


@pytest.fixture
def make_handler() -> MakeHandler:
    """Build handlers with a Secrets Manager client that is never called."""
    client = boto3.client("secretsmanager", region_name="us-east-1")

    def make(strategy: str = "single", **settings: Any) -> OracleHandler:
        return OracleHandler(strategy=strategy, settings=Settings(**settings), client=client)

    return make


@pytest.fixture
def handler(make_handler: MakeHandler) -> OracleHandler:
    """Provide a single-user handler with default settings."""
    return make_handler()


@pytest.fixture
def oracle_fake(tmp_path: Path) -> Iterator[tuple[FakeOracle, Path]]:
    """Provide a fake server (patched in as oracledb.connect) and its CA file."""
    server, ca = make_server()
    path = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    with patched_driver(server):
        yield server, path
