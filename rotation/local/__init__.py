"""Local stand-ins: what rotates on a laptop with no cloud account.

The command line (``rotation demo``, ``rotate --local``, ``step``, ``events``) runs on these, and
test suites may too (:mod:`rotation.testing` re-exports them):

* :mod:`rotation.local.servers` — throwaway PostgreSQL and MariaDB servers on free loopback ports;
* :mod:`rotation.local.databases` — those servers prepared with an application database and user;
* :mod:`rotation.local.mysql8` — a DB-API double of MySQL 8's account rules (dual passwords
  included), in process: no MySQL 8 server can run here;
* :mod:`rotation.local.secretsmanager` — moto's Secrets Manager in this process, and what
  RotateSecret does before it invokes a function;
* :mod:`rotation.local.driver` — the four steps invoked the way the service invokes them.

Nothing here is imported by the Lambda entry points; moto and the drivers are imported lazily.
"""
