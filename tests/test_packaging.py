"""Import hygiene, driver hints, the public API and the engine registry."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import rotation
from rotation.core.errors import ConfigurationError, DriverNotInstalledError
from rotation.core.registry import ENGINES, engine_class

DRIVERS = ("psycopg2", "pymysql", "oracledb", "pymssql", "pymongo")


def run_python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_importing_the_package_and_engine_modules_loads_no_driver() -> None:
    loaded = run_python(f"""
        import sys, rotation
        import rotation.engines.postgresql, rotation.engines.mysql, rotation.engines.mariadb
        print(sorted(m for m in sys.modules if m.split(".")[0] in {DRIVERS!r}))
    """)
    assert loaded == "[]"


def test_a_missing_driver_names_the_extra_to_install() -> None:
    message = run_python("""
        import sys
        sys.modules["psycopg2"] = None  # as if the extra were not installed
        from rotation.engines.postgresql import PostgreSQLHandler
        try:
            PostgreSQLHandler.driver()
        except Exception as exc:
            print(type(exc).__name__, exc)
    """)
    assert message == (
        "DriverNotInstalledError the postgresql engine needs the 'psycopg2' driver: "
        'pip install "rotation[postgresql]"'
    )
    assert issubclass(DriverNotInstalledError, ConfigurationError)


def test_public_api_is_exactly_all() -> None:
    import types

    public = {
        name
        for name, value in vars(rotation).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"  # from __future__ import annotations
    }
    assert public == set(rotation.__all__) - {"__version__"}
    assert len(rotation.__all__) == len(set(rotation.__all__))


def test_registry_is_sorted_and_names_loadable_classes() -> None:
    assert list(ENGINES) == sorted(ENGINES)
    cls = engine_class("postgresql")
    assert cls.engine == "postgresql"
    assert cls.extra == ENGINES["postgresql"][1]


def test_unknown_engine_lists_the_known_ones() -> None:
    with pytest.raises(
        ConfigurationError, match="unknown engine 'db2'; expected one of documentdb"
    ):
        engine_class("db2")


@pytest.mark.parametrize("engine", ["postgresql", "mysql", "mariadb"])
def test_engine_modules_expose_both_lambda_handlers(engine: str) -> None:
    import importlib

    module = importlib.import_module(f"rotation.engines.{engine}")
    assert callable(module.single_user_handler)
    assert callable(module.alternating_users_handler)
