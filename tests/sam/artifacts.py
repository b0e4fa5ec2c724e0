"""Helpers for the SAM template pack tests.

The artifacts are the directories ``sam build`` leaves in ``<build dir>/<LogicalId>``; the tests
use the build ``make test`` makes first (``make sam-test-build``: ``.aws-sam/test-build``), or
the one ``ROTATION_SAM_BUILD_DIR`` names.
"""

from __future__ import annotations

import functools
import os
import runpy
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from rotation.local.invoke import find_interpreter
from rotation.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
# A relative ROTATION_SAM_BUILD_DIR (as make passes it) is relative to the project root.
BUILD_DIR = ROOT / os.environ.get("ROTATION_SAM_BUILD_DIR", ".aws-sam/test-build")
SAM_VENV = Path(os.environ.get("ROTATION_SAM_VENV", ROOT / ".venv-sam"))


# templates/ is not a package: run package_sizes.py for its names; it loads its siblings.
package_sizes = SimpleNamespace(**runpy.run_path(str(ROOT / "templates" / "package_sizes.py")))
DRIVER_DISTRIBUTIONS = package_sizes.DRIVER_DISTRIBUTIONS
drivers_in = package_sizes.drivers_in


def load_generator() -> ModuleType:
    """Import ``templates/generate.py`` (``templates`` is not a package)."""
    return package_sizes.load_sibling("generate")


def load_runtime_sdk() -> ModuleType:
    """Import ``templates/runtime_sdk.py``."""
    return package_sizes.load_sibling("runtime_sdk")


@functools.cache
def load_yaml(path: Path) -> Any:
    """Parse a CloudFormation YAML file; short-form intrinsics become ``{"Fn::X": ...}``."""
    return load_template(path)


def built_target(build_dir: Path = BUILD_DIR) -> tuple[str, str]:
    """Return the (runtime, architecture) the artifacts were built for.

    ``make build`` pins both as the only allowed values in the built template; a plain
    ``sam build`` leaves the defaults, which are also the Makefile's defaults.
    """
    parameters = load_yaml(build_dir / "template.yaml")["Parameters"]
    return parameters["PythonRuntime"]["Default"], parameters["Architecture"]["Default"]


__all__ = ["find_interpreter"]
