"""``SAM_BUNDLE_BOTO3=0``: which distributions leave the artifact, and ``make package-sizes``."""

from __future__ import annotations

import contextlib
import io
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.sam.artifacts import ROOT, load_runtime_sdk, package_sizes
from tests.sam.conftest import unavailable

runtime_sdk = load_runtime_sdk()


def install(root: Path, name: str, files: dict[str, str], requires: tuple[str, ...] = ()) -> None:
    """Write a distribution as pip --target leaves it: its files, METADATA and RECORD."""
    dist_info = root / f"{name.replace('-', '_')}-1.0.dist-info"
    dist_info.mkdir(parents=True)
    metadata = [f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0"]
    metadata += [f"Requires-Dist: {r}" for r in requires]
    (dist_info / "METADATA").write_text("\n".join(metadata) + "\n")
    record = [f"{dist_info.name}/METADATA,,", f"{dist_info.name}/RECORD,,", "../../bin/tool,,"]
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        record.append(f"{relative},sha256=x,{len(text)}")
        if relative.endswith(".py"):  # compileall's output, not in RECORD
            cache = path.parent / "__pycache__" / f"{path.stem}.cpython-313.pyc"
            cache.parent.mkdir(exist_ok=True)
            cache.write_text("pyc")
    (dist_info / "RECORD").write_text("\n".join(record) + "\n")


def artifact(root: Path) -> Path:
    """Lay out what the MariaDB function's install looks like (dependency-wise)."""
    boto3_requires = ("botocore>=1.3", "jmespath<2", "s3transfer", "botocore[crt]; extra == 'crt'")
    install(root, "boto3", {"boto3/__init__.py": "x"}, boto3_requires)
    models = {"botocore/__init__.py": "x", "botocore/data/a.json": "{}" * 1_000_000}
    install(root, "botocore", models, ("jmespath", "python-dateutil", "urllib3!=2.2.0"))
    install(root, "s3transfer", {"s3transfer/__init__.py": "x"}, ("botocore",))
    install(root, "python-dateutil", {"dateutil/__init__.py": "x"}, ("six>=1.5",))
    install(root, "six", {"six.py": "x"})
    install(root, "urllib3", {"urllib3/__init__.py": "x"})
    install(root, "jmespath", {"jmespath/__init__.py": "x"})
    install(root, "aws-lambda-powertools", {"aws_lambda_powertools/__init__.py": "x"},
            ("jmespath<2", "typing-extensions>=4"))  # fmt: skip
    install(root, "typing-extensions", {"typing_extensions.py": "x"})
    install(root, "pymysql", {"pymysql/__init__.py": "x"}, ("cryptography; extra == 'rsa'",))
    install(root, "rotation", {"rotation/__init__.py": "x"},
            ("boto3>=1.34", "aws-lambda-powertools>=3.0", "pymysql>=1.1"))  # fmt: skip
    (root / "certs").mkdir()
    (root / "certs" / "ca-bundle.pem").write_text("pem")
    return root


def test_the_sdk_and_what_only_it_needs_leave_everything_else_stays(tmp_path: Path) -> None:
    root = artifact(tmp_path / "artifact")
    removed = runtime_sdk.prune(root)
    assert removed == ["boto3", "botocore", "python-dateutil", "s3transfer", "six", "urllib3"]
    left = sorted(p.name for p in root.iterdir())
    assert left == [
        "__pycache__",  # typing_extensions.py's
        "aws_lambda_powertools",
        "aws_lambda_powertools-1.0.dist-info",
        "certs",
        "jmespath",  # Powertools needs it, so it stays though the runtime has it too
        "jmespath-1.0.dist-info",
        "pymysql",
        "pymysql-1.0.dist-info",
        "rotation",
        "rotation-1.0.dist-info",
        "typing_extensions-1.0.dist-info",
        "typing_extensions.py",
    ]
    assert [p.name for p in (root / "__pycache__").iterdir()] == [
        "typing_extensions.cpython-313.pyc"
    ]
    assert runtime_sdk.prune(root) == []  # nothing left to leave out


def test_sdk_files_are_what_prune_removes(tmp_path: Path) -> None:
    root = artifact(tmp_path / "artifact")
    before = {p.resolve() for p in root.rglob("*") if p.is_file()}
    named = set(runtime_sdk.sdk_files(root))
    runtime_sdk.prune(root)
    after = {p.resolve() for p in root.rglob("*") if p.is_file()}
    assert before - after == named
    assert (tmp_path / "artifact" / "six.py").resolve() in named
    assert (root / "__pycache__").resolve() / "six.cpython-313.pyc" in named


def test_package_sizes_shows_each_artifact_with_and_without_the_sdk(tmp_path: Path) -> None:
    build = tmp_path / "build"
    build.mkdir()
    (build / "template.yaml").write_text(
        "Parameters:\n  PythonRuntime:\n    Type: String\n    Default: python3.13\n"
        "  Architecture:\n    Type: String\n    Default: arm64\n"
    )
    fn = "SecretsManagerRDSMariaDBRotationSingleUser"
    artifact(build / fn)
    slim = "SecretsManagerRDSMariaDBRotationMultiUser"
    runtime_sdk.prune(artifact(build / slim))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert package_sizes.sizes(build) == 0
    lines = {line.split()[0]: line.split() for line in out.getvalue().splitlines()[3:]}
    assert out.getvalue().splitlines()[0] == f"{build} (python3.13, arm64)"
    full = lines[fn]
    assert full[-1] == "pymysql"
    assert float(full[1].removesuffix("MB")) > float(full[3].removesuffix("MB"))  # unzipped
    assert lines[slim][1:3] == ["(built", "without)"]
    assert lines["SecretsManagerRDSPostgreSQLRotationSingleUser"][1:] == ["not", "built"]


@pytest.mark.sam
def test_a_build_with_sam_bundle_boto3_0_leaves_the_sdk_out(tmp_path: Path) -> None:
    """The build step SAM runs for a function, with the switch: pip, then the pruning."""
    if shutil.which("make") is None:
        unavailable("make is not installed")
    fn = "SecretsManagerRDSMariaDBRotationSingleUser"
    out = tmp_path / "artifact"
    done = subprocess.run(
        ["make", "--no-print-directory", f"build-{fn}", f"ARTIFACTS_DIR={out}",
         "SAM_BUNDLE_BOTO3=0", "SAM_COMPILE=0", f"SAM_CACHE={tmp_path / 'cache'}",
         "CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "left out the runtime's SDK: boto3, botocore" in done.stdout
    installed = {d.name.split("-")[0].lower() for d in out.glob("*.dist-info")}
    assert {"rotation", "pymysql", "aws_lambda_powertools", "jmespath"} <= installed
    assert not {"boto3", "botocore", "s3transfer", "urllib3"} & installed
    assert not (out / "botocore").exists()
    assert (out / "certs" / "ca-bundle.pem").is_file()
    assert package_sizes.drivers_in(out) == ["pymysql"]
