"""The engine-independent core: protocol, secrets, settings, strategies, errors."""
