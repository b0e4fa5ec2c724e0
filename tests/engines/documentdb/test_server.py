"""The wire-protocol test server itself: SCRAM done right, and MongoDB's access rules enforced.

The engine's tests are only as good as this server, so its refusals are tested here directly.
"""

from __future__ import annotations

import base64
import socket
import struct
from collections.abc import Iterator
from typing import Any

import bson
import pymongo
import pytest
from pymongo.errors import OperationFailure

from tests.engines.documentdb import scram
from tests.engines.documentdb.server import (
    DOCUMENTDB,
    HEADER,
    MONGODB_5_0,
    OP_QUERY,
    OP_REPLY,
    Directory,
    Flavor,
    MongoTestServer,
)

RFC7677_NONCE = b"rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"


@pytest.fixture(scope="module")
def server() -> Iterator[MongoTestServer]:
    directory = Directory()
    directory.add_role("admin", "ownPassword", {"changeOwnPassword"})
    directory.add_user("admin", "root", "Root-pass-1", [("root", "admin")])
    directory.add_user("admin", "useradmin", "Useradmin-pass-1", [("userAdmin", "admin")])
    directory.add_user("admin", "app", "App-pass-1", [("readWrite", "appdb")])
    directory.add_user("admin", "self", "Self-pass-1", [("ownPassword", "admin")])
    running = MongoTestServer(directory).start()
    yield running
    running.stop()


def connect(server: MongoTestServer, user: str | None = None, password: str | None = None,
            **options: Any) -> pymongo.MongoClient[dict[str, Any]]:  # fmt: skip
    credentials = {"username": user, "password": password} if user else {}
    return pymongo.MongoClient(server.host, server.port, directConnection=True,
                               serverSelectionTimeoutMS=3000, **credentials, **options)  # fmt: skip


def run_as(server: MongoTestServer, user: str, password: str, command: dict[str, Any],
           **options: Any) -> dict[str, Any]:  # fmt: skip
    client = connect(server, user, password, **options)
    try:
        reply: dict[str, Any] = client.admin.command(command)
        return reply
    finally:
        client.close()


def code_of(server: MongoTestServer, user: str | None, password: str | None,
            command: dict[str, Any]) -> int | None:  # fmt: skip
    client = connect(server, user, password)
    try:
        client.admin.command(command)
    except OperationFailure as exc:
        return exc.code
    finally:
        client.close()
    return None


# -- SCRAM ------------------------------------------------------------------------------------


