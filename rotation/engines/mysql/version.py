"""What server a MySQL-protocol session talks to: MySQL (RDS, Aurora) or MariaDB, and which version.

The MySQL and MariaDB engines choose statements by what the server supports, never by guessing
from a string prefix: MariaDB 10.x announces itself to MySQL clients as ``5.5.5-10.11.6-MariaDB``
(a replication hack), which read naively would select MySQL 5.5's ``PASSWORD()`` branch, and
Aurora MySQL reports the community version it is compatible with (``8.0.32`` on Aurora 3.05,
https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.VersionPolicy.Versioning.html).
A version this module cannot read is an error, not a silent fallback.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rotation.core.errors import UserManagementError

_NUMBER = re.compile(r"(\d+)\.(\d+)\.(\d+)")
# The RDS engine-version spelling, e.g. "8.0.mysql_aurora.3.05.2". Aurora's docs say every 2.x
# release is wire-compatible with MySQL 5.7.12 or later and every 3.x with 8.0.23 or later
# (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/AuroraMySQL.Updates.Versions.html),
# so such a string is read as that floor.
_AURORA_ENGINE_VERSION = re.compile(r"(\d+)\.(\d+)\.mysql_aurora\.(\d+)\.\d+\.\d+", re.IGNORECASE)
_AURORA_FLOOR = {2: (5, 7, 12), 3: (8, 0, 23)}
# MariaDB's prefix for old MySQL clients (dropped by MariaDB 11, which keeps "-MariaDB").
_MARIADB_PREFIX = "5.5.5-"


@dataclass(frozen=True)
class ServerVersion:
    """The product and version a server reports.

    Attributes:
        mariadb: True for MariaDB, False for MySQL (including RDS and Aurora MySQL).
        number: The version as numbers, e.g. ``(8, 0, 36)`` or ``(10, 11, 6)``.
    """

    mariadb: bool
    number: tuple[int, int, int]

    def describe(self) -> str:
        """Return e.g. ``MySQL 8.0.36`` or ``MariaDB 10.11.6``."""
        product = "MariaDB" if self.mariadb else "MySQL"
        return f"{product} {'.'.join(str(part) for part in self.number)}"

    def mysql_at_least(self, *version: int) -> bool:
        """Tell whether this is MySQL (not MariaDB) at ``version`` or later."""
        return not self.mariadb and self.number >= version

    @property
    def alter_user_password(self) -> bool:
        """Tell whether a user sets its own password with ``ALTER USER`` (MySQL 5.7.6+).

        MariaDB has ALTER USER since 10.2 but requires the CREATE USER privilege for it even on
        one's own account (seen on MariaDB 10.11), so MariaDB users keep ``SET PASSWORD``.
        """
        return self.mysql_at_least(5, 7, 6)

    @property
    def replace_current(self) -> bool:
        """Tell whether ``ALTER USER ... REPLACE '<current>'`` exists (MySQL 8.0.13+).

        https://dev.mysql.com/doc/refman/8.0/en/password-management.html#password-reverification-policy
        """
        return self.mysql_at_least(8, 0, 13)

    @property
    def dual_passwords(self) -> bool:
        """Tell whether ``RETAIN CURRENT PASSWORD`` exists (MySQL 8.0.14+)."""
        return self.mysql_at_least(8, 0, 14)

    @property
    def roles(self) -> bool:
        """Tell whether MySQL roles and ``mysql.default_roles`` exist (MySQL 8.0+).

        MariaDB's roles differ: its SHOW GRANTS prints ``SET DEFAULT ROLE ... FOR`` lines.
        """
        return self.mysql_at_least(8, 0, 0)

    @property
    def session_sql_mode(self) -> str:
        """Return the sql_mode the rotation's own sessions run with.

        Without ANSI_QUOTES, so that SHOW GRANTS quotes names the way the grant parser expects,
        and without NO_BACKSLASH_ESCAPES, so that the driver's escaping holds. Where it still
        exists (MySQL before 8.0, MariaDB), NO_AUTO_CREATE_USER keeps a replayed GRANT from
        creating a user without password if the clone vanished mid-way; MySQL 8.0 removed the
        mode together with the implicit account creation.
        """
        return "" if self.mysql_at_least(8, 0, 0) else "NO_AUTO_CREATE_USER"


def parse_server_version(text: str) -> ServerVersion:
    """Read the version string a server sends in its handshake (``get_server_info()``).

    Raises:
        UserManagementError: The string names no version this engine knows how to treat.
    """
    mariadb = "mariadb" in text.lower() or text.startswith(_MARIADB_PREFIX)
    if mariadb:
        match = _NUMBER.match(text.removeprefix(_MARIADB_PREFIX))
        if match:
            return ServerVersion(True, _numbers(match))
    else:
        aurora = _AURORA_ENGINE_VERSION.match(text)
        if aurora and int(aurora.group(3)) in _AURORA_FLOOR:
            return ServerVersion(False, _AURORA_FLOOR[int(aurora.group(3))])
        match = _NUMBER.match(text)
        if match:
            return ServerVersion(False, _numbers(match))
    raise UserManagementError(
        f"cannot tell the server's version from {text[:60]!r}; refusing to guess which "
        "password statements it accepts"
    )


def _numbers(match: re.Match[str]) -> tuple[int, int, int]:
    major, minor, patch = (int(part) for part in match.groups()[:3])
    return major, minor, patch
