"""The test kit for rotation functions: what a user's test suite imports.

* :mod:`rotation.testing.conformance` — the suite every engine, and any custom database handler,
  must pass (needs pytest and moto: ``pip install "rotation[testing]"``);
* :mod:`rotation.testing.fake` — an in-memory database and its handler, for tests of your own
  code that need an engine but no server.

The local stand-ins live in :mod:`rotation.local`; the ones a test suite needs are re-exported
here, so that ``from rotation.testing import PostgreSQLServer, rotate`` works. Importing this
package imports neither pytest nor moto nor a database driver.
"""

from __future__ import annotations

from rotation.local.driver import STEPS, event, rotate
from rotation.local.secretsmanager import (
    SecretsManagerStandIn,
    begin_rotation,
    disable_rotation,
    labels,
    value_at,
)
from rotation.local.servers import (
    MariaDBServer,
    PostgreSQLServer,
    ServerInfo,
    ServerUnavailableError,
    ThrowawayServer,
)

__all__ = [
    "STEPS",
    "MariaDBServer",
    "PostgreSQLServer",
    "SecretsManagerStandIn",
    "ServerInfo",
    "ServerUnavailableError",
    "ThrowawayServer",
    "begin_rotation",
    "disable_rotation",
    "event",
    "labels",
    "rotate",
    "value_at",
]
