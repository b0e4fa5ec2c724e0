"""``rotation rotate``: start a rotation and follow it, or drive the four steps locally.

Service mode calls RotateSecret; the deployed function does the work, and with ``--wait`` the
command follows DescribeSecret's labels until the new version is AWSCURRENT (completed), loses
AWSPENDING without becoming current (failed), or the timeout passes (still pending: the
function failed or is still retrying; its logs say why).

Local mode (``--local``) runs the four steps here through the engine's handler. Only RotateSecret
can create the value-less AWSPENDING version a real rotation starts from, and it would also
invoke the deployed function. So: when the secret lives in an in-process moto backend, the
placeholder is created there exactly as RotateSecret does; otherwise the command stores the
pending value itself (what createSecret would store; createSecret then finds it and does
nothing), which needs rotation enabled on the secret, as the handler's guard checks.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import TYPE_CHECKING, Any

from rotation.cli.aws import handler_for, secrets_manager_client
from rotation.cli.output import format_labels, short
from rotation.cli.steps import run_steps
from rotation.core.errors import SecretsManagerError
from rotation.core.secrets_client import SecretsClient
from rotation.core.staging import AWSCURRENT, AWSPENDING, labelled, version_with
from rotation.local import secretsmanager as sm

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

    from rotation.cli.output import Output
    from rotation.core.handler import RotationHandler

COMPLETED, STARTED, FAILED, TIMED_OUT = "completed", "started", "failed", "timed out"


def run(args: argparse.Namespace, out: Output, doc: dict[str, Any]) -> bool:
    """Rotate the secret; return whether the rotation completed (or started, without --wait)."""
    client = secrets_manager_client(args)
    secrets = SecretsClient(client)
    metadata = secrets.describe(args.secret_id)
    doc.update(secret=metadata.arn, mode="local" if args.local else "service")
    out.say(f"rotation rotate: {metadata.arn}")
    out.say(f"  before:  {format_labels(labelled(metadata.stages))}")
    if args.local:
        return _local(args, client, metadata.arn, out, doc)
    old_current = version_with(metadata.stages, AWSCURRENT)
    try:
        token = str(client.rotate_secret(SecretId=metadata.arn)["VersionId"])
    except Exception as exc:
        raise _wrap("RotateSecret", exc) from exc
    doc["token"] = token
    out.say(f"  RotateSecret: new version {short(token)}")
    if not args.wait:
        doc.update(outcome=STARTED, labels=sm.labels(client, metadata.arn))
        out.say("  started; follow it with --wait or in the function's logs")
        return True
    outcome = follow(client, metadata.arn, token, old_current, args.timeout, args.interval, out)
    doc.update(outcome=outcome, labels=sm.labels(client, metadata.arn))
    out.say(f"  after:   {format_labels(doc['labels'])}")
    out.say(f"  outcome: {outcome}")
    return outcome == COMPLETED


def follow(
    client: Any,
    arn: str,
    token: str,
    old_current: str | None,
    timeout: float,
    interval: float,
    out: Output,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Poll the labels until ``token`` is AWSCURRENT, loses AWSPENDING, or time runs out.

    A line on stdout whenever the labels change; between them a progress line on stderr with
    the elapsed time, the labels and how far the steps got (on a terminal at every poll,
    otherwise every 10 s).
    """
    started = clock()
    deadline = started + timeout
    shown: tuple[str, ...] | None = None
    progress = out.progress(clock)
    secrets = SecretsClient(client)
    try:
        while True:
            stages = secrets.describe(arn).stages
            labels = tuple(stages.get(token, ()))
            state = f"version {short(token)} is {','.join(labels) or 'unlabelled'}"
            if labels != shown:
                progress.clear()
                out.say(f"  waiting: {state}")
                shown = labels
            if AWSCURRENT in labels and version_with(stages, AWSCURRENT) != old_current:
                return COMPLETED
            if AWSPENDING not in labels:
                return FAILED
            if clock() >= deadline:
                return TIMED_OUT
            elapsed = clock() - started
            progress.update(f"  waiting {elapsed:.0f}s: {state}; {_phase(secrets, arn, token)}")
            sleep(interval)
    finally:
        progress.clear()


def _phase(secrets: SecretsClient, arn: str, token: str) -> str:
    """Say how far the function got, as far as the secret shows it (no value is read out)."""
    try:
        stored = secrets.pending_exists(arn, token)
    except SecretsManagerError:  # e.g. no GetSecretValue permission: say nothing
        return "step unknown"
    if stored:
        return "createSecret done; setSecret, testSecret or finishSecret running"
    return "waiting for createSecret (the pending version has no value yet)"


def _local(
    args: argparse.Namespace, client: Any, arn: str, out: Output, doc: dict[str, Any]
) -> bool:
    """Drive createSecret, setSecret, testSecret and finishSecret through the local handler."""
    current = json.loads(sm.value_at(client, arn, AWSCURRENT))
    handler = handler_for(args, current, client)
    doc.update(engine=handler.engine, strategy=handler.strategy.name, steps=[])
    token = _begin(handler, client, arn, current, out)
    doc["token"] = token
    if not run_steps(handler, arn, token, out, doc["steps"]):
        doc.update(outcome=FAILED, labels=sm.labels(client, arn))
        return False
    doc.update(outcome=COMPLETED, labels=sm.labels(client, arn))
    out.say(f"  after:   {format_labels(doc['labels'])}")
    out.say(f"  outcome: {COMPLETED}")
    return True


def _begin(
    handler: RotationHandler, client: Any, arn: str, current: dict[str, Any], out: Output
) -> str:
    """Create the AWSPENDING version the steps will fill; return its id (the token)."""
    if in_process_moto(client, arn):
        token = sm.begin_rotation(client, arn)
        out.say(f"  AWSPENDING placeholder {short(token)} created in the in-process stand-in")
        return token
    token = str(uuid.uuid4())
    pending = handler.generate_secret(current)
    handler.secrets.put_pending(arn, token, json.dumps(pending), None)
    out.say(f"  pending version {short(token)} stored (createSecret will find it)")
    return token


def in_process_moto(client: Any, arn: str) -> bool:
    """Tell whether the secret lives in a moto backend of this very process."""
    try:
        from moto.core.models import DEFAULT_ACCOUNT_ID
        from moto.secretsmanager.models import secretsmanager_backends
    except ImportError:
        return False
    backend = secretsmanager_backends[DEFAULT_ACCOUNT_ID][client.meta.region_name]
    return arn in backend.secrets


def _wrap(operation: str, exc: Exception) -> SecretsManagerError:
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return SecretsManagerError(
            f"{operation} failed: {error.get('Code')}: {error.get('Message')}"
        )
    return SecretsManagerError(f"{operation} failed: {type(exc).__name__}: {exc}")
