"""Settings read from the environment once per cold start.

The password policy variables keep the names and meanings of the AWS rotation templates, so an
existing function's configuration carries over unchanged. Our own settings carry a ``ROTATION_``
prefix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from rotation.core.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

SECRETS_MANAGER_ENDPOINT = "SECRETS_MANAGER_ENDPOINT"
EXCLUDE_CHARACTERS = "EXCLUDE_CHARACTERS"
PASSWORD_LENGTH = "PASSWORD_LENGTH"
EXCLUDE_NUMBERS = "EXCLUDE_NUMBERS"
EXCLUDE_PUNCTUATION = "EXCLUDE_PUNCTUATION"
EXCLUDE_UPPERCASE = "EXCLUDE_UPPERCASE"
EXCLUDE_LOWERCASE = "EXCLUDE_LOWERCASE"
REQUIRE_EACH_INCLUDED_TYPE = "REQUIRE_EACH_INCLUDED_TYPE"
CONNECT_TIMEOUT = "ROTATION_CONNECT_TIMEOUT"
TLS_CA_FILE = "ROTATION_TLS_CA_FILE"
TLS_ALLOW_PLAINTEXT_FALLBACK = "ROTATION_TLS_ALLOW_PLAINTEXT_FALLBACK"
ORACLE_TLS_LEGACY_CIPHERS = "ROTATION_ORACLE_TLS_LEGACY_CIPHERS"

# Where `make build` puts the CA bundle in every function: certs/ next to the package, i.e.
# /var/task/certs/ca-bundle.pem in Lambda (templates/ca_bundle.py).
BUNDLED_CA_FILE = Path(__file__).resolve().parents[2] / "certs" / "ca-bundle.pem"

_TRUE = frozenset({"true", "1", "y", "yes"})
_FALSE = frozenset({"false", "0", "n", "no", ""})

# Secrets Manager's GetRandomPassword accepts 1..4096; we keep the same bounds.
MIN_PASSWORD_LENGTH = 1
MAX_PASSWORD_LENGTH = 4096


@dataclass(frozen=True)
class PasswordPolicy:
    """Options for generating a password, as GetRandomPassword understands them.

    Attributes:
        length: Number of characters.
        exclude_characters: Characters that must never appear.
        exclude_numbers: Leave out 0-9.
        exclude_punctuation: Leave out ASCII punctuation.
        exclude_uppercase: Leave out A-Z.
        exclude_lowercase: Leave out a-z.
        require_each_included_type: Include at least one character of every included class.
    """

    length: int = 32
    exclude_characters: str = "/@\"'\\"
    exclude_numbers: bool = False
    exclude_punctuation: bool = False
    exclude_uppercase: bool = False
    exclude_lowercase: bool = False
    require_each_included_type: bool = True


@dataclass(frozen=True)
class Settings:
    """Everything a rotation function reads from its environment.

    Unset password options are None so that each engine's defaults can fill them in
    (see :meth:`password_policy`).
    """

    secrets_manager_endpoint: str | None = None
    password_length: int | None = None
    exclude_characters: str | None = None
    exclude_numbers: bool = False
    exclude_punctuation: bool = False
    exclude_uppercase: bool = False
    exclude_lowercase: bool = False
    require_each_included_type: bool = True
    connect_timeout: float = 5.0
    tls_ca_file: str | None = None
    tls_allow_plaintext_fallback: bool = False
    oracle_tls_legacy_ciphers: bool = False
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the settings from ``environ`` (default: ``os.environ``).

        Raises:
            ConfigurationError: A variable holds a value of the wrong kind or out of range.
        """
        env = os.environ if environ is None else environ
        length = _int(env, PASSWORD_LENGTH)
        if length is not None and not MIN_PASSWORD_LENGTH <= length <= MAX_PASSWORD_LENGTH:
            raise ConfigurationError(
                f"{PASSWORD_LENGTH} must be between {MIN_PASSWORD_LENGTH} and "
                f"{MAX_PASSWORD_LENGTH}, got {length}"
            )
        timeout = _float(env, CONNECT_TIMEOUT)
        if timeout is not None and not 0 < timeout <= 900:
            raise ConfigurationError(f"{CONNECT_TIMEOUT} must be between 0 and 900 seconds")
        # The bundle of the built function (RDS and Amazon Trust CAs) unless one is named.
        ca_file = env.get(TLS_CA_FILE) or bundled_ca_file()
        if ca_file is not None and not os.path.isfile(ca_file):
            raise ConfigurationError(f"{TLS_CA_FILE} names no readable file: {ca_file}")
        return cls(
            secrets_manager_endpoint=env.get(SECRETS_MANAGER_ENDPOINT) or None,
            password_length=length,
            exclude_characters=env.get(EXCLUDE_CHARACTERS),
            exclude_numbers=_bool(env, EXCLUDE_NUMBERS, False),
            exclude_punctuation=_bool(env, EXCLUDE_PUNCTUATION, False),
            exclude_uppercase=_bool(env, EXCLUDE_UPPERCASE, False),
            exclude_lowercase=_bool(env, EXCLUDE_LOWERCASE, False),
            require_each_included_type=_bool(env, REQUIRE_EACH_INCLUDED_TYPE, True),
            connect_timeout=5.0 if timeout is None else timeout,
            tls_ca_file=ca_file,
            tls_allow_plaintext_fallback=_bool(env, TLS_ALLOW_PLAINTEXT_FALLBACK, False),
            oracle_tls_legacy_ciphers=_bool(env, ORACLE_TLS_LEGACY_CIPHERS, False),
        )

    def password_policy(self, defaults: PasswordPolicy) -> PasswordPolicy:
        """Return ``defaults`` (an engine's policy) overridden by what the environment set."""
        return replace(
            defaults,
            length=defaults.length if self.password_length is None else self.password_length,
            exclude_characters=(
                defaults.exclude_characters
                if self.exclude_characters is None
                else self.exclude_characters
            ),
            exclude_numbers=self.exclude_numbers,
            exclude_punctuation=self.exclude_punctuation,
            exclude_uppercase=self.exclude_uppercase,
            exclude_lowercase=self.exclude_lowercase,
            require_each_included_type=self.require_each_included_type,
        )


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigurationError(f"{name} must be true or false, got {raw!r}")


def _int(env: Mapping[str, str], name: str) -> int | None:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a whole number, got {raw!r}") from None


def _float(env: Mapping[str, str], name: str) -> float | None:
    raw = env.get(name)
    if raw is None or not raw.strip():
        return None
    try:
        return float(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be a number of seconds, got {raw!r}") from None


def bundled_ca_file() -> str | None:
    """Return the CA bundle the built function carries, or None outside a built function."""
    return str(BUNDLED_CA_FILE) if BUNDLED_CA_FILE.is_file() else None
