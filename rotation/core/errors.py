"""The exception tree of the rotation framework.

Every error raised on purpose derives from :class:`RotationError`, so a caller can catch any
rotation failure in one clause. Messages name the problem and never carry a password, a secret
value or SQL text; driver exceptions are wrapped with the original kept as ``__cause__``::

    RotationError
    ├── ConfigurationError            settings, environment variables, password policy
    │   └── DriverNotInstalledError   the engine's database driver is missing
    ├── InvalidEventError             the Lambda event is malformed
    ├── SecretFormatError             the secret value is not a valid secret for the engine
    │   └── UsernameTooLongError      the alternate username would exceed the engine's limit
    ├── RotationStateError            the secret's staging labels forbid this step
    │   ├── RotationDisabledError
    │   ├── UnknownVersionError
    │   └── NotPendingError
    ├── SecretsManagerError           a Secrets Manager call failed
    ├── DatabaseServiceError          an RDS or Redshift API call (locating a database) failed
    ├── SecretMismatchError           confused-deputy checks (hosts, admin secret, current login)
    ├── EngineError                   the database refused or failed
    │   ├── ConnectError              unreachable, timed out, TLS failure
    │   │   └── LoginFailedError      reachable, but the credentials were rejected
    │   └── UserManagementError       a password change or clone statement failed
    │       └── CredentialNotRetainedError  the service will not keep a second credential
    ├── SecretTestFailedError         the pending secret does not work
    └── ServiceError                  a service's own client failed (secret values removed)
"""

from __future__ import annotations


class RotationError(Exception):
    """Base of every error the rotation framework raises on purpose."""


class ConfigurationError(RotationError):
    """Raise when settings or environment variables are invalid."""


class DriverNotInstalledError(ConfigurationError):
    """Raise when an engine's database driver cannot be imported."""

    def __init__(self, engine: str, module: str, extra: str) -> None:
        self.engine = engine
        self.module = module
        self.extra = extra
        super().__init__(
            f"the {engine} engine needs the '{module}' driver: pip install \"rotation[{extra}]\""
        )


class InvalidEventError(RotationError):
    """Raise when the Lambda event lacks a field or names an unknown step."""


class SecretFormatError(RotationError):
    """Raise when a secret value cannot be used by the engine."""


class UsernameTooLongError(SecretFormatError):
    """Raise when the alternate username would not fit the engine's name limit."""


class RotationStateError(RotationError):
    """Raise when the secret's versions and labels forbid the requested step."""


class RotationDisabledError(RotationStateError):
    """Raise when rotation is not enabled on the secret."""


class UnknownVersionError(RotationStateError):
    """Raise when the rotation token is not a version of the secret."""


class NotPendingError(RotationStateError):
    """Raise when the token's version is neither AWSCURRENT nor AWSPENDING."""


class SecretsManagerError(RotationError):
    """Raise when a Secrets Manager call fails."""


class DatabaseServiceError(RotationError):
    """Raise when a database service's API (RDS, Redshift) cannot say where a database is.

    The message names the call and the resource (``DescribeDBInstances on arn:...``) and the
    service's error code; the service's answer never holds a secret value.
    """


class SecretMismatchError(RotationError):
    """Raise when secrets disagree (hosts, users) or the current secret is not valid."""


class EngineError(RotationError):
    """Raise when the database fails or refuses an operation."""


class ConnectError(EngineError):
    """Raise when the database cannot be reached, times out, or TLS fails."""


class LoginFailedError(ConnectError):
    """Raise when the database was reached but rejected the credentials."""


class UserManagementError(EngineError):
    """Raise when changing a password or cloning a user fails."""


class CredentialNotRetainedError(UserManagementError):
    """Raise when the service refuses to keep the current credential beside a new one.

    A privilege or a feature is missing (MySQL: APPLICATION_PASSWORD_ADMIN, or a server without
    dual passwords), and nothing was changed. The ``retain`` strategy falls back to replacing the
    credential, loudly.
    """


class SecretTestFailedError(RotationError):
    """Raise when the pending secret fails the engine's check."""


class ServiceError(RotationError):
    """Raise in place of a service client's exception that held a secret value.

    What a hook of a custom service raises leaves the handler as it is, unless its message,
    args, notes or chained causes hold a secret value; then it leaves as this error, whose message
    is the original's type and text with the values masked.
    """
