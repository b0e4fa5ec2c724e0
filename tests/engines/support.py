"""Helpers shared by the engine tests on real servers."""

from __future__ import annotations

import json
import uuid
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


def user_secret(
    backend: Any, client: Any, username: str, password: str, *, alternating: bool
) -> str:
    """Store a user's secret (and, for alternating users, the admin's) in moto; return its ARN."""
    base = {"engine": backend.engine_value, **backend.connection_fields()}
    value = {**base, "username": username, "password": password}
    if alternating:
        admin_user, admin_password = backend.admin_login()
        admin = {**base, "username": admin_user, "password": admin_password}
        value["masterarn"] = client.create_secret(
            Name=f"admin-{uuid.uuid4().hex[:8]}", SecretString=json.dumps(admin)
        )["ARN"]
    name = f"user-{uuid.uuid4().hex[:8]}"
    return str(client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"])
