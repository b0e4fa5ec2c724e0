"""Amazon Redshift (provisioned clusters and Serverless workgroups).

:engine: ``redshift``
:driver: psycopg2 (``pip install "rotation[redshift]"``)
:secret engine values: ``redshift``
:strategies: single user, alternating users
:statements: ``ALTER USER <user> PASSWORD <md5 hash>`` (single user, and the admin on the
    original user); ``CREATE USER <clone> PASSWORD <md5 hash>`` or ``ALTER USER`` when it exists,
    then ``GRANT <privilege> ON DATABASE|SCHEMA|TABLE <object>, ... TO <clone>`` for what the
    original holds and the clone lacks (``HAS_DATABASE_PRIVILEGE``, ``HAS_SCHEMA_PRIVILEGE``,
    ``HAS_TABLE_PRIVILEGE``), one statement per privilege and schema, each committed; ``SELECT 1``.
:modules: :mod:`.handler` (a subclass of the PostgreSQL handler), :mod:`.statements` (pure
    rendering), :mod:`.preflight` (read-only hooks of ``rotation check``).

Redshift users are not roles that can be granted to each other, so the clone gets copies of the
original's privileges; one GRANT per database because datashare databases cannot be mixed with
local ones in one statement. The GRANTs are committed one by one so that a timeout loses little
and the retry, which recomputes what is missing, finishes the job. Privileges are only ever
added: revoking the clone's extra rights could strip it of rights on objects it owns. Passwords
are sent as ``'md5' + md5(password + user)``, which keeps them out of the statement log
(Redshift has no SCRAM verifiers).
"""

from __future__ import annotations

from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines.redshift.handler import RedshiftHandler

__all__ = ["RedshiftHandler", "alternating_users_handler", "single_user_handler"]

single_user_handler = RedshiftHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = RedshiftHandler.lambda_handler(strategy=AlternatingUsers())
