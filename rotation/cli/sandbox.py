"""``rotation sandbox``: a local rotation that waits for its steps, invoked from another terminal.

It keeps a Secrets Manager stand-in and a throwaway database running, with a secret whose
rotation has begun (:mod:`rotation.local.sandbox`), until ``q``, Ctrl-C, SIGTERM or the end of
input. Enter begins the next rotation. Each step is then run by ``rotation invoke`` (or ``sam
local invoke``) from the built function, with the files the sandbox writes or the pack's own.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rotation.cli.aws import build_handler
from rotation.cli.demo import DEMO_TARGETS
from rotation.cli.output import fingerprint, format_labels, short
from rotation.core.config import Settings
from rotation.core.log import redactor
from rotation.local import secretsmanager as sm
from rotation.local.sandbox import APP_USER, ENV_FILE, SHELL_FILE, Sandbox, describe

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from rotation.cli.output import Output


def run(args: argparse.Namespace, out: Output, doc: dict[str, Any]) -> bool:
    """Run the sandbox until told to stop; return True."""
    engine_value, stand_in_class, note = DEMO_TARGETS[args.engine]
    directory = Path(args.dir)
    with sm.SecretsManagerStandIn(args.port) as secrets, stand_in_class() as database:
        redactor.add(database.running.admin_password)
        sandbox = Sandbox(args.engine, args.strategy, directory, secrets, database)
        settings = Settings(secrets_manager_endpoint=secrets.endpoint)
        handler = build_handler(args.engine, args.strategy, settings, secrets.client())
        password = handler.generate_password()
        granted = sandbox.create(engine_value, password)
        info = database.running
        tls = "verified TLS (throwaway CA)" if info.tls else "plaintext (trustme missing)"
        out.say(f"rotation sandbox: {handler.display_name}, {args.strategy} user rotation")
        if note:
            out.say(f"  note: {note}")
        out.say(f"  Secrets Manager: moto at {secrets.endpoint} (in-process stand-in)")
        out.say(f"  database:        {database.display_name} at {info.host}:{info.port}, {tls}")
        out.say(f"  user:            {APP_USER} ({'; '.join(granted)}), "
                f"password {fingerprint(password)}")  # fmt: skip
        out.say(f"  secret:          {sandbox.arn}")
        _announce(sandbox, out)
        _usage(sandbox, out)
        doc.update(engine=args.engine, strategy=args.strategy, **describe(sandbox))
        for command in _commands():
            if command == "q":
                break
            out.say(f"labels: {format_labels(sandbox.labels())}")
            sandbox.begin()
            _announce(sandbox, out)
        doc.update(rounds=sandbox.rounds, labels=sandbox.labels())
    out.say("sandbox stopped; stand-ins removed")
    return True


def _announce(sandbox: Sandbox, out: Output) -> None:
    out.say(f"rotation {sandbox.rounds}: RotateSecret -> version {short(sandbox.token)} "
            "(AWSPENDING, no value); event files:")  # fmt: skip
    for path in sandbox.events:
        out.say(f"  {path}")


def _usage(sandbox: Sandbox, out: Output) -> None:
    fid = sandbox.function_id
    env = sandbox.directory / ENV_FILE
    events = sandbox.directory / "events"
    out.say(f"wrote {env} and {sandbox.directory / SHELL_FILE} (endpoint and CA for the function)")
    out.say("Invoke the steps in order from another terminal, with the built function:")
    out.say(f"  rotation invoke {fid} -e {events}/createSecret.json --env-vars {env}")
    out.say("  ... then setSecret.json, testSecret.json, finishSecret.json")
    out.say("The pack's own event files name this secret and its first version too:")
    out.say(f"  source {sandbox.directory / SHELL_FILE}")
    out.say(f"  rotation invoke {fid} -e templates/{sandbox.engine}/events/createSecret.json "
            f"--env-vars templates/{sandbox.engine}/env.json")  # fmt: skip
    out.say("Enter: begin the next rotation; q, Ctrl-D or Ctrl-C: stop.")


def _commands() -> Iterator[str]:
    """Yield each line typed; at the end of input, stop (Ctrl-D) or wait for Ctrl-C / SIGTERM."""
    for line in sys.stdin:
        yield line.strip().lower()
    if not sys.stdin.isatty():
        # Input closed, not typed (run in the background): keep serving until interrupted.
        threading.Event().wait()
