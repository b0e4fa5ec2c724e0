"""Helpers for the SAM template pack tests, and ``python -m tests.sam.artifacts sizes [DIR]``.

The artifacts are the directories ``sam build`` leaves in ``.aws-sam/build/<LogicalId>``.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
BUILD_DIR = Path(os.environ.get("ROTATION_SAM_BUILD_DIR", ROOT / ".aws-sam" / "build"))
SAM_VENV = Path(os.environ.get("ROTATION_SAM_VENV", ROOT / ".venv-sam"))

# Distribution (dist-info prefix) and import name of every database driver the pack may ship.
DRIVER_DISTRIBUTIONS = {
    "psycopg2_binary": "psycopg2",
    "pymysql": "pymysql",
    "oracledb": "oracledb",
    "pymssql": "pymssql",
    "pymongo": "pymongo",
}


def load_generator() -> ModuleType:
    """Import ``templates/generate.py`` (``templates`` is not a package)."""
    name = "rotation_templates_generate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "templates" / "generate.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@functools.cache
def load_yaml(path: Path) -> Any:
    """Parse a CloudFormation YAML file; short-form intrinsics become ``{"Fn::X": ...}``."""
    import yaml

    class Loader(yaml.SafeLoader):
        pass

    def intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        if suffix == "Ref":
            return {"Ref": value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        if suffix == "Condition":
            return {"Condition": value}
        return {f"Fn::{suffix}": value}

    Loader.add_multi_constructor("!", intrinsic)
    return yaml.load(path.read_text(), Loader=Loader)


def drivers_in(artifact: Path) -> list[str]:
    """Return the import names of the database drivers installed in an artifact directory."""
    found = set()
    for entry in artifact.glob("*.dist-info"):
        distribution = entry.name.split("-", 1)[0].lower()
        if distribution in DRIVER_DISTRIBUTIONS:
            found.add(DRIVER_DISTRIBUTIONS[distribution])
    return sorted(found)


def directory_size(path: Path) -> int:
    """Return the bytes of all files below ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def zipped_size(path: Path) -> int:
    """Return the size of ``path`` zipped as ``sam package`` would (deflate)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(path.rglob("*")):
            if file.is_file():
                archive.write(file, file.relative_to(path))
    return buffer.tell()


def built_target(build_dir: Path = BUILD_DIR) -> tuple[str, str]:
    """Return the (runtime, architecture) the artifacts were built for.

    ``make build`` pins both as the only allowed values in the built template; a plain
    ``sam build`` leaves the defaults, which are also the Makefile's defaults.
    """
    parameters = load_yaml(build_dir / "template.yaml")["Parameters"]
    return parameters["PythonRuntime"]["Default"], parameters["Architecture"]["Default"]


def find_interpreter(runtime: str) -> str | None:
    """Return an interpreter of ``runtime``'s version (``python3.13``): on PATH or under pyenv."""
    version = runtime.removeprefix("python")
    candidates = [runtime]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(
        str(p) for p in Path(pyenv_root, "versions").glob(f"{version}*/bin/{runtime}")
    )
    for candidate in candidates:
        if shutil.which(candidate) is None:
            continue
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.executable)"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0:
            return probe.stdout.strip()
    return None


def sizes(build_dir: Path) -> int:
    """Print each built function's size (unzipped, zipped) and its driver."""
    generator = load_generator()
    if not (build_dir / "template.yaml").is_file():
        print(f"no build in {build_dir}: run `make build`", file=sys.stderr)
        return 1
    runtime, architecture = built_target(build_dir)
    print(f"{build_dir} ({runtime}, {architecture})")
    print(f"{'function':<48} {'unzipped':>9} {'zipped':>8}  driver")
    for fn in generator.FUNCTIONS:
        artifact = build_dir / fn.logical_id
        if not artifact.is_dir():
            print(f"{fn.logical_id:<48} {'not built':>9}")
            continue
        mib = 1024 * 1024
        print(
            f"{fn.logical_id:<48} {directory_size(artifact) / mib:7.1f}MB "
            f"{zipped_size(artifact) / mib:6.1f}MB  {', '.join(drivers_in(artifact)) or '-'}"
        )
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] != ["sizes"]:
        sys.exit("usage: python -m tests.sam.artifacts sizes [BUILD_DIR]")
    sys.exit(sizes(Path(sys.argv[2]) if len(sys.argv) > 2 else BUILD_DIR))
