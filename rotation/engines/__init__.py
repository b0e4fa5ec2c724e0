"""Database engines.

Each module holds one engine's handler class and its two Lambda entry points,
``single_user_handler`` and ``alternating_users_handler``. Nothing is imported here, so that
importing one engine never imports another engine's driver.
"""
