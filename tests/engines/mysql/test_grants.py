"""SHOW GRANTS lines as MySQL 5.7, 8.0/8.4 and MariaDB print them, re-addressed and read."""

from __future__ import annotations

import pytest

from rotation.core.errors import UserManagementError
from rotation.engines.mysql.grants import (
    Grant,
    grantee,
    grantee_spellings,
    parse_grant,
    quote_name,
    readdress,
    replay_plan,
)
from tests.engines.mysql import transcripts as t

HOSTILE = ["o'brien", "bq`tick", "back\\slash", "per%cent", "semi;colon", "with space", "ünï"]


def plan(lines: list[str], user: str, host: str = "%") -> tuple[tuple[str, ...], ...]:
    return replay_plan(lines, grantee_spellings(user, host), grantee(user + "_clone", host)).phases


@pytest.mark.parametrize("name", HOSTILE)
def test_quote_name_doubles_backticks_only(name: str) -> None:
    quoted = quote_name(name)
    assert quoted[0] == quoted[-1] == "`"
    assert quoted[1:-1].replace("``", "`") == name


@pytest.mark.parametrize("name", HOSTILE)
def test_grant_lines_are_readdressed_to_the_clone(name: str) -> None:
    source, target = grantee(name, "%"), grantee(name + "_clone", "%")
    line = f"GRANT SELECT, INSERT ON `appdb`.* TO {source} WITH GRANT OPTION"
    assert readdress(line, grantee_spellings(name, "%"), target) == (
        f"GRANT SELECT, INSERT ON `appdb`.* TO {target} WITH GRANT OPTION"
    )


def test_mysql_8_role_grants_are_copied_and_default_roles_are_not_in_show_grants() -> None:
    grants, revokes, defaults = plan(t.ROLES_JOE, "joe", "localhost")
    assert grants == (
        "GRANT USAGE ON *.* TO `joe_clone`@`localhost`",
        "GRANT `wp_administrators`@`%` TO `joe_clone`@`localhost` WITH ADMIN OPTION",
    )
    # The default role (set by ALTER USER ... DEFAULT ROLE) appears nowhere in SHOW GRANTS:
    # the handler reads mysql.default_roles for it.
    assert revokes == defaults == ()
    assert not any("DEFAULT" in line for line in grants)


def test_several_roles_and_column_privileges_are_readdressed() -> None:
    grants, _, _ = plan(t.ROLES_SALLY_USING, "sally")
    assert grants[2] == (
        "GRANT INSERT (`c1`), UPDATE (`c1`, `c3`) ON `test`.`t_external` TO `sally_clone`@`%`"
    )
    assert grants[3] == "GRANT `consultants`@`%`,`engineering`@`%` TO `sally_clone`@`%`"


def test_partial_revokes_are_replayed_after_the_grants() -> None:
    """Today's parser knew only TO/FOR and dropped every REVOKE line: the clone kept access."""
    grants, revokes, _ = plan(list(reversed(t.PARTIAL_REVOKES_FOO)), "foo")
    assert grants == ("GRANT SELECT, INSERT, UPDATE ON *.* TO `foo_clone`@`%`",)
    assert revokes == (
        "REVOKE SELECT, INSERT ON `secret`.* FROM `foo_clone`@`%`",
        "REVOKE SELECT, UPDATE ON `meeting`.* FROM `foo_clone`@`%`",
    )


def test_mysql_5_7_quoted_grantees_are_readdressed() -> None:
    """Today's parser looked for backticks only: every 5.7 line was skipped without a word."""
    grants, _, _ = plan(t.MANUAL_5_7_ADMIN, "admin", "localhost")
    assert grants == ("GRANT RELOAD, PROCESS ON *.* TO `admin_clone`@`localhost`",)


@pytest.mark.parametrize("inner", ["o'brien", "o''brien", "o\\'brien"])
def test_a_quote_in_a_5_7_grantee_is_found_however_it_is_escaped(inner: str) -> None:
    line = f"GRANT SELECT ON `db`.* TO '{inner}'@'%'"
    assert readdress(line, grantee_spellings("o'brien", "%"), grantee("x", "%")) == (
        "GRANT SELECT ON `db`.* TO `x`@`%`"
    )


