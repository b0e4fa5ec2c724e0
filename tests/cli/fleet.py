"""A fleet of secrets in moto in mixed rotation states, and a throttling proxy in front of it.

``python -m tests.cli.fleet [N]`` serves such a fleet from moto on loopback and runs
``rotation status`` over it (the README's transcript comes from this).
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

from rotation.local import secretsmanager as sm

ACCOUNT = "123456789012"
PACK_FUNCTIONS = (
    "SecretsManagerRDSPostgreSQLRotationSingleUser",
    "SecretsManagerRDSMySQLRotationMultiUser",
    "SecretsManagerRedshiftRotationSingleUser",
)
FOREIGN_FUNCTION = "my-team-rotation"


def lambda_arn(name: str, region: str = sm.STAND_IN_REGION, prefix: str = "rotation-") -> str:
    """Return the ARN of a function of this account."""
    return f"arn:aws:lambda:{region}:{ACCOUNT}:function:{prefix}{name}"


def _moto_secret(client: Any, secret_id: str) -> Any:
    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.secretsmanager.models import secretsmanager_backends

    backend = secretsmanager_backends[DEFAULT_ACCOUNT_ID][client.meta.region_name]
    return backend.secrets[client.describe_secret(SecretId=secret_id)["ARN"]]


def configure_rotation(
    client: Any,
    secret_id: str,
    function_arn: str,
    *,
    days: int = 30,
    enabled: bool = True,
    last_rotated: datetime | None = None,
    next_rotation: datetime | None = None,
) -> None:
    """Attach a rotation function and schedule, as RotateSecret with RotationRules leaves them.

    moto's RotateSecret needs the function to exist in its Lambda backend and then rotates at
    once, so the fleet sets the fields DescribeSecret reports directly.
    """
    secret = _moto_secret(client, secret_id)
    secret.rotation_requested = True  # moto reports rotation fields only once this is set
    secret.rotation_enabled = enabled
    secret.rotation_lambda_arn = function_arn
    secret.auto_rotate_after_days = days
    secret.last_rotation_date = None if last_rotated is None else last_rotated.timestamp()
    secret.next_rotation_date = None if next_rotation is None else next_rotation.timestamp()


def stick_pending(client: Any, secret_id: str, created: datetime, value: str | None = None) -> str:
    """Leave AWSPENDING on a new version, as a rotation that failed after RotateSecret does."""
    token = sm.begin_rotation(client, secret_id)
    secret = _moto_secret(client, secret_id)
    secret.versions[token]["createdate"] = int(created.timestamp())
    if value is not None:  # createSecret ran: the pending version holds a value
        secret.versions[token]["secret_string"] = value
    return token


@contextmanager
def version_creation_dates() -> Iterator[None]:
    """Make moto's ListSecretVersionIds report when each version was created.

    moto 5.x reports the time of the call as every version's CreatedDate; Secrets Manager
    reports "the date and time this version of the secret was created"
    (https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_SecretVersionsListEntry.html),
    which is how long an AWSPENDING has been stuck. moto keeps that date with each version.
    """
    from moto.secretsmanager.models import SecretsManagerBackend

    original = SecretsManagerBackend.list_secret_version_ids

    def listed(self: Any, secret_id: str) -> str:
        answer = json.loads(original(self, secret_id))
        versions = self.secrets[secret_id].versions
        for entry in answer["Versions"]:
            entry["CreatedDate"] = versions[entry["VersionId"]]["createdate"]
        return json.dumps(answer)

    SecretsManagerBackend.list_secret_version_ids = listed  # type: ignore[method-assign]
    try:
        yield
    finally:
        SecretsManagerBackend.list_secret_version_ids = original  # type: ignore[method-assign]


@dataclass
class Fleet:
    """The names of the secrets by the state they were put in."""

    healthy: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)
    stuck: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    @property
    def pack(self) -> list[str]:
        """Every secret rotated by a function of this pack."""
        return self.healthy + self.disabled + self.stuck + self.overdue


def build_fleet(
    client: Any,
    *,
    healthy: int = 38,
    disabled: int = 4,
    stuck: int = 5,
    overdue: int = 3,
    foreign: int = 6,
    now: datetime | None = None,
) -> Fleet:
    """Create a fleet: by default 50 secrets of this pack in mixed states, plus 6 others."""
    now = now or datetime.now(UTC)
    fleet = Fleet()
    value = json.dumps({"engine": "postgres", "host": "db.invalid", "username": "app",
                        "password": "fleet-password-1"})  # fmt: skip

    def create(kind: str, number: int) -> str:
        name = f"prod/{kind}/app{number:02d}"
        client.create_secret(Name=name, SecretString=value)
        return name

    for number in range(healthy + disabled + stuck + overdue):
        function = lambda_arn(PACK_FUNCTIONS[number % len(PACK_FUNCTIONS)])
        last = now - timedelta(days=3 + number % 20)
        if number < healthy:
            name = create("ok", number)
            fleet.healthy.append(name)
            configure_rotation(client, name, function, last_rotated=last,
                               next_rotation=last + timedelta(days=30))  # fmt: skip
        elif number < healthy + disabled:
            name = create("disabled", number)
            fleet.disabled.append(name)
            configure_rotation(client, name, function, enabled=False, last_rotated=last)
        elif number < healthy + disabled + stuck:
            name = create("stuck", number)
            fleet.stuck.append(name)
            configure_rotation(client, name, function, last_rotated=last,
                               next_rotation=last + timedelta(days=30))  # fmt: skip
            stick_pending(client, name, now - timedelta(hours=5 + 26 * (number % 3)))
        else:
            name = create("overdue", number)
            fleet.overdue.append(name)
            last = now - timedelta(days=40 + number % 5)
            configure_rotation(client, name, function, last_rotated=last,
                               next_rotation=last + timedelta(days=30))  # fmt: skip
    for number in range(foreign):
        name = f"team/other/app{number:02d}"
        client.create_secret(Name=name, SecretString=value)
        fleet.foreign.append(name)
        if number % 2:  # rotated by someone else's function; the others not at all
            configure_rotation(client, name, lambda_arn(FOREIGN_FUNCTION, prefix=""))
    return fleet


THROTTLING = "ThrottlingException"
# The region of a request, from its SigV4 credential scope.
SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/")


def throttle_every(n: int, *operations: str) -> Callable[[str, int, str], str | None]:
    """Return a fault that throttles every n-th request of the given operations."""

    def fault(operation: str, number: int, region: str) -> str | None:
        return THROTTLING if operation in operations and number % n == 0 else None

    return fault


class FaultProxy:
    """An HTTP proxy for Secrets Manager's JSON protocol that can answer calls with errors.

    ``fault(operation, number, region)`` sees the ``number``-th request of an operation (from 1)
    and the region it is signed for; an error code it returns is answered with HTTP 400 and that
    ``__type``, as Secrets Manager answers a ``ThrottlingException`` when a rate quota is
    exceeded; None forwards the request. It counts requests and faults per operation.
    """

    def __init__(self, upstream: str, fault: Callable[[str, int, str], str | None]) -> None:
        self.upstream = urlparse(upstream)
        self.fault = fault
        self.requests: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                operation = self.headers.get("X-Amz-Target", "").rpartition(".")[2]
                scope = SCOPE.search(self.headers.get("Authorization", ""))
                region = scope.group(1) if scope else ""
                with proxy._lock:
                    proxy.requests[operation] += 1
                    code = proxy.fault(operation, proxy.requests[operation], region)
                    if code:
                        proxy.faults[operation] += 1
                if code:
                    error = json.dumps({"__type": code, "message": f"{code} (test proxy)"})
                    content_type = {"Content-Type": "application/x-amz-json-1.1"}
                    self._answer(400, content_type, error.encode())
                    return
                conn = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                conn.request("POST", self.path, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
                conn.close()
                self._answer(response.status, dict(response.getheaders()), data)

            def _answer(self, status: int, headers: dict[str, str], data: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() not in {"content-length", "transfer-encoding", "connection",
                                           "server", "date"}:  # fmt: skip
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # quiet, as moto's server
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    @contextmanager
    def running(self) -> Iterator[FaultProxy]:
        """Serve until the block ends."""
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join()


def main(argv: list[str]) -> int:
    """Serve a fleet of secrets from moto and show ``rotation status`` over it."""
    from rotation.cli import main as rotation

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    size = int(argv[0]) if argv else 50
    with sm.SecretsManagerStandIn() as stand_in, version_creation_dates():
        client = stand_in.client()
        started = time.monotonic()
        fleet = build_fleet(client, healthy=size - 12)
        extra = "".join(f" {arg}" for arg in argv[1:])
        built = time.monotonic() - started
        print(f"$ rotation status --endpoint-url {stand_in.endpoint}{extra}")
        print(f"# moto: {len(fleet.pack)} secrets of this pack + {len(fleet.foreign)} others, "
              f"built in {built:.1f}s")  # fmt: skip
        sys.stdout.flush()
        code = rotation(["status", "--endpoint-url", stand_in.endpoint, *argv[1:]])
        print(f"$ echo $?\n{code}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
