"""Settings from the environment: names and defaults of the AWS templates, typed errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from rotation.core.config import PasswordPolicy, Settings
from rotation.core.errors import ConfigurationError
from rotation.engines.postgresql import PostgreSQLHandler


def test_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.secrets_manager_endpoint is None
    assert settings.connect_timeout == 5.0
    assert settings.tls_allow_plaintext_fallback is False
    assert settings.password_policy(PasswordPolicy()) == PasswordPolicy()


@pytest.mark.parametrize("value", ["true", "TRUE", "1", "y", "Yes"])
def test_truthy_values(value: str) -> None:
    assert Settings.from_env({"EXCLUDE_NUMBERS": value}).exclude_numbers is True


@pytest.mark.parametrize("value", ["false", "0", "n", "No", ""])
def test_falsy_values(value: str) -> None:
    assert (
        Settings.from_env({"REQUIRE_EACH_INCLUDED_TYPE": value}).require_each_included_type is False
    )


def test_environment_overrides_the_engine_defaults() -> None:
    env = {"PASSWORD_LENGTH": "20", "EXCLUDE_CHARACTERS": "xyz", "EXCLUDE_PUNCTUATION": "yes"}
    policy = Settings.from_env(env).password_policy(PostgreSQLHandler.password_defaults)
    assert (policy.length, policy.exclude_characters, policy.exclude_punctuation) == (
        20,
        "xyz",
        True,
    )


def test_engine_default_exclusions_apply_when_unset() -> None:
    policy = Settings.from_env({}).password_policy(PostgreSQLHandler.password_defaults)
    assert ":" in policy.exclude_characters


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PASSWORD_LENGTH": "abc"}, "whole number"),
        ({"PASSWORD_LENGTH": "0"}, "between 1 and 4096"),
        ({"PASSWORD_LENGTH": "5000"}, "between 1 and 4096"),
        ({"EXCLUDE_NUMBERS": "maybe"}, "true or false"),
        ({"ROTATION_CONNECT_TIMEOUT": "soon"}, "number of seconds"),
        ({"ROTATION_CONNECT_TIMEOUT": "-1"}, "between 0 and 900"),
        ({"ROTATION_TLS_CA_FILE": "/nonexistent/ca.pem"}, "no readable file"),
    ],
)
def test_bad_values_are_refused_with_the_variable_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        Settings.from_env(env)
    assert next(iter(env)) in str(caught.value)


def test_endpoint_is_honoured_by_the_default_client(monkeypatch: pytest.MonkeyPatch) -> None:
    from rotation.core.secrets_client import boto3_client, forget_clients

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    forget_clients()
    endpoint = "http://127.0.0.1:4566"
    settings = Settings.from_env({"SECRETS_MANAGER_ENDPOINT": endpoint})
    handler = PostgreSQLHandler(settings=settings)
    assert handler.secrets.client.meta.endpoint_url == endpoint
    assert boto3_client(endpoint) is handler.secrets.client, "one client per container"
    assert boto3_client(None) is not handler.secrets.client
    forget_clients()


def test_missing_region_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from rotation.core.secrets_client import boto3_client, forget_clients

    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    forget_clients()
    with pytest.raises(ConfigurationError, match="AWS_REGION"):
        boto3_client("http://127.0.0.1:1")
    forget_clients()


def test_the_built_functions_ca_bundle_is_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rotation.core import config

    bundle = tmp_path / "certs" / "ca-bundle.pem"
    monkeypatch.setattr(config, "BUNDLED_CA_FILE", bundle)
    assert Settings.from_env({}).tls_ca_file is None  # not a built function: drivers' defaults
    bundle.parent.mkdir()
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert Settings.from_env({}).tls_ca_file == str(bundle)
    other = tmp_path / "other.pem"
    other.write_text("x")
    assert Settings.from_env({"ROTATION_TLS_CA_FILE": str(other)}).tls_ca_file == str(other)
