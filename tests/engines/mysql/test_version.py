"""Version detection: MySQL 5.7/8.0/8.4, Aurora MySQL 2/3, MariaDB, and refusal to guess."""

from __future__ import annotations

import pytest

from rotation.core.errors import UserManagementError
from rotation.engines.mysql.version import ServerVersion, parse_server_version


@pytest.mark.parametrize(
    ("text", "mariadb", "number"),
    [
        ("5.7.44-log", False, (5, 7, 44)),
        ("8.0.36", False, (8, 0, 36)),
        ("8.4.3", False, (8, 4, 3)),
        # Aurora MySQL 2 reports the MySQL 5.7 it is compatible with; Aurora 3.05 reports 8.0.32
        # (https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Aurora.VersionPolicy.Versioning.html).
        ("5.7.12", False, (5, 7, 12)),
        ("8.0.32", False, (8, 0, 32)),
        # The RDS engine-version spelling reads as the floor Aurora's docs give for the series.
        ("8.0.mysql_aurora.3.05.2", False, (8, 0, 23)),
        ("5.7.mysql_aurora.2.11.2", False, (5, 7, 12)),
        # MariaDB 10.x prefixes 5.5.5- for MySQL clients (seen here on 10.11.19); 11.x does not.
        ("5.5.5-10.11.19-MariaDB-0+deb12u1", True, (10, 11, 19)),
        ("11.4.2-MariaDB", True, (11, 4, 2)),
    ],
)
def test_versions_are_read_by_product(text: str, mariadb: bool, number: tuple[int, ...]) -> None:
    assert parse_server_version(text) == ServerVersion(mariadb, number)  # type: ignore[arg-type]


@pytest.mark.parametrize("text", ["", "garbage", "8.0", "mysql_aurora", "5.5.5-"])
def test_an_unreadable_version_is_an_error_not_a_fallback(text: str) -> None:
    with pytest.raises(UserManagementError, match="cannot tell the server's version"):
        parse_server_version(text)


def test_mariadb_never_takes_a_mysql_branch() -> None:
    maria = parse_server_version("5.5.5-10.11.19-MariaDB-0+deb12u1")
    assert not maria.alter_user_password
    assert not maria.replace_current
    assert not maria.roles
    assert not maria.dual_passwords
    assert maria.session_sql_mode == "NO_AUTO_CREATE_USER"
    assert maria.describe() == "MariaDB 10.11.19"


@pytest.mark.parametrize(
    ("text", "alter_user", "replace", "dual", "roles", "mode"),
    [
        ("5.6.51", False, False, False, False, "NO_AUTO_CREATE_USER"),
        ("5.7.12", True, False, False, False, "NO_AUTO_CREATE_USER"),
        ("8.0.12", True, False, False, True, ""),
        ("8.0.13", True, True, False, True, ""),
        ("8.0.14", True, True, True, True, ""),
        ("8.4.3", True, True, True, True, ""),
    ],
)
def test_capabilities_follow_the_mysql_version(
    text: str, alter_user: bool, replace: bool, dual: bool, roles: bool, mode: str
) -> None:
    server = parse_server_version(text)
    assert server.alter_user_password is alter_user
    assert server.replace_current is replace
    assert server.dual_passwords is dual
    assert server.roles is roles
    assert server.session_sql_mode == mode
