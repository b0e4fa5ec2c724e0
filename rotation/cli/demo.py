"""``rotation demo``: real rotations through the real handler, on throwaway local servers.

Secrets Manager is moto served over HTTP on loopback in this process; the database is a
throwaway server started from the locally installed binaries. Each round does what the service
does: attach AWSPENDING to a new value-less version, then invoke the four steps with the
secret's ARN. After each round the labels are shown and the new credentials are proven.

One exception: ``--engine mysql --strategy retain`` needs MySQL 8's dual passwords, which no
server here has (MariaDB, which plays MySQL otherwise, has none). That demo runs on the DB-API
double of MySQL 8's account rules (:mod:`rotation.local.mysql8`), in process, and says so.
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from rotation.cli.output import fingerprint, format_labels, short
from rotation.cli.parser import UsageError
from rotation.cli.steps import run_steps
from rotation.core.config import Settings
from rotation.core.errors import ConfigurationError, LoginFailedError
from rotation.core.log import redactor
from rotation.core.registry import engine_class
from rotation.core.secret import DatabaseSecret
from rotation.local import secretsmanager as sm
from rotation.local.databases import (
    DatabaseStandIn,
    MariaDBStandIn,
    PostgreSQLStandIn,
    RedshiftStandIn,
)

if TYPE_CHECKING:
    import argparse

    from rotation.cli.output import Output
    from rotation.core.database import DatabaseHandler

# engine -> (the secret's engine value, the stand-in server, a note when it is not the real one)
DEMO_TARGETS: dict[str, tuple[str, type[DatabaseStandIn], str | None]] = {
    "postgresql": ("postgres", PostgreSQLStandIn, None),
    "mysql": ("mysql", MariaDBStandIn, "MySQL is played by MariaDB (no MySQL server here)"),
    "mariadb": ("mariadb", MariaDBStandIn, None),
    "redshift": ("redshift", RedshiftStandIn, "Redshift is played by PostgreSQL"),
}
APP_USER = "app_demo"
MYSQL8_DOUBLE_NOTE = (
    "MySQL 8 is played by a DB-API double of its documented account rules (rotation.local."
    "mysql8), not by a MySQL server: no server here has dual passwords (MariaDB, which plays "
    "MySQL in the other demos, has none). This shows the strategy's statements and outcomes "
    "under MySQL's rules as documented, not MySQL itself"
)
EXPECT = {
    "single": "the new password logs in; the old one is rejected",
    "alternating": "the new user logs in; the previous one keeps working",
    "retain": "the new password logs in; the old one keeps working until the next rotation "
    "replaces it, the one before is rejected",
}


def run(args: argparse.Namespace, out: Output, doc: dict[str, Any]) -> bool:
    """Run ``args.rounds`` rotations and prove each one; return whether all passed."""
    engine_value, stand_in_class, note = _target(args.engine, args.strategy)
    cls = _engine(args.engine)
    # Refused strategies (MariaDB has no retain, PostgreSQL no dual) fail before any server starts.
    cls.require_hooks(args.strategy)
    doc.update(engine=args.engine, strategy=args.strategy, stand_ins={}, rounds=[])
    out.say(f"rotation demo: {cls.display_name}, {args.strategy} user rotation, "
            f"{args.rounds} round(s)")  # fmt: skip
    if note:
        out.say(f"  note: {note}")
    with sm.SecretsManagerStandIn() as secrets, stand_in_class() as database:
        info = database.running
        tls = "verified TLS (throwaway CA)" if info.tls else "plaintext (trustme missing)"
        bind = getattr(database, "bind", None)
        if bind is not None:  # the double: reached in process, not over a network
            cls = bind(cls)
            tls = "in process, no network"
        doc["stand_ins"] = {
            "secrets_manager": secrets.endpoint,
            "database": f"{database.display_name} at {info.host}:{info.port}",
            "tls": info.tls,
        }
        out.say(f"  Secrets Manager: moto at {secrets.endpoint} (in-process stand-in)")
        out.say(f"  database:        {database.display_name} at {info.host}:{info.port}, {tls}")
        redactor.add(info.admin_password)
        client = secrets.client()
        settings = Settings(secrets_manager_endpoint=secrets.endpoint, tls_ca_file=info.ca_file)
        handler = cls(strategy=args.strategy, settings=settings, client=client)
        arn = _create_secrets(handler, database, client, engine_value, args.strategy, out, doc)
        out.say(f"  expect:          {EXPECT.get(args.strategy, EXPECT['single'])}")
        all_ok = True
        retired: list[DatabaseSecret] = []  # the secrets of the rounds before, newest last
        for number in range(1, args.rounds + 1):
            all_ok = _round(number, handler, database, client, arn, out, doc, retired) and all_ok
    verdict = "passed" if all_ok else "FAILED"
    out.say(f"demo {verdict}: {args.rounds} rotation(s); stand-ins stopped and removed")
    return all_ok


def _target(engine: str, strategy: str) -> tuple[str, type[DatabaseStandIn], str | None]:
    """Return the secret's engine value, the stand-in and the note for an engine and strategy."""
    if engine == "mysql" and strategy == "retain":
        from rotation.local.mysql8 import MySQL8DoubleStandIn

        return "mysql", MySQL8DoubleStandIn, MYSQL8_DOUBLE_NOTE
    engine_value, stand_in, note = DEMO_TARGETS[engine]
    return (
        engine_value,
        stand_in,
        (f"{note}; this shows the protocol, not that server's dialect" if note else None),
    )


