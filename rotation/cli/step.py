"""``rotation step``: run one rotation step here, as ``sam local invoke`` would run it.

The event is the one Secrets Manager sends; the handler's structured logs go to stderr (INFO
unless ``--log-level`` says otherwise), the outcome to stdout.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from rotation.cli.aws import build_handler, secrets_manager_client, settings_from
from rotation.cli.output import short
from rotation.local.driver import event

if TYPE_CHECKING:
    import argparse

    from rotation.cli.output import Output


def run(args: argparse.Namespace, out: Output, doc: dict[str, Any]) -> bool:
    """Invoke the handler with one step's event; an error propagates as the step's failure."""
    client = secrets_manager_client(args)
    handler = build_handler(
        args.engine, args.strategy, settings_from(args), client, handler=args.handler
    )
    body = event(args.secret_id, args.token, args.step, args.rotation_token)
    doc.update(step=args.step, secret_id=args.secret_id, token=args.token,
               engine=args.engine or handler.engine, strategy=args.strategy)  # fmt: skip
    started = time.perf_counter()
    try:
        handler.handle(body, None)
    finally:
        doc["ms"] = round((time.perf_counter() - started) * 1000)
    out.say(f"{args.step} ok for version {short(args.token)} ({doc['ms']} ms)")
    return True
