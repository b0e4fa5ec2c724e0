"""The session the DocumentDB engine hands to its primitives and preflight hooks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pymongo import MongoClient


@dataclass(frozen=True)
class DocumentDBSession:
    """An authenticated client and the database it authenticated against (the login check)."""

    client: MongoClient[dict[str, Any]]
    dbname: str

    def close(self) -> None:
        """Close the client and its pooled connections."""
        self.client.close()
