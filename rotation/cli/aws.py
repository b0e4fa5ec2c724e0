"""Build the Secrets Manager client, the settings and the engine handler a command needs."""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

from rotation.cli.parser import UsageError
from rotation.core.config import Settings
from rotation.core.handler import RotationHandler
from rotation.core.registry import ENGINES, engine_class
from rotation.local.secretsmanager import STAND_IN_KEY, STAND_IN_REGION

if TYPE_CHECKING:
    import argparse


def secrets_manager_client(endpoint_url: str | None, region: str | None) -> Any:
    """Return a boto3 Secrets Manager client.

    With an endpoint URL and no AWS credentials configured, dummy credentials are used: a local
    stand-in does not check them. Without an endpoint, the normal AWS configuration applies.

    Raises:
        UsageError: No region is configured anywhere.
    """
    import boto3
    from botocore.config import Config

    session = boto3.session.Session(region_name=region)
    region_name = session.region_name or (STAND_IN_REGION if endpoint_url else None)
    if region_name is None:
        raise UsageError("no AWS region: pass --region or set AWS_REGION")
    dummy = bool(endpoint_url) and session.get_credentials() is None
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5)
    return session.client(
        "secretsmanager",
        endpoint_url=endpoint_url,
        region_name=region_name,
        config=config,
        aws_access_key_id=STAND_IN_KEY if dummy else None,
        aws_secret_access_key=STAND_IN_KEY if dummy else None,
    )


def settings_from(args: argparse.Namespace) -> Settings:
    """Return the environment's settings with the command line's overrides."""
    settings = Settings.from_env()
    changes: dict[str, Any] = {}
    if getattr(args, "connect_timeout", None) is not None:
        changes["connect_timeout"] = args.connect_timeout
    if getattr(args, "ca_file", None):
        changes["tls_ca_file"] = args.ca_file
    if getattr(args, "endpoint_url", None):
        changes["secrets_manager_endpoint"] = args.endpoint_url
    return dataclasses.replace(settings, **changes)


def infer_engine(engine_value: object) -> str:
    """Return the one engine whose secrets carry ``engine_value``.

    Raises:
        UsageError: No engine, or more than one, accepts that value.
    """
    if not isinstance(engine_value, str):
        raise UsageError("the secret has no engine value to infer the engine from; pass --engine")
    matches = []
    for name in ENGINES:
        try:
            cls = engine_class(name)
        except Exception:  # noqa: S112 (an engine that does not import cannot match)
            continue
        if engine_value.lower() in cls.engine_values:
            matches.append(name)
    if len(matches) != 1:
        found = "no engine" if not matches else f"engines {', '.join(matches)}"
        raise UsageError(
            f"{found} accept the secret's engine value {engine_value!r}; pass --engine"
        )
    return matches[0]


def handler_class(spec: str) -> type[RotationHandler]:
    """Import a user's handler class named ``MODULE:CLASS`` (the current directory first).

    Raises:
        UsageError: The spec is malformed, the module does not import, or the attribute is not
            a RotationHandler subclass.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"--handler takes MODULE:CLASS, e.g. my_service:MyHandler, not {spec!r}")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UsageError(f"cannot import {module_name!r} for --handler: {exc}") from None
    found = getattr(module, attribute, None)
    if not (isinstance(found, type) and issubclass(found, RotationHandler)):
        raise UsageError(f"{spec} is not a RotationHandler subclass")
    return found


def build_handler(
    engine: str | None,
    strategy: str,
    settings: Settings,
    client: Any,
    handler: str | None = None,
) -> RotationHandler:
    """Return the engine's (or the ``--handler`` class's) handler for a strategy, on a client.

    Raises:
        UsageError: Neither an engine nor a handler class was named, or the class is unusable.
        ConfigurationError: The class lacks a hook the strategy needs.
    """
    if handler:
        return handler_class(handler)(strategy=strategy, settings=settings, client=client)
    if engine is None:
        raise UsageError("name the engine (--engine) or your handler class (--handler)")
    return engine_class(engine)(strategy=strategy, settings=settings, client=client)


def offline_client() -> Any:
    """Return a client that is never called: ``check --file`` without an endpoint or region."""
    import boto3

    return boto3.session.Session().client(
        "secretsmanager",
        endpoint_url="http://offline.invalid",
        region_name=STAND_IN_REGION,
        aws_access_key_id=STAND_IN_KEY,
        aws_secret_access_key=STAND_IN_KEY,
    )
