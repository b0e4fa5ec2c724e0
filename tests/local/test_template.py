"""A function's configuration read from a SAM template, as ``sam local invoke`` reads it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from rotation.local.template import (
    BUILD_DIR,
    TemplateError,
    default_template,
    function_config,
    load_template,
)

ROOT = Path(__file__).resolve().parents[2]
PG = "SecretsManagerRDSPostgreSQLRotationSingleUser"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """Return a copy of the project's template with a (fake) build of one function beside it."""
    shutil.copy(ROOT / "template.yaml", tmp_path / "template.yaml")
    (tmp_path / BUILD_DIR / PG / "rotation").mkdir(parents=True)
    return tmp_path


def test_handler_runtime_and_globals_come_from_the_template(project: Path) -> None:
    fn = function_config(project / "template.yaml", PG, {}, "eu-west-1")
    assert fn.handler == "rotation.engines.postgresql.single_user_handler"
    assert fn.runtime == "python3.13"  # !Ref PythonRuntime: the parameter's default
    assert (fn.memory_mb, fn.timeout_s) == (256, 30.0)  # from Globals
    # A source template's code is what sam build made of it.
    assert fn.code_dir == (project / BUILD_DIR / PG).resolve()


def test_variables_resolve_conditions_and_leave_no_value_unset(project: Path) -> None:
    fn = function_config(project / "template.yaml", PG, {}, "us-east-1")
    assert fn.variables["POWERTOOLS_METRICS_NAMESPACE"] == "SecretsRotation"
    assert fn.variables["ROTATION_CONNECT_TIMEOUT"] == "5"  # a Number parameter, as text
    assert fn.variables["EXCLUDE_NUMBERS"] == "false"
    # !If [HasEndpoint, !Ref SecretsManagerEndpoint, !Ref AWS::NoValue] with no endpoint given:
    # declared, but unset, as in the deployed function.
    assert "SECRETS_MANAGER_ENDPOINT" in fn.variables
    assert fn.variables["SECRETS_MANAGER_ENDPOINT"] is None
    assert fn.variables["ROTATION_TLS_CA_FILE"] is None


def test_parameter_overrides_flow_through_conditions(project: Path) -> None:
    overrides = {
        "SecretsManagerEndpoint": "http://127.0.0.1:4566",
        "PythonRuntime": "python3.12",
        "LogLevel": "DEBUG",
        "CaBundleFile": "/opt/ca.pem",
    }
    fn = function_config(project / "template.yaml", PG, overrides, "us-east-1")
    assert fn.runtime == "python3.12"
    assert fn.variables["SECRETS_MANAGER_ENDPOINT"] == "http://127.0.0.1:4566"
    assert fn.variables["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert fn.variables["ROTATION_TLS_CA_FILE"] == "/opt/ca.pem"


def test_a_built_template_names_its_artifact_in_code_uri(tmp_path: Path) -> None:
    (tmp_path / "Fn" / "app").mkdir(parents=True)
    (tmp_path / "template.yaml").write_text(
        "Transform: AWS::Serverless-2016-10-31\n"
        "Globals:\n  Function:\n    Environment:\n      Variables: {A: from-globals, B: x}\n"
        "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
        "      CodeUri: Fn\n      Handler: app.main.handler\n      Runtime: python3.12\n"
        "      FunctionName: !Sub '${AWS::StackName}-fn-${AWS::Region}'\n"
        "      Environment:\n        Variables:\n"
        "          B: !Join ['-', [!Ref AWS::Region, !Select [1, !Split [',', 'a,b']]]]\n"
        "          C: !GetAtt Other.Arn\n"
    )
    fn = function_config(tmp_path / "template.yaml", "Fn", {}, "ap-south-1")
    assert fn.code_dir == (tmp_path / "Fn").resolve()
    assert (fn.memory_mb, fn.timeout_s) == (128, 3.0)  # Lambda's defaults
    # Globals and the function's variables merge; what cannot resolve locally is "" (SAM CLI).
    assert fn.variables == {"A": "from-globals", "B": "ap-south-1-b", "C": ""}


def test_unknown_function_lists_the_template_functions(project: Path) -> None:
    with pytest.raises(TemplateError, match=f"no function Nope in .*; its functions: .*{PG}"):
        function_config(project / "template.yaml", "Nope", {}, "us-east-1")


def test_a_function_that_was_not_built_says_how_to_build_it(project: Path) -> None:
    other = "SecretsManagerRDSMySQLRotationSingleUser"
    with pytest.raises(TemplateError, match=f"no built code for {other}.*make build"):
        function_config(project / "template.yaml", other, {}, "us-east-1")


def test_default_template_prefers_the_built_one(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"no template\.yaml"):
        default_template(tmp_path)
    (tmp_path / "template.yaml").write_text("{}")
    assert default_template(tmp_path) == tmp_path / "template.yaml"
    (tmp_path / BUILD_DIR).mkdir(parents=True)
    (tmp_path / BUILD_DIR / "template.yaml").write_text("{}")
    assert default_template(tmp_path) == tmp_path / BUILD_DIR / "template.yaml"


def test_short_form_intrinsics_parse(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("A: !Ref X\nB: !GetAtt R.Arn\nC: !If [Cond, 1, 2]\nD: !Condition Cond\n")
    assert load_template(path) == {
        "A": {"Ref": "X"},
        "B": {"Fn::GetAtt": ["R", "Arn"]},
        "C": {"Fn::If": ["Cond", 1, 2]},
        "D": {"Condition": "Cond"},
    }


def test_a_template_that_is_not_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("A: [unclosed\n")
    with pytest.raises(TemplateError, match="is not valid YAML"):
        load_template(path)