def test_a_proxy_line_with_quoted_grantee_is_readdressed() -> None:
    grants, _, _ = plan(t.ROLES_ROOT, "root", "localhost")
    assert grants[1] == "GRANT PROXY ON ''@'' TO `root_clone`@`localhost` WITH GRANT OPTION"


def test_mariadb_lines_lose_the_hash_and_keep_their_order() -> None:
    grants, revokes, defaults = plan(t.MARIADB_OBRIEN, "o'brien")
    assert grants == (
        "GRANT `r1` TO `o'brien_clone`@`%`",
        "GRANT USAGE ON *.* TO `o'brien_clone`@`%` WITH MAX_USER_CONNECTIONS 3",
    )
    assert defaults == ("SET DEFAULT ROLE `r1` FOR `o'brien_clone`@`%`",)
    assert revokes == ()
    assert not any("PASSWORD" in line for line in grants)


def test_ansi_quotes_output_is_refused_by_name_never_skipped() -> None:
    """Under ANSI_QUOTES names come in double quotes; a line not understood stops the clone."""
    with pytest.raises(
        UserManagementError, match=r"cannot re-address the grant line 'GRANT \"r1\""
    ):
        plan(t.MARIADB_OBRIEN_ANSI, "o'brien")


def test_lines_for_someone_else_are_refused() -> None:
    with pytest.raises(UserManagementError, match="other"):
        readdress("GRANT SELECT ON *.* TO `other`@`%`", grantee_spellings("app", "%"), "`x`@`%`")


def test_a_grantee_named_inside_an_object_name_is_not_rewritten() -> None:
    """Only the grantee at the end is replaced, not a same-named table earlier in the line."""
    source, target = grantee("app", "%"), grantee("app_clone", "%")
    line = f"GRANT SELECT ON `db`.`TO {source}` TO {source}"
    assert readdress(line, grantee_spellings("app", "%"), target) == (
        f"GRANT SELECT ON `db`.`TO {source}` TO {target}"
    )


def test_a_grantee_that_is_a_prefix_of_another_is_not_matched() -> None:
    with pytest.raises(UserManagementError):
        readdress("GRANT SELECT ON *.* TO 'app'@'%x'", grantee_spellings("app", "%"), "`x`@`%`")


def test_the_password_hash_is_never_replayed() -> None:
    source, target = grantee("app", "%"), grantee("app_clone", "%")
    line = (
        f"GRANT USAGE ON *.* TO {source} IDENTIFIED BY PASSWORD '*0D3CED9BEC10A777AEC23CCC353A8C0'"
    )
    spellings = grantee_spellings("app", "%")
    assert readdress(line, spellings, target) == f"GRANT USAGE ON *.* TO {target}"
    assert readdress(line + " WITH GRANT OPTION", spellings, target) == (
        f"GRANT USAGE ON *.* TO {target} WITH GRANT OPTION"
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (t.ROLES_SALLY_USING[2], Grant("privileges", frozenset({"INSERT", "UPDATE"}),
                                       "`test`.`t_external`", False)),
        (t.ROLES_SALLY_USING[3], Grant("roles", frozenset({"`consultants`@`%`",
                                                           "`engineering`@`%`"}), "", False)),
        (t.ROLES_JOE[1], Grant("roles", frozenset({"`wp_administrators`@`%`"}), "", True)),
        (t.PARTIAL_REVOKE_BAR[1], Grant("revoke", frozenset({"INSERT"}), "`mysql`.*", False)),
        (t.MARIADB_OBRIEN[2], Grant("default_role", frozenset({"`r1`"}), "", False)),
    ],
)  # fmt: skip
def test_parse_grant_names_what_a_line_grants(line: str, expected: Grant) -> None:
    assert parse_grant(line) == expected


def test_dynamic_and_static_privileges_are_named() -> None:
    dynamic = parse_grant(t.DYNAMIC_BAZ)
    assert {"ROLE_ADMIN", "SET_USER_ID", "APPLICATION_PASSWORD_ADMIN"} <= dynamic.names
    assert dynamic.level == "*.*"
    static = parse_grant(t.ROLES_ROOT[0])
    assert {"CREATE USER", "SHOW DATABASES", "CREATE TEMPORARY TABLES"} <= static.names
    assert static.grantable
