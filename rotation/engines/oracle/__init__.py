"""Oracle Database and Amazon RDS for Oracle.

:engine: ``oracle``
:driver: python-oracledb in thin mode (``pip install "rotation[oracle]"``); Oracle Database 12.1+
:secret engine values: ``oracle`` (admin secrets may also carry RDS's names: ``oracle-ee``,
    ``oracle-se2``, ``oracle-ee-cdb``, ``oracle-se2-cdb`` and the RDS Custom ``custom-oracle-*``)
:strategies: single user, alternating users
:statements: names are quoted by the server with ``SELECT SYS.DBMS_ASSERT.ENQUOTE_NAME(:name)
    FROM DUAL`` (a bind variable). Single user: ``ALTER USER "<U>" IDENTIFIED BY "<new>" REPLACE
    "<old>"``. Alternating users, as the admin: ``SYS.DBMS_METADATA.GET_GRANTED_DDL`` of the
    original for ``ROLE_GRANT``, ``SYSTEM_GRANT`` and ``OBJECT_GRANT``; the admin's own grant
    rights from the dictionary views; ``CREATE USER "<U>_CLONE" IDENTIFIED BY "<new>"`` (or
    ``ALTER USER`` when it exists); then each granted-DDL line the clone lacks, re-addressed to
    the clone, one statement at a time -- or, for a SYS object on RDS,
    ``rdsadmin.rdsadmin_util.grant_sys_object`` with bind variables; ``SELECT 1 FROM DUAL``.
    A grant the admin cannot give stops the rotation before any change, naming it.

User names follow Oracle's login rule: an unquoted name is upper-cased (``app`` is the user
``APP``, as at login and in ``CREATE USER app``); a name in double quotes (``"app"``) is exact.
The server applies this rule (ENQUOTE_NAME capitalises unquoted names), so login, ALTER USER and
the clone always name the same user. The clone of ``app`` is ``app_CLONE``, i.e. ``APP_CLONE``.

A password cannot be a bind variable in ``IDENTIFIED BY``, so it is written as a quoted
identifier; Oracle passwords cannot contain ``"`` (nor NUL), so such a password is refused, and
``"`` is always excluded from generated passwords. DDL commits implicitly: every statement is
idempotent or skipped when already done, so a re-run after a crash anywhere completes the clone.

Modules: :mod:`.handler` (connections, primitives), :mod:`.statements` (pure rendering),
:mod:`.grants` (which grants the admin may give, and how; pure), :mod:`.tls` (the TCPS context
and what a failed handshake means), :mod:`.preflight` (read-only hooks of ``rotation check``).
"""

from __future__ import annotations

from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines.oracle.handler import OracleHandler

__all__ = ["OracleHandler", "alternating_users_handler", "single_user_handler"]

single_user_handler = OracleHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = OracleHandler.lambda_handler(strategy=AlternatingUsers())
