"""``rotation events``: write the four event files ``sam local invoke -e`` takes."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rotation.cli.parser import UsageError
from rotation.local.driver import write_events

if TYPE_CHECKING:
    import argparse

    from rotation.cli.output import Output


def run(args: argparse.Namespace, out: Output, doc: dict[str, Any]) -> bool:
    """Write ``<out>/<step>.json`` for each step with one token; return True."""
    token = args.token or str(uuid.uuid4())
    directory = Path(args.out)
    try:
        paths = write_events(directory, args.secret_id, token, args.rotation_token)
    except OSError as exc:
        raise UsageError(f"cannot write to {directory}: {exc.strerror}") from None
    files = [str(path) for path in paths]
    for path in files:
        out.say(f"wrote {path}")
    doc.update(secret_id=args.secret_id, token=token, files=files)
    out.say(f"token {token}: the version Secrets Manager would create; invoke in order, e.g.")
    out.say(f"  rotation invoke <FunctionLogicalId> -e {files[0]}   (or sam local invoke)")
    if not args.secret_id.startswith("arn:"):
        out.say("note: Secrets Manager sends the secret's ARN as SecretId; a name works too")
    return True
