"""The AWS SDK that the Lambda Python runtime already carries, and leaving it out of an artifact.

Every Lambda Python runtime includes boto3 and botocore (with s3transfer, jmespath,
python-dateutil, six and urllib3), on ``sys.path`` after the function's own code, so a copy in
the artifact takes precedence over the runtime's
(https://docs.aws.amazon.com/lambda/latest/dg/python-package.html, "Dependency search path and
runtime-included libraries"). ``make build SAM_BUNDLE_BOTO3=0`` calls :func:`prune` on each
install: boto3, botocore and s3transfer go, and so does every other runtime-provided
distribution that nothing left in the artifact requires (jmespath stays: Powertools needs it).
:func:`sdk_files` names the same files in a bundled artifact, so ``make package-sizes`` can
show both sizes from one build.

Usage::

    python templates/runtime_sdk.py prune DIR   # DIR: a pip --target directory
"""

from __future__ import annotations

import re
import shutil
import sys
from dataclasses import dataclass, field
from email.parser import HeaderParser
from pathlib import Path

# The SDK itself, and what the runtime carries along with it (their dependencies).
SDK = ("boto3", "botocore", "s3transfer")
RUNTIME_PROVIDED = frozenset({*SDK, "jmespath", "python-dateutil", "six", "urllib3"})


def normalize(name: str) -> str:
    """Return a distribution name in PEP 503 normal form (``python-dateutil``)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class Distribution:
    """One installed distribution of a ``pip --target`` directory."""

    name: str
    dist_info: Path
    requires: set[str] = field(default_factory=set)

    def files(self, root: Path) -> list[Path]:
        """Return its files under ``root``: those in RECORD, their ``.pyc`` files, its dist-info."""
        found: set[Path] = set()
        record = self.dist_info / "RECORD"
        lines = record.read_text().splitlines() if record.is_file() else []
        for line in lines:
            relative = line.rsplit(",", 2)[0]
            path = (root / relative).resolve()
            if not path.is_relative_to(root.resolve()) or not path.is_file():
                continue  # scripts pip put outside the target (../bin), or already gone
            found.add(path)
            if path.suffix == ".py":
                found.update(path.parent.glob(f"__pycache__/{path.stem}.*.pyc"))
        found.update(p.resolve() for p in self.dist_info.rglob("*") if p.is_file())
        return sorted(found)


def distributions(root: Path) -> dict[str, Distribution]:
    """Return the distributions installed in ``root``, by normalized name."""
    found = {}
    for dist_info in sorted(root.glob("*.dist-info")):
        metadata = HeaderParser().parsestr((dist_info / "METADATA").read_text())
        requires = set()
        for requirement in metadata.get_all("Requires-Dist") or []:
            if re.search(r"\bextra\s*==", requirement):
                continue  # only installed when an extra asks for it
            match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
            if match:
                requires.add(normalize(match.group(1)))
        name = normalize(str(metadata["Name"]))
        found[name] = Distribution(name, dist_info, requires)
    return found


def sdk_distributions(root: Path) -> list[Distribution]:
    """Return the distributions the runtime provides and nothing else in ``root`` needs."""
    installed = distributions(root)
    leaving = {name for name in SDK if name in installed}
    changed = True
    while changed:  # a provided distribution goes once nothing that stays requires it
        staying = set(installed) - leaving
        needed = set().union(*(installed[name].requires for name in staying))
        extra = {n for n in RUNTIME_PROVIDED & set(installed) - leaving if n not in needed}
        changed = bool(extra)
        leaving |= extra
    return [installed[name] for name in sorted(leaving)]


def sdk_files(root: Path) -> list[Path]:
    """Return every file that :func:`prune` would remove from ``root``."""
    return sorted({f for dist in sdk_distributions(root) for f in dist.files(root)})


def prune(root: Path) -> list[str]:
    """Remove the runtime-provided SDK from ``root``; return the distributions removed."""
    dists = sdk_distributions(root)
    emptied = set()
    for path in sdk_files(root):
        path.unlink()
        emptied.add(path.parent)
    for dist in dists:
        shutil.rmtree(dist.dist_info, ignore_errors=True)
    # The package directories those files lived in go too once nothing but __pycache__ is left.
    top = root.resolve()
    for directory in sorted(emptied, key=lambda p: len(p.parts), reverse=True):
        while directory != top and directory.is_dir():
            if any(p.name != "__pycache__" for p in directory.iterdir()):
                break
            shutil.rmtree(directory)
            directory = directory.parent
    return [dist.name for dist in dists]


def main(argv: list[str]) -> int:
    """Run ``prune DIR``."""
    if len(argv) != 2 or argv[0] != "prune" or not Path(argv[1]).is_dir():
        print("usage: python templates/runtime_sdk.py prune DIR", file=sys.stderr)
        return 2
    removed = prune(Path(argv[1]))
    print(f"left out the runtime's SDK: {', '.join(removed) or 'nothing to leave out'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
