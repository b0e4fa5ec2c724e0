"""``rotation init-service``: the generated files lint clean and their test runs green."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from rotation.cli import main
from rotation.cli.init_service import Service, makefile_text, template_text

ROOT = Path(__file__).resolve().parents[2]
CONFIG = str(ROOT / "pyproject.toml")


def run(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *argv], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip


@pytest.mark.parametrize("strategy", ["dual", "single"])
def test_generated_files_lint_clean_and_their_test_passes(tmp_path: Path, strategy: str) -> None:
    assert main(["init-service", "acme_keys", "--strategy", strategy, "--dir", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "Makefile", "acme_keys.py", "template.yaml", "test_acme_keys.py",
    ]  # fmt: skip
    for lint in (["check"], ["format", "--check"]):
        done = run("-m", "ruff", *lint, "--config", CONFIG, ".", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
    tested = run("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_acme_keys.py", cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout[-3000:]
    assert "6 passed" in tested.stdout
    module = (tmp_path / "acme_keys.py").read_text()
    entry = "dual_credentials_handler" if strategy == "dual" else "single_user_handler"
    assert f'{entry} = AcmeKeysHandler.lambda_handler(strategy="{strategy}")' in module
    assert f"Handler: acme_keys.{entry}" in (tmp_path / "template.yaml").read_text()


def test_it_never_overwrites_and_refuses_bad_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "template.yaml").write_text("mine")
    assert main(["init-service", "acme", "--dir", str(tmp_path)]) == 2
    assert "template.yaml already exist(s)" in capsys.readouterr().err
    assert (tmp_path / "template.yaml").read_text() == "mine"
    assert not (tmp_path / "acme.py").exists()
    for name in ("Acme", "class", "9lives", "a-b"):
        assert main(["init-service", name, "--dir", str(tmp_path / "x")]) == 2


def test_the_custom_example_stack_is_what_init_service_writes() -> None:
    service = Service("redis_acl", "dual")
    custom = ROOT / "templates" / "custom"
    assert (custom / "template.yaml").read_text() == template_text(service)
    assert (custom / "Makefile").read_text() == makefile_text(service, "rotation redis>=5")
