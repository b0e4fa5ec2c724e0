"""Helpers shared by the engine tests on real servers."""

from __future__ import annotations

from typing import Any

from rotation.core.database import DatabaseHandler
from rotation.core.secret import DatabaseSecret


def admin_secret(backend: Any, cls: type[DatabaseHandler[Any]], **overrides: Any) -> DatabaseSecret:
    user, password = backend.admin_login()
    value = {
        "engine": backend.engine_value,
        **backend.connection_fields(),
        "username": user,
        "password": password,
        **overrides,
    }
    return DatabaseSecret.parse(value, cls)
