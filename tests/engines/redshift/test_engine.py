"""Redshift's facts, password policy, md5 form and name limit, without a server."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest

from rotation.core.config import Settings
from rotation.core.errors import ConfigurationError, SecretFormatError, UsernameTooLongError
from rotation.core.registry import engine_class
from rotation.core.secret import DatabaseSecret
from rotation.engines import redshift
from rotation.engines.postgresql.statements import md5_verifier
from rotation.engines.redshift import RedshiftHandler
from rotation.engines.redshift.statements import grant_batches

# Redshift's plain-text password rules (docs.aws.amazon.com/redshift/latest/dg/r_CREATE_USER.html)
VALID = re.compile(r"^(?=.*[A-Z])(?=.*[a-z])(?=.*[0-9])[!-~]{8,64}$")


def handler(client: Any, strategy: str = "single", **settings: Any) -> RedshiftHandler:
    return RedshiftHandler(strategy, settings=Settings(**settings), client=client)


def assert_redshift_password(password: str) -> None:
    assert VALID.match(password), "not a valid Redshift password"
    assert not set(password) & set("'\"\\/@ ")


def test_md5_form_matches_the_aws_documentation_example() -> None:
    # CREATE USER docs: password "ez", user "user1" -> md5153c434b4b77c89e6b94f12c5393af5b
    assert md5_verifier("ez", "user1") == "md5153c434b4b77c89e6b94f12c5393af5b"


def test_facts_and_registry() -> None:
    assert engine_class("redshift") is RedshiftHandler
    assert RedshiftHandler.extra == "redshift"
    assert RedshiftHandler.driver_module == "psycopg2"
    assert callable(redshift.single_user_handler)
    assert callable(redshift.alternating_users_handler)


def test_secret_defaults_to_port_5439_and_database_dev() -> None:
    value = {"engine": "redshift", "host": "cluster.example", "username": "u", "password": "p"}
    secret = DatabaseSecret.parse(value, RedshiftHandler)
    assert (secret.port, secret.dbname) == (5439, "dev")
    with pytest.raises(SecretFormatError, match="'postgres' is not one the redshift rotation"):
        DatabaseSecret.parse({**value, "engine": "postgres"}, RedshiftHandler)


def test_importing_the_module_loads_no_driver() -> None:
    code = "import sys, rotation.engines.redshift; print('psycopg2' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


@pytest.mark.parametrize("length", [8, 32, 64])
def test_generated_passwords_satisfy_redshift(client: Any, length: int) -> None:
    rotation_handler = handler(client, password_length=length)
    for _ in range(300):
        password = rotation_handler.generate_password()
        assert len(password) == length
        assert_redshift_password(password)


def test_settings_cannot_readmit_forbidden_characters_or_drop_a_required_type(client: Any) -> None:
    """EXCLUDE_CHARACTERS='' and REQUIRE_EACH_INCLUDED_TYPE=false are overridden, not obeyed."""
    env = {"EXCLUDE_CHARACTERS": "", "REQUIRE_EACH_INCLUDED_TYPE": "false", "PASSWORD_LENGTH": "8"}
    rotation_handler = RedshiftHandler(settings=Settings.from_env(env), client=client)
    assert rotation_handler.password_policy.require_each_included_type
    for _ in range(300):
        assert_redshift_password(rotation_handler.generate_password())


def test_user_exclusions_are_kept_alongside_redshifts(client: Any) -> None:
    rotation_handler = handler(client, exclude_characters="xyz:", exclude_punctuation=True)
    assert rotation_handler.password_policy.exclude_characters.startswith("xyz:")
    for _ in range(100):
        password = rotation_handler.generate_password()
        assert_redshift_password(password)
        assert password.isalnum()
        assert not set(password) & set("xyz")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EXCLUDE_UPPERCASE": "true"}, "need upper-case letters"),
        ({"EXCLUDE_LOWERCASE": "yes"}, "need lower-case letters"),
        ({"EXCLUDE_NUMBERS": "1"}, "need digits"),
        ({"EXCLUDE_CHARACTERS": "0123456789"}, "need digits"),
        ({"PASSWORD_LENGTH": "7"}, "8 to 64 characters; PASSWORD_LENGTH is 7"),
        ({"PASSWORD_LENGTH": "65"}, "8 to 64 characters; PASSWORD_LENGTH is 65"),
    ],
)
def test_policies_redshift_would_reject_are_refused_at_construction(
    client: Any, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=message):
        RedshiftHandler(settings=Settings.from_env(env), client=client)


def test_clone_name_limit_is_127(client: Any) -> None:
    rotation_handler = handler(client, "alternating")
    value = {"engine": "redshift", "host": "h", "password": "p", "masterarn": "arn:admin"}
    fits = rotation_handler.parse_secret({**value, "username": "u" * 121})
    assert (
        rotation_handler.strategy.pending_username(rotation_handler, fits) == "u" * 121 + "_clone"
    )
    too_long = rotation_handler.parse_secret({**value, "username": "u" * 122})
    with pytest.raises(UsernameTooLongError):
        rotation_handler.strategy.pending_username(rotation_handler, too_long)


def test_clone_name_over_127_bytes_is_refused_at_create_secret(client: Any) -> None:
    """The limit counts bytes: 61 two-byte letters + '_clone' is 67 characters, 128 bytes.

    The check is the core's (``username_length``, bytes for the PostgreSQL family), made when the
    pending name is chosen, so createSecret stores nothing.
    """
    rotation_handler = handler(client, "alternating")
    value = {"engine": "redshift", "host": "h", "password": "p", "masterarn": "arn:admin"}
    secret = rotation_handler.parse_secret({**value, "username": "é" * 61})
    with pytest.raises(UsernameTooLongError, match="would be 128 long, over the limit of 127"):
        rotation_handler.strategy.pending_username(rotation_handler, secret)
    fits = rotation_handler.parse_secret({**value, "username": "é" * 60})
    assert rotation_handler.strategy.pending_username(rotation_handler, fits).endswith("_clone")


def test_grants_are_batched_per_privilege_and_schema() -> None:
    """One GRANT per privilege and schema (tables), per privilege (schemas), per database."""
    held = {("TABLE", ("s1", f"t{i:02}"), "SELECT") for i in range(25)}
    held |= {("TABLE", ("s1", f"t{i:02}"), "INSERT") for i in range(5)}
    held |= {("TABLE", ("s2", "u"), "SELECT"), ("SCHEMA", ("s1",), "USAGE")}
    held |= {("SCHEMA", ("s2",), "USAGE"), ("DATABASE", ("dev",), "CREATE")}
    held |= {("DATABASE", ("shared",), "CREATE")}
    batches = grant_batches(held, batch=10)
    assert [(kind, privilege, len(objects)) for kind, privilege, objects in batches] == [
        ("DATABASE", "CREATE", 1),
        ("DATABASE", "CREATE", 1),  # datashare databases cannot share a statement
        ("SCHEMA", "USAGE", 2),
        ("TABLE", "INSERT", 5),
        ("TABLE", "SELECT", 10),
        ("TABLE", "SELECT", 10),
        ("TABLE", "SELECT", 5),
        ("TABLE", "SELECT", 1),
    ]
    assert batches[4][2][0] == ("s1", "t00")
    assert batches[7][2] == [("s2", "u")]
    assert grant_batches(set()) == []
