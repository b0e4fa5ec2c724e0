"""template.yaml as CloudFormation sees it: translated with aws-sam-translator, IAM checked.

These run in the normal ``make test``; they need aws-sam-translator (the dev extra) and no SAM
CLI, network or AWS account.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from rotation.local import sandbox
from tests.sam.artifacts import ROOT, load_generator, load_yaml
from tests.sam.conftest import unavailable

generator = load_generator()
FUNCTIONS = generator.FUNCTIONS
BY_ID = {fn.logical_id: fn for fn in FUNCTIONS}
SINGLE = "SecretsManagerRDSPostgreSQLRotationSingleUser"
ALTERNATING = "SecretsManagerRDSPostgreSQLRotationMultiUser"
DUAL = "SecretsManagerRDSMySQLRotationDualPasswords"


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    try:
        import boto3
        from samtranslator.parser.parser import Parser
        from samtranslator.translator.translator import Translator
        from samtranslator.yaml_helper import yaml_parse
    except ImportError:
        unavailable("aws-sam-translator is not installed (pip install aws-sam-translator)")
    template = yaml_parse((ROOT / "template.yaml").read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            # What `sam package` leaves after uploading the built artifact.
            resource["Properties"]["CodeUri"] = "s3://bucket/artifact.zip"
    # A fixed region: the translator resolves pseudo parameters, and tests read no AWS config.
    translator = Translator(None, Parser(), boto_session=boto3.Session(region_name="us-east-1"))
    result: dict[str, Any] = translator.translate(
        template, parameter_values={}, get_managed_policy_map=lambda: {}
    )
    return result


def _resources(translated: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in translated["Resources"].items() if v["Type"] == kind}


def _policies(role: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    """Return (condition, policy) pairs; condition is the Fn::If condition or None."""
    pairs: list[tuple[str | None, dict[str, Any]]] = []
    for policy in role["Properties"]["Policies"]:
        if "Fn::If" in policy:
            condition, then, otherwise = policy["Fn::If"]
            assert otherwise == {"Ref": "AWS::NoValue"}
            pairs.append((condition, then))
        else:
            pairs.append((None, policy))
    return pairs


def _statements(role: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    return [
        (condition, statement)
        for condition, policy in _policies(role)
        for statement in policy["PolicyDocument"]["Statement"]
    ]


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def test_generated_files_are_up_to_date() -> None:
    assert generator.main(["--check"]) == 0, "run `make sam-templates` and commit the result"


def test_makefile_table_matches_the_template() -> None:
    text = (ROOT / "templates" / "sam.mk").read_text()
    table = re.search(r"^SAM_FUNCTIONS := \\\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert table is not None
    rows = [line.strip(" \t\\") for line in table.group(1).splitlines()]
    assert rows == [f"{fn.logical_id}:{fn.engine.name}" for fn in FUNCTIONS]


def test_fifteen_functions_with_their_handlers(translated: dict[str, Any]) -> None:
    """Seven engines x (single user, alternating users), and MySQL's dual passwords."""
    functions = _resources(translated, "AWS::Lambda::Function")
    assert set(functions) == set(BY_ID)
    assert len(functions) == 15
    assert [fn.logical_id for fn in FUNCTIONS if fn.dual] == [DUAL]
    assert (
        functions[DUAL]["Properties"]["Handler"] == "rotation.engines.mysql.dual_passwords_handler"
    )
    for logical_id, function in functions.items():
        fn = BY_ID[logical_id]
        properties = function["Properties"]
        assert properties["Handler"] == f"rotation.engines.{fn.engine.name}.{fn.strategy}_handler"
        assert properties["Runtime"] == {"Ref": "PythonRuntime"}
        assert properties["Architectures"] == [{"Ref": "Architecture"}]
        assert properties["Role"] == {"Fn::GetAtt": [f"{logical_id}Role", "Arn"]}
        assert function["Condition"] == fn.condition
        assert properties["FunctionName"] == {"Fn::Sub": f"${{FunctionNamePrefix}}{logical_id}"}
        assert fn.strategy in {"single_user", "alternating_users", "dual_passwords"}
    # SAM generated no role of its own (it would carry managed policies we did not choose).
    assert set(_resources(translated, "AWS::IAM::Role")) == {f"{i}Role" for i in BY_ID}


