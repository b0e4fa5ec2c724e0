"""The artifacts of ``make build``: each function's handler imports in a clean interpreter.

A clean interpreter is the runtime's Python version started with ``-I -S``: no site-packages, no
PYTHONPATH, no user site; only the standard library and the artifact directory (which is what
Lambda puts on ``sys.path`` as ``/var/task``). Only artifacts of the local architecture can be
imported here.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.sam.artifacts import DRIVER_DISTRIBUTIONS, built_target, drivers_in, load_generator
from tests.sam.conftest import unavailable

pytestmark = pytest.mark.sam

generator = load_generator()

# Runs in the clean interpreter: import the handler the way Lambda does, then report.
PROBE = """
import importlib, importlib.util, json, sys, time
artifact, handler, driver = sys.argv[1:4]
sys.path.insert(0, artifact)
started = time.perf_counter()
module_name, _, attribute = handler.rpartition(".")
entry = getattr(importlib.import_module(module_name), attribute)
imported = time.perf_counter()
importlib.import_module(driver)  # the driver's compiled parts load on this interpreter
loaded = time.perf_counter()
drivers = sorted(d for d in %r if importlib.util.find_spec(d) is not None)
from rotation.core.config import Settings
print(json.dumps({
    "ca_file": Settings.from_env().tls_ca_file,
    "callable": callable(entry),
    "handler_ms": 1000 * (imported - started),
    "driver_ms": 1000 * (loaded - imported),
    "drivers": drivers,
    "driver_file": sys.modules[driver].__file__,
    "rotation_file": sys.modules["rotation"].__file__,
}))
""" % (sorted(set(DRIVER_DISTRIBUTIONS.values())),)  # noqa: UP031 -- the probe has its own braces


def _probe(interpreter: str, artifact: Path, handler: str, driver: str) -> dict[str, Any]:
    done = subprocess.run(
        [interpreter, "-I", "-S", "-c", PROBE, str(artifact), handler, driver],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"AWS_DEFAULT_REGION": "us-east-1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.parametrize("fn", generator.FUNCTIONS, ids=lambda fn: fn.logical_id)
def test_handler_imports_from_its_artifact(build: tuple[Path, str], fn: Any) -> None:
    build_dir, interpreter = build
    artifact = build_dir / fn.logical_id
    if not artifact.is_dir():
        unavailable(f"{artifact} is missing: run `make sam-test-build`")
    driver = fn.engine.driver
    assert drivers_in(artifact) == [driver], "exactly one database driver per artifact"
    package = artifact / "rotation" / "engines" / fn.engine.name
    assert (package / "__init__.py").is_file(), (
        f"rotation/engines/{fn.engine.name}/ is not in the artifact (not written yet?)"
    )
    result = _probe(interpreter, artifact, fn.handler, driver)
    assert result["callable"]
    assert result["drivers"] == [driver]
    assert Path(result["driver_file"]).is_relative_to(artifact)
    assert Path(result["rotation_file"]).is_relative_to(artifact)
    # Verified TLS works on the first deployment: the function finds the bundle it carries
    # (RDS and Amazon Trust CAs by default) with no ROTATION_TLS_CA_FILE set.
    bundle = artifact / "certs" / "ca-bundle.pem"
    assert bundle.is_file(), "make build puts the CA bundle into every artifact"
    assert result["ca_file"] == str(bundle.resolve())


def test_artifacts_carry_no_build_leftovers(build: tuple[Path, str]) -> None:
    build_dir, _ = build
    for fn in generator.FUNCTIONS:
        artifact = build_dir / fn.logical_id
        if artifact.is_dir():
            assert not (artifact / "bin").exists(), fn.logical_id
            assert not list(artifact.glob("*.egg-info")), fn.logical_id


def test_built_template_pins_runtime_and_architecture(build: tuple[Path, str]) -> None:
    build_dir, _ = build
    template = (build_dir / "template.yaml").read_text()
    if "pinned by make build" not in template:
        unavailable("the build was not made by `make build` (no pinned parameters)")
    runtime, architecture = built_target(build_dir)
    from tests.sam.artifacts import load_yaml

    parameters = load_yaml(build_dir / "template.yaml")["Parameters"]
    assert parameters["PythonRuntime"]["AllowedValues"] == [runtime]
    assert parameters["Architecture"]["AllowedValues"] == [architecture]


def test_the_mysql_artifacts_can_log_in_to_mysql_8_without_tls(build: tuple[Path, str]) -> None:
    """caching_sha2_password over plaintext needs RSA from cryptography (PyMySQL[rsa])."""
    build_dir, interpreter = build
    for fn in generator.FUNCTIONS:
        artifact = build_dir / fn.logical_id
        if fn.engine.name != "mysql":
            continue
        if not artifact.is_dir():
            unavailable(f"{artifact} is missing: run `make sam-test-build`")
        probe = (
            "import sys; sys.path.insert(0, sys.argv[1]); from pymysql import _auth; "
            "from cryptography.hazmat.primitives.asymmetric import rsa; "
            "from cryptography.hazmat.primitives import serialization; "
            "key = rsa.generate_private_key(public_exponent=65537, key_size=2048); "
            "pem = key.public_key().public_bytes(serialization.Encoding.PEM, "
            "serialization.PublicFormat.SubjectPublicKeyInfo); "
            "print(len(_auth.sha2_rsa_encrypt(b'pw', b'x' * 20, pem)))"
        )
        done = subprocess.run(
            [interpreter, "-I", "-S", "-c", probe, str(artifact)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == "256"  # one RSA-2048 block: the encrypted password
