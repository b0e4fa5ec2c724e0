"""Amazon DocumentDB and MongoDB.

:engine: ``documentdb``
:driver: PyMongo 4 (``pip install "rotation[documentdb]"``)
:secret engine values: ``mongo``, ``docdb``, ``documentdb``
:strategies: single user, alternating users
:commands: all run on the auth database (the secret's ``dbname``, default ``admin``). Single
    user, and the admin on the original user: ``{updateUser: <user>, pwd: <password>}``.
    Alternating users: ``{usersInfo: <user>}`` for the original's roles, then
    ``{createUser: <clone>, pwd, roles}`` when the clone is missing, else ``updateUser`` with
    ``pwd``, followed by ``grantRolesToUser`` for roles the clone lacks and
    ``revokeRolesFromUser`` for roles the original no longer has. Check: ``{ping: 1}`` on a
    session PyMongo has authenticated with SCRAM. ``rotation check`` (read-only):
    ``{buildInfo: 1}``, ``{connectionStatus: 1, showPrivileges: true}`` and, for the admin,
    ``usersInfo`` on the original.

Commands are BSON documents, so no name or password is ever spliced into text. PyMongo 4 has no
``Database.authenticate()``: credentials go to ``MongoClient``, which authenticates each pooled
connection, and its command monitoring redacts ``createUser``/``updateUser``.

Modules: :mod:`.handler` (clients, primitives), :mod:`.commands` (pure command documents),
:mod:`.preflight` (read-only hooks of ``rotation check``), :mod:`.session` (the session type).
"""

from __future__ import annotations

from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines.documentdb.handler import DocumentDBHandler

__all__ = ["DocumentDBHandler", "alternating_users_handler", "single_user_handler"]

single_user_handler = DocumentDBHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = DocumentDBHandler.lambda_handler(strategy=AlternatingUsers())
