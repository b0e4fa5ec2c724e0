"""Build the Secrets Manager client, the settings and the engine handler a command needs.

Profile, region, endpoint and credentials are resolved as the AWS CLI resolves them
(https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-envvars.html,
https://docs.aws.amazon.com/cli/latest/userguide/cli-configure-endpoints.html):

* profile: ``--profile``, then ``AWS_PROFILE``, then ``default``;
* region: ``--region``, then ``AWS_REGION``, then ``AWS_DEFAULT_REGION``, then the profile's
  ``region`` (botocore reads the last two, not ``AWS_REGION``);
* endpoint: ``--endpoint-url``, then ``SECRETS_MANAGER_ENDPOINT`` (what the functions read,
  so a function's configuration works here unchanged), then botocore's own chain:
  ``AWS_ENDPOINT_URL_SECRETS_MANAGER``, ``AWS_ENDPOINT_URL``, the config file's ``services``;
* retries: the SDK's standard mode (throttling is retried with backoff) unless
  ``AWS_RETRY_MODE`` / ``AWS_MAX_ATTEMPTS`` or the profile say otherwise.

An unknown profile, a missing region and missing credentials are configuration errors (exit 2).
With an endpoint other than AWS's and no credentials, dummy ones are used: a stand-in does not
check them.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from typing import TYPE_CHECKING, Any

from rotation.cli.parser import UsageError
from rotation.core.config import SECRETS_MANAGER_ENDPOINT, Settings
from rotation.core.handler import RotationHandler
from rotation.core.registry import ENGINES, engine_class
from rotation.local.secretsmanager import STAND_IN_KEY, STAND_IN_REGION

if TYPE_CHECKING:
    import argparse

    import boto3

# Variables through which botocore itself finds an endpoint (when none is passed to it).
BOTOCORE_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL")
# Retries after the first attempt, as the functions' own client makes them.
DEFAULT_RETRIES = 5


def aws_session(profile: str | None) -> boto3.session.Session:
    """Return a boto3 session for a profile (None: AWS_PROFILE or the default).

    Raises:
        UsageError: The profile does not exist.
    """
    import boto3
    from botocore.exceptions import ProfileNotFound

    try:
        return boto3.session.Session(profile_name=profile or None)
    except ProfileNotFound as exc:
        raise UsageError(f"{exc}: check --profile / AWS_PROFILE and ~/.aws/config") from None


def endpoint_from(args: argparse.Namespace) -> str | None:
    """Return the endpoint the command line or SECRETS_MANAGER_ENDPOINT names, if any."""
    return getattr(args, "endpoint_url", None) or os.environ.get(SECRETS_MANAGER_ENDPOINT) or None


def region_from(args: argparse.Namespace, session: boto3.session.Session) -> str | None:
    """Return the region: --region, AWS_REGION, then AWS_DEFAULT_REGION or the profile's."""
    return getattr(args, "region", None) or os.environ.get("AWS_REGION") or session.region_name


def secrets_manager_client(args: argparse.Namespace, region: str | None = None) -> Any:
    """Return a boto3 Secrets Manager client for the command's AWS options.

    Args:
        args: The parsed command line (``profile``, ``region``, ``endpoint_url`` if present).
        region: A region that overrides the command line's (fleet commands, one per region).

    Raises:
        UsageError: Unknown profile, no region, or no credentials for AWS itself.
    """
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    session = aws_session(getattr(args, "profile", None))
    endpoint_url = endpoint_from(args)
    elsewhere = bool(endpoint_url) or any(os.environ.get(v) for v in BOTOCORE_ENDPOINT_VARIABLES)
    region_name = region or region_from(args, session) or (STAND_IN_REGION if elsewhere else None)
    if region_name is None:
        raise UsageError(
            "no AWS region: pass --region or set AWS_REGION (or a region in the profile)"
        )
    try:
        credentials = session.get_credentials()
    except BotoCoreError as exc:
        raise UsageError(f"AWS credentials: {exc}") from None
    if credentials is None and not elsewhere:
        raise UsageError(
            "no AWS credentials: pass --profile, set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run `aws configure` / `aws sso login`"
        )
    dummy = credentials is None
    return session.client(
        "secretsmanager",
        endpoint_url=endpoint_url,
        region_name=region_name,
        config=Config(retries=_retries(session), connect_timeout=5),  # type: ignore[arg-type]
        aws_access_key_id=STAND_IN_KEY if dummy else None,
        aws_secret_access_key=STAND_IN_KEY if dummy else None,
    )


def _retries(session: boto3.session.Session) -> dict[str, Any]:
    """Return the retry settings: standard mode, unless the user configured retries.

    AWS_MAX_ATTEMPTS and the profile's max_attempts count the first attempt too, which
    botocore's Config calls total_max_attempts (its max_attempts counts retries only).
    """
    core = session._session  # the botocore session, which reads env and config file
    scoped = core.get_scoped_config()

    def configured(name: str) -> bool:
        return scoped.get(name) is not None or os.environ.get(f"AWS_{name.upper()}") is not None

    retries: dict[str, Any] = {"mode": "standard", "max_attempts": DEFAULT_RETRIES}
    if configured("retry_mode"):
        retries["mode"] = core.get_config_variable("retry_mode")
    if configured("max_attempts"):
        del retries["max_attempts"]
        retries["total_max_attempts"] = core.get_config_variable("max_attempts")
    return retries


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


def handler_for(args: argparse.Namespace, value: dict[str, Any], client: Any) -> RotationHandler:
    """Return the handler a command uses for a secret value.

    ``--handler``'s class, or the engine ``--engine`` names or the secret's ``engine`` value
    implies; the strategy is ``--strategy``, else alternating users for an engine's secret with
    ``masterarn`` (a custom service's admin may act for any strategy), else single user.

    Raises:
        UsageError: No engine can be told, or the handler class is unusable.
        ConfigurationError: The class lacks a hook the strategy needs.
    """
    custom = getattr(args, "handler", None)
    engine = None if custom else args.engine or infer_engine(value.get("engine"))
    guessed = "alternating" if value.get("masterarn") and not custom else "single"
    strategy = args.strategy or guessed
    return build_handler(engine, strategy, settings_from(args), client, handler=custom)
