"""The CA bundle `make build` puts into every function (templates/ca_bundle.py), offline.

There is no internet here, so the fetch path runs on ``file://`` URLs (urllib fetches them the
way it fetches the https addresses AWS documents), with trustme CAs standing in for the RDS and
Amazon Trust Services bundles.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import trustme

from tests.sam.artifacts import ROOT

SCRIPT = ROOT / "templates" / "ca_bundle.py"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True, check=False
    )


@pytest.fixture
def cas(tmp_path: Path) -> tuple[trustme.CA, Path, Path]:
    """Return a CA and two bundle files: one with that CA, one with another CA."""
    first, second = trustme.CA(), trustme.CA()
    one, two = tmp_path / "rds.pem", tmp_path / "amazon-trust.pem"
    first.cert_pem.write_to_path(str(one))
    second.cert_pem.write_to_path(str(two))
    return first, one, two


def test_urls_are_fetched_once_checked_merged_and_cached(
    tmp_path: Path, cas: tuple[trustme.CA, Path, Path]
) -> None:
    _, one, two = cas
    out, cache = tmp_path / "artifact" / "certs" / "ca-bundle.pem", tmp_path / "cache"
    result = run(out, "--cache", cache, one.as_uri(), two.as_uri(), one.as_uri())
    assert result.returncode == 0, result.stderr
    bundle = out.read_text()
    assert bundle.count("BEGIN CERTIFICATE") == 2  # the repeated source adds nothing
    assert one.read_text().strip() in bundle
    assert two.read_text().strip() in bundle
    assert len(list(cache.iterdir())) == 2
    # Cached: the build works again with the sources gone (an offline rebuild).
    one.unlink()
    two.unlink()
    out.unlink()
    assert run(out, "--cache", cache, one.as_uri(), two.as_uri()).returncode == 0
    assert out.read_text() == bundle


def test_the_built_bundle_loads_into_openssl_as_two_cas(
    tmp_path: Path, cas: tuple[trustme.CA, Path, Path]
) -> None:
    import ssl

    _, one, two = cas
    out = tmp_path / "ca-bundle.pem"
    assert run(out, one, two).returncode == 0  # plain paths are read as they are
    context = ssl.create_default_context(cafile=str(out))
    assert context.cert_store_stats() == {"crl": 0, "x509": 2, "x509_ca": 2}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "no PEM certificate found"),
        ("hello\n", "no PEM certificate found"),
        ("leaf", "are not CA certificates"),
        ("extra", "holds something other than PEM certificates"),
    ],
)
def test_a_source_that_is_not_a_bundle_of_ca_certificates_is_refused(
    tmp_path: Path, cas: tuple[trustme.CA, Path, Path], content: str, reason: str
) -> None:
    first, one, _ = cas
    source = tmp_path / "source.pem"
    if content == "leaf":
        content = first.issue_cert("db.example").cert_chain_pems[0].bytes().decode()
    elif content == "extra":
        content = one.read_text() + "\n<html>not a certificate</html>\n"
    source.write_text(content)
    out = tmp_path / "out.pem"
    result = run(out, source.as_uri())
    assert result.returncode == 1
    assert reason in result.stderr
    assert not out.exists()


def test_an_unreachable_url_says_how_to_build_offline(tmp_path: Path) -> None:
    result = run(tmp_path / "out.pem", "https://127.0.0.1:1/global-bundle.pem")
    assert result.returncode == 1
    assert "cannot fetch https://127.0.0.1:1/global-bundle.pem" in result.stderr
    assert "CA_BUNDLE=" in result.stderr
    assert "CA_BUNDLE=none" in result.stderr


def test_none_builds_without_a_bundle(tmp_path: Path, cas: tuple[trustme.CA, Path, Path]) -> None:
    out = tmp_path / "ca-bundle.pem"
    assert run(out, cas[1]).returncode == 0
    result = run(out, "none")
    assert result.returncode == 0
    assert not out.exists()


def test_the_defaults_are_the_addresses_aws_documents() -> None:
    text = SCRIPT.read_text()
    assert '"https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem"' in text
    assert '"https://s3.amazonaws.com/redshift-downloads/amazon-trust-ca-bundle.crt"' in text
