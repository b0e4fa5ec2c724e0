"""``rotation status``: the rotation state of every secret this pack rotates, or of those named.

Read-only (ListSecrets, DescribeSecret, and ListSecretVersionIds for a stuck AWSPENDING). A
table for people, ``--output json`` for scripts; the exit status is 1 when any secret needs
attention: rotation disabled, AWSPENDING stuck on a version that is not AWSCURRENT (the next
RotateSecret would fail with "A previous rotation isn't complete"), overdue, or unreadable.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rotation.cli import fleet
from rotation.cli.aws import aws_session, secrets_manager_client
from rotation.cli.output import short
from rotation.core.errors import SecretsManagerError
from rotation.core.secrets_client import aws_error_text

if TYPE_CHECKING:
    import argparse

    from rotation.cli.output import Output, Progress

# What an opt-in region the account has not enabled answers (skipped under --all-regions).
NOT_ENABLED = frozenset({"UnrecognizedClientException", "InvalidClientTokenId", "AuthFailure"})
PROBLEMS = (fleet.DISABLED, fleet.STUCK, fleet.OVERDUE, fleet.UNREADABLE)


def run(args: argparse.Namespace, out: Output, doc: dict[str, Any]) -> bool:
    """Show the state of the secrets; return whether none needs attention."""
    now = datetime.now(UTC)
    progress = out.progress()
    states: list[fleet.SecretState] = []
    regions: list[str] = []
    skipped: dict[str, str] = {}
    try:
        for region in _regions(args):
            client = secrets_manager_client(args, region=region)
            name = str(client.meta.region_name)
            regions.append(name)
            found = _secrets_in(args, client, name, progress, skipped)
            if found is None:
                continue
            total = len(found)

            def described(count: int, region: str = name, total: int = total) -> None:
                progress.update(f"rotation status: {region}: described {count}/{total} secrets")

            states += fleet.describe_all(client, name, found, args.concurrency, now, described)
    finally:
        progress.clear()
    states.sort(key=lambda s: (not s.needs_attention, s.region, s.name))
    counts = Counter(problem for state in states for problem in state.problems)
    attention = sum(state.needs_attention for state in states)
    doc.update(
        regions=regions,
        skipped_regions=skipped,
        secrets=[state.to_json() for state in states],
        summary={"secrets": len(states), "ok": len(states) - attention,
                 "attention": attention, **{p: counts[p] for p in PROBLEMS}},
    )  # fmt: skip
    _table(out, states, now, several_regions=len(regions) > 1)
    parts = [f"{len(states) - attention} ok"] + [f"{counts[p]} {p}" for p in PROBLEMS if counts[p]]
    out.say(f"{len(states)} secret(s): {', '.join(parts)}")
    if skipped:
        out.say(f"skipped region(s) not enabled for this account: {', '.join(sorted(skipped))}")
    if counts[fleet.STUCK]:
        out.say("clear a stuck AWSPENDING with `rotation repair SECRET_ID` (it asks first)")
    return attention == 0


def _regions(args: argparse.Namespace) -> list[str | None]:
    """Return the regions to read; None means the one the AWS configuration resolves."""
    if args.all_regions:
        return list(aws_session(args.profile).get_available_regions("secretsmanager"))
    return list(args.regions or [None])


def _secrets_in(
    args: argparse.Namespace,
    client: Any,
    region: str,
    progress: Progress,
    skipped: dict[str, str],
) -> list[str] | None:
    """Return the secret ids to describe in a region (None: region skipped)."""
    if args.secret_ids:
        # An ARN names its region; a name is looked up in every region asked for.
        return [s for s in args.secret_ids if not s.startswith("arn:") or s.split(":")[3] == region]

    def listed(pages: int, count: int) -> None:
        if pages > 1:  # a progress line only for listings longer than one page
            progress.update(f"rotation status: {region}: listed {count} secrets ({pages} pages)")

    try:
        entries = fleet.list_rotated(client, args.filters, args.page_size, listed)
    except Exception as exc:
        from botocore.exceptions import ClientError

        code = exc.response.get("Error", {}).get("Code") if isinstance(exc, ClientError) else None
        if args.all_regions and code in NOT_ENABLED:
            skipped[region] = aws_error_text(exc)
            return None
        raise SecretsManagerError(f"ListSecrets failed in {region}: {aws_error_text(exc)}") from exc
    return [str(entry["ARN"]) for entry in entries]


def _when(value: datetime | None) -> str:
    return "-" if value is None else value.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def age(delta_seconds: float) -> str:
    """Render a duration as ``3d 4h``, ``5h 12m`` or ``42m``."""
    minutes = int(delta_seconds // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes}m"
    return f"{minutes}m"


def _pending(state: fleet.SecretState, now: datetime) -> str:
    if state.stuck_version is None:
        return "-"
    since = (
        ""
        if state.stuck_since is None
        else f" for {age((now - state.stuck_since).total_seconds())}"
    )
    return f"{short(state.stuck_version)}{since}"


def _table(
    out: Output, states: list[fleet.SecretState], now: datetime, *, several_regions: bool
) -> None:
    headers = ["SECRET", "STATE", "SCHEDULE", "LAST ROTATED", "NEXT ROTATION", "AWSPENDING",
               "FUNCTION"]  # fmt: skip
    rows = [
        [
            state.name,
            ", ".join(state.problems) or "ok",
            state.schedule or "-",
            _when(state.last_rotated),
            _when(state.next_rotation),
            _pending(state, now),
            state.function or (state.detail or "-"),
        ]
        for state in states
    ]
    if several_regions:
        headers.insert(0, "REGION")
        for row, state in zip(rows, states, strict=True):
            row.insert(0, state.region)
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=True)]
    for row in [headers, *rows]:
        out.say(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
            ).rstrip()
        )
