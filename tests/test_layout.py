"""The package's shape: no import cycles, layers that import only downward, handler paths.

The import graph is read from the source (``ast``), not from ``sys.modules``: every ``import``
statement of a ``rotation`` module counts, at module level, under ``if TYPE_CHECKING:`` and
inside functions alike, so a cycle cannot hide behind a type-only or a function-local import.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "rotation"

# What each part of the package may import (besides itself and the standard library). The
# top-level package re-exports the core's public names and is imported by the CLI for its version.
LAYERS: dict[str, set[str]] = {
    "rotation.core": set(),
    "rotation.engines": {"rotation.core"},
    "rotation.local": {"rotation.core"},
    "rotation.testing": {"rotation.core", "rotation.local"},
    "rotation.cli": {"rotation", "rotation.core", "rotation.local"},
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Return the ``rotation`` modules a module's import statements name."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from package import module`` imports the module; anything else, the package.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                for alias in node.names
            ]
        else:
            continue
        found.update(target for target in targets if target in modules and target != name)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = all_modules()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """Return one import cycle as a path that starts and ends at the same module, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                return [*path[path.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_type_only_and_function_local_imports() -> None:
    graph = import_graph()
    # database.py imports the strategies at module level; registry.py names the handler class
    # under TYPE_CHECKING only: both are edges.
    assert "rotation.core.strategies" in graph["rotation.core.database"]
    assert "rotation.core.database" in graph["rotation.core.registry"]


def test_find_cycle_reports_a_cycle_and_its_path() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_package_has_no_import_cycle() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def layer_of(module: str) -> str:
    return next((layer for layer in LAYERS if module.startswith(layer)), module)


def test_each_layer_imports_only_what_it_may() -> None:
    wrong = []
    for module, targets in import_graph().items():
        layer = layer_of(module)
        if layer not in LAYERS:
            continue
        for target in targets:
            target_layer = layer_of(target)
            if target_layer != layer and target_layer not in LAYERS[layer]:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_each_engine_is_a_package_and_imports_no_other_engine_but_its_base() -> None:
    bases = {"mariadb": {"mysql"}, "redshift": {"postgresql"}}
    folder = PACKAGE / "engines"
    engines = sorted(p.name for p in folder.iterdir() if (p / "__init__.py").exists())
    assert engines == ["documentdb", "mariadb", "mysql", "oracle", "postgresql", "redshift",
                       "sqlserver"]  # fmt: skip
    assert sorted(p.name for p in folder.glob("*.py")) == ["__init__.py", "dbapi.py"]
    for module, targets in import_graph().items():
        match = re.fullmatch(r"rotation\.engines\.(\w+)(\..*)?", module)
        if not match or match.group(1) == "dbapi":
            continue
        engine = match.group(1)
        others = {t.split(".")[2] for t in targets if t.startswith("rotation.engines.")}
        assert others <= {engine, "dbapi", *bases.get(engine, ())}, module


def test_no_module_name_stands_in_for_a_folder() -> None:
    prefixed = [
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("_*.py")
        if path.name not in {"__init__.py", "__main__.py"}
    ]
    assert prefixed == []


def template_handlers() -> list[str]:
    text = (ROOT / "template.yaml").read_text()
    return sorted(set(re.findall(r"^\s+Handler:\s*(\S+)\s*$", text, re.MULTILINE)))


def test_the_template_names_both_handlers_of_every_engine() -> None:
    """And MySQL's dual passwords (MariaDB has none)."""
    engines = ("documentdb", "mariadb", "mysql", "oracle", "postgresql", "redshift", "sqlserver")
    assert template_handlers() == sorted(
        [
            *(
                f"rotation.engines.{engine}.{kind}_handler"
                for engine in engines
                for kind in ("single_user", "alternating_users")
            ),
            "rotation.engines.mysql.dual_passwords_handler",
        ]
    )


@pytest.mark.parametrize("path", template_handlers())
def test_every_handler_path_in_the_template_imports(path: str) -> None:
    module_name, _, attribute = path.rpartition(".")
    handler = getattr(importlib.import_module(module_name), attribute)
    assert callable(handler)