def test_runtime_and_architecture_parameters() -> None:
    parameters = load_yaml(ROOT / "template.yaml")["Parameters"]
    assert parameters["PythonRuntime"]["Default"] == "python3.13"
    assert parameters["PythonRuntime"]["AllowedValues"] == [
        "python3.12",
        "python3.13",
        "python3.14",
    ]
    assert parameters["Architecture"]["AllowedValues"] == ["x86_64", "arm64"]


# Read-only calls that locate the database of an admin secret RDS or Redshift manages.
LOOKUP_SERVICES = ("rds", "redshift", "redshift-serverless")
RDS_LOOKUPS = {"rds:DescribeDBInstances", "rds:DescribeDBClusters"}
LOOKUPS = {
    **dict.fromkeys(("postgresql", "mysql", "mariadb", "oracle", "sqlserver", "documentdb"),
                    RDS_LOOKUPS),
    "redshift": {
        "redshift:DescribeClusters",
        "redshift-serverless:ListNamespaces",
        "redshift-serverless:ListWorkgroups",
    },
}  # fmt: skip


@pytest.mark.parametrize("logical_id", [fn.logical_id for fn in FUNCTIONS])
def test_iam_is_least_privilege(translated: dict[str, Any], logical_id: str) -> None:
    role = translated["Resources"][f"{logical_id}Role"]
    statements = _statements(role)
    fn = BY_ID[logical_id]
    # Admin secrets: always for alternating users; for dual passwords only when any are listed.
    alternating = fn.alternating or fn.dual
    admin_condition = "HasAdminSecrets" if fn.dual else None

    for _, statement in statements:
        assert statement["Effect"] == "Allow"
        for action in _actions(statement):
            assert "*" not in action, f"wildcard action {action}"

    by_action: dict[str, list[tuple[str | None, dict[str, Any]]]] = {}
    for condition, statement in statements:
        for action in _actions(statement):
            by_action.setdefault(action, []).append((condition, statement))

    # The rotated secrets: only those whose rotation names this very function.
    function_arn = (
        "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
        f"${{FunctionNamePrefix}}{logical_id}"
    )
    for action in (
        "secretsmanager:DescribeSecret",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
    ):
        [(condition, statement)] = [
            (c, s) for c, s in by_action[action] if s["Resource"] != {"Ref": "AdminSecretArns"}
        ]
        assert condition is None
        assert statement["Condition"] == {
            "StringEquals": {
                "secretsmanager:resource/AllowRotationLambdaArn": {"Fn::Sub": function_arn}
            }
        }

    # GetSecretValue: the rotated secrets, plus the admin secrets for alternating users only.
    reads = by_action["secretsmanager:GetSecretValue"]
    admin_reads = [s for _, s in reads if s["Resource"] == {"Ref": "AdminSecretArns"}]
    assert len(reads) == (2 if alternating else 1)
    assert len(admin_reads) == (1 if alternating else 0)
    assert {c for c, s in reads if s["Resource"] == {"Ref": "AdminSecretArns"}} <= {admin_condition}
    for statement in admin_reads:
        assert _actions(statement) == ["secretsmanager:GetSecretValue"]
        assert statement["Condition"] == {
            "StringEquals": {"secretsmanager:VersionStage": "AWSCURRENT"}
        }
    assert not any(
        "AdminSecret" in json.dumps(statement) for _, statement in statements if not alternating
    )
    # DescribeSecret on the admin secrets (their tags name a managed database), nothing more.
    describes = by_action["secretsmanager:DescribeSecret"]
    admin_describes = [s for _, s in describes if s["Resource"] == {"Ref": "AdminSecretArns"}]
    assert len(admin_describes) == (1 if alternating else 0)
    for statement in admin_describes:
        assert _actions(statement) == ["secretsmanager:DescribeSecret"]

    # KMS: only on the given keys, only when given, only through Secrets Manager.
    kms = [(c, s) for c, s in statements if any(a.startswith("kms:") for a in _actions(s))]
    expected = {("HasSecretsKmsKey", "SecretsKmsKeyArn")}
    if alternating:
        expected.add(("HasAdminSecretKmsKey", "AdminSecretKmsKeyArn"))
    assert {(c, s["Resource"]["Ref"]) for c, s in kms} == expected
    for condition, statement in kms:
        allowed = {"kms:Decrypt", "kms:GenerateDataKey"}
        if condition == "HasAdminSecretKmsKey":
            allowed = {"kms:Decrypt"}
        assert set(_actions(statement)) == allowed
        assert "kms:ViaService" in statement["Condition"]["StringEquals"]

    # Network interfaces only in a VPC.
    ec2 = [(c, s) for c, s in statements if any(a.startswith("ec2:") for a in _actions(s))]
    assert [c for c, _ in ec2] == ["HasVpc"]

    # Logs: write to its own log group only (it exists before the function runs).
    [(condition, logs)] = [
        (c, s) for c, s in statements if any(a.startswith("logs:") for a in _actions(s))
    ]
    assert set(_actions(logs)) == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert logs["Resource"]["Fn::Sub"].endswith(
        f"/aws/lambda/${{FunctionNamePrefix}}{logical_id}:*"
    )

    lookups = {action for action in by_action if action.split(":")[0] in LOOKUP_SERVICES}
    assert lookups == (LOOKUPS[BY_ID[logical_id].engine.name] if alternating else set())
    for action in lookups:  # read-only, on the account (see templates/generate.py)
        assert [(c, s["Resource"]) for c, s in by_action[action]] == [(admin_condition, "*")]

    assert set(by_action) - lookups <= {
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecretVersionStage",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "ec2:CreateNetworkInterface",
        "ec2:DescribeNetworkInterfaces",
        "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses",
        "ec2:UnassignPrivateIpAddresses",
    }
    assert role["Properties"]["PermissionsBoundary"] == {
        "Fn::If": [
            "HasPermissionsBoundary",
            {"Ref": "PermissionsBoundaryArn"},
            {"Ref": "AWS::NoValue"},
        ]
    }


