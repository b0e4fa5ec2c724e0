"""The one parser of secret values: validation, defaults, masking."""

from __future__ import annotations

import json
import traceback
from typing import Any

import pytest

from rotation.core.errors import SecretFormatError
from rotation.core.secret import DatabaseSecret, parse_json_object
from rotation.engines.mysql import MySQLHandler
from rotation.engines.postgresql import PostgreSQLHandler

PASSWORD = "S3cret-value-never-shown"
BASE = {"engine": "postgres", "host": "db.example", "username": "app", "password": PASSWORD}


def parse(value: dict[str, Any], facts: Any = PostgreSQLHandler, **kw: Any) -> DatabaseSecret:
    return DatabaseSecret.parse(value, facts, **kw)


def test_defaults_fill_port_and_dbname() -> None:
    secret = parse(BASE)
    assert (secret.port, secret.dbname, secret.ssl, secret.masterarn) == (
        5432,
        "postgres",
        None,
        None,
    )


def test_unknown_keys_are_kept_when_credentials_change() -> None:
    secret = parse({**BASE, "proxy": "p.example", "port": "6432"})
    assert secret.replace_credentials("app_clone", "new") == {
        **BASE,
        "proxy": "p.example",
        "port": "6432",
        "username": "app_clone",
        "password": "new",
    }


@pytest.mark.parametrize("port", [5433, "5433", 5433.0])
def test_port_may_be_a_number_or_numeric_string(port: Any) -> None:
    assert parse({**BASE, "port": port}).port == 5433


@pytest.mark.parametrize("port", ["abc", 0, 70000, True, 5432.5, [1]])
def test_bad_ports_are_refused(port: Any) -> None:
    with pytest.raises(SecretFormatError, match="'port'"):
        parse({**BASE, "port": port})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), (False, False), ("TRUE", True), ("false", False), (" True ", True)],
)
def test_ssl_accepts_bools_and_strings(raw: Any, expected: bool) -> None:
    assert parse({**BASE, "ssl": raw}).ssl is expected


@pytest.mark.parametrize("raw", ["yes", 1, "on"])
def test_ssl_refuses_other_values(raw: Any) -> None:
    with pytest.raises(SecretFormatError, match="'ssl'"):
        parse({**BASE, "ssl": raw})


@pytest.mark.parametrize("key", ["engine", "host", "username", "password"])
def test_missing_required_key_is_named(key: str) -> None:
    value = {k: v for k, v in BASE.items() if k != key}
    with pytest.raises(SecretFormatError, match=f"no '{key}' key"):
        parse(value)


@pytest.mark.parametrize("key", ["host", "username", "password"])
def test_empty_or_non_string_required_value_is_refused(key: str) -> None:
    for bad in ("", 42, None):
        with pytest.raises(SecretFormatError, match=f"'{key}' must be"):
            parse({**BASE, key: bad})


def test_engine_must_match_the_function() -> None:
    with pytest.raises(
        SecretFormatError, match="'mysql' is not one the postgresql rotation accepts"
    ):
        parse({**BASE, "engine": "mysql"})
    assert parse({**BASE, "engine": "aurora-mysql"}, MySQLHandler).engine == "aurora-mysql"
    assert parse({**BASE, "engine": "Aurora-PostgreSQL"}).engine == "Aurora-PostgreSQL"


def test_repr_masks_the_password() -> None:
    assert PASSWORD not in repr(parse(BASE))
    assert "password='***'" in repr(parse(BASE))


def test_invalid_json_names_the_position_and_hides_the_document() -> None:
    text = '{"password": "' + PASSWORD + '", oops}'
    with pytest.raises(SecretFormatError) as caught:
        parse_json_object(text)
    assert "not valid JSON" in str(caught.value)
    assert "line 1" in str(caught.value)
    rendered = "".join(traceback.format_exception(caught.value))
    assert PASSWORD not in rendered


@pytest.mark.parametrize("text", ["[1, 2]", '"string"', "42", "null"])
def test_json_that_is_not_an_object_is_refused(text: str) -> None:
    with pytest.raises(SecretFormatError, match="must be a JSON object"):
        parse_json_object(text)


def test_binary_secret_is_refused() -> None:
    with pytest.raises(SecretFormatError, match="no SecretString"):
        parse_json_object(None)


def test_round_trip_through_json_keeps_types() -> None:
    raw = {**BASE, "port": 5432, "ssl": "true", "extra": {"nested": [1]}}
    secret = parse(json.loads(json.dumps(raw)))
    assert json.loads(json.dumps(secret.replace_credentials("app", "x")))["extra"] == {
        "nested": [1]
    }
