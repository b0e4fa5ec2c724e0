"""DocumentDB versions: the driver the extra pins, and rotations on each version's wire version.

PyMongo 4.11 dropped wire version 6 (MongoDB/DocumentDB 3.6) and 4.14 wire version 7
(DocumentDB 4.0), per mongo-python-driver's changelog. The SAM build installs the extra's
range, so these tests must run with a PyMongo from that range too.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymongo
import pytest
from packaging.requirements import Requirement

from rotation.core.config import Settings
from rotation.core.database import TLS, TLSMode
from rotation.core.errors import ConfigurationError
from rotation.core.secret import DatabaseSecret
from rotation.core.staging import AWSCURRENT
from rotation.engines.documentdb import DocumentDBHandler
from rotation.local import driver
from rotation.testing.conformance import Scenario, unique_name
from tests.engines.documentdb.backend import DocumentDBBackend, prepare
from tests.engines.documentdb.server import DOCUMENTDB, Directory, Flavor, MongoTestServer

PYPROJECT = Path(__file__).resolve().parents[3] / "pyproject.toml"
USER_COMMANDS = {"usersInfo", "createUser", "updateUser", "grantRolesToUser",
                 "revokeRolesFromUser"}  # fmt: skip


def extra_requirement() -> Requirement:
    """Return the documentdb extra's PyMongo requirement, read from pyproject.toml."""
    extras = tomllib.loads(PYPROJECT.read_text())["project"]["optional-dependencies"]
    (requirement,) = [Requirement(r) for r in extras["documentdb"] if r.startswith("pymongo")]
    return requirement


def test_the_installed_pymongo_is_one_the_extra_allows() -> None:
    """The suite must test the driver the Lambda artifact gets, not whatever is installed."""
    requirement = extra_requirement()
    assert requirement.specifier.contains(pymongo.version), (
        f"PyMongo {pymongo.version} is installed, but rotation[documentdb] pins "
        f"{requirement.specifier}: pip install '{requirement}'"
    )


def test_the_extra_excludes_the_releases_that_dropped_documentdb_3_6_and_4_0() -> None:
    specifier = extra_requirement().specifier
    assert not specifier.contains("4.11.0")  # dropped wire version 6 (3.6)
    assert not specifier.contains("4.14.0")  # dropped wire version 7 (4.0)
    assert not specifier.contains("4.6.2")  # CVE-2024-5629, fixed in 4.6.3
    assert specifier.contains("4.10.1")


@pytest.fixture(params=sorted(DOCUMENTDB), ids=lambda v: f"DocumentDB {v}")
def flavor_backend(request: pytest.FixtureRequest) -> Iterator[DocumentDBBackend]:
    """A plaintext server that claims one DocumentDB version; secrets name ``appdb``."""
    flavor = DOCUMENTDB[request.param]
    directory = Directory(mechanisms=flavor.mechanisms)
    prepare(directory)
    server = MongoTestServer(directory, flavor=flavor).start()
    yield DocumentDBBackend(server, None, "127.0.0.1", dbname="appdb")
    server.stop()


@pytest.mark.parametrize("strategy", ["single", "alternating"])
def test_rotation_on_each_documentdb_version_sends_user_commands_to_admin(
    flavor_backend: DocumentDBBackend, client: Any, strategy: str
) -> None:
    """Each version's wire version (4.0: 7) is accepted, and user commands go to ``admin``.

    The secret's ``dbname`` is ``appdb``: the login authenticates against it (AWS's functions
    use it as the auth database, and DocumentDB authenticates every user against ``admin``),
    but createUser/updateUser/usersInfo/grantRolesToUser/revokeRolesFromUser run on ``admin``.
    """
    scenario = Scenario(flavor_backend, client, unique_name())
    directory = flavor_backend.directory
    try:
        if strategy == "alternating":
            scenario.with_admin()
        start = len(directory.commands)
        for _ in range(2):
            driver.rotate(scenario.handler(strategy), client, scenario.arn)
            current = scenario.value(AWSCURRENT)
            assert flavor_backend.can_login(current["username"], current["password"])
        sent = directory.commands[start:]
        user_commands = [(name, db) for _, name, db in sent if name in USER_COMMANDS]
        assert user_commands
        assert {db for _, db in user_commands} == {"admin"}, user_commands
        assert {db for _, name, db in sent if name == "saslContinue"} == {"appdb"}
        if strategy == "alternating":
            clone = scenario.username + "_clone"
            assert flavor_backend.privileges(clone) == flavor_backend.privileges(scenario.username)
            assert {name for name, _ in user_commands} >= {"usersInfo", "createUser"}
        else:
            assert not flavor_backend.can_login(scenario.username, scenario.password)
    finally:
        scenario.cleanup()


def test_a_server_older_than_the_driver_is_refused_naming_both_versions(
    offline_client: Any,
) -> None:
    """A wire version below PyMongo's minimum is a ConfigurationError that says what to do."""
    directory = Directory()
    prepare(directory)
    server = MongoTestServer(directory, flavor=Flavor("MongoDB 3.4", 5, "3.4.0")).start()
    handler = DocumentDBHandler(settings=Settings(connect_timeout=5), client=offline_client)
    value = {"engine": "docdb", "host": "127.0.0.1", "port": server.port, "ssl": False,
             "username": "rotation-admin", "password": "Admin-password-123"}  # fmt: skip
    try:
        with pytest.raises(ConfigurationError) as caught:
            handler.open_connection(DatabaseSecret.parse(value, handler), TLS(TLSMode.PLAINTEXT))
    finally:
        server.stop()
    message = str(caught.value)
    assert f"127.0.0.1:{server.port} reports wire version 5 (DocumentDB or MongoDB 3.4)" in message
    assert f"PyMongo {pymongo.version} needs at least 6 (MongoDB 3.6)" in message
    assert 'pip install "rotation[documentdb]"' in message
    assert "Admin-password-123" not in message
    assert directory.successful_authentications == 0
