"""``rotation status`` over a fleet of 56 secrets in moto (50 of this pack in mixed states).

moto is served over HTTP in this process; the CLI talks to it through a proxy that counts the
calls and can answer some of them with ThrottlingException, so the SDK's retries are real.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rotation.cli import fleet as fleet_module
from rotation.cli import main
from rotation.cli.output import Output, Progress
from rotation.local.secretsmanager import SecretsManagerStandIn
from tests.cli.fleet import (
    THROTTLING,
    FaultProxy,
    Fleet,
    build_fleet,
    lambda_arn,
    throttle_every,
    version_creation_dates,
)
from tests.sam.artifacts import load_generator

NOW = datetime.now(UTC)


class Served:
    """The stand-in, its client and the fleet in it."""

    def __init__(self, stand_in: SecretsManagerStandIn, fleet: Fleet) -> None:
        self.stand_in = stand_in
        self.client = stand_in.client()
        self.fleet = fleet

    def run(
        self, capsys: pytest.CaptureFixture[str], *args: str, fault: Any = None
    ) -> tuple[int, dict[str, Any], str, FaultProxy]:
        proxy = FaultProxy(self.stand_in.endpoint, fault or (lambda *_: None))
        with proxy.running():
            code = main(["status", "--endpoint-url", proxy.endpoint, "--output", "json", *args])
        captured = capsys.readouterr()
        return code, json.loads(captured.out), captured.err, proxy


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with SecretsManagerStandIn() as stand_in, version_creation_dates():
        yield Served(stand_in, build_fleet(stand_in.client(), now=NOW))


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {secret["name"]: secret for secret in doc["secrets"]}


def test_status_of_a_fleet_in_mixed_states(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc, _, proxy = served.run(capsys, "--page-size", "7")
    fleet = served.fleet
    assert code == 1  # some secrets need attention
    assert doc["ok"] is False
    assert doc["error"] is None
    secrets = by_name(doc)
    # Every secret rotated by this pack's functions, nothing else.
    assert set(secrets) == set(fleet.pack)
    assert len(secrets) == 50
    assert doc["summary"] == {"secrets": 50, "ok": 38, "attention": 12, "rotation disabled": 4,
                              "AWSPENDING stuck": 5, "overdue": 3, "unreadable": 0}  # fmt: skip
    for name in fleet.healthy:
        assert secrets[name]["problems"] == []
        assert secrets[name]["schedule"] == "every 30 days"
        assert secrets[name]["stuck_version"] is None
    for name in fleet.disabled:
        assert secrets[name]["problems"] == ["rotation disabled"]
        assert secrets[name]["next_rotation"] is None
    for name in fleet.overdue:
        assert secrets[name]["problems"] == ["overdue"]
        due = datetime.fromisoformat(secrets[name]["next_rotation"])
        assert NOW - due > timedelta(days=5)
    for name in fleet.stuck:
        secret = secrets[name]
        assert secret["problems"] == ["AWSPENDING stuck"]
        labels = served.client.describe_secret(SecretId=name)["VersionIdsToStages"]
        [pending] = [v for v, stages in labels.items() if "AWSPENDING" in stages]
        assert secret["stuck_version"] == pending
        assert secret["current_version"] != pending
        stuck_for = NOW - datetime.fromisoformat(secret["stuck_since"])
        assert timedelta(hours=4) < stuck_for < timedelta(days=3)
    # The attention rows come first.
    assert [s["problems"] != [] for s in doc["secrets"]] == [True] * 12 + [False] * 38
    # ListSecrets page by page, one DescribeSecret per secret, versions only for the stuck
    # ones, and never a secret value.
    assert proxy.requests["ListSecrets"] == math.ceil(56 / 7)
    assert proxy.requests["DescribeSecret"] == 50
    assert proxy.requests["ListSecretVersionIds"] == 5
    assert proxy.requests["GetSecretValue"] == 0
    assert set(proxy.requests) == {"ListSecrets", "DescribeSecret", "ListSecretVersionIds"}


def test_throttling_is_retried_by_the_sdk(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    unthrottled = served.run(capsys)[1]
    fault = throttle_every(3, "DescribeSecret", "ListSecrets", "ListSecretVersionIds")
    code, doc, _, proxy = served.run(capsys, "--page-size", "20", fault=fault)
    assert code == 1
    assert proxy.faults["DescribeSecret"] > 10
    assert proxy.faults["ListSecrets"] >= 1
    # Each throttled call was retried until it got through: same answer as without throttling.
    assert proxy.requests["DescribeSecret"] == 50 + proxy.faults["DescribeSecret"]
    assert doc["secrets"] == unthrottled["secrets"]
    assert doc["summary"]["unreadable"] == 0


def test_without_retries_a_throttled_secret_is_reported_not_hidden(
    served: Served, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # honoured, as the AWS CLI honours it
    code, doc, _, proxy = served.run(capsys, fault=throttle_every(10, "DescribeSecret"))
    assert code == 1
    unreadable = [s for s in doc["secrets"] if s["problems"] == ["unreadable"]]
    assert len(unreadable) == proxy.faults["DescribeSecret"] == 5
    assert all(s["detail"].startswith(THROTTLING) for s in unreadable)
    assert len(doc["secrets"]) == 50


def test_named_secrets_and_filters(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    fleet = served.fleet
    named = [fleet.healthy[0], fleet.stuck[0], fleet.foreign[1]]
    code, doc, _, proxy = served.run(capsys, *named)
    # Those that need attention first, then by name.
    assert [s["name"] for s in doc["secrets"]] == [fleet.stuck[0], fleet.healthy[0],
                                                   fleet.foreign[1]]  # fmt: skip
    assert proxy.requests["ListSecrets"] == 0
    assert by_name(doc)[fleet.foreign[1]]["function"] == "my-team-rotation"
    code, doc, _, _ = served.run(capsys, "--filter", "name=prod/stuck/")
    assert {s["name"] for s in doc["secrets"]} == set(fleet.stuck)
    code, doc, _, _ = served.run(capsys, "--filter", "name=prod/ok/")
    assert code == 0  # all healthy: nothing needs attention
    assert doc["ok"] is True
    assert doc["summary"]["ok"] == 38


def test_text_table(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    proxy = FaultProxy(served.stand_in.endpoint, lambda *_: None)
    with proxy.running():
        code = main(["status", "--endpoint-url", proxy.endpoint, "--filter", "name=prod/st"])
    out, err = capsys.readouterr()
    assert code == 1
    lines = out.splitlines()
    assert lines[0].split() == ["SECRET", "STATE", "SCHEDULE", "LAST", "ROTATED", "NEXT",
                                "ROTATION", "AWSPENDING", "FUNCTION"]  # fmt: skip
    rows = lines[1:6]
    assert [row.split()[0] for row in rows] == sorted(served.fleet.stuck)
    for row in rows:
        assert "AWSPENDING stuck" in row
        assert " for " in row  # how long
        assert "rotation-SecretsManager" in row
    assert lines[6] == "5 secret(s): 0 ok, 5 AWSPENDING stuck"
    assert "rotation repair SECRET_ID" in lines[7]
    assert err == ""  # quick work: no progress line off a terminal


def test_progress_of_a_long_listing_goes_to_stderr(
    served: Served, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Output, "progress", lambda self, *a: Progress(self.stderr, lambda: 0, 0))
    code, doc, err, _ = served.run(capsys, "--page-size", "10")
    assert code == 1
    assert len(doc["secrets"]) == 50
    progress = [line for line in err.splitlines() if line.startswith("rotation status:")]
    assert progress[:5] == [
        f"rotation status: us-east-1: listed {n} secrets ({p} pages)"
        for p, n in ((2, 20), (3, 30), (4, 40), (5, 50), (6, 56))
    ]
    assert progress[-1] == "rotation status: us-east-1: described 50/50 secrets"


def test_every_region(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    """--all-regions reads each region; one the account has not enabled is skipped."""

    def fault(operation: str, number: int, region: str) -> str | None:
        return "UnrecognizedClientException" if region == "ap-east-1" else None

    code, doc, _, proxy = served.run(capsys, "--all-regions", "--filter", "name=prod/ok/",
                                     fault=fault)  # fmt: skip
    assert code == 0
    assert {"us-east-1", "eu-west-1"} <= set(doc["regions"])
    assert list(doc["skipped_regions"]) == ["ap-east-1"]
    assert {s["region"] for s in doc["secrets"]} == {"us-east-1"}
    assert len(doc["secrets"]) == 38
    assert proxy.requests["ListSecrets"] == len(doc["regions"])


def test_two_regions_named(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, _, _ = served.run(capsys, "--region", "us-east-1", "--region", "eu-west-1",
                                 "--filter", "name=prod/disabled/")  # fmt: skip
    assert code == 1
    assert doc["regions"] == ["us-east-1", "eu-west-1"]
    assert len(doc["secrets"]) == 4


def test_pack_functions_are_recognised_by_name() -> None:
    generator = load_generator()
    for fn in generator.FUNCTIONS:
        for prefix in ("rotation-", "", "team_a-"):
            assert fleet_module.is_pack_function(lambda_arn(fn.logical_id, prefix=prefix))
            assert fleet_module.is_pack_function(lambda_arn(fn.logical_id, prefix=prefix) + ":1")
    for other in ("my-team-rotation", "SecretsManagerRDSPostgreSQLRotationSingleUserOld"):
        assert not fleet_module.is_pack_function(lambda_arn(other, prefix=""))
    assert not fleet_module.is_pack_function(None)


def test_progress_line() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    ticks = iter([0.0, 1.0, 4.0, 12.0])
    plain = Progress(io.StringIO(), lambda: next(ticks), every=10)
    for text in ("a", "b", "c"):
        plain.update(text)
    assert plain.stream.getvalue() == "c\n"  # off a terminal: only once 10 s have passed
    terminal = Progress(Terminal(), lambda: 0.0, every=10)
    terminal.update("a")
    terminal.update("b")
    terminal.clear()
    assert terminal.stream.getvalue() == "\ra\033[K\rb\033[K\r\033[K"
