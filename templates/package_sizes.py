"""Print each built function's size and database driver, with and without the AWS SDK.

``make package-sizes`` runs it on ``.aws-sam/build`` (or ``SAM_BUILD_DIR``). Sizes are of the
artifact directory (unzipped, what counts against Lambda's 250 MB limit) and of the zip that
``sam package`` uploads (deflate). The "without the SDK" columns are what the same artifact
weighs when built with ``SAM_BUNDLE_BOTO3=0`` (:mod:`runtime_sdk` names the files that build
leaves out), so one build shows both.

Usage::

    python templates/package_sizes.py [BUILD_DIR]
"""

from __future__ import annotations

import importlib.util
import io
import re
import sys
import zipfile
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent
MIB = 1024 * 1024
# Distribution (dist-info prefix) and import name of every database driver the pack may ship.
DRIVER_DISTRIBUTIONS = {
    "psycopg2_binary": "psycopg2",
    "pymysql": "pymysql",
    "oracledb": "oracledb",
    "pymssql": "pymssql",
    "pymongo": "pymongo",
}
# A zip entry costs its local header (30 bytes + name) and its central directory record (46 +
# name) besides the compressed data.
ZIP_ENTRY_OVERHEAD = 30 + 46


def load_sibling(stem: str) -> ModuleType:
    """Import ``templates/<stem>.py`` (``templates`` is not a package) once."""
    name = f"rotation_templates_{stem}"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, HERE / f"{stem}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def drivers_in(artifact: Path) -> list[str]:
    """Return the import names of the database drivers installed in an artifact directory."""
    found = set()
    for entry in artifact.glob("*.dist-info"):
        distribution = entry.name.split("-", 1)[0].lower()
        if distribution in DRIVER_DISTRIBUTIONS:
            found.add(DRIVER_DISTRIBUTIONS[distribution])
    return sorted(found)


def zipped(artifact: Path) -> dict[Path, int]:
    """Return what each file of ``artifact`` adds to its zip as ``sam package`` makes it."""
    buffer = io.BytesIO()
    sizes = {}
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(artifact.rglob("*")):
            if file.is_file():
                name = str(file.relative_to(artifact))
                archive.write(file, name)
                info = archive.getinfo(name)
                sizes[file.resolve()] = info.compress_size + ZIP_ENTRY_OVERHEAD + 2 * len(name)
    return sizes


def built_target(build_dir: Path) -> str:
    """Return "runtime, architecture" as pinned in the built template, or what is known."""
    text = (build_dir / "template.yaml").read_text()
    found = [
        re.search(rf"\n  {name}:\n(?:    .*\n)*?    Default: (\S+)", text)
        for name in ("PythonRuntime", "Architecture")
    ]
    return ", ".join(m.group(1) if m else "?" for m in found)


def sizes(build_dir: Path) -> int:
    """Print the table; return the exit code."""
    generate, runtime_sdk = load_sibling("generate"), load_sibling("runtime_sdk")
    if not (build_dir / "template.yaml").is_file():
        print(f"no build in {build_dir}: run `make build`", file=sys.stderr)
        return 1
    print(f"{build_dir} ({built_target(build_dir)})")
    print(f"{'':<46} {'with the AWS SDK':>17}  {'without (SAM_BUNDLE_BOTO3=0)':>28}")
    print(f"{'function':<46} {'unzipped':>8} {'zipped':>8}  {'unzipped':>18} {'zipped':>9}  driver")
    for fn in generate.FUNCTIONS:
        artifact = build_dir / fn.logical_id
        if not artifact.is_dir():
            print(f"{fn.logical_id:<46} {'not built':>8}")
            continue
        files = zipped(artifact)
        total, packed = sum(f.stat().st_size for f in files), sum(files.values())
        sdk = runtime_sdk.sdk_files(artifact)
        if any(d.name == "botocore" for d in runtime_sdk.sdk_distributions(artifact)):
            with_sdk = f"{total / MIB:6.1f}MB {packed / MIB:6.1f}MB"
        else:
            with_sdk = f"{'(built without)':>17}"
        bare = total - sum(f.stat().st_size for f in sdk)
        bare_packed = packed - sum(files.get(f, 0) for f in sdk)
        print(
            f"{fn.logical_id:<46} {with_sdk}  {bare / MIB:16.1f}MB {bare_packed / MIB:7.1f}MB  "
            f"{', '.join(drivers_in(artifact)) or '-'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(sizes(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".aws-sam/build")))
