"""Parse and validate secret values in the JSON format of the AWS rotation templates."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from rotation.core.errors import SecretFormatError

if TYPE_CHECKING:
    from collections.abc import Mapping

REQUIRED_KEYS = ("engine", "host", "username", "password")


def parse_json_object(text: str | None, what: str = "secret") -> dict[str, Any]:
    """Decode a SecretString that must hold a JSON object.

    The decoder's error is not chained: ``json.JSONDecodeError`` keeps the whole document,
    which here is the secret itself.

    Raises:
        SecretFormatError: The text is missing, not JSON, or not a JSON object.
    """
    if text is None:
        raise SecretFormatError(
            f"the {what} has no SecretString (binary secrets are not supported)"
        )
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        position = f"line {exc.lineno} column {exc.colno}"
        raise SecretFormatError(f"the {what} is not valid JSON ({exc.msg} at {position})") from None
    if not isinstance(value, dict):
        raise SecretFormatError(f"the {what} must be a JSON object, not {type(value).__name__}")
    return value


class EngineFacts(Protocol):
    """What the parser needs to know about an engine (engines provide it as class attributes)."""

    @property
    def engine(self) -> str: ...  # noqa: D102
    @property
    def engine_values(self) -> frozenset[str]: ...  # noqa: D102
    @property
    def admin_engine_values(self) -> frozenset[str]: ...  # noqa: D102
    @property
    def default_port(self) -> int: ...  # noqa: D102
    @property
    def default_dbname(self) -> str | None: ...  # noqa: D102
    @property
    def dbname_required(self) -> bool: ...  # noqa: D102


@dataclass(frozen=True, repr=False)
class DatabaseSecret:
    """A validated database secret; ``raw`` keeps every key, known or not, as stored.

    Attributes:
        raw: The secret's JSON object exactly as read (unknown keys preserved on rotation).
        engine: The ``engine`` value.
        host: Database host name.
        port: Port, from the secret or the engine's default.
        username: Login name.
        password: Password (masked in repr).
        dbname: Database (or service name) to connect to, or None.
        ssl: True, False, or None when the secret has no ``ssl`` key.
        masterarn: ARN of the admin secret (alternating users), or None.
    """

    raw: Mapping[str, Any]
    engine: str
    host: str
    port: int
    username: str
    password: str
    dbname: str | None
    ssl: bool | None
    masterarn: str | None

    def __repr__(self) -> str:
        return (
            f"DatabaseSecret(engine={self.engine!r}, host={self.host!r}, port={self.port}, "
            f"username={self.username!r}, password='***', dbname={self.dbname!r}, "
            f"ssl={self.ssl!r}, masterarn={self.masterarn!r})"
        )

    @classmethod
    def parse(
        cls, value: Mapping[str, Any], facts: EngineFacts, *, admin: bool = False
    ) -> DatabaseSecret:
        """Validate a decoded secret for an engine.

        Args:
            value: The decoded JSON object.
            facts: The engine's facts (accepted engine values, defaults).
            admin: Validate as an admin (master) secret, whose ``engine`` may carry the RDS
                edition name.

        Raises:
            SecretFormatError: A required key is missing or empty, a value has the wrong type,
                or the engine does not match. The message names the key, never its value
                (except for ``engine``, which is not secret).
        """
        what = "admin secret" if admin else "secret"
        for key in REQUIRED_KEYS:
            if key not in value:
                raise SecretFormatError(f"the {what} has no '{key}' key")
            if not isinstance(value[key], str) or not value[key]:
                raise SecretFormatError(f"the {what}'s '{key}' must be a non-empty string")
        engine = value["engine"]
        accepted = facts.admin_engine_values if admin else facts.engine_values
        if engine.lower() not in accepted:
            expected = ", ".join(sorted(accepted))
            raise SecretFormatError(
                f"the {what}'s engine {engine!r} is not one the {facts.engine} rotation "
                f"accepts ({expected})"
            )
        dbname = _optional_string(value, "dbname", what) or facts.default_dbname
        if dbname is None and facts.dbname_required:
            raise SecretFormatError(f"the {what} has no 'dbname' key, which {facts.engine} needs")
        return cls(
            raw=dict(value),
            engine=engine,
            host=value["host"],
            port=_port(value, facts.default_port, what),
            username=value["username"],
            password=value["password"],
            dbname=dbname,
            ssl=_ssl(value, what),
            masterarn=_optional_string(value, "masterarn", what),
        )

    def replace_credentials(self, username: str, password: str) -> dict[str, Any]:
        """Return the secret's JSON object with a new username and password, all else kept."""
        return {**self.raw, "username": username, "password": password}

    @property
    def same_server_as(self) -> tuple[str, int]:
        """Return the (host, port) pair used to decide whether two secrets name one server."""
        return (self.host.strip().lower().rstrip("."), self.port)


def _optional_string(value: Mapping[str, Any], key: str, what: str) -> str | None:
    item = value.get(key)
    if item is None or item == "":
        return None
    if not isinstance(item, str):
        raise SecretFormatError(f"the {what}'s '{key}' must be a string")
    return item


def _port(value: Mapping[str, Any], default: int, what: str) -> int:
    raw = value.get("port")
    if raw is None or raw == "":
        return default
    if isinstance(raw, bool):
        raise SecretFormatError(f"the {what}'s 'port' must be a number")
    try:
        port = int(raw)
    except (TypeError, ValueError):
        raise SecretFormatError(f"the {what}'s 'port' must be a number") from None
    if isinstance(raw, float) and raw != port:
        raise SecretFormatError(f"the {what}'s 'port' must be a whole number")
    if not 0 < port < 65536:
        raise SecretFormatError(f"the {what}'s 'port' must be between 1 and 65535")
    return port


def _ssl(value: Mapping[str, Any], what: str) -> bool | None:
    raw = value.get("ssl")
    if raw is None:
        return None
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise SecretFormatError(f"the {what}'s 'ssl' must be true or false")
