"""Amazon DocumentDB and MongoDB.

:engine: ``documentdb``
:driver: PyMongo 4.6.3 to 4.10 (``pip install "rotation[documentdb]"``): 4.11 dropped
    DocumentDB 3.6 (wire version 6) and 4.14 dropped DocumentDB 4.0 (wire version 7)
:secret engine values: ``mongo``, ``docdb``, ``documentdb``
:strategies: single user, alternating users
:commands: the login authenticates against the secret's ``dbname`` (default ``admin``), as AWS's
    functions do; every user command runs on ``admin``, where DocumentDB keeps all users. Single
    user, and the admin on the original user: ``{updateUser: <user>, pwd: <password>}``.
    Alternating users: ``{usersInfo: <user>}`` for the original's roles, then
    ``{createUser: <clone>, pwd, roles}`` when the clone is missing, else ``updateUser`` with
    ``pwd``, followed by ``grantRolesToUser`` for roles the clone lacks and
    ``revokeRolesFromUser`` for roles the original no longer has. Check: ``{ping: 1}`` on a
    session PyMongo has authenticated with SCRAM. ``rotation check`` (read-only):
    ``{buildInfo: 1}``, ``{connectionStatus: 1, showPrivileges: true}``, for the admin
    ``usersInfo`` on the original, and ``{getEngineVersion: 1}`` to tell DocumentDB from MongoDB
    when a user holds no ``changeOwnPassword``.

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
