"""``rotation check``: a read-only preflight of a secret before the first rotation.

Every check reads; none writes. The secret is read with GetSecretValue (or from a file), the
database only sees logins and SELECT-style queries (``session_facts``, ``privilege_findings``,
``username_limit``, the engine's check query), and nothing is stored anywhere. A failed check
stops the checks that depend on it; those are not reported.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rotation.cli.aws import handler_for, offline_client, secrets_manager_client
from rotation.cli.parser import UsageError
from rotation.core.database import DatabaseHandler, TLSMode
from rotation.core.errors import ConnectError, LoginFailedError, RotationError
from rotation.core.log import redactor, secret_strings
from rotation.core.secret import DatabaseSecret, parse_json_object
from rotation.core.secrets_client import SecretsClient
from rotation.core.staging import AWSCURRENT
from rotation.core.strategies import alternate_username, original_username

if TYPE_CHECKING:
    import argparse

    from rotation.cli.output import Output
    from rotation.core.database import TLS
    from rotation.core.handler import RotationHandler

PASS, FAIL, NOT_CHECKED, WARN = "pass", "fail", "not checked", "warn"


class Report:
    """The checks in the order they ran, printed as they complete."""

    def __init__(self, out: Output, doc: dict[str, Any]) -> None:
        self.out = out
        self.checks: list[dict[str, str]] = []
        doc["checks"] = self.checks

    def add(self, name: str, status: str | bool, detail: str) -> bool:
        """Record one check; return whether it did not fail."""
        if isinstance(status, bool):
            status = PASS if status else FAIL
        self.checks.append({"name": name, "status": status, "detail": redactor.redact(detail)})
        self.out.say(f"  {status.upper():<11} {name}: {detail}")
        return status != FAIL

    @property
    def ok(self) -> bool:
        """Tell whether no check failed."""
        return all(check["status"] != FAIL for check in self.checks)


def run(args: argparse.Namespace, out: Output, doc: dict[str, Any]) -> bool:
    """Run the preflight checks; return whether none failed."""
    report = Report(out, doc)
    remote = args.secret_id is not None or bool(args.endpoint_url or args.region)
    client = secrets_manager_client(args) if remote else None
    source = args.secret_id or args.file
    out.say(f"rotation check: {source}")
    value = _load(args, client, report)
    if value is None:
        return False
    built = handler_for(args, value, client or offline_client())
    strategy = built.strategy.name
    doc.update(engine=built.engine, strategy=strategy)
    if not isinstance(built, DatabaseHandler):
        return _service(built, value, client, report)
    handler: DatabaseHandler[Any] = built
    try:
        secret = handler.parse_secret(value)
    except RotationError as exc:
        report.add("secret format", FAIL, str(exc))
        return False
    where = f"{secret.host}:{secret.port}, database {secret.dbname}"
    who = f"{handler.display_name} secret for user {secret.username!r}"
    report.add("secret format", PASS, f"{who} at {where}")
    if strategy == "alternating" and not _clone_name(handler, secret, report):
        return False
    # Single user and retain: the user's own session acts (retain: unless masterarn names an admin).
    own = strategy == "single" or (strategy == "retain" and not secret.masterarn)
    session_ok = _session(handler, secret, report, own_privileges=own)
    if strategy == "alternating" and session_ok:
        _admin(handler, secret, client, report)
    return report.ok


def _service(handler: RotationHandler, value: dict[str, Any], client: Any, report: Report) -> bool:
    """Check a custom service's secret: its schema, a login, the admin secret if it has one."""
    try:
        secret = handler.parse_secret(value)
    except RotationError as exc:
        report.add("secret format", FAIL, str(exc))
        return False
    report.add("secret format", PASS, f"{handler.display_name} secret ({secret.where})")
    try:
        with handler.connect(secret) as conn:
            handler.check(conn)
    except LoginFailedError as exc:
        return report.add("login", FAIL, str(exc))
    except RotationError as exc:
        return report.add("reachable", FAIL, str(exc))
    report.add("login", PASS, f"user {secret.username!r} logged in")
    if secret.masterarn:
        if client is None:
            need = "reading masterarn needs Secrets Manager: pass --endpoint-url or --region"
            return report.add("admin secret", NOT_CHECKED, need)
        try:
            text = SecretsClient(client).get_string(secret.masterarn, AWSCURRENT)
            admin_value = parse_json_object(text, f"admin secret {secret.masterarn}")
            redactor.add(*secret_strings(admin_value, ("password",)))
            admin = handler.load_admin(admin_value, secret.masterarn, secret)
            with handler.connect(admin.session) as conn:
                handler.check(conn)
        except RotationError as exc:
            return report.add("admin secret", FAIL, str(exc))
        report.add("admin secret", PASS, admin.describe())
    return report.ok


def _load(args: argparse.Namespace, client: Any, report: Report) -> dict[str, Any] | None:
    """Read the secret's current value (never a version that a rotation is preparing)."""
    try:
        if args.file:
            try:
                text: str | None = Path(args.file).read_text()
            except OSError as exc:
                raise UsageError(f"cannot read {args.file}: {exc.strerror}") from None
            what = f"secret in {args.file}"
        else:
            text = SecretsClient(client).get_string(args.secret_id, AWSCURRENT)
            what = f"secret {args.secret_id} (AWSCURRENT)"
        value = parse_json_object(text, what)
    except UsageError:
        raise
    except RotationError as exc:
        report.add("secret", FAIL, str(exc))
        return None
    redactor.add(*secret_strings(value, ("password",)))
    report.add("secret", PASS, f"read {what}: a JSON object with keys {', '.join(sorted(value))}")
    return value


