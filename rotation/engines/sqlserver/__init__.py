"""Microsoft SQL Server and Amazon RDS for SQL Server.

:engine: ``sqlserver``
:driver: pymssql with its bundled FreeTDS (``pip install "rotation[sqlserver]"``)
:secret engine values: ``sqlserver``; admin secrets may also carry RDS's names:
    ``sqlserver-ex``, ``-web``, ``-se``, ``-ee``, ``-dev-ee`` and RDS Custom's
    ``custom-sqlserver-*``
:strategies: single user, alternating users
:statements: single user: ``ALTER LOGIN <login> WITH PASSWORD = <new> OLD_PASSWORD = <old>``,
    where ``<old>`` is the password that logged in; in a contained database ``ALTER USER``
    instead. Alternating users, as the admin: ``CREATE LOGIN`` if missing, ``ALTER LOGIN ...
    WITH PASSWORD``; where the original login has a database user (found by SID; in master
    ordinary logins have none) ``CREATE USER <user>_clone FOR LOGIN`` and each database role
    membership and ``GRANT``/``DENY`` it lacks; then, after ``USE master``, each server role
    membership (``ALTER SERVER ROLE ... ADD MEMBER``) and server permission it lacks. Contained
    database: ``CREATE USER ... WITH PASSWORD`` / ``ALTER USER``, roles and permissions.
    ``SELECT 1``.

DDL takes no variables, so names and passwords reach the statement through the server: each
change is a batch ``DECLARE @sql nvarchar(max) = N'ALTER LOGIN ' + QUOTENAME(%s) + ...; EXEC
sys.sp_executesql @sql;`` in which pymssql binds every value as an escaped ``N'...'`` literal
and ``QUOTENAME`` quotes names (``[...]``) and passwords (``'...'``) on the server. Python never
formats a name or a password into SQL text.

TLS: FreeTDS encrypts when pymssql asks for ``encryption="require"``, but verifies the server's
certificate only when its configuration names a ``ca file``; pymssql has no argument for one.
For each TLS connection we therefore point ``FREETDSCONF`` at a generated file whose
``[global]`` section sets ``ca file`` (the configured CA file, or ``system``) and ``check
certificate hostname = yes``, so the chain and the host name are both checked.

Modules: :mod:`.handler` (connections, primitives), :mod:`.clone` (the alternating-users
clone), :mod:`.statements` (pure rendering), :mod:`.permissions` (pure GRANT/DENY replay per
securable class), :mod:`.preflight` (read-only hooks of ``rotation check``), :mod:`.freetds`
(FreeTDS's certificate configuration and error numbers).
"""

from __future__ import annotations

from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines.sqlserver.handler import SQLServerHandler

__all__ = ["SQLServerHandler", "alternating_users_handler", "single_user_handler"]

single_user_handler = SQLServerHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = SQLServerHandler.lambda_handler(strategy=AlternatingUsers())