def test_no_role_has_wildcard_actions(translated: dict[str, Any]) -> None:
    for name, role in _resources(translated, "AWS::IAM::Role").items():
        for _, statement in _statements(role):
            assert all("*" not in a for a in _actions(statement)), name
        admin = any(s.get("Resource") == {"Ref": "AdminSecretArns"} for _, s in _statements(role))
        fn = BY_ID[name.removesuffix("Role")]
        assert admin == (fn.alternating or fn.dual), name


def test_invoke_permissions_log_groups_and_outputs(translated: dict[str, Any]) -> None:
    resources = translated["Resources"]
    for logical_id, fn in BY_ID.items():
        permission = resources[f"{logical_id}InvokePermission"]
        assert permission["Condition"] == fn.condition
        assert permission["Properties"] == {
            "FunctionName": {"Fn::GetAtt": [logical_id, "Arn"]},
            "Action": "lambda:InvokeFunction",
            "Principal": "secretsmanager.amazonaws.com",
            "SourceAccount": {"Ref": "AWS::AccountId"},
        }
        log_group = resources[f"{logical_id}LogGroup"]
        assert log_group["Condition"] == fn.condition
        assert log_group["Properties"] == {
            "LogGroupName": {"Fn::Sub": f"/aws/lambda/${{{logical_id}}}"},
            "RetentionInDays": {"Ref": "LogRetentionInDays"},
        }
        output = translated["Outputs"][f"{logical_id}Arn"]
        assert output["Value"] == {"Fn::GetAtt": [logical_id, "Arn"]}
        assert output["Condition"] == fn.condition


