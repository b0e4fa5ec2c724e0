"""Fixtures of the SAM template pack tests.

Tests marked ``sam`` need the SAM virtualenv (``make sam-venv``) or the built artifacts
(``make test`` builds them first: ``make sam-test-build``). Without them they skip with the
reason, except under ``CI=true``, where a test that cannot run fails: CI must never pass a
template pack it did not check.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import NoReturn

import pytest

from tests.sam.artifacts import BUILD_DIR, built_target, find_interpreter

IN_CI = os.environ.get("CI", "").lower() == "true"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sam: needs the SAM virtualenv or the artifacts of `make build` (skips without them, "
        "fails under CI=true)",
    )


def unavailable(reason: str) -> NoReturn:
    """Skip the calling test, or fail it under CI."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a SAM test may not skip)")
    pytest.skip(reason)


LOCAL_ARCHITECTURE = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}


@pytest.fixture(scope="session")
def build() -> tuple[Path, str]:
    """Return the build directory and the interpreter of the runtime it was built for."""
    if not (BUILD_DIR / "template.yaml").is_file():
        unavailable(f"no SAM build in {BUILD_DIR}: run `make test` (or `make sam-test-build`)")
    runtime, architecture = built_target(BUILD_DIR)
    local = LOCAL_ARCHITECTURE.get(platform.machine().lower())
    if architecture != local:
        unavailable(f"artifacts are for {architecture}; this machine is {platform.machine()}")
    interpreter = find_interpreter(runtime)
    if interpreter is None:
        unavailable(f"no {runtime} interpreter here to import the {runtime} artifacts with")
    return BUILD_DIR, interpreter
