"""The distribution as a user gets it: built from a copy of the tree, installed in a clean venv.

``python -m build`` makes the sdist and then the wheel *from the sdist*, so a file the sdist
lacks fails the wheel build. The wheel is installed with the extras the README names for each
use into a venv that has nothing else, outside this checkout, and used from there:
``rotation demo`` (``[postgresql,demo]``) rotates, ``rotation.testing.conformance``
(``[testing]``) imports. Slow (it installs from the package index), so it is built once.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from rotation.local.servers import ServerUnavailableError, postgres_bindir

ROOT = Path(__file__).resolve().parents[1]
# The demo starts a throwaway PostgreSQL.
pytestmark = [pytest.mark.wheel, pytest.mark.integration]
SOURCES = ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in", "Makefile", "template.yaml",
           "rotation", "templates")  # fmt: skip


def run(*argv: str | Path, cwd: Path, timeout: float = 900) -> str:
    done = subprocess.run(
        [str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=timeout,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"{argv}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="session")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the sdist and, from it, the wheel; return the directory holding both."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, source / name)
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "build", "--outdir", out, source, cwd=source)
    return out


@pytest.fixture(scope="session")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a clean venv with the wheel installed as ``rotation[postgresql,demo]``."""
    home = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", home / "venv", cwd=home)
    wheel = next(dist.glob("rotation-*.whl"))
    pip = home / "venv" / "bin" / "pip"
    run(pip, "install", "--quiet", f"{wheel}[postgresql,demo]", cwd=home)
    return home / "venv"


def test_the_sdist_carries_the_template_pack_and_the_license(dist: Path) -> None:
    sdist = next(dist.glob("rotation-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"template.yaml", "Makefile", "LICENSE", "templates/sam.mk", "templates/generate.py",
            "templates/runtime_sdk.py", "templates/package_sizes.py", "templates/ca_bundle.py",
            "templates/postgresql/events/createSecret.json",
            "templates/postgresql/env.json"} <= names  # fmt: skip
    assert not any("__pycache__" in name for name in names)


def test_the_wheel_metadata_names_license_extras_and_urls(dist: Path) -> None:
    wheel = next(dist.glob("rotation-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA")))
    text = metadata.decode()
    assert "License-Expression: Apache-2.0" in text
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    for extra in ("postgresql", "demo", "testing"):
        assert f"Provides-Extra: {extra}" in text
    assert "Provides-Extra: dev" not in text  # a development group, not a user's extra
    assert "Project-URL: " in text
    assert "Classifier: Programming Language :: Python :: 3.13" in text
    assert "Author: " in text
    # The package only: the template pack ships in the sdist.
    assert not any(n.startswith(("templates/", "tests/")) for n in names)


def test_rotation_demo_rotates_from_the_installed_wheel(venv: Path, tmp_path: Path) -> None:
    try:
        postgres_bindir()
    except ServerUnavailableError as exc:
        pytest.skip(str(exc))
    out = run(venv / "bin" / "rotation", "demo", "--rounds", "1", cwd=tmp_path, timeout=300)
    assert "demo passed: 1 rotation(s)" in out
    assert "verified TLS (throwaway CA)" in out  # trustme came with the demo extra
    # It ran the installed package, not this checkout.
    where = run(venv / "bin" / "python", "-c", "import rotation; print(rotation.__file__)",
                cwd=tmp_path)  # fmt: skip
    assert str(venv) in where


def test_the_testing_extra_makes_the_conformance_suite_importable(
    venv: Path, dist: Path, tmp_path: Path
) -> None:
    python = venv / "bin" / "python"
    probe = "import rotation.testing.conformance as c; print(c.EngineConformance.__name__)"
    missing = subprocess.run([python, "-c", probe], capture_output=True, text=True, cwd=tmp_path,
                             check=False)  # fmt: skip
    if missing.returncode != 0:  # pytest is not part of [demo]: the testing extra brings it
        assert "No module named 'pytest'" in missing.stderr
    wheel = next(dist.glob("rotation-*.whl"))
    run(venv / "bin" / "pip", "install", "--quiet", f"{wheel}[testing]", cwd=tmp_path)
    assert run(python, "-c", probe, cwd=tmp_path).strip() == "EngineConformance"