def test_environment_variables(translated: dict[str, Any]) -> None:
    function = translated["Resources"][SINGLE]
    variables = function["Properties"]["Environment"]["Variables"]
    assert set(variables) == {
        "SECRETS_MANAGER_ENDPOINT",
        "EXCLUDE_CHARACTERS",
        "PASSWORD_LENGTH",
        "EXCLUDE_NUMBERS",
        "EXCLUDE_PUNCTUATION",
        "EXCLUDE_UPPERCASE",
        "EXCLUDE_LOWERCASE",
        "REQUIRE_EACH_INCLUDED_TYPE",
        "ROTATION_CONNECT_TIMEOUT",
        "ROTATION_TLS_CA_FILE",
        "ROTATION_TLS_ALLOW_PLAINTEXT_FALLBACK",
        "POWERTOOLS_SERVICE_NAME",
        "POWERTOOLS_METRICS_NAMESPACE",
        "POWERTOOLS_LOG_LEVEL",
    }
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "SecretsRotation"
    # Unset rather than empty when not given, so each engine's default applies.
    assert variables["EXCLUDE_CHARACTERS"]["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    assert variables["PASSWORD_LENGTH"]["Fn::If"][2] == {"Ref": "AWS::NoValue"}
    assert function["Properties"]["VpcConfig"]["Fn::If"][0] == "HasVpc"


# --- which functions a parameter choice deploys -------------------------------------------------


def _evaluate(node: Any, parameters: dict[str, Any], conditions: dict[str, Any]) -> Any:
    """Evaluate the intrinsic functions the Conditions section uses."""
    if isinstance(node, list):
        return [_evaluate(item, parameters, conditions) for item in node]
    if not isinstance(node, dict):
        return node
    [(key, value)] = node.items()
    if key == "Ref":
        return parameters[value]
    if key == "Condition":
        return _evaluate(conditions[value], parameters, conditions)
    args = _evaluate(value, parameters, conditions)
    if key == "Fn::Equals":
        return args[0] == args[1]
    if key == "Fn::Not":
        return not args[0]
    if key == "Fn::And":
        return all(args)
    if key == "Fn::Or":
        return any(args)
    if key == "Fn::Join":
        return args[0].join(args[1])
    if key == "Fn::Split":
        return args[1].split(args[0])
    if key == "Fn::Sub":
        return re.sub(r"\$\{(\w+)\}", lambda m: str(parameters[m.group(1)]), args)
    raise AssertionError(f"unexpected {key}")


def _conditions_true(**chosen: Any) -> set[str]:
    """Return the template's conditions that hold for the defaults and the chosen parameters."""
    template = load_yaml(ROOT / "template.yaml")
    parameters = {name: p.get("Default") for name, p in template["Parameters"].items()}
    for name, p in template["Parameters"].items():
        if p["Type"] == "CommaDelimitedList":
            parameters[name] = [s.strip() for s in str(p.get("Default", "")).split(",")]
    parameters.update(chosen)
    pattern = template["Parameters"]["Engines"]["AllowedPattern"]
    assert re.fullmatch(pattern, parameters["Engines"]), parameters["Engines"]
    conditions = template["Conditions"]
    return {name for name in conditions if _evaluate(conditions[name], parameters, conditions)}


def _deployed(**chosen: str) -> set[str]:
    true = _conditions_true(**chosen)
    return {fn.logical_id for fn in FUNCTIONS if fn.condition in true}


def test_defaults_deploy_every_single_user_function() -> None:
    assert _deployed() == {fn.logical_id for fn in FUNCTIONS if fn.strategy == "single_user"}


@pytest.mark.parametrize(
    ("engines", "strategies", "expected"),
    [
        ("postgresql", "single-user", {SINGLE}),
        ("postgresql", "alternating-users", {ALTERNATING}),
        ("postgresql", "both", {SINGLE, ALTERNATING}),
        (
            "mysql,redshift",
            "single-user",
            {
                "SecretsManagerRDSMySQLRotationSingleUser",
                "SecretsManagerRedshiftRotationSingleUser",
            },
        ),
        (
            "documentdb",
            "both",
            {"SecretsManagerMongoDBRotationSingleUser", "SecretsManagerMongoDBRotationMultiUser"},
        ),
        ("all", "both", set(BY_ID) - {DUAL}),
    ],
)
def test_engines_and_strategies_select_functions(
    engines: str, strategies: str, expected: set[str]
) -> None:
    assert _deployed(Engines=engines, Strategies=strategies) == expected


def test_mysql_dual_passwords_is_deployed_on_request_only() -> None:
    mysql_single = "SecretsManagerRDSMySQLRotationSingleUser"
    assert _deployed(Engines="mysql", MySQLDualPasswords="true") == {mysql_single, DUAL}
    assert _deployed(Engines="all", Strategies="both", MySQLDualPasswords="true") == set(BY_ID)
    assert _deployed(Engines="mariadb,postgresql", MySQLDualPasswords="true") == {
        "SecretsManagerRDSMariaDBRotationSingleUser",
        SINGLE,
    }


@pytest.mark.parametrize("engines", ["", "postgres", "mysql, mariadb", "all,mysql", "MYSQL"])
def test_engines_pattern_rejects(engines: str) -> None:
    pattern = load_yaml(ROOT / "template.yaml")["Parameters"]["Engines"]["AllowedPattern"]
    assert re.fullmatch(pattern, engines) is None


def test_function_names_fit_with_the_longest_prefix() -> None:
    parameters = load_yaml(ROOT / "template.yaml")["Parameters"]
    longest = int(re.search(r"\{0,(\d+)\}", parameters["FunctionNamePrefix"]["AllowedPattern"])[1])
    assert all(longest + len(fn.logical_id) <= 64 for fn in FUNCTIONS)


# --- the per-engine examples --------------------------------------------------------------------


@pytest.mark.parametrize("engine", generator.ENGINES, ids=lambda e: e.name)
def test_example_files(engine: Any) -> None:
    folder = ROOT / "templates" / engine.name
    ids = {fn.logical_id for fn in FUNCTIONS if fn.engine == engine}
    env = json.loads((folder / "env.json").read_text())
    assert set(env) == ids
    declared = set(
        load_yaml(ROOT / "template.yaml")["Globals"]["Function"]["Environment"]["Variables"]
    )
    for variables in env.values():
        # SAM's --env-vars only sets variables the template declares; the endpoint and the CA
        # file are left to the shell (rotation sandbox's values) and to the built function.
        assert set(variables) <= declared
        assert not {"SECRETS_MANAGER_ENDPOINT", "ROTATION_TLS_CA_FILE"} & set(variables)
    steps = ["createSecret", "setSecret", "testSecret", "finishSecret"]
    for step in steps:
        event = json.loads((folder / "events" / f"{step}.json").read_text())
        # What `rotation sandbox --engine <engine>` creates: the events work against it as they are.
        assert event == {
            "Step": step,
            "SecretId": sandbox.secret_name(engine.name),
            "ClientRequestToken": sandbox.FIRST_TOKEN,
        }
    stack = load_yaml(folder / "stack.yaml")
    schedule = stack["Resources"]["DatabaseSecretRotation"]
    assert schedule["Type"] == "AWS::SecretsManager::RotationSchedule"
    assert set(schedule["Properties"]["RotationRules"]) == {"ScheduleExpression", "Duration"}
    assert schedule["Properties"]["RotationLambdaARN"] == {"Ref": "RotationFunctionArn"}


@pytest.mark.parametrize("engine", generator.ENGINES, ids=lambda e: e.name)
def test_example_secrets_parse(engine: Any) -> None:
    from rotation.core.errors import ConfigurationError
    from rotation.core.registry import engine_class
    from rotation.core.secret import DatabaseSecret

    try:
        facts = engine_class(engine.name)
    except ConfigurationError as exc:
        pytest.skip(f"{exc} yet")
    folder = ROOT / "templates" / engine.name
    single = json.loads((folder / "secret-single-user.json").read_text())
    alternating = json.loads((folder / "secret-alternating-users.json").read_text())
    assert DatabaseSecret.parse(single, facts).masterarn is None
    assert DatabaseSecret.parse(alternating, facts).masterarn
    assert set(alternating) - set(single) == {"masterarn"}


# --- alerts ---------------------------------------------------------------------------------------

METRICS = generator.METRICS
DOCUMENTED_FAILURE_EVENTS = {"RotationFailed", "RotationAbandoned", "TestRotationFailed"}
# The RotationFailed entry of the Secrets Manager User Guide ("AWS CloudTrail entries for Secrets
# Manager", https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html),
# the fields EventBridge puts under "detail" of an "AWS Service Event via CloudTrail" event
# (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html).
DOCUMENTED_ROTATION_FAILED = {
    "eventVersion": "1.08",
    "userIdentity": {"accountId": "123456789012", "invokedBy": "secretsmanager.amazonaws.com"},
    "eventTime": "2022-09-13T02:17:48Z",
    "eventSource": "secretsmanager.amazonaws.com",
    "eventName": "RotationFailed",
    "awsRegion": "us-east-2",
    "sourceIPAddress": "secretsmanager.amazonaws.com",
    "userAgent": "secretsmanager.amazonaws.com",
    "errorMessage": "Error when executing lambda arn:aws:lambda:us-east-2:123456789012:function:"
    "SecretsManagertest-alternating-users-rotation2 during setSecret step",
    "requestParameters": None,
    "responseElements": None,
    "additionalEventData": {
        "SecretId": "arn:aws:secretsmanager:us-east-2:123456789012:secret:MyDatabaseSecret-a1b2c3"
    },
    "eventType": "AwsServiceEvent",
    "managementEvent": True,
    "recipientAccountId": "123456789012",
    "eventCategory": "Management",
}


def _eventbridge_event(detail: dict[str, Any], detail_type: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": detail_type,
        "source": "aws.secretsmanager",
        "account": "123456789012",
        "time": detail["eventTime"],
        "region": detail["awsRegion"],
        "resources": [],
        "detail": detail,
    }


def _resolve(node: Any, values: dict[str, str]) -> Any:
    """Replace Fn::Sub strings and Refs with the given parameter and pseudo-parameter values."""
    if isinstance(node, list):
        return [_resolve(item, values) for item in node]
    if isinstance(node, dict):
        if set(node) == {"Fn::Sub"}:
            return re.sub(r"\$\{([\w:]+)\}", lambda m: values[m.group(1)], node["Fn::Sub"])
        if set(node) == {"Ref"}:
            return values[node["Ref"]]
        return {key: _resolve(value, values) for key, value in node.items()}
    return node


def _rule_matches(translated: dict[str, Any], event: dict[str, Any], prefix: str) -> bool:
    """Tell whether the deployed rule (in us-east-2 of 123456789012) matches an event.

    The matching is moto's implementation of EventBridge patterns, not ours.
    """
    from moto.events.models import EventPattern

    pattern = translated["Resources"]["RotationFailureRule"]["Properties"]["EventPattern"]
    values = {"AWS::Partition": "aws", "AWS::Region": "us-east-2",
              "AWS::AccountId": "123456789012", "AlertSecretNamePrefix": prefix}  # fmt: skip
    return bool(EventPattern.load(json.dumps(_resolve(pattern, values))).matches_event(event))


def test_rotation_failure_rule_pattern(translated: dict[str, Any]) -> None:
    rule = translated["Resources"]["RotationFailureRule"]
    assert rule["Condition"] == "RotationFailureAlertsOn"
    pattern = rule["Properties"]["EventPattern"]
    assert pattern == {
        "source": ["aws.secretsmanager"],
        "detail-type": ["AWS Service Event via CloudTrail"],
        "detail": {
            "eventSource": ["secretsmanager.amazonaws.com"],
            "eventName": list(generator.ROTATION_FAILURE_EVENTS),
            "additionalEventData": {
                "SecretId": [
                    {
                        "prefix": {
                            "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:"
                            "${AWS::AccountId}:secret:${AlertSecretNamePrefix}"
                        }
                    }
                ]
            },
        },
    }
    assert set(generator.ROTATION_FAILURE_EVENTS) == DOCUMENTED_FAILURE_EVENTS
    assert rule["Properties"]["Targets"] == [
        {"Id": "alert-topic", "Arn": {"Fn::If": ["HasAlertTopicArn", {"Ref": "AlertTopicArn"},
                                                 {"Ref": "AlertTopic"}]}}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "prefix", "detail_type", "matches"),
    [
        ("RotationFailed", "", "AWS Service Event via CloudTrail", True),
        ("RotationFailed", "MyDatabase", "AWS Service Event via CloudTrail", True),
        ("RotationFailed", "prod/", "AWS Service Event via CloudTrail", False),
        ("RotationAbandoned", "MyDatabase", "AWS Service Event via CloudTrail", True),
        ("TestRotationFailed", "", "AWS Service Event via CloudTrail", True),
        ("RotationSucceeded", "", "AWS Service Event via CloudTrail", False),
        ("RotationStarted", "", "AWS Service Event via CloudTrail", False),
        ("RotationFailed", "", "AWS API Call via CloudTrail", False),
    ],
)
def test_rotation_failure_rule_matches_the_documented_events(
    translated: dict[str, Any], name: str, prefix: str, detail_type: str, matches: bool
) -> None:
    detail = {**DOCUMENTED_ROTATION_FAILED, "eventName": name}
    event = _eventbridge_event(detail, detail_type)
    assert _rule_matches(translated, event, prefix) is matches


