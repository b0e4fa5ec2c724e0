"""SQL Server engine tests: a pysqlbridge TDS server backed by an in-memory model."""
