"""Rotate AWS Secrets Manager secrets: a protocol core, database engines and a CLI.

Importing this package imports no database driver; each engine imports its driver when it first
connects. Lambda entry points live at ``rotation.engines.<engine>.single_user_handler`` and
``rotation.engines.<engine>.alternating_users_handler``.
"""

from __future__ import annotations

from rotation.core.config import PasswordPolicy, Settings
from rotation.core.database import TLS, DatabaseHandler, Finding, TLSMode
from rotation.core.errors import (
    ConfigurationError,
    ConnectError,
    CredentialNotRetainedError,
    DatabaseServiceError,
    DriverNotInstalledError,
    EngineError,
    InvalidEventError,
    LoginFailedError,
    NotPendingError,
    RotationDisabledError,
    RotationError,
    RotationStateError,
    SecretFormatError,
    SecretMismatchError,
    SecretsManagerError,
    SecretTestFailedError,
    ServiceError,
    UnknownVersionError,
    UserManagementError,
    UsernameTooLongError,
)
from rotation.core.event import RotationEvent, Step
from rotation.core.handler import RotationHandler
from rotation.core.registry import engine_class
from rotation.core.rotation import Rotation
from rotation.core.secret import DatabaseSecret, ServiceSecret
from rotation.core.staging import AWSCURRENT, AWSPENDING, AWSPREVIOUS
from rotation.core.strategies import (
    AlternatingUsers,
    DualCredentials,
    RetainPrevious,
    SingleUser,
    Strategy,
)

__version__ = "0.1.0"

__all__ = [
    "AWSCURRENT",
    "AWSPENDING",
    "AWSPREVIOUS",
    "AlternatingUsers",
    "ConfigurationError",
    "ConnectError",
    "CredentialNotRetainedError",
    "DatabaseHandler",
    "DatabaseSecret",
    "DatabaseServiceError",
    "DriverNotInstalledError",
    "DualCredentials",
    "EngineError",
    "Finding",
    "InvalidEventError",
    "LoginFailedError",
    "NotPendingError",
    "PasswordPolicy",
    "RetainPrevious",
    "Rotation",
    "RotationDisabledError",
    "RotationError",
    "RotationEvent",
    "RotationHandler",
    "RotationStateError",
    "SecretFormatError",
    "SecretMismatchError",
    "SecretTestFailedError",
    "SecretsManagerError",
    "ServiceError",
    "ServiceSecret",
    "Settings",
    "SingleUser",
    "Step",
    "Strategy",
    "TLS",
    "TLSMode",
    "UnknownVersionError",
    "UserManagementError",
    "UsernameTooLongError",
    "__version__",
    "engine_class",
]