def test_rotation_failure_rule_ignores_other_accounts_and_regions(
    translated: dict[str, Any],
) -> None:
    for arn in (
        "arn:aws:secretsmanager:us-east-2:999999999999:secret:MyDatabaseSecret-a1b2c3",
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:MyDatabaseSecret-a1b2c3",
    ):
        detail = {**DOCUMENTED_ROTATION_FAILED, "additionalEventData": {"SecretId": arn}}
        event = _eventbridge_event(detail, "AWS Service Event via CloudTrail")
        assert not _rule_matches(translated, event, "")


ALERT_TOPIC = {"Fn::If": ["HasAlertTopicArn", {"Ref": "AlertTopicArn"}, {"Ref": "AlertTopic"}]}


@pytest.mark.parametrize("logical_id", [fn.logical_id for fn in FUNCTIONS])
def test_each_function_has_its_two_alarms(translated: dict[str, Any], logical_id: str) -> None:
    fn = BY_ID[logical_id]
    resources = translated["Resources"]
    step_failed = resources[fn.step_failed_alarm]
    assert step_failed["Type"] == "AWS::CloudWatch::Alarm"
    assert step_failed["Condition"] == fn.step_failed_alarm
    properties = step_failed["Properties"]
    assert properties["Namespace"] == METRICS.NAMESPACE
    assert properties["MetricName"] == METRICS.STEP_FAILED
    assert [d["Name"] for d in properties["Dimensions"]] == list(METRICS.FUNCTION_DIMENSIONS)
    assert {d["Name"]: d["Value"] for d in properties["Dimensions"]} == {
        "function": {"Ref": logical_id},
        "service": METRICS.SERVICE,
    }
    errors = resources[fn.errors_alarm]
    assert errors["Condition"] == fn.errors_alarm
    assert errors["Properties"]["Namespace"] == "AWS/Lambda"
    assert errors["Properties"]["MetricName"] == "Errors"
    assert errors["Properties"]["Dimensions"] == [{"Name": "FunctionName",
                                                   "Value": {"Ref": logical_id}}]  # fmt: skip
    for alarm in (properties, errors["Properties"]):
        assert alarm["TreatMissingData"] == "notBreaching"
        assert alarm["AlarmActions"] == [ALERT_TOPIC]
        assert (alarm["Statistic"], alarm["Threshold"]) == ("Sum", 1)
        assert alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        # The topic policy lets CloudWatch publish for alarms named like these.
        assert alarm["AlarmName"]["Fn::Sub"].startswith("${FunctionNamePrefix}SecretsManager")


