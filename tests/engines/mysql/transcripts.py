"""Server output the MySQL engine must handle, copied from where it was observed.

Each constant names its source. ``mysql-server`` paths are in github.com/mysql/mysql-server at the
commit given; the anchor is the statement whose output the lines are (search the file for it).
"""

from __future__ import annotations

# mysql-test/r/roles.result @ 00f379c1f7018ca62aaea9c89bde53b4822bc9f9, after
# "ALTER USER `joe`@`localhost` DEFAULT ROLE wp_administrators;" and a restart, the output of
# "SHOW GRANTS FOR `joe`@`localhost`;": the default role is NOT shown, only the role grant.
ROLES_JOE = [
    "GRANT USAGE ON *.* TO `joe`@`localhost`",
    "GRANT `wp_administrators`@`%` TO `joe`@`localhost` WITH ADMIN OPTION",
]
# Same file, "SELECT * FROM mysql.default_roles;" after that ALTER USER: HOST, USER,
# DEFAULT_ROLE_HOST, DEFAULT_ROLE_USER.
ROLES_JOE_DEFAULT_ROLES = [("localhost", "joe", "%", "wp_administrators")]
# Same file, "SHOW GRANTS FOR sally USING engineering, consultants;": several roles on one line,
# column privileges with commas inside parentheses.
ROLES_SALLY_USING = [
    "GRANT USAGE ON *.* TO `sally`@`%`",
    "GRANT UPDATE ON `test`.* TO `sally`@`%`",
    "GRANT INSERT (`c1`), UPDATE (`c1`, `c3`) ON `test`.`t_external` TO `sally`@`%`",
    "GRANT `consultants`@`%`,`engineering`@`%` TO `sally`@`%`",
    "GRANT `consultants`@`%` TO `sally`@`%` WITH ADMIN OPTION",
]
# Same file, the first "SHOW GRANTS FOR current_user() USING `engineering`@`%`,`role`@`%`;":
# root's static privileges on one line, and a PROXY line whose grantee is in quotes.
ROLES_ROOT = [
    "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, SHUTDOWN, PROCESS, FILE, "
    "REFERENCES, INDEX, ALTER, SHOW DATABASES, SUPER, CREATE TEMPORARY TABLES, LOCK TABLES, "
    "EXECUTE, REPLICATION SLAVE, REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, "
    "ALTER ROUTINE, CREATE USER, EVENT, TRIGGER, CREATE TABLESPACE, CREATE ROLE, DROP ROLE ON "
    "*.* TO `root`@`localhost` WITH GRANT OPTION",
    "GRANT PROXY ON ''@'' TO 'root'@'localhost' WITH GRANT OPTION",
    "GRANT `engineering`@`%`,`role`@`%` TO `root`@`localhost`",
]
# Same file: "GRANT role1 TO user1;" by a user without role privileges fails with
ROLE_GRANT_DENIED = (
    "Access denied; you need (at least one of) the WITH ADMIN, ROLE_ADMIN, SUPER privilege(s) "
    "for this operation"
)

# mysql-test/suite/auth_sec/r/partial_revokes_add_remove.result @
# 029504b7f32beb324ed725bc03aac8597c6d840e, case 1, after "GRANT INSERT ON *.* TO bar;
# REVOKE INSERT ON mysql.* FROM bar;": "SHOW GRANTS FOR bar;"
PARTIAL_REVOKE_BAR = [
    "GRANT INSERT ON *.* TO `bar`@`%`",
    "REVOKE INSERT ON `mysql`.* FROM `bar`@`%`",
]
# Same file, case 7 ("Granting a global privilege should not affect the restrictions of
# different privileges on other databases"), the first "SHOW GRANTS FOR foo;".
PARTIAL_REVOKES_FOO = [
    "GRANT SELECT, INSERT, UPDATE ON *.* TO `foo`@`%`",
    "REVOKE SELECT, UPDATE ON `meeting`.* FROM `foo`@`%`",
    "REVOKE SELECT, INSERT ON `secret`.* FROM `foo`@`%`",
]
# Same file, case 9.1, "SHOW GRANTS FOR baz;": dynamic privileges comma-joined without spaces.
DYNAMIC_BAZ = (
    "GRANT APPLICATION_PASSWORD_ADMIN,AUDIT_ADMIN,BACKUP_ADMIN,BINLOG_ADMIN,"
    "BINLOG_ENCRYPTION_ADMIN,CLONE_ADMIN,CONNECTION_ADMIN,ENCRYPTION_KEY_ADMIN,"
    "GROUP_REPLICATION_ADMIN,INNODB_REDO_LOG_ARCHIVE,PERSIST_RO_VARIABLES_ADMIN,"
    "REPLICATION_SLAVE_ADMIN,RESOURCE_GROUP_ADMIN,RESOURCE_GROUP_USER,ROLE_ADMIN,"
    "SERVICE_CONNECTION_ADMIN,SESSION_VARIABLES_ADMIN,SET_USER_ID,SYSTEM_USER,"
    "SYSTEM_VARIABLES_ADMIN,TABLE_ENCRYPTION_ADMIN,XA_RECOVER_ADMIN ON *.* TO `baz`@`%`"
)

