"""MariaDB.

:engine: ``mariadb``
:driver: PyMySQL (``pip install "rotation[mariadb]"``)
:secret engine values: ``mariadb``
:strategies: single user, alternating users
:statements: as :mod:`rotation.engines.mysql`, except that a user sets its own password with
    ``SET PASSWORD = PASSWORD(%s)``, which every MariaDB version accepts without privileges.
:modules: :mod:`.handler`, a short subclass of the MySQL handler.
"""

from __future__ import annotations

from rotation.core.strategies import AlternatingUsers, SingleUser
from rotation.engines.mariadb.handler import MariaDBHandler

__all__ = ["MariaDBHandler", "alternating_users_handler", "single_user_handler"]

single_user_handler = MariaDBHandler.lambda_handler(strategy=SingleUser())
alternating_users_handler = MariaDBHandler.lambda_handler(strategy=AlternatingUsers())
