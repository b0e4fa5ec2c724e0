"""Pure reading of ``SHOW GRANTS`` lines: re-address them to the clone, and name what they grant.

What the lines look like, by server (each shape has a test with the transcript it comes from):

* MySQL 8.0/8.4: names quoted with backticks (``GRANT SELECT ON `db`.* TO `u`@`%```), role
  grants without ``ON`` (``GRANT `r1`@`%`,`r2`@`%` TO `u`@`%```), dynamic privileges comma-joined
  without spaces, and under ``partial_revokes`` one ``REVOKE ... ON `db`.* FROM `u`@`%``` line
  per restricted schema after the GRANT lines. Default roles are not shown at all (they live in
  ``mysql.default_roles``). ``GRANT PROXY ON ''@''`` quotes the proxied account with quotes.
* MySQL 5.7: the grantee quoted as a string, ``TO 'u'@'%'``.
* MariaDB: backticks, role grants without host, and ``SET DEFAULT ROLE `r` FOR `u`@`%```.
* Under ``ANSI_QUOTES`` every server switches to double quotes; the rotation's sessions turn it
  off (see :attr:`~rotation.engines.mysql.version.ServerVersion.session_sql_mode`).

A line that names neither shape is never skipped: :func:`replay_plan` refuses it by name, since a
clone that silently misses a grant (or a restriction) passes ``testSecret`` and breaks later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rotation.core.errors import UserManagementError

# MariaDB shows the password hash in SHOW GRANTS; it must not be replayed (nor logged).
_IDENTIFIED_CLAUSE = re.compile(
    r" IDENTIFIED (?:BY PASSWORD '[^']*'|(?:VIA|WITH) .*?(?= WITH (?:GRANT|MAX_)|$))"
)
_KEYWORDS = (("GRANT ", " TO "), ("REVOKE ", " FROM "), ("SET DEFAULT ROLE ", " FOR "))
# The privileges GRANT ALL grants at database level (static ones; dynamic privileges are global).
# https://dev.mysql.com/doc/refman/8.0/en/privileges-provided.html
DATABASE_PRIVILEGES = frozenset(
    {"SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "REFERENCES", "INDEX", "ALTER",
     "CREATE TEMPORARY TABLES", "LOCK TABLES", "EXECUTE", "CREATE VIEW", "SHOW VIEW",
     "CREATE ROUTINE", "ALTER ROUTINE", "EVENT", "TRIGGER"}
)  # fmt: skip


def quote_name(name: str) -> str:
    """Quote a user or host name the way SHOW GRANTS does: backticks, inner ones doubled."""
    return "`" + name.replace("`", "``") + "`"


def grantee(username: str, host: str) -> str:
    """Return ``user@host`` as MySQL 8 and MariaDB write it in SHOW GRANTS."""
    return f"{quote_name(username)}@{quote_name(host)}"


def grantee_spellings(username: str, host: str) -> tuple[str, ...]:
    """Return every way a server may spell this account as grantee of a SHOW GRANTS line.

    Backticks (MySQL 8, MariaDB), then MySQL 5.7's string quotes: as 5.7 writes them (the name
    copied between quotes) and with a quote inside escaped either way.
    """
    spellings = [grantee(username, host)]
    for inner in ("'", "''", "\\'"):
        user, where = username.replace("'", inner), host.replace("'", inner)
        spelling = f"'{user}'@'{where}'"
        if spelling not in spellings:
            spellings.append(spelling)
    return tuple(spellings)


def strip_identified(line: str) -> str:
    """Remove the ``IDENTIFIED ...`` clause (a password hash) from a SHOW GRANTS line."""
    return _IDENTIFIED_CLAUSE.sub("", line)


def readdress(line: str, sources: tuple[str, ...], target: str) -> str:
    """Rewrite one SHOW GRANTS line of the original so that it applies to ``target``.

    Args:
        line: A line of ``SHOW GRANTS FOR`` the original.
        sources: The original's :func:`grantee_spellings`.
        target: The clone as :func:`grantee` renders it.

    Raises:
        UserManagementError: The line is no GRANT/REVOKE/SET DEFAULT ROLE naming the original
            as grantee; the message names the line (without any password hash).
    """
    line = strip_identified(line)
    for lead, keyword in _KEYWORDS:
        if not line.startswith(lead):
            continue
        for source in sources:
            marker = keyword + source
            position = line.rfind(marker)
            end = position + len(marker)
            # The grantee ends the line or is followed by a clause (WITH ..., REQUIRE ...).
            if position >= 0 and (end == len(line) or line[end] == " "):
                return line[:position] + keyword + target + line[end:]
    raise UserManagementError(
        f"cannot re-address the grant line {line[:200]!r} to the clone; refusing to create a "
        "clone with different privileges"
    )


@dataclass(frozen=True)
class ReplayPlan:
    """The original's grant lines re-addressed to the clone, in the order they must run.

    Attributes:
        grants: GRANT lines (privileges, then roles as the server lists them).
        revokes: Partial revokes; they restrict global grants, so they run after those.
        default_roles: MariaDB's SET DEFAULT ROLE lines; they need the role granted first.
    """

    grants: tuple[str, ...]
    revokes: tuple[str, ...]
    default_roles: tuple[str, ...]

    @property
    def phases(self) -> tuple[tuple[str, ...], ...]:
        """Return the three groups of lines in execution order."""
        return self.grants, self.revokes, self.default_roles


def replay_plan(lines: list[str], sources: tuple[str, ...], target: str) -> ReplayPlan:
    """Re-address every line of the original's SHOW GRANTS and order them for replay.

    Raises:
        UserManagementError: A line cannot be re-addressed (see :func:`readdress`).
    """
    grants: list[str] = []
    revokes: list[str] = []
    defaults: list[str] = []
    for line in lines:
        replayed = readdress(line, sources, target)
        if replayed.startswith("REVOKE "):
            revokes.append(replayed)
        elif replayed.startswith("SET DEFAULT ROLE "):
            defaults.append(replayed)
        else:
            grants.append(replayed)
    return ReplayPlan(tuple(grants), tuple(revokes), tuple(defaults))


@dataclass(frozen=True)
class Grant:
    """What one SHOW GRANTS line grants or revokes, for ``rotation check``.

    Attributes:
        kind: ``privileges``, ``roles``, ``revoke`` or ``default_role``.
        names: Privilege names (upper case, column lists dropped) or role names as written.
        level: What the privileges apply to (``*.*``, ```db`.*``); empty for roles.
        grantable: WITH GRANT OPTION (privileges) or WITH ADMIN OPTION (roles).
    """

    kind: str
    names: frozenset[str]
    level: str
    grantable: bool


def parse_grant(line: str) -> Grant:
    """Name what a SHOW GRANTS line grants (or revokes); the grantee is not checked here.

    Raises:
        UserManagementError: The line has none of the known shapes.
    """
    line = strip_identified(line)
    grantable = line.endswith((" WITH GRANT OPTION", " WITH ADMIN OPTION"))
    for lead, keyword in _KEYWORDS:
        if not line.startswith(lead):
            continue
        body = line[len(lead) :]
        head = _top_level_split(body, keyword, maxsplit=1)[0]
        parts = _top_level_split(head, " ON ", maxsplit=1)
        if lead == "SET DEFAULT ROLE ":
            return Grant("default_role", _names(head, upper=False), "", False)
        if len(parts) == 1:
            return Grant("roles", _names(head, upper=False), "", grantable)
        kind = "revoke" if lead == "REVOKE " else "privileges"
        return Grant(kind, _names(parts[0], upper=True), parts[1].strip(), grantable)
    raise UserManagementError(f"cannot read the grant line {line[:200]!r}")


def _names(text: str, *, upper: bool) -> frozenset[str]:
    """Split a comma list at top level, dropping column lists: ``INSERT (`c1`)`` -> INSERT."""
    names = set()
    for item in _top_level_split(text, ","):
        name = re.sub(r"\s*\(.*\)\s*$", "", item.strip())
        names.add(name.upper() if upper else name)
    names.discard("")
    return frozenset(names)


def _top_level_split(text: str, separator: str, maxsplit: int = -1) -> list[str]:
    """Split ``text`` at ``separator`` outside quotes and parentheses."""
    parts: list[str] = []
    start = depth = 0
    quote = ""
    index = 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == quote:
                # A doubled quote stays inside the quoted name.
                if index + 1 < len(text) and text[index + 1] == quote:
                    index += 2
                    continue
                quote = ""
            elif char == "\\" and quote == "'":
                index += 2
                continue
        elif char in "`'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and text.startswith(separator, index) and maxsplit != len(parts):
            parts.append(text[start:index])
            index += len(separator)
            start = index
            continue
        index += 1
    parts.append(text[start:])
    return parts