# mysql-test/suite/auth_sec/r/password_require_current.result @
# 35d4a04a297f07b48b2fd6605d249307bd51249c, "SHOW CREATE USER non_priv_usr;" (the test masks
# the plugin and the hash).
CREATE_USER_8_0 = (
    "CREATE USER 'non_priv_usr'@'%' IDENTIFIED WITH '<default_auth_plugin>' AS "
    "'<password_hash>' REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK PASSWORD HISTORY "
    "DEFAULT PASSWORD REUSE INTERVAL DEFAULT PASSWORD REQUIRE CURRENT DEFAULT"
)
# Same file, with password_require_current ON, a user without privileges:
# "ALTER USER user() IDENTIFIED BY 'pwd1';" fails with
MISSING_CURRENT = (
    "Current password needs to be specified in the REPLACE clause in order to change it."
)

# MySQL 8.0 manual, SHOW GRANTS (https://dev.mysql.com/doc/refman/8.0/en/show-grants.html):
MANUAL_8_0_ROLES = [
    "GRANT USAGE ON *.* TO `u1`@`localhost`",
    "GRANT `r1`@`%`,`r2`@`%` TO `u1`@`localhost`",
]
# MySQL 5.7 manual, "Adding Accounts, Assigning Privileges, and Dropping Accounts"
# (https://dev.mysql.com/doc/refman/5.7/en/creating-accounts.html): the grantee in quotes.
MANUAL_5_7_ADMIN = ["GRANT RELOAD, PROCESS ON *.* TO 'admin'@'localhost'"]
# MySQL 5.7 manual, SHOW CREATE USER (https://dev.mysql.com/doc/refman/5.7/en/show-create-user.html)
CREATE_USER_5_7 = (
    "CREATE USER 'root'@'localhost' IDENTIFIED WITH 'mysql_native_password' AS "
    "'*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19' REQUIRE NONE PASSWORD EXPIRE DEFAULT ACCOUNT "
    "UNLOCK"
)

# MariaDB 10.11.19 (Debian's mariadb-server, the server this suite starts), observed: a user
# o'brien with role r1 as default role and MAX_USER_CONNECTIONS 3 (hash shortened).
MARIADB_OBRIEN = [
    "GRANT `r1` TO `o'brien`@`%`",
    "GRANT USAGE ON *.* TO `o'brien`@`%` IDENTIFIED BY PASSWORD '*7446F64EFCFB' "
    "WITH MAX_USER_CONNECTIONS 3",
    "SET DEFAULT ROLE `r1` FOR `o'brien`@`%`",
]
# The same user under sql_mode=ANSI_QUOTES.
MARIADB_OBRIEN_ANSI = ['GRANT "r1" TO "o\'brien"@"%"']

# The master user's global privileges on RDS for MySQL, from the table "Master user account
# privileges" (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.MasterAccounts.html),
# as SHOW GRANTS lines (grantee left as <who>). Before 8.0.36 there is no ROLE_ADMIN (nor SUPER).
RDS_MASTER_BEFORE_8_0_36 = [
    "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, DROP, RELOAD, PROCESS, REFERENCES, INDEX, "
    "ALTER, SHOW DATABASES, CREATE TEMPORARY TABLES, LOCK TABLES, EXECUTE, REPLICATION SLAVE, "
    "REPLICATION CLIENT, CREATE VIEW, SHOW VIEW, CREATE ROUTINE, ALTER ROUTINE, CREATE USER, "
    "EVENT, TRIGGER ON *.* TO <who> WITH GRANT OPTION",
]
# From 8.0.36: CREATE ROLE, DROP ROLE and the dynamic APPLICATION_PASSWORD_ADMIN, ROLE_ADMIN,
# SET_USER_ID, XA_RECOVER_ADMIN as well (and the rds_superuser_role role).
RDS_MASTER_8_0_36 = [
    RDS_MASTER_BEFORE_8_0_36[0].replace("EVENT, TRIGGER", "EVENT, TRIGGER, CREATE ROLE, DROP ROLE"),
    "GRANT APPLICATION_PASSWORD_ADMIN,ROLE_ADMIN,SET_USER_ID,XA_RECOVER_ADMIN ON *.* TO <who> "
    "WITH GRANT OPTION",
]

# mysql-test/suite/auth_sec/r/multiple_passwords_ddl.result @
# 44a77b5ba29994f8d3634b62c2825481574fc057, "Test 12: With REPLACE clause": arthurdent (who holds
# CREATE USER) on its own connection, after the default connection set 'abcd' then 'efgh' RETAIN.
# Each entry: the statement, its parameters, the error number or None for success. The result
# file prints "Incorrect current password" (ER_INCORRECT_CURRENT_PASSWORD, 3891 in MySQL's error
# list) for the two refused statements: REPLACE names 'qrst', the secondary, not the primary.
DUAL_REPLACE_TEST_12 = [
    ("ALTER USER CURRENT_USER() IDENTIFIED BY %s REPLACE %s", ("ijkl", "efgh"), None),
    ("ALTER USER CURRENT_USER() IDENTIFIED BY %s REPLACE %s", ("mnop", "ijkl"), None),
    ("ALTER USER CURRENT_USER() IDENTIFIED BY %s REPLACE %s RETAIN CURRENT PASSWORD",
     ("qrst", "mnop"), None),
    ("ALTER USER CURRENT_USER() IDENTIFIED BY %s REPLACE %s RETAIN CURRENT PASSWORD",
     ("uvwx", "qrst"), None),
    ("ALTER USER CURRENT_USER() IDENTIFIED BY %s REPLACE %s", ("abcd", "qrst"), 3891),
]  # fmt: skip