def _engine(name: str) -> type[DatabaseHandler[Any]]:
    try:
        return engine_class(name)
    except ConfigurationError:
        raise UsageError(
            f"the {name} engine is not part of this build yet, so the demo cannot rotate it"
        ) from None


def _create_secrets(
    handler: DatabaseHandler[Any],
    database: DatabaseStandIn,
    client: Any,
    engine_value: str,
    strategy: str,
    out: Output,
    doc: dict[str, Any],
) -> str:
    """Create the application user and its secret (and the admin secret); return the ARN."""
    password = handler.generate_password()
    granted = database.create_user(APP_USER, password)
    tag = uuid.uuid4().hex[:6]
    admin_name = f"demo/{tag}/admin" if strategy == "alternating" else None
    arn = database.store_secrets(
        client, engine_value, APP_USER, password, f"demo/{tag}/app", admin_name
    )
    if admin_name is not None:
        out.say(f"  admin secret:    {admin_name} (user {database.running.admin_user})")
    out.say(f"  user:            {APP_USER} ({'; '.join(granted)}), "
            f"password {fingerprint(password)}")  # fmt: skip
    out.say(f"  secret:          demo/{tag}/app")
    doc.update(secret=arn, user=APP_USER, privileges=granted)
    return arn


def _round(
    number: int,
    handler: DatabaseHandler[Any],
    database: DatabaseStandIn,
    client: Any,
    arn: str,
    out: Output,
    doc: dict[str, Any],
    retired: list[DatabaseSecret],
) -> bool:
    """Run one rotation step by step, then show the labels and prove the credentials."""
    before = handler.parse_secret(json.loads(sm.value_at(client, arn, "AWSCURRENT")))
    token = sm.begin_rotation(client, arn)
    out.say(f"round {number}: RotateSecret -> new version {short(token)} (AWSPENDING, no value)")
    record: dict[str, Any] = {"round": number, "token": token, "steps": []}
    doc["rounds"].append(record)
    if not run_steps(handler, arn, token, out, record["steps"]):
        return False
    labels = sm.labels(client, arn)
    record["labels"] = labels
    out.say(f"  labels:  {format_labels(labels)}")
    after = handler.parse_secret(json.loads(sm.value_at(client, arn, "AWSCURRENT")))
    record["proof"] = proofs = _prove(handler, database, before, after, retired)
    retired.append(before)
    for proof in proofs:
        verdict = "logs in" if proof["logs_in"] else "is rejected"
        mark = "ok" if proof["as_expected"] else "UNEXPECTED"
        out.say(f"  proof:   {proof['label']:<8} {proof['username']} / {proof['password']} "
                f"{verdict}{proof['detail']}  [{mark}]")  # fmt: skip
    return all(proof["as_expected"] for proof in proofs)


def _prove(
    handler: DatabaseHandler[Any],
    database: DatabaseStandIn,
    before: DatabaseSecret,
    after: DatabaseSecret,
    retired: list[DatabaseSecret],
) -> list[dict[str, Any]]:
    """Log in with the new and the old credentials through the engine's own connect."""
    # Single user: the old password must be dead. Alternating: the previous user keeps working
    # until the next rotation, so applications holding it are not cut off. Retain: the previous
    # password keeps working too, and the one before it (two rotations old) is dead.
    retain = handler.strategy.name == "retain"
    old_should_work = before.username != after.username or retain
    proofs = [
        _login(handler, database, "new", after, expected=True),
        _login(handler, database, "old", before, expected=old_should_work),
    ]
    if retain and retired:
        proofs.append(_login(handler, database, "older", retired[-1], expected=False))
    return proofs


def _login(
    handler: DatabaseHandler[Any],
    database: DatabaseStandIn,
    label: str,
    secret: DatabaseSecret,
    *,
    expected: bool,
) -> dict[str, Any]:
    detail = ""
    try:
        with handler.connect(secret) as conn:
            rows = database.read_table(conn)
            detail = f" and reads {rows} rows"
        logs_in = True
    except LoginFailedError:
        logs_in = False
    return {"label": label, "username": secret.username, "password": fingerprint(secret.password),
            "logs_in": logs_in, "as_expected": logs_in == expected, "detail": detail}  # fmt: skip