def test_step_failed_alarm_watches_what_the_handler_emits(
    translated: dict[str, Any],
    client: Any,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Run a failing rotation as the deployed function would; the alarm's metric must be in it."""
    from rotation.core.config import Settings
    from rotation.core.errors import LoginFailedError
    from rotation.local import driver
    from rotation.testing.fake import FakeDatabase, FakeDatabaseHandler

    parameters = {name: str(p.get("Default", "")) for name, p in
                  load_yaml(ROOT / "template.yaml")["Parameters"].items()}  # fmt: skip
    function = translated["Resources"][SINGLE]
    function_name = _resolve(function["Properties"]["FunctionName"], parameters)
    monkeypatch.setenv(METRICS.FUNCTION_NAME_VARIABLE, function_name)
    db = FakeDatabase()
    db.add_user("app", "The-password-1")
    value = {"engine": "fake", "host": db.host, "port": db.port, "username": "app",
             "password": "Not-the-password-1"}  # fmt: skip
    arn = client.create_secret(Name="app", SecretString=json.dumps(value))["ARN"]
    handler = FakeDatabaseHandler(strategy="single", settings=Settings(), client=client,
                                  database=db)  # fmt: skip
    with pytest.raises(LoginFailedError):
        driver.rotate(handler, client, arn)
    documents = [json.loads(line) for line in capfd.readouterr().out.splitlines()
                 if line.startswith('{"_aws"')]  # fmt: skip

    alarm = translated["Resources"][f"{SINGLE}StepFailedAlarm"]["Properties"]
    wanted = {d["Name"]: _resolve(d["Value"], {SINGLE: function_name, **parameters})
              for d in alarm["Dimensions"]}  # fmt: skip
    matching = [
        document
        for document in documents
        for directive in document["_aws"]["CloudWatchMetrics"]
        if directive["Namespace"] == alarm["Namespace"]
        and alarm["MetricName"] in [m["Name"] for m in directive["Metrics"]]
        # CloudWatch matches a metric on its exact dimension set.
        and sorted(wanted) in [sorted(dimensions) for dimensions in directive["Dimensions"]]
        and all(document.get(name) == value for name, value in wanted.items())
    ]
    assert len(matching) == 1, documents
    assert matching[0][METRICS.STEP_FAILED] == [1.0]


def _alert_resources(**chosen: Any) -> set[str]:
    """Return the alert resources a parameter choice deploys."""
    template = load_yaml(ROOT / "template.yaml")
    true = _conditions_true(**chosen)
    kinds = {"AWS::CloudWatch::Alarm", "AWS::Events::Rule", "AWS::SNS::Topic",
             "AWS::SNS::TopicPolicy", "AWS::SNS::Subscription"}  # fmt: skip
    return {
        name
        for name, resource in template["Resources"].items()
        if resource["Type"] in kinds and resource.get("Condition") in true
    }


def test_alerts_are_on_by_default() -> None:
    # The defaults deploy the single-user functions (Strategies=single-user, no dual passwords).
    deployed = {fn for fn in FUNCTIONS if fn.strategy == "single_user"}
    alarms = {a for fn in deployed for a in (fn.step_failed_alarm, fn.errors_alarm)}
    assert _alert_resources() == alarms | {"RotationFailureRule", "AlertTopic", "AlertTopicPolicy"}


CREATED_TOPIC = {"AlertTopic", "AlertTopicPolicy"}


@pytest.mark.parametrize(
    ("chosen", "topic"),
    [
        ({}, CREATED_TOPIC),
        ({"AlertEmail": "ops@example.com"}, CREATED_TOPIC | {"AlertEmailSubscription"}),
        ({"AlertTopicArn": "arn:aws:sns:us-east-1:123456789012:ops"}, set()),
        ({"AlertTopicArn": "arn:aws:sns:us-east-1:123456789012:ops",
          "AlertEmail": "ops@example.com"}, set()),
        ({"RotationFailureAlerts": "false", "StepFailedAlarms": "false",
          "FunctionErrorAlarms": "false", "AlertEmail": "ops@example.com"}, set()),
        ({"RotationFailureAlerts": "false", "StepFailedAlarms": "false"}, CREATED_TOPIC),
    ],
)  # fmt: skip
def test_alert_switches(chosen: dict[str, str], topic: set[str]) -> None:
    deployed = _alert_resources(Engines="postgresql", **chosen)
    assert deployed & {"AlertTopic", "AlertTopicPolicy", "AlertEmailSubscription"} == topic
    rule = chosen.get("RotationFailureAlerts") != "false"
    assert ("RotationFailureRule" in deployed) is rule
    assert (f"{SINGLE}StepFailedAlarm" in deployed) is (chosen.get("StepFailedAlarms") != "false")
    assert (f"{SINGLE}ErrorsAlarm" in deployed) is (chosen.get("FunctionErrorAlarms") != "false")
    assert not any("MultiUser" in name for name in deployed)  # only deployed functions


def test_alert_topic_policy_lets_the_rule_and_the_alarms_publish(
    translated: dict[str, Any],
) -> None:
    policy = translated["Resources"]["AlertTopicPolicy"]
    assert policy["Condition"] == "CreateAlertTopic"
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    condition, rule_statement, otherwise = statements[0]["Fn::If"]
    assert (condition, otherwise) == ("RotationFailureAlertsOn", {"Ref": "AWS::NoValue"})
    assert rule_statement["Principal"] == {"Service": "events.amazonaws.com"}
    assert rule_statement["Action"] == "sns:Publish"
    assert rule_statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Fn::GetAtt": ["RotationFailureRule", "Arn"]}}
    }
    alarms = statements[1]
    assert alarms["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert alarms["Action"] == "sns:Publish"
    pattern = alarms["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Sub"]
    assert pattern.endswith(":alarm:${FunctionNamePrefix}SecretsManager*")
    assert translated["Outputs"]["AlertTopic"]["Value"] == ALERT_TOPIC


def test_template_environment_names_the_metrics_namespace_and_service(
    translated: dict[str, Any],
) -> None:
    variables = translated["Resources"][SINGLE]["Properties"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_METRICS_NAMESPACE"] == METRICS.NAMESPACE
    assert variables["POWERTOOLS_SERVICE_NAME"] == METRICS.SERVICE
