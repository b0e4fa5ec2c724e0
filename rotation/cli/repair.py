"""``rotation repair``: clear an AWSPENDING label stuck on a version that is not AWSCURRENT.

A rotation that failed after createSecret leaves AWSPENDING on its version, and every later
RotateSecret fails with "A previous rotation isn't complete". Removing the label
(UpdateSecretVersionStage with RemoveFromVersionId only) lets the next rotation start afresh.
Before it asks, the command shows which version holds the label and whether its credentials
log in (read-only: a login and the engine's check query), and AWSCURRENT's too: when only the
pending password works, the database already uses it, and discarding it would leave the secret
with a password that no longer logs in, so the command refuses unless ``--force``. It never
moves or removes AWSCURRENT.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rotation.cli import fleet
from rotation.cli.aws import handler_for, secrets_manager_client
from rotation.cli.output import format_labels
from rotation.cli.parser import UsageError
from rotation.cli.status import age
from rotation.core.errors import ConnectError, LoginFailedError, RotationError, SecretsManagerError
from rotation.core.log import redactor, secret_strings
from rotation.core.secret import parse_json_object
from rotation.core.secrets_client import SecretsClient, aws_error_text
from rotation.core.staging import AWSCURRENT, AWSPENDING, labelled, version_with

if TYPE_CHECKING:
    import argparse

    from rotation.cli.output import Output

LOGS_IN, REJECTED, NOT_CHECKED, NO_VALUE = "logs in", "rejected", "not checked", "no value"


def run(args: argparse.Namespace, out: Output, doc: dict[str, Any]) -> bool:
    """Show the stuck version, ask, remove its AWSPENDING label; return whether it is clear."""
    client = secrets_manager_client(args)
    secrets = SecretsClient(client)
    metadata = secrets.describe(args.secret_id)
    arn = metadata.arn
    current = version_with(metadata.stages, AWSCURRENT)
    pending = version_with(metadata.stages, AWSPENDING)
    doc.update(secret=arn, current_version=current, pending_version=pending)
    out.say(f"rotation repair: {arn}")
    out.say(f"  labels:  {format_labels(labelled(metadata.stages))}")
    if pending is None or pending == current:
        doc.update(stuck=False, repaired=False)
        out.say("  nothing to repair: AWSPENDING is not on a version other than AWSCURRENT")
        return True
    doc["stuck"] = True
    created = fleet.version_created(client, arn, pending)
    since = f", created {age((datetime.now(UTC) - created).total_seconds())} ago" if created else ""
    out.say(f"  AWSPENDING is on version {pending}{since}; AWSCURRENT is on {current}")

    pending_login = _login(args, client, arn, pending, AWSPENDING)
    doc["pending_login"] = pending_login
    out.say(f"  pending credentials: {pending_login['status']}: {pending_login['detail']}")
    current_login: dict[str, str] | None = None
    if pending_login["status"] == LOGS_IN and current is not None:
        current_login = _login(args, client, arn, current, AWSCURRENT)
        doc["current_login"] = current_login
        out.say(f"  current credentials: {current_login['status']}: {current_login['detail']}")
        if current_login["status"] != LOGS_IN:
            out.say("  WARNING: the database accepts only the pending password: removing the")
            out.say("  label discards the password in use. Finish that rotation instead")
            out.say(f"  (`rotation step testSecret|finishSecret SECRET_ID --token {pending}`),")
            out.say("  or pass --force.")
            if not args.force:
                doc.update(
                    repaired=False, refused="the pending password is the only one that logs in"
                )
                return False

    if not _confirmed(args, out, pending):
        doc["repaired"] = False
        out.say("  not repaired")
        return False
    try:
        client.update_secret_version_stage(
            SecretId=arn, VersionStage=AWSPENDING, RemoveFromVersionId=pending
        )
    except Exception as exc:
        raise SecretsManagerError(
            f"UpdateSecretVersionStage failed: {aws_error_text(exc)}"
        ) from exc
    after = secrets.describe(arn).stages
    doc.update(repaired=True, labels=labelled(after))
    out.say(f"  removed AWSPENDING from {pending}")
    out.say(f"  labels:  {format_labels(labelled(after))}")
    return True


def _confirmed(args: argparse.Namespace, out: Output, version: str) -> bool:
    """Ask on the terminal (unless --yes); without a terminal, --yes is required."""
    if args.yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("no terminal to confirm on: pass --yes to remove the label")
    out.stderr.write(f"Remove AWSPENDING from version {version}? [y/N] ")
    out.stderr.flush()
    return sys.stdin.readline().strip().lower() in {"y", "yes"}


def _login(
    args: argparse.Namespace, client: Any, arn: str, version: str, stage: str
) -> dict[str, str]:
    """Tell whether a version's credentials log in: a login and the check query, nothing else."""
    secrets = SecretsClient(client)
    try:
        if stage == AWSPENDING and not secrets.pending_exists(arn, version):
            nothing = "createSecret never stored a value, so nothing can log in with it"
            return {"status": NO_VALUE, "detail": nothing}
        text = secrets.get_string(arn, stage, version)
        value = parse_json_object(text, f"version {version} ({stage})")
    except RotationError as exc:
        return {"status": NOT_CHECKED, "detail": str(exc)}
    redactor.add(*secret_strings(value, ("password",)))
    try:
        handler = handler_for(args, value, client)
    except RotationError as exc:
        return {"status": NOT_CHECKED, "detail": f"not a database secret this tool knows: {exc}"}
    try:
        secret = handler.parse_secret(value)
        with handler.connect(secret) as conn:
            handler.check(conn)
    except LoginFailedError as exc:
        return {"status": REJECTED, "detail": str(exc)}
    except (ConnectError, RotationError) as exc:
        return {"status": NOT_CHECKED, "detail": str(exc)}
    detail = f"user {secret.username!r} logged in at {secret.where}"
    return {"status": LOGS_IN, "detail": detail}


__all__ = ["LOGS_IN", "NOT_CHECKED", "NO_VALUE", "REJECTED", "run"]
