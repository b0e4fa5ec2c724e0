"""TCPS for the Oracle engine: the client's TLS context, and what a failed handshake means.

python-oracledb in thin mode negotiates TLS with Python's :mod:`ssl` and the ``ssl_context`` it is
given; a failed handshake surfaces as ``DPY-6005`` whose ``__cause__`` is the :class:`ssl.SSLError`
(``src/oracledb/impl/thin/connection.pyx``, ``_connect_with_address``; ``errors._create_exception``
sets the cause). The RDS for Oracle ``SSL`` option defaults to ``SQLNET.CIPHER_SUITE``
``SSL_RSA_WITH_AES_256_CBC_SHA``, and options created before ``SQLNET.SSL_VERSION`` existed are set
to ``"1.0"`` (https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Appendix.Oracle.Options.SSL.html).
Python's default context offers neither TLS 1.0 nor RSA key exchange (python-oracledb discussion
#138 shows the resulting ``SSLV3_ALERT_HANDSHAKE_FAILURE`` against RDS), so such a server refuses
the handshake. :func:`handshake_advice` names the option-group settings that work instead.

Our TLS defaults stay as Python sets them (TLS 1.2 or later, forward-secret suites). The only
loosening is the explicit ``ROTATION_ORACLE_TLS_LEGACY_CIPHERS`` setting, which adds RDS's three
AES-256 RSA key-exchange suites over TLS 1.2; TLS 1.0 is never accepted.
"""

from __future__ import annotations

import ssl

#: OpenSSL names of RDS's ``SSL_RSA_WITH_AES_256_GCM_SHA384``, ``SSL_RSA_WITH_AES_256_CBC_SHA256``
#: and ``SSL_RSA_WITH_AES_256_CBC_SHA``: RSA key exchange, no forward secrecy.
LEGACY_SUITES = ("AES256-GCM-SHA384", "AES256-SHA256", "AES256-SHA")
#: What RDS's option group should say for a client with Python's default TLS settings.
WORKING_SETTINGS = (
    "SQLNET.SSL_VERSION 1.2 and SQLNET.CIPHER_SUITE TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 "
    "(or another TLS_ECDHE_RSA_ suite; these need the instance's certificate from an RSA CA such "
    "as rds-ca-rsa2048-g1)"
)
# OpenSSL reasons (ssl.SSLError.reason) when the two sides share no protocol version: the server's
# alert, our own refusal of its answer, or a peer that does not speak TLS at all on that port.
VERSION_REASONS = frozenset(
    {"TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE",
     "WRONG_VERSION_NUMBER", "VERSION_TOO_LOW"}
)  # fmt: skip
# ... and when they share no cipher suite (a server that finds none answers handshake_failure).
CIPHER_REASONS = frozenset(
    {"SSLV3_ALERT_HANDSHAKE_FAILURE", "NO_SHARED_CIPHER", "NO_CIPHERS_AVAILABLE",
     "TLSV1_ALERT_INSUFFICIENT_SECURITY"}
)  # fmt: skip
LEGACY_SETTING = "ROTATION_ORACLE_TLS_LEGACY_CIPHERS"


def client_context(ca_file: str | None, *, legacy_ciphers: bool) -> ssl.SSLContext:
    """Return the TLS context for TCPS: verify against ``ca_file``, Python's protocol defaults.

    The driver turns off the context's host name check and matches the certificate against the
    host itself when ``ssl_server_dn_match`` is on.

    Args:
        ca_file: The CA bundle, or None for the default trust store.
        legacy_ciphers: Also offer :data:`LEGACY_SUITES` (TLS 1.2 only; never TLS 1.0).
    """
    context = ssl.create_default_context(cafile=ca_file)
    context.verify_mode = ssl.CERT_REQUIRED
    if legacy_ciphers:
        # Keep the runtime's own suites and add exactly RDS's three; a "!SHA1" in the default
        # cipher string would otherwise exclude AES256-SHA for good.
        kept = [suite["name"] for suite in context.get_ciphers() if suite["protocol"] != "TLSv1.3"]
        context.set_ciphers(":".join([*kept, *LEGACY_SUITES]))
    return context


def ssl_reason(exc: BaseException) -> str | None:
    """Return the OpenSSL reason of the :class:`ssl.SSLError` behind a driver error, if any."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return current.reason or None
        current = current.__cause__ or current.__context__
    return None


def handshake_advice(exc: BaseException, *, legacy_ciphers: bool) -> str | None:
    """Explain a TLS handshake that failed for want of a shared version or cipher suite.

    Returns:
        What to change, naming the RDS option-group settings; None for any other failure
        (certificates, host names and refused connections speak for themselves).
    """
    reason = ssl_reason(exc)
    if reason in VERSION_REASONS:
        advice = (
            "the server offers no TLS version this client accepts (TLS 1.2 or later; TLS 1.0 is "
            "never accepted). RDS for Oracle: in the SSL option of the instance's option group "
            f"set {WORKING_SETTINGS}"
        )
        if reason == "WRONG_VERSION_NUMBER":
            advice += "; also check that ssl_port is the SSL option's port"
        return advice
    if reason in CIPHER_REASONS:
        advice = (
            "the server offers no TLS version and cipher suite this client accepts. RDS for "
            "Oracle's SSL option defaults to SQLNET.CIPHER_SUITE SSL_RSA_WITH_AES_256_CBC_SHA "
            "(RSA key exchange, no forward secrecy), which Python's default TLS settings refuse: "
            f"in the option group set {WORKING_SETTINGS}"
        )
        if legacy_ciphers:
            return advice + (
                f". {LEGACY_SETTING} is on and still no suite matched: the server offers neither "
                "an ECDHE suite nor AES-256 with RSA key exchange over TLS 1.2"
            )
        return advice + (
            f", or set {LEGACY_SETTING}=true to also accept SSL_RSA_WITH_AES_256_* suites over "
            "TLS 1.2 (logged as a warning on every connection)"
        )
    return None
