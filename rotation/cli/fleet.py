"""The rotation state of many secrets, read with ListSecrets and DescribeSecret only.

:func:`list_rotated` pages through ListSecrets and keeps the secrets whose rotation function is
one of this pack's (by name: ``<prefix>SecretsManager<Engine>Rotation<Strategy>``, the strategy
being ``SingleUser``, ``MultiUser`` or ``DualPasswords``);
:func:`describe_all` describes them with bounded concurrency (the SDK's standard retry mode
absorbs throttling) and :func:`assess` turns one DescribeSecret answer into a
:class:`SecretState`. No secret value is read.
"""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from rotation.core.secrets_client import aws_error_text
from rotation.core.staging import AWSCURRENT, AWSPENDING, version_with

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence

# The function names of this pack: templates/generate.py names each function after the AWS
# rotation template it replaces, after the stack's FunctionNamePrefix (tests check the match).
PACK_FUNCTION = re.compile(r"SecretsManager[A-Za-z]+Rotation(SingleUser|MultiUser|DualPasswords)$")
# A rotation starts within its window (at most 24 h) after NextRotationDate; later is overdue.
OVERDUE_GRACE = timedelta(hours=24)

DISABLED = "rotation disabled"
STUCK = "AWSPENDING stuck"
OVERDUE = "overdue"
UNREADABLE = "unreadable"


def function_name(lambda_arn: str | None) -> str | None:
    """Return the function name of a Lambda ARN (qualifier dropped), or None."""
    if not lambda_arn:
        return None
    parts = lambda_arn.split(":")
    return parts[6] if len(parts) > 6 and parts[5] == "function" else lambda_arn


def is_pack_function(lambda_arn: str | None) -> bool:
    """Tell whether a rotation function is one of this pack's, by its name."""
    name = function_name(lambda_arn)
    return bool(name and PACK_FUNCTION.search(name))


@dataclass(frozen=True)
class SecretState:
    """What ``rotation status`` reports about one secret."""

    region: str
    arn: str
    name: str
    function: str | None = None
    rotation_enabled: bool = False
    schedule: str | None = None
    last_rotated: datetime | None = None
    next_rotation: datetime | None = None
    current_version: str | None = None
    # Set only when AWSPENDING is on a version that is not AWSCURRENT: the next RotateSecret
    # fails with "A previous rotation isn't complete" until it is cleared or completed.
    stuck_version: str | None = None
    stuck_since: datetime | None = None
    problems: tuple[str, ...] = field(default_factory=tuple)
    detail: str | None = None

    @property
    def needs_attention(self) -> bool:
        """Tell whether an operator should look at this secret."""
        return bool(self.problems)

    def to_json(self) -> dict[str, Any]:
        """Return the JSON form (timestamps as ISO 8601 in UTC)."""
        return {
            "region": self.region,
            "arn": self.arn,
            "name": self.name,
            "function": self.function,
            "rotation_enabled": self.rotation_enabled,
            "schedule": self.schedule,
            "last_rotated": _iso(self.last_rotated),
            "next_rotation": _iso(self.next_rotation),
            "current_version": self.current_version,
            "stuck_version": self.stuck_version,
            "stuck_since": _iso(self.stuck_since),
            "problems": list(self.problems),
            "detail": self.detail,
        }


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat(timespec="seconds")


def list_rotated(
    client: Any,
    filters: Sequence[Mapping[str, Any]] = (),
    page_size: int = 100,
    on_page: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    """Return the ListSecrets entries whose rotation function is one of this pack's.

    ``on_page(pages, listed)`` is called after every page, for progress.
    """
    paginator = client.get_paginator("list_secrets")
    kwargs: dict[str, Any] = {"PaginationConfig": {"PageSize": page_size}}
    if filters:
        kwargs["Filters"] = list(filters)
    found: list[dict[str, Any]] = []
    listed = 0
    for pages, page in enumerate(paginator.paginate(**kwargs), start=1):
        entries = page.get("SecretList", [])
        listed += len(entries)
        found += [e for e in entries if is_pack_function(e.get("RotationLambdaARN"))]
        if on_page is not None:
            on_page(pages, listed)
    return found


def describe_all(
    client: Any,
    region: str,
    secret_ids: Iterable[str],
    concurrency: int,
    now: datetime,
    on_done: Callable[[int], None] | None = None,
) -> list[SecretState]:
    """Describe each secret, at most ``concurrency`` calls in flight; keep the input order."""
    ids = list(secret_ids)
    done = 0
    lock = threading.Lock()

    def one(secret_id: str) -> SecretState:
        nonlocal done
        state = describe_one(client, region, secret_id, now)
        with lock:
            done += 1
            if on_done is not None:
                on_done(done)
        return state

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, ids))


