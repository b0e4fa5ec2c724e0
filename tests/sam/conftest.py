"""Fixtures of the SAM template pack tests.

Tests marked ``sam`` need the SAM virtualenv (``make sam-venv``) or the built artifacts
(``make build``). Without them they skip with the reason, except under ``CI=true``, where a test
that cannot run fails: CI must never pass a template pack it did not check.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

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