def test_scram_sha256_matches_the_rfc_7677_example() -> None:
    """Server side of RFC 7677's exchange: same server-first, accepts the proof, same v=."""
    conversation = scram.ScramConversation("SCRAM-SHA-256", b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
    conversation.nonce = RFC7677_NONCE
    salt = base64.b64decode("W22ZaJ0SNY7soEsUEjb6gQ==")
    credentials = scram.derive("SCRAM-SHA-256", "user", "pencil", salt, iterations=4096)
    assert conversation.first_reply(credentials) == (
        b"r=" + RFC7677_NONCE + b",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
    )
    final = conversation.final_reply(
        b"c=biws,r=" + RFC7677_NONCE + b",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
    )
    assert final == b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="


def test_scram_rejects_a_wrong_proof_and_a_wrong_nonce() -> None:
    credentials = scram.derive("SCRAM-SHA-256", "user", "pencil")
    for final in (b"c=biws,r=" + RFC7677_NONCE + b",p=" + base64.b64encode(bytes(32)),
                  b"c=biws,r=other,p=" + base64.b64encode(bytes(32))):  # fmt: skip
        conversation = scram.ScramConversation("SCRAM-SHA-256", b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO")
        conversation.nonce = RFC7677_NONCE
        conversation.first_reply(credentials)
        with pytest.raises(scram.ScramError):
            conversation.final_reply(final)


def test_scram_user_names_are_unescaped() -> None:
    conversation = scram.ScramConversation("SCRAM-SHA-1", b"n,,n=a=2Cb=3Dc,r=abc")
    assert conversation.username == "a,b=c"
    with pytest.raises(scram.ScramError):
        scram.ScramConversation("SCRAM-SHA-1", b"n,,n=a=2Xb,r=abc")
    with pytest.raises(scram.ScramError):
        scram.ScramConversation("SCRAM-SHA-1", b"p=tls-unique,,n=a,r=abc")


@pytest.mark.parametrize("mechanism", ["SCRAM-SHA-1", "SCRAM-SHA-256"])
def test_pymongo_logs_in_with_each_mechanism(server: MongoTestServer, mechanism: str) -> None:
    """PyMongo checks the server signature, so success proves the server side is right."""
    reply = run_as(server, "app", "App-pass-1", {"ping": 1}, authMechanism=mechanism)
    assert reply["ok"] == 1
    before = server.directory.failed_authentications
    with pytest.raises(OperationFailure) as caught:
        run_as(server, "app", "App-pass-2", {"ping": 1}, authMechanism=mechanism)
    assert caught.value.code == 18
    assert server.directory.failed_authentications == before + 1


def test_sha256_passwords_are_saslprepped_and_sha1_ones_are_not(server: MongoTestServer) -> None:
    """SASLprep maps the soft hyphen to nothing; MongoDB applies it to SCRAM-SHA-256 only."""
    server.directory.add_user("admin", "prep", "Pass\u00adword-1", [])
    try:
        ok = run_as(server, "prep", "Password-1", {"ping": 1}, authMechanism="SCRAM-SHA-256")
        assert ok["ok"] == 1
        with pytest.raises(OperationFailure):
            run_as(server, "prep", "Password-1", {"ping": 1}, authMechanism="SCRAM-SHA-1")
    finally:
        server.directory.drop_user("admin", "prep")


def test_sha256_is_refused_by_a_sha1_only_server() -> None:
    directory = Directory(mechanisms=("SCRAM-SHA-1",))
    directory.add_user("admin", "app", "App-pass-1", [])
    running = MongoTestServer(directory).start()
    try:
        with pytest.raises(OperationFailure) as caught:
            run_as(running, "app", "App-pass-1", {"ping": 1}, authMechanism="SCRAM-SHA-256")
        assert caught.value.code == 334
        # Negotiation (saslSupportedMechs) picks SCRAM-SHA-1 without a failed attempt.
        assert run_as(running, "app", "App-pass-1", {"ping": 1})["ok"] == 1
        assert directory.failed_authentications == 1
    finally:
        running.stop()


# -- access control ---------------------------------------------------------------------------


def test_user_management_needs_a_login(server: MongoTestServer) -> None:
    assert code_of(server, None, None, {"ping": 1}) is None
    for command in ({"usersInfo": 1}, {"updateUser": "app", "pwd": "x"},
                    {"createUser": "x", "pwd": "x", "roles": []}):  # fmt: skip
        assert code_of(server, None, None, command) == 13


def test_only_user_admins_manage_other_users(server: MongoTestServer) -> None:
    create = {
        "createUser": "made",
        "pwd": "Made-pass-1",
        "roles": [{"role": "read", "db": "admin"}],
    }
    assert code_of(server, "app", "App-pass-1", create) == 13
    assert code_of(server, "app", "App-pass-1", {"updateUser": "self", "pwd": "x"}) == 13
    assert code_of(server, "app", "App-pass-1", {"usersInfo": "self"}) == 13
    assert code_of(server, "app", "App-pass-1", {"grantRolesToUser": "app",
                                                 "roles": ["userAdmin"]}) == 13  # fmt: skip
    # userAdmin on admin cannot grant roles on another database.
    assert code_of(server, "useradmin", "Useradmin-pass-1", {**create, "roles": [
        {"role": "read", "db": "appdb"}]}) == 13  # fmt: skip
    assert code_of(server, "useradmin", "Useradmin-pass-1", create) is None
    assert code_of(server, "useradmin", "Useradmin-pass-1", create) == 51003  # exists
    assert run_as(server, "made", "Made-pass-1", {"ping": 1})["ok"] == 1
    assert code_of(server, "useradmin", "Useradmin-pass-1", {"dropUser": "made"}) is None
    assert ("admin", "made") not in server.directory.users


def test_own_password_change_needs_change_own_password(server: MongoTestServer) -> None:
    assert code_of(server, "app", "App-pass-1", {"updateUser": "app", "pwd": "App-pass-2"}) == 13
    assert code_of(server, "self", "Self-pass-1", {"updateUser": "app", "pwd": "x"}) == 13
    assert (
        code_of(server, "self", "Self-pass-1", {"updateUser": "self", "pwd": "Self-pass-2"}) is None
    )
    assert run_as(server, "self", "Self-pass-2", {"ping": 1})["ok"] == 1
    with pytest.raises(OperationFailure):
        run_as(server, "self", "Self-pass-1", {"ping": 1})
    server.directory.add_user("admin", "self", "Self-pass-1", [("ownPassword", "admin")])


def test_users_may_view_themselves(server: MongoTestServer) -> None:
    reply = run_as(server, "app", "App-pass-1", {"usersInfo": {"user": "app", "db": "admin"}})
    assert reply["users"][0]["roles"] == [{"role": "readWrite", "db": "appdb"}]
    assert "credentials" not in reply["users"][0]


def test_unknown_roles_and_commands_are_refused(server: MongoTestServer) -> None:
    bogus = {"createUser": "x", "pwd": "X-pass-1", "roles": [{"role": "nope", "db": "admin"}]}
    assert code_of(server, "root", "Root-pass-1", bogus) == 31
    assert code_of(server, "root", "Root-pass-1", {"fly": 1}) == 59
    assert code_of(server, "root", "Root-pass-1", {"updateUser": "ghost", "pwd": "x"}) == 11


# -- handshake and flavors ----------------------------------------------------------------------


def _exchange(server: MongoTestServer, op_code: int, payload: bytes) -> tuple[int, bytes]:
    """Send one message on a fresh socket; return the reply's opcode and body."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(HEADER.pack(HEADER.size + len(payload), 7, 0, op_code) + payload)
        length, _, response_to, reply_op = HEADER.unpack(_recv(sock, HEADER.size))
        assert response_to == 7
        return reply_op, _recv(sock, length - HEADER.size)


def _recv(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        assert chunk, "connection closed"
        data += chunk
    return data


def _op_query(namespace: str, query: dict[str, Any]) -> bytes:
    return (struct.pack("<i", 0) + namespace.encode() + b"\x00" + struct.pack("<ii", 0, -1)
            + bson.encode(query))  # fmt: skip


def test_commands_over_op_query_are_answered_and_legacy_queries_refused(
    server: MongoTestServer,
) -> None:
    """PyMongo before 4.14 sends its first isMaster as OP_QUERY; a find over OP_QUERY is refused."""
    reply_op, body = _exchange(server, OP_QUERY, _op_query("admin.$cmd", {"isMaster": 1}))
    flags, cursor_id, starting_from, returned = struct.unpack_from("<iqii", body)
    assert (reply_op, flags, cursor_id, starting_from, returned) == (OP_REPLY, 0, 0, 0, 1)
    document = bson.decode(body[20:])
    assert document["ok"] == 1
    assert document["ismaster"] is True
    assert document["maxWireVersion"] == server.flavor.max_wire_version
    _, body = _exchange(server, OP_QUERY, _op_query("app.things", {"x": 1}))
    assert bson.decode(body[20:])["code"] == 303


@pytest.mark.parametrize("flavor", [MONGODB_5_0, *DOCUMENTDB.values()], ids=lambda f: f.name)
def test_each_flavor_reports_its_wire_version_to_pymongo(flavor: Flavor) -> None:
    """The installed PyMongo accepts every DocumentDB version's wire version, 3.6's 6 included."""
    running = MongoTestServer(Directory(), flavor=flavor).start()
    client = connect(running)
    try:
        hello = client.admin.command("hello")
        assert (hello["minWireVersion"], hello["maxWireVersion"]) == (0, flavor.max_wire_version)
        assert client.server_info()["version"] == flavor.version
        description = client.topology_description.server_descriptions()
        assert [sd.max_wire_version for sd in description.values()] == [flavor.max_wire_version]
    finally:
        client.close()
        running.stop()


def _directory(flavor: Flavor) -> Directory:
    directory = Directory(mechanisms=flavor.mechanisms)
    directory.add_user("admin", "root", "Root-pass-1", [("root", "admin")])
    directory.add_user("admin", "app", "App-pass-1", [("readWrite", "appdb")])
    return directory


def test_documentdb_keeps_every_user_in_admin() -> None:
    """A login and user commands that name another database act on admin's users."""
    running = MongoTestServer(_directory(DOCUMENTDB["4.0"]), flavor=DOCUMENTDB["4.0"]).start()
    try:
        ok = run_as(running, "app", "App-pass-1", {"ping": 1}, authSource="appdb")
        assert ok["ok"] == 1
        client = connect(running, "root", "Root-pass-1")
        try:
            appdb = client["appdb"]
            appdb.command({"createUser": "made", "pwd": "Made-pass-1", "roles": ["read"]})
            made = running.directory.users[("admin", "made")]
            assert made.roles == [("read", "appdb")]  # a bare role name means the command's db
            assert appdb.command({"usersInfo": "app"})["users"][0]["db"] == "admin"
            appdb.command({"updateUser": "made", "pwd": "Made-pass-2"})
            appdb.command({"dropUser": "made"})
        finally:
            client.close()
        assert ("admin", "made") not in running.directory.users
        sent = [(name, db) for _, name, db in running.directory.commands
                if name in {"createUser", "usersInfo", "updateUser", "dropUser"}]  # fmt: skip
        assert {db for _, db in sent} == {"appdb"}  # recorded as sent
    finally:
        running.stop()


def test_mongodb_keeps_users_in_their_own_database() -> None:
    running = MongoTestServer(_directory(MONGODB_5_0), flavor=MONGODB_5_0).start()
    try:
        with pytest.raises(OperationFailure) as caught:
            run_as(running, "app", "App-pass-1", {"ping": 1}, authSource="appdb")
        assert caught.value.code == 18
        assert code_of(running, "root", "Root-pass-1", {"getEngineVersion": 1}) == 59
    finally:
        running.stop()


def test_documentdb_reports_its_engine_version() -> None:
    running = MongoTestServer(_directory(DOCUMENTDB["5.0"]), flavor=DOCUMENTDB["5.0"]).start()
    try:
        reply = run_as(running, "app", "App-pass-1", {"getEngineVersion": 1})
        assert reply["engineVersion"] == "3.0.4780"
    finally:
        running.stop()