def describe_one(client: Any, region: str, secret_id: str, now: datetime) -> SecretState:
    """Describe one secret and assess it; an AWS error becomes the secret's problem."""
    try:
        described = client.describe_secret(SecretId=secret_id)
        stuck_since = None
        stages = _stages(described)
        pending = version_with(stages, AWSPENDING)
        if pending is not None and pending != version_with(stages, AWSCURRENT):
            stuck_since = version_created(client, described["ARN"], pending)
    except Exception as exc:  # any SDK error: report it with the secret, go on with the rest
        return SecretState(region=region, arn=secret_id, name=secret_id,
                           problems=(UNREADABLE,), detail=aws_error_text(exc))  # fmt: skip
    return assess(described, region, now, stuck_since)


def version_created(client: Any, arn: str, version_id: str) -> datetime | None:
    """Return when a version was created (ListSecretVersionIds), or None if not listed."""
    kwargs: dict[str, Any] = {"SecretId": arn, "IncludeDeprecated": True}
    while True:  # botocore has no paginator for this operation
        page = client.list_secret_version_ids(**kwargs)
        for version in page.get("Versions", []):
            if version.get("VersionId") == version_id:
                created = version.get("CreatedDate")
                return created if isinstance(created, datetime) else None
        if not page.get("NextToken"):
            return None
        kwargs["NextToken"] = page["NextToken"]


def _stages(described: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    return {v: tuple(labels) for v, labels in described.get("VersionIdsToStages", {}).items()}


def assess(
    described: Mapping[str, Any], region: str, now: datetime, stuck_since: datetime | None = None
) -> SecretState:
    """Turn a DescribeSecret answer into the state ``rotation status`` shows."""
    stages = _stages(described)
    current = version_with(stages, AWSCURRENT)
    pending = version_with(stages, AWSPENDING)
    stuck = pending if pending is not None and pending != current else None
    enabled = bool(described.get("RotationEnabled"))
    rules = described.get("RotationRules") or {}
    last = _datetime(described.get("LastRotatedDate"))
    due = (_datetime(described.get("NextRotationDate")) or _due(described, rules, last)
           if enabled else None)  # fmt: skip
    problems = []
    if not enabled:
        problems.append(DISABLED)
    if stuck is not None:
        problems.append(STUCK)
    if enabled and due is not None and now > due + OVERDUE_GRACE:
        problems.append(OVERDUE)
    return SecretState(
        region=region,
        arn=str(described["ARN"]),
        name=str(described["Name"]),
        function=function_name(described.get("RotationLambdaARN")),
        rotation_enabled=enabled,
        schedule=schedule_text(rules),
        last_rotated=last,
        next_rotation=due,
        current_version=current,
        stuck_version=stuck,
        stuck_since=stuck_since if stuck is not None else None,
        problems=tuple(problems),
    )


def _datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return None


def _due(
    described: Mapping[str, Any], rules: Mapping[str, Any], last: datetime | None
) -> datetime | None:
    """Return when the next rotation is due when the service does not say (days-based rules)."""
    days = rules.get("AutomaticallyAfterDays")
    start = last or _datetime(described.get("CreatedDate"))
    if not isinstance(days, int) or days <= 0 or start is None:
        return None
    return start + timedelta(days=days)


def schedule_text(rules: Mapping[str, Any]) -> str | None:
    """Render RotationRules: ``rate(30 days)``, ``cron(...)`` or ``every 30 days``, + window."""
    expression = rules.get("ScheduleExpression")
    days = rules.get("AutomaticallyAfterDays")
    if expression:
        text = str(expression)
    elif isinstance(days, int) and days > 0:
        text = f"every {days} days"
    else:
        return None
    duration = rules.get("Duration")
    return f"{text} within {duration}" if duration else text
