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

    @property
    def where(self) -> str:
        """Return ``host:port`` for messages."""
        return f"{self.host}:{self.port}"


@dataclass(frozen=True, repr=False)
class ServiceSecret:
    """A validated secret of a custom service (a :class:`RotationHandler` subclass).

    Attributes:
        raw: The secret's JSON object exactly as read (unknown keys preserved on rotation).
        username: The ``username`` value, or None when the service has no user names.
        password: The ``password`` value (masked in repr).
        masterarn: ARN of an admin secret, or None.
        identity: The values of the handler's ``identity_keys``: which service this is.
    """

    raw: Mapping[str, Any]
    username: str | None
    password: str
    masterarn: str | None
    identity: tuple[tuple[str, Any], ...]

    def __repr__(self) -> str:
        return (
            f"ServiceSecret(username={self.username!r}, password='***', "
            f"masterarn={self.masterarn!r}, identity={dict(self.identity)!r})"
        )

    @classmethod
    def parse(
        cls,
        value: Mapping[str, Any],
        schema: Mapping[str, type | tuple[type, ...]],
        identity_keys: tuple[str, ...] = (),
        *,
        admin: bool = False,
    ) -> ServiceSecret:
        """Validate a decoded secret against a handler's schema.

        ``password`` is always required (a rotation replaces it); string values must not be
        empty; ``int`` accepts a numeric string, as the AWS secret format does for ports.

        Raises:
            SecretFormatError: A key is missing, empty or of the wrong type. The message names
                the key and the expected type, never the value.
        """
        what = "admin secret" if admin else "secret"
        for key, kind in {"password": str, **schema}.items():
            if key not in value:
                raise SecretFormatError(f"the {what} has no '{key}' key")
            if not _has_type(value[key], kind):
                raise SecretFormatError(f"the {what}'s '{key}' must be {_type_name(kind)}")
        for key in identity_keys:
            if key not in value:
                raise SecretFormatError(f"the {what} has no '{key}' key")
        username = _optional_string(value, "username", what)
        return cls(
            raw=dict(value),
            username=username,
            password=value["password"],
            masterarn=_optional_string(value, "masterarn", what),
            identity=tuple((key, _normalised(value[key])) for key in identity_keys),
        )

    def replace_credentials(self, username: str | None, password: str) -> dict[str, Any]:
        """Return the secret's JSON object with a new password (and username), all else kept."""
        changed: dict[str, Any] = {"password": password}
        if username is not None:
            changed["username"] = username
        return {**self.raw, **changed}

    @property
    def same_server_as(self) -> tuple[tuple[str, Any], ...]:
        """Return the identity values that decide whether two secrets name one service."""
        return self.identity

    @property
    def where(self) -> str:
        """Return the identity as ``key=value`` pairs for messages."""
        return ", ".join(f"{key}={value}" for key, value in self.identity) or "the service"


def _has_type(item: Any, kind: type | tuple[type, ...]) -> bool:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if isinstance(item, bool) and bool not in kinds:
        return False  # bool is an int, but never a port or a count
    if isinstance(item, str) and str in kinds:
        return bool(item)
    if isinstance(item, str) and int in kinds:
        return item.strip().isdigit()
    return isinstance(item, kinds)


def _type_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a non-empty string", int: "a number", bool: "true or false",
             dict: "a JSON object", list: "a JSON array", float: "a number"}  # fmt: skip
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _normalised(item: Any) -> Any:
    """Return an identity value as compared: host names case-insensitively, ports as numbers."""
    if isinstance(item, str):
        stripped = item.strip()
        return int(stripped) if stripped.isdigit() else stripped.lower().rstrip(".")
    return item


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
