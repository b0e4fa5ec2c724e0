"""Assemble the CA bundle that `make build` puts into every function (certs/ca-bundle.pem).

The RDS, Aurora and DocumentDB certificates are signed by the RDS CAs, which are in no public
trust store; AWS publishes them as one global bundle. Redshift's certificates come from ACM and
chain to the Amazon Trust Services roots, which AWS publishes for Redshift clients too. So the
default bundle is both, fetched at build time (never at run time) from the addresses AWS
documents, cached, and checked to be PEM certificates that are all CAs:

* https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html (global bundle)
* https://docs.aws.amazon.com/redshift/latest/mgmt/connecting-ssl-support.html (ACM roots)

Usage::

    python templates/ca_bundle.py OUT [--cache DIR] [SOURCE ...]

A SOURCE is a path, a ``file://`` or an ``https://`` URL; without one, the two defaults are used.
``none`` as the only source removes OUT (a build without a bundle: the system store applies).
URLs are fetched once into the cache (keyed by the URL); paths are read each time. Exits 1
with one line on stderr when a source cannot be read or is not a PEM bundle of CA certificates.
"""

from __future__ import annotations

import hashlib
import re
import ssl
import sys
import tempfile
import urllib.request
from pathlib import Path

RDS_GLOBAL_BUNDLE = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"
AMAZON_TRUST_BUNDLE = "https://s3.amazonaws.com/redshift-downloads/amazon-trust-ca-bundle.crt"
DEFAULT_SOURCES = (RDS_GLOBAL_BUNDLE, AMAZON_TRUST_BUNDLE)
FETCH_TIMEOUT = 30
PEM_BLOCK = re.compile(
    r"-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+?-----END CERTIFICATE-----"
)


class BundleError(Exception):
    """A source could not be read or is not a PEM bundle of CA certificates."""


def read_source(source: str, cache: Path | None) -> str:
    """Return a source's text: a path as it is now, a URL from the cache or fetched and cached."""
    if "://" not in source:
        return _read_path(Path(source), source)
    if not source.startswith(("https://", "file://")):
        raise BundleError(f"{source}: only https://, file:// and paths are accepted")
    cached = cache / (hashlib.sha256(source.encode()).hexdigest()[:16] + ".pem") if cache else None
    if cached is not None and cached.is_file():
        return cached.read_text()
    try:
        with urllib.request.urlopen(source, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
            text = str(response.read().decode("ascii"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(
            f"cannot fetch {source} ({exc}); for an offline build pass CA_BUNDLE=<path or "
            "file:// URL of a PEM bundle> (e.g. a downloaded global-bundle.pem), or "
            "CA_BUNDLE=none to build without one"
        ) from None
    check(text, source)
    if cached is not None:
        # Parallel function builds share the cache: write aside, then rename atomically.
        cached.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=cached.parent, delete=False) as handle:
            handle.write(text)
        Path(handle.name).replace(cached)
    return text


def _read_path(path: Path, source: str) -> str:
    try:
        return path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise BundleError(f"cannot read {source}: {exc}") from None


def check(text: str, source: str) -> list[str]:
    """Return the PEM certificates of a bundle after checking that every one is a CA.

    Raises:
        BundleError: No certificate, text that is neither a certificate nor blank, a
            certificate OpenSSL cannot load, or one that is not a CA.
    """
    blocks = PEM_BLOCK.findall(text)
    if not blocks:
        raise BundleError(f"{source}: no PEM certificate found")
    if PEM_BLOCK.sub("", text).strip():
        raise BundleError(f"{source}: holds something other than PEM certificates")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as handle:
        handle.write(text)
        handle.flush()
        try:
            context.load_verify_locations(cafile=handle.name)
        except ssl.SSLError as exc:
            raise BundleError(f"{source}: OpenSSL cannot load it ({exc.reason})") from None
    stats = context.cert_store_stats()
    # Duplicates load once; what matters is that nothing loaded is a leaf certificate.
    if stats["x509"] != stats["x509_ca"]:
        leaves = stats["x509"] - stats["x509_ca"]
        raise BundleError(f"{source}: {leaves} certificate(s) are not CA certificates")
    return [block.replace("\r\n", "\n") for block in blocks]


def assemble(sources: list[str], cache: Path | None) -> str:
    """Return one bundle of every source's certificates, each certificate once, in order."""
    seen: dict[str, None] = {}
    for source in sources:
        for block in check(read_source(source, cache), source):
            seen.setdefault(block, None)
    return "\n".join(seen) + "\n"


def main(argv: list[str]) -> int:
    """Write the bundle (or remove it for ``none``); return the exit status."""
    args = list(argv)
    cache: Path | None = None
    if "--cache" in args:
        index = args.index("--cache")
        cache = Path(args[index + 1])
        del args[index : index + 2]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    out, sources = Path(args[0]), args[1:] or list(DEFAULT_SOURCES)
    if sources == ["none"]:
        out.unlink(missing_ok=True)
        print(f"{out}: none (CA_BUNDLE=none; the functions use the system trust store)")
        return 0
    try:
        bundle = assemble(sources, cache)
    except BundleError as exc:
        print(f"ca_bundle: {exc}", file=sys.stderr)
        return 1
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=out.parent, delete=False) as handle:
        handle.write(bundle)
    Path(handle.name).replace(out)
    count = bundle.count("BEGIN CERTIFICATE")
    print(f"{out}: {count} CA certificates from {', '.join(sources)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