def _clone_name(handler: DatabaseHandler[Any], secret: DatabaseSecret, report: Report) -> bool:
    """Check that alternating users has an admin secret and a clone name that fits."""
    if not secret.masterarn:
        return report.add("admin secret", FAIL, "alternating users needs 'masterarn' in the secret")
    try:
        other = alternate_username(
            secret.username,
            handler.clone_suffix,
            handler.max_username_length,
            handler.username_length,
        )
    except RotationError as exc:
        return report.add("clone name", FAIL, str(exc))
    # username_length counts as the engine does (bytes for the PostgreSQL family).
    limit = (
        f"{handler.username_length(other)} long; {handler.display_name} allows "
        f"{handler.max_username_length}"
    )
    report.add("clone name", PASS, f"alternates {secret.username!r} with {other!r} ({limit})")
    return True


def _session(
    handler: DatabaseHandler[Any], secret: DatabaseSecret, report: Report, *, own_privileges: bool
) -> bool:
    """Reach the server, log in with the current credentials, report TLS and privileges."""
    where = f"{secret.host}:{secret.port}"
    try:
        with handler.session(secret) as (conn, used_tls):
            report.add("reachable", PASS, f"{handler.display_name} answered at {where}")
            facts = handler.session_facts(conn)
            _tls(handler, secret, used_tls, facts, report)
            handler.check(conn)
            version = facts.get("server_version", "not reported")
            report.add("login", PASS, f"user {secret.username!r} logged in (server {version})")
            if own_privileges:  # single user: the user's own session is the one that will act
                _privileges(handler, conn, secret.username, report, admin=False)
    except LoginFailedError as exc:
        report.add("reachable", PASS, f"{handler.display_name} answered at {where}")
        return report.add("login", FAIL, str(exc))
    except ConnectError as exc:
        return report.add("reachable", FAIL, str(exc))
    except RotationError as exc:
        return report.add("login", FAIL, str(exc))
    return True


def _tls(
    handler: DatabaseHandler[Any],
    secret: DatabaseSecret,
    used: TLS,
    facts: dict[str, str],
    report: Report,
) -> None:
    attempts = handler.tls_attempts(secret)
    ca = handler.settings.tls_ca_file or "the system trust store"
    protocol = " ".join(x for x in (facts.get("tls_version"), facts.get("tls_cipher")) if x)
    if attempts[0].mode is not TLSMode.VERIFIED:
        report.add(
            "TLS", PASS, "PLAINTEXT: the secret says ssl: false, so traffic is not encrypted"
        )
    elif not used.enabled:
        report.add(
            "TLS", FAIL, "PLAINTEXT after TLS failed (ROTATION_TLS_ALLOW_PLAINTEXT_FALLBACK)"
        )
    else:
        fallback = len(attempts) > 1
        note = " (plaintext fallback is enabled but was not needed)" if fallback else ""
        detail = protocol or "the engine reports no protocol version"
        report.add("TLS", PASS, f"{detail}; chain and host name verified against {ca}{note}")


def _privileges(
    handler: DatabaseHandler[Any], conn: Any, username: str, report: Report, *, admin: bool
) -> None:
    try:
        findings = handler.privilege_findings(conn, username, admin=admin)
    except RotationError as exc:
        report.add("privileges", FAIL, f"could not read the privileges: {exc}")
        return
    if not findings:
        report.add("privileges", NOT_CHECKED, "this engine does not report privileges yet")
    for finding in findings:
        status = NOT_CHECKED if finding.ok is None else finding.ok
        report.add(finding.name, WARN if finding.warning else status, finding.detail)


def _admin(
    handler: DatabaseHandler[Any], secret: DatabaseSecret, client: Any, report: Report
) -> None:
    """Read the admin secret from masterarn; check its login, privileges and name limit."""
    assert secret.masterarn is not None
    if client is None:
        need = "reading masterarn needs Secrets Manager: pass --endpoint-url or --region"
        report.add("admin secret", NOT_CHECKED, need)
        return
    try:
        text = SecretsClient(client).get_string(secret.masterarn, AWSCURRENT)
        value = parse_json_object(text, f"admin secret {secret.masterarn}")
        redactor.add(*secret_strings(value, ("password",)))
        # Resolved and checked as the rotation will: a secret RDS or Redshift manages is
        # located through their API (read-only describe calls).
        admin = handler.load_admin(value, secret.masterarn, secret)
    except RotationError as exc:
        report.add("admin secret", FAIL, str(exc))
        return
    report.add("admin secret", PASS, admin.describe())
    original = original_username(secret.username, handler.clone_suffix)
    clone = alternate_username(
        original, handler.clone_suffix, handler.max_username_length, handler.username_length
    )
    try:
        # The admin acts in the user's database on the writer, as the rotation will.
        with handler.connect(admin.session) as conn:
            report.add("admin login", PASS, f"admin {admin.secret.username!r} logged in")
            limit = handler.username_limit(conn)
            length = handler.username_length(clone)
            size = f"{clone!r} is {length} long; this server allows {limit}"
            report.add("clone name on server", length <= limit, size)
            _privileges(handler, conn, original, report, admin=True)
    except RotationError as exc:
        report.add("admin login", FAIL, str(exc))


__all__ = ["FAIL", "NOT_CHECKED", "PASS", "WARN", "run"]
