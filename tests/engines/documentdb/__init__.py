"""DocumentDB engine tests against a MongoDB wire-protocol test server with real SCRAM."""
