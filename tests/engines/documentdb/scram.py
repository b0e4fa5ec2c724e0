"""The server side of SCRAM-SHA-1 and SCRAM-SHA-256 as MongoDB implements them (RFC 5802/7677).

MongoDB's twists on the RFC: SCRAM-SHA-1 salts ``md5("<user>:mongo:<password>")`` (hex) instead
of the password, SCRAM-SHA-256 salts the SASLprep'd password; credentials are stored as salt,
iteration count, StoredKey and ServerKey, never as the password. A user that does not exist
gets a conversation with made-up credentials, so the failure comes at the same step as a wrong
password and names cannot be probed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from pymongo.saslprep import saslprep

SHA1 = "SCRAM-SHA-1"
SHA256 = "SCRAM-SHA-256"
MECHANISMS = (SHA1, SHA256)
# mongod's defaults (scramIterationCount, scramSHA256IterationCount).
ITERATIONS = {SHA1: 10_000, SHA256: 15_000}
_HASH = {SHA1: hashlib.sha1, SHA256: hashlib.sha256}
_NAME = {SHA1: "sha1", SHA256: "sha256"}
# base64("n,,"): the client neither supports nor uses channel binding.
NO_CHANNEL_BINDING = b"biws"


class ScramError(Exception):
    """The conversation failed: malformed message or wrong proof."""


@dataclass(frozen=True)
class ScramCredentials:
    """What the server stores for one user and mechanism."""

    mechanism: str
    salt: bytes
    iterations: int
    stored_key: bytes
    server_key: bytes


def salted_input(mechanism: str, username: str, password: str) -> bytes:
    """Return the bytes a mechanism feeds to PBKDF2 for a password."""
    if mechanism == SHA1:
        digest = f"{username}:mongo:{password}".encode()
        return hashlib.md5(digest).hexdigest().encode()
    return saslprep(password).encode()


def derive(
    mechanism: str,
    username: str,
    password: str,
    salt: bytes | None = None,
    iterations: int | None = None,
) -> ScramCredentials:
    """Compute stored credentials from a password, as createUser/updateUser do."""
    salt = os.urandom(16 if mechanism == SHA1 else 28) if salt is None else salt
    iterations = ITERATIONS[mechanism] if iterations is None else iterations
    hash_ = _HASH[mechanism]
    salted = hashlib.pbkdf2_hmac(
        _NAME[mechanism], salted_input(mechanism, username, password), salt, iterations
    )
    client_key = hmac.new(salted, b"Client Key", hash_).digest()
    server_key = hmac.new(salted, b"Server Key", hash_).digest()
    return ScramCredentials(mechanism, salt, iterations, hash_(client_key).digest(), server_key)


def decode_saslname(raw: bytes) -> str:
    """Undo the ``=2C``/``=3D`` escaping of a SCRAM user name.

    Raises:
        ScramError: An ``=`` starts any other sequence.
    """
    parts = raw.split(b"=")
    out = parts[0]
    for part in parts[1:]:
        if part[:2] == b"2C":
            out += b"," + part[2:]
        elif part[:2] == b"3D":
            out += b"=" + part[2:]
        else:
            raise ScramError("invalid escape in user name")
    return out.decode()


def _fields(message: bytes) -> list[tuple[bytes, bytes]]:
    items = []
    for item in message.split(b","):
        key, sep, value = item.partition(b"=")
        if not sep or len(key) != 1:
            raise ScramError("malformed SCRAM message")
        items.append((key, value))
    return items


class ScramConversation:
    """One SCRAM exchange: client-first, then client-final, then (optionally) an empty step."""

    def __init__(self, mechanism: str, client_first: bytes) -> None:
        """Parse client-first: ``n,,n=<user>,r=<nonce>``.

        Raises:
            ScramError: The message is malformed or asks for channel binding.
        """
        if mechanism not in MECHANISMS:
            raise ScramError(f"unsupported mechanism {mechanism}")
        self.mechanism = mechanism
        if not client_first.startswith((b"n,,", b"y,,")):
            raise ScramError("channel binding and authzid are not supported")
        self.client_first_bare = client_first[3:]
        fields = _fields(self.client_first_bare)
        if [key for key, _ in fields[:2]] != [b"n", b"r"] or len(fields) != 2:
            raise ScramError("client-first must be n=<user>,r=<nonce>")
        self.username = decode_saslname(fields[0][1])
        self.client_nonce = fields[1][1]
        if not self.client_nonce:
            raise ScramError("empty client nonce")
        self.nonce = self.client_nonce + base64.b64encode(os.urandom(24))
        self.credentials: ScramCredentials | None = None
        self.server_first = b""
        self.verified = False

    def first_reply(self, credentials: ScramCredentials | None) -> bytes:
        """Return server-first; ``None`` credentials (no such user) give a doomed exchange."""
        shown = credentials or derive(self.mechanism, self.username, os.urandom(16).hex())
        self.credentials = credentials
        self.server_first = b"r=%s,s=%s,i=%d" % (
            self.nonce,
            base64.b64encode(shown.salt),
            shown.iterations,
        )
        return self.server_first

    def final_reply(self, client_final: bytes) -> bytes:
        """Check client-final's proof and return server-final (``v=<ServerSignature>``).

        Raises:
            ScramError: Wrong channel binding, nonce or proof, or no such user.
        """
        fields = _fields(client_final)
        if [key for key, _ in fields] != [b"c", b"r", b"p"]:
            raise ScramError("client-final must be c=,r=,p=")
        (_, binding), (_, nonce), (_, proof_b64) = fields
        if binding != NO_CHANNEL_BINDING or not hmac.compare_digest(nonce, self.nonce):
            raise ScramError("channel binding or nonce mismatch")
        without_proof = client_final[: client_final.rindex(b",p=")]
        auth_message = b",".join((self.client_first_bare, self.server_first, without_proof))
        hash_ = _HASH[self.mechanism]
        try:
            proof = base64.b64decode(proof_b64, validate=True)
        except ValueError:
            raise ScramError("proof is not base64") from None
        credentials = self.credentials
        if credentials is None or len(proof) != hash_().digest_size:
            raise ScramError("authentication failed")
        signature = hmac.new(credentials.stored_key, auth_message, hash_).digest()
        client_key = bytes(a ^ b for a, b in zip(proof, signature, strict=True))
        if not hmac.compare_digest(hash_(client_key).digest(), credentials.stored_key):
            raise ScramError("authentication failed")
        self.verified = True
        server_signature = hmac.new(credentials.server_key, auth_message, hash_).digest()
        return b"v=" + base64.b64encode(server_signature)
