"""The command documents the DocumentDB engine runs, built by pure functions.

Commands are BSON documents, so no name or password is ever spliced into text. The handler
inherits :class:`DocumentDBCommands`; nothing here imports the driver or opens a connection, so
the documents can be tested as values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

Role = dict[str, str]

#: Where user commands are sent. DocumentDB keeps every user in ``admin`` and performs user and
#: role operations there "whether or not you are issuing commands against the admin database",
#: while also telling you to "be in the context of the admin database to create and modify users
#: and roles" (https://docs.aws.amazon.com/documentdb/latest/developerguide/
#: role_based_access_control.html); sending them to ``admin`` satisfies both readings.
USERS_DATABASE = "admin"

#: MongoDB's wire versions by server version (DocumentDB reports those of the MongoDB version it
#: is compatible with: 4.0 reports 7), to name a server in errors.
MONGODB_WIRE_VERSIONS = {5: "3.4", 6: "3.6", 7: "4.0", 8: "4.2", 9: "4.4", 13: "5.0", 17: "6.0",
                         21: "7.0", 25: "8.0"}  # fmt: skip


@dataclass(frozen=True, repr=False)
class Command:
    """One database command as the engine builds it.

    Attributes:
        document: The command document; its first key is the command name.
        action: A short label that is safe to log and put in errors (no names, no values).
    """

    document: dict[str, Any]
    action: str

    def __repr__(self) -> str:
        # The document may hold a password.
        return f"Command(action={self.action!r})"


class DocumentDBCommands:
    """Build the commands that rotation runs (inherited by the handler)."""

    @staticmethod
    def ping_command() -> Command:
        """Build ``{ping: 1}``."""
        return Command({"ping": 1}, "ping")

    @staticmethod
    def users_info_command(username: str) -> Command:
        """Build ``usersInfo`` for one user of the database the command runs on.

        The plain-name form is the one the AWS template runs on DocumentDB; the server takes
        the string as the name itself (no ``db.user`` parsing), so any name is safe.
        """
        return Command({"usersInfo": username}, "usersInfo")

    @staticmethod
    def update_password_command(username: str, password: str) -> Command:
        """Build ``updateUser`` that sets a password (the server computes the SCRAM keys)."""
        return Command({"updateUser": username, "pwd": password}, "updateUser pwd")

    @staticmethod
    def create_user_command(username: str, password: str, roles: list[Role]) -> Command:
        """Build ``createUser`` with a password and roles."""
        return Command({"createUser": username, "pwd": password, "roles": roles}, "createUser")

    @staticmethod
    def grant_roles_command(username: str, roles: list[Role]) -> Command:
        """Build ``grantRolesToUser``."""
        return Command({"grantRolesToUser": username, "roles": roles}, "grantRolesToUser")

    @staticmethod
    def revoke_roles_command(username: str, roles: list[Role]) -> Command:
        """Build ``revokeRolesFromUser``."""
        return Command({"revokeRolesFromUser": username, "roles": roles}, "revokeRolesFromUser")


def role_of(entry: Mapping[str, Any]) -> Role:
    """Return a ``usersInfo`` role entry as the ``{role, db}`` document commands take."""
    return {"role": str(entry["role"]), "db": str(entry["db"])}
