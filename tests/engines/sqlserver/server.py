"""A TDS server on a loopback socket that pymssql logs in to for real, backed by the model.

pysqlbridge's ``tds.connection.Connection`` does the protocol work (PRELOGIN, the TLS tunnel,
LOGIN7 with the password, SQL batches, result and error tokens); this module moves bytes between
sockets and it, decides logins with the model, and answers batches from the model.
"""

from __future__ import annotations

import socketserver
import threading
from typing import Any

from pysqlbridge.certificate import Certificate
from pysqlbridge.tds.connection import Connection
from pysqlbridge.tds.result import Column, Integer, NVarChar, Query, QueryError, QueryResult

from tests.engines.sqlserver.model import SQLServerModel, TSQLError

_KINDS = {"int": lambda: Integer(4), "tinyint": lambda: Integer(1), "str": lambda: NVarChar(256)}


class _Logins:
    """Admit a LOGIN7 by asking the model, for the database the login names."""

    configured = True

    def __init__(self, model: SQLServerModel, holder: dict[str, Any]) -> None:
        self.model = model
        self.holder = holder

    def admits(self, user: str, password: str) -> bool:
        login = self.holder["connection"].login
        return self.model.authenticate(user, password, login.database if login else "")


class _Handler(socketserver.BaseRequestHandler):
    server: TDSServer

    def handle(self) -> None:
        model = self.server.model
        holder: dict[str, Any] = {}
        session: dict[str, Any] = {}

        def answer(query: Query) -> QueryResult:
            connection = holder["connection"]
            session.setdefault("login", connection.login.user_name)
            session.setdefault("database", connection.login.database or "master")
            session["encrypted"] = connection.session_encrypted
            try:
                kinds, rows = model.execute(session, query.sql)
            except TSQLError as exc:
                raise QueryError(str(exc), number=exc.number) from exc
            columns = [Column(f"c{i}", _KINDS[kind]()) for i, kind in enumerate(kinds)]
            return QueryResult(columns, rows)

        connection = Connection(
            self.server.certificate, query_handler=answer, logins=_Logins(model, holder)
        )
        holder["connection"] = connection
        self.request.settimeout(30)
        while True:
            try:
                data = self.request.recv(65536)
            except OSError:
                return
            if not data:
                return
            try:
                responses = connection.receive(data)
            except Exception:  # a protocol failure ends this client, as on a real server
                return
            for response in responses:
                self.request.sendall(response)


class TDSServer(socketserver.ThreadingTCPServer):
    """Serve the model on 127.0.0.1 at a free port; TLS with the given certificate."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, model: SQLServerModel, certificate: Certificate) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.model = model
        self.certificate = certificate
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start(self) -> TDSServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()
