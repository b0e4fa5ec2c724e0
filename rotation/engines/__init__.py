"""Database engines, one package each, laid out like Django's database backends.

``rotation.engines.<engine>`` exposes the engine's handler class and its two Lambda entry points,
``single_user_handler`` and ``alternating_users_handler``. Inside the package, ``handler.py``
holds connections and the primitives, ``statements.py`` the pure statement (or command)
rendering and ``preflight.py`` the read-only hooks of ``rotation check``. MariaDB and Redshift are
short subclasses of MySQL and PostgreSQL. :mod:`rotation.engines.dbapi` is the DB-API machinery
the SQL engines share.

Nothing is imported here, so that importing one engine never imports another engine's driver.
"""
