"""A rotation waiting for its four steps: what ``rotation invoke`` (or ``sam local invoke``) needs.

:class:`Sandbox` starts moto's Secrets Manager on loopback and a throwaway database server,
creates an application user and its secret, and does what RotateSecret does before it invokes a
function: it attaches ``AWSPENDING`` to a new version without a value. Then it writes the four
event files for that version and an ``--env-vars`` file that points the function at the two
stand-ins. Invoking createSecret, setSecret, testSecret and finishSecret in order rotates the
password for real; :meth:`Sandbox.begin` starts the next rotation.

The first pending version and the secret's name are fixed (:data:`FIRST_TOKEN`,
:func:`secret_name`), so the pack's own ``templates/<engine>/events/*.json`` name them too
(``templates/generate.py`` writes the same values; a test checks that they agree).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rotation.local import secretsmanager as sm
from rotation.local.driver import write_events

if TYPE_CHECKING:
    from rotation.local.databases import DatabaseStandIn

# The ClientRequestToken of the sandbox's first rotation and of the pack's event files.
FIRST_TOKEN = "6e3b2a7c-1d4f-4b8e-9a2c-5f0e7d1c3b9a"
APP_USER = "app_user"
# The functions of template.yaml, by engine and strategy (templates/generate.py names them).
FUNCTION_IDS = {
    "postgresql": "RDSPostgreSQL",
    "mysql": "RDSMySQL",
    "mariadb": "RDSMariaDB",
    "redshift": "Redshift",
    "oracle": "RDSOracle",
    "sqlserver": "RDSSQLServer",
    "documentdb": "MongoDB",
}
ENV_FILE = "env.json"
SHELL_FILE = "sandbox.env"


def secret_name(engine: str) -> str:
    """Return the name of the sandbox's application secret for an engine."""
    return f"rotation-sandbox/{engine}/app-user"


def admin_secret_name(engine: str) -> str:
    """Return the name of the sandbox's admin secret (alternating users)."""
    return f"rotation-sandbox/{engine}/admin"


def function_id(engine: str, strategy: str) -> str:
    """Return the logical id of the engine's function for ``single`` or ``alternating``."""
    suffix = "MultiUser" if strategy == "alternating" else "SingleUser"
    return f"SecretsManager{FUNCTION_IDS[engine]}Rotation{suffix}"


@dataclass
class Sandbox:
    """A secret with a pending rotation on local stand-ins, and the files to invoke its steps.

    Attributes:
        engine: The engine module (``postgresql``, ``mariadb``, ...).
        strategy: ``single`` or ``alternating``.
        directory: Where the event files and the ``--env-vars`` file are written.
        secrets: The running Secrets Manager stand-in.
        database: The running database stand-in.
        arn: The application secret's ARN (after :meth:`create`).
        token: The pending version of the current rotation.
        rounds: How many rotations were started.
    """

    engine: str
    strategy: str
    directory: Path
    secrets: sm.SecretsManagerStandIn
    database: DatabaseStandIn
    arn: str = ""
    token: str = ""
    rounds: int = 0
    events: list[Path] = field(default_factory=list)

    @property
    def function_id(self) -> str:
        """Return the logical id of the function that rotates this secret."""
        return function_id(self.engine, self.strategy)

    def create(self, engine_value: str, password: str) -> list[str]:
        """Create the user and its secret(s), begin the first rotation; return the privileges."""
        granted = self.database.create_user(APP_USER, password)
        admin = admin_secret_name(self.engine) if self.strategy == "alternating" else None
        self.arn = self.database.store_secrets(
            self.secrets.client(), engine_value, APP_USER, password, secret_name(self.engine), admin
        )
        self.write_env()
        self.begin(FIRST_TOKEN)
        return granted

    def begin(self, token: str | None = None) -> str:
        """Start a rotation as RotateSecret does and write its event files; return the token."""
        self.token = sm.begin_rotation(self.secrets.client(), self.arn, token)
        self.rounds += 1
        self.events = write_events(self.directory / "events", self.arn, self.token)
        return self.token

    def labels(self) -> dict[str, list[str]]:
        """Return the secret's labelled versions."""
        return sm.labels(self.secrets.client(), self.arn)

    def variables(self) -> dict[str, str]:
        """Return what points the function at the stand-ins."""
        variables = {"SECRETS_MANAGER_ENDPOINT": self.secrets.endpoint}
        if self.database.running.ca_file:
            variables["ROTATION_TLS_CA_FILE"] = str(Path(self.database.running.ca_file).resolve())
        return variables

    def write_env(self) -> list[Path]:
        """Write the ``--env-vars`` file (SAM's format) and a shell file with the same values."""
        self.directory.mkdir(parents=True, exist_ok=True)
        variables = self.variables()
        env_file = self.directory / ENV_FILE
        env_file.write_text(json.dumps({self.function_id: variables}, indent=2) + "\n")
        shell_file = self.directory / SHELL_FILE
        shell_file.write_text(
            "".join(f"export {name}={shlex.quote(value)}\n" for name, value in variables.items())
        )
        return [env_file, shell_file]


def describe(sandbox: Sandbox) -> dict[str, Any]:
    """Return the sandbox's facts for a JSON document."""
    return {
        "secret": sandbox.arn,
        "token": sandbox.token,
        "function": sandbox.function_id,
        "events": [str(p) for p in sandbox.events],
        "env_vars": str(sandbox.directory / ENV_FILE),
        "variables": sandbox.variables(),
    }
