"""The engines this package ships, by name, imported only when asked for."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rotation.core.errors import ConfigurationError

if TYPE_CHECKING:
    from rotation.core.database import DatabaseHandler

# name -> (module:class, extra). Kept sorted; a test checks it.
ENGINES: dict[str, tuple[str, str]] = {
    "documentdb": ("rotation.engines.documentdb:DocumentDBHandler", "documentdb"),
    "mariadb": ("rotation.engines.mariadb:MariaDBHandler", "mariadb"),
    "mysql": ("rotation.engines.mysql:MySQLHandler", "mysql"),
    "oracle": ("rotation.engines.oracle:OracleHandler", "oracle"),
    "postgresql": ("rotation.engines.postgresql:PostgreSQLHandler", "postgresql"),
    "redshift": ("rotation.engines.redshift:RedshiftHandler", "redshift"),
    "sqlserver": ("rotation.engines.sqlserver:SQLServerHandler", "sqlserver"),
}


def engine_class(name: str) -> type[DatabaseHandler[Any]]:
    """Return the handler class of an engine, importing its module (not its driver).

    Raises:
        ConfigurationError: No engine has that name, or its module is not available yet.
    """
    try:
        target, _extra = ENGINES[name]
    except KeyError:
        raise ConfigurationError(
            f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}"
        ) from None
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ConfigurationError(f"the {name} engine is not part of this build") from None
    cls: type[DatabaseHandler[Any]] = getattr(module, class_name)
    return cls
