# ruff: noqa: E501 -- the long lines are YAML (ARNs, conditions) this script writes verbatim.
"""Generate the SAM template pack: ``template.yaml`` and the per-engine examples in ``templates/``.

CloudFormation has no loops that ``sam build`` and ``aws-sam-translator`` both understand, and
15 functions x (function, role, log group, permission, output) is ~1,600 lines that must stay
identical but for names. So the YAML is written from the table below; a test fails when the
committed files differ from what this script writes.

Usage::

    python templates/generate.py           # (re)write the files
    python templates/generate.py --check   # exit 1 when a file is out of date
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


def _load(*parts: str) -> ModuleType:
    """Load a stdlib-only module of rotation/ by path: any Python runs this script, rotation installed or not."""
    path = ROOT.joinpath("rotation", *parts)
    spec = importlib.util.spec_from_file_location(f"rotation_{path.stem}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The metric names and dimension sets the handler emits: the alarms must match them exactly.
METRICS = _load("core", "metrics.py")
# The role's trust policy and core grants, and the invoke permission, shared with init-service.
ROLE = _load("cli", "function_role.py")

# The CloudTrail entries Secrets Manager writes when a rotation does not complete, delivered to
# EventBridge with detail-type "AWS Service Event via CloudTrail" (eventType AwsServiceEvent):
# https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html
# https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html
ROTATION_FAILURE_EVENTS = ("RotationFailed", "RotationAbandoned", "TestRotationFailed")


@dataclass(frozen=True)
class Engine:
    """One engine module and the facts the examples need."""

    name: str  # module in rotation/engines and pip extra
    aws_name: str  # the middle of the AWS template's name
    display: str
    driver: str  # import name of its one driver
    secret_engine: str  # "engine" value in the secret JSON
    port: int
    dbname: str | None
    ssl: bool
    exclude_characters: str  # the engine's default, for the example secret's generated password
    password_length: int
    # The strategies it has functions for (MySQL adds dual passwords, which MariaDB lacks).
    strategies: tuple[str, ...] = ("single_user", "alternating_users")


ENGINES: tuple[Engine, ...] = (
    Engine(
        "postgresql",
        "RDSPostgreSQL",
        "PostgreSQL",
        "psycopg2",
        "postgres",
        5432,
        "postgres",
        True,
        "/@\"'\\:",
        32,
    ),
    Engine(
        "mysql",
        "RDSMySQL",
        "MySQL",
        "pymysql",
        "mysql",
        3306,
        None,
        True,
        "/@\"'\\",
        32,
        ("single_user", "alternating_users", "dual_passwords"),
    ),
    Engine(
        "mariadb", "RDSMariaDB", "MariaDB", "pymysql", "mariadb", 3306, None, True, "/@\"'\\", 32
    ),
    Engine(
        "oracle", "RDSOracle", "Oracle", "oracledb", "oracle", 1521, "ORCL", False, "/@\"'\\", 30
    ),
    Engine(
        "sqlserver",
        "RDSSQLServer",
        "SQL Server",
        "pymssql",
        "sqlserver",
        1433,
        "master",
        True,
        "/@\"'\\",
        32,
    ),
    Engine(
        "documentdb",
        "MongoDB",
        "DocumentDB",
        "pymongo",
        "mongo",
        27017,
        "admin",
        True,
        "/@\"'\\",
        32,
    ),
    Engine(
        "redshift",
        "Redshift",
        "Redshift",
        "psycopg2",
        "redshift",
        5439,
        "dev",
        True,
        "/@\"'\\:",
        32,
    ),
)

# strategy (handler prefix) -> (AWS template suffix, words). DualPasswords has no AWS template:
# single user whose previous password keeps working until the next rotation (MySQL 8.0.14+).
STRATEGIES: dict[str, tuple[str, str]] = {
    "single_user": ("SingleUser", "single user"),
    "alternating_users": ("MultiUser", "alternating users"),
    "dual_passwords": ("DualPasswords", "dual-password single user (previous one retained)"),
}

DRIVERS = ("psycopg2", "pymysql", "oracledb", "pymssql", "pymongo")


@dataclass(frozen=True)
class Function:
    """One Lambda function of the pack."""

    engine: Engine
    strategy: str

    @property
    def logical_id(self) -> str:
        """The AWS rotation template's name, so users recognise what this replaces."""
        return f"SecretsManager{self.engine.aws_name}Rotation{STRATEGIES[self.strategy][0]}"

    @property
    def handler(self) -> str:
        """The Lambda handler path."""
        return f"rotation.engines.{self.engine.name}.{self.strategy}_handler"

    @property
    def alternating(self) -> bool:
        """True for the alternating users strategy."""
        return self.strategy == "alternating_users"

    @property
    def dual(self) -> bool:
        """True for the dual passwords (retain previous) strategy."""
        return self.strategy == "dual_passwords"

    @property
    def condition(self) -> str:
        """The name of the condition that deploys this function."""
        return f"Deploy{self.logical_id}"

    @property
    def step_failed_alarm(self) -> str:
        """The logical id (and condition name) of the alarm on this function's failed steps."""
        return f"{self.logical_id}StepFailedAlarm"

    @property
    def errors_alarm(self) -> str:
        """The logical id (and condition name) of the alarm on this function's Lambda errors."""
        return f"{self.logical_id}ErrorsAlarm"

    @property
    def strategy_condition(self) -> str:
        """The name of the condition of the strategy parameters that this function needs."""
        if self.dual:
            return "DualPasswords"
        return "AlternatingUsers" if self.alternating else "SingleUser"


FUNCTIONS: tuple[Function, ...] = tuple(
    Function(engine, strategy)
    for engine in ENGINES
    for strategy in STRATEGIES
    if strategy in engine.strategies
)

# Longest logical id is 44 characters; Lambda names may have 64.
MAX_PREFIX = 64 - max(len(f.logical_id) for f in FUNCTIONS)

LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip

ENGINE_PATTERN = "^(all|({names})(,({names}))*)$".format(names="|".join(e.name for e in ENGINES))


def _header() -> str:
    failure_events = ", ".join(ROTATION_FAILURE_EVENTS)
    engines = ", ".join(e.name for e in ENGINES)
    retention = ", ".join(str(d) for d in LOG_RETENTION_DAYS)
    return f"""\
# GENERATED by templates/generate.py -- edit that script, then run `make sam-templates`.
#
# The rotation function pack: one Lambda function per engine x strategy, each a drop-in
# replacement for the AWS rotation template of the same name (MultiUser = alternating users;
# MySQL's DualPasswords has no AWS counterpart).
# Deploy only what you need with the Engines and Strategies parameters: the other functions,
# their roles, log groups and permissions are not created.
#
# Build without Docker: `make build` (SAM_RUNTIME / SAM_ARCH select the wheels; they must match
# the PythonRuntime / Architecture parameters you deploy with -- `make build` pins them in the
# built template so `sam deploy` cannot disagree).
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Description: >-
  Secrets Manager rotation functions (rotation package): PostgreSQL, MySQL, MariaDB, Oracle,
  SQL Server, DocumentDB and Redshift, single user and alternating users; MySQL also dual
  passwords (single user whose previous password keeps working until the next rotation).

Metadata:
  AWS::CloudFormation::Interface:
    ParameterGroups:
      - Label: {{default: Which functions}}
        Parameters: [Engines, Strategies, MySQLDualPasswords, FunctionNamePrefix]
      - Label: {{default: Runtime}}
        Parameters: [PythonRuntime, Architecture, LogRetentionInDays, LogLevel, PermissionsBoundaryArn]
      - Label: {{default: Network}}
        Parameters: [SubnetIds, SecurityGroupIds, SecretsManagerEndpoint, ConnectTimeout]
      - Label: {{default: Secrets and keys}}
        Parameters: [SecretsKmsKeyArn, AdminSecretArns, AdminSecretKmsKeyArn]
      - Label: {{default: TLS}}
        Parameters: [CaBundleFile, CaBundleLayerArn, AllowPlaintextFallback]
      - Label: {{default: Alerts}}
        Parameters:
          - RotationFailureAlerts
          - StepFailedAlarms
          - FunctionErrorAlarms
          - AlertTopicArn
          - AlertEmail
          - AlertSecretNamePrefix
      - Label: {{default: Password policy}}
        Parameters:
          - ExcludeCharacters
          - PasswordLength
          - ExcludeNumbers
          - ExcludePunctuation
          - ExcludeUppercase
          - ExcludeLowercase
          - RequireEachIncludedType

Parameters:
  Engines:
    Type: String
    Default: all
    AllowedPattern: "{ENGINE_PATTERN}"
    ConstraintDescription: all, or a comma-separated list (no spaces) of {engines}
    Description: >-
      Engines to deploy functions for: all, or a comma-separated list (no spaces) of
      {engines}.
  Strategies:
    Type: String
    Default: single-user
    AllowedValues: [single-user, alternating-users, both]
    Description: >-
      single-user (the user changes its own password), alternating-users (an admin secret
      alternates two users; needs AdminSecretArns) or both.
  MySQLDualPasswords:
    Type: String
    Default: "false"
    AllowedValues: ["true", "false"]
    Description: >-
      true: also deploy SecretsManagerRDSMySQLRotationDualPasswords (when Engines includes mysql):
      single user on MySQL 8.0.14+ dual passwords, where the previous password keeps working
      until the next rotation (RETAIN CURRENT PASSWORD). The user needs
      APPLICATION_PASSWORD_ADMIN, or its secret names an admin in masterarn (then list the admin
      secrets in AdminSecretArns); without either it rotates as single user, with a warning.
  FunctionNamePrefix:
    Type: String
    Default: rotation-
    AllowedPattern: "^[A-Za-z0-9_-]{{0,{MAX_PREFIX}}}$"
    ConstraintDescription: up to {MAX_PREFIX} letters, digits, hyphens or underscores
    Description: >-
      Prefix of every function name (the rest is the AWS template's name, e.g.
      SecretsManagerRDSPostgreSQLRotationSingleUser). Use a different prefix per stack in the
      same account and region.
  PythonRuntime:
    Type: String
    Default: python3.13
    AllowedValues: [python3.12, python3.13, python3.14]
    Description: Lambda Python runtime. Build with the same version (make build SAM_RUNTIME=...).
  Architecture:
    Type: String
    Default: x86_64
    AllowedValues: [x86_64, arm64]
    Description: Instruction set. Build with the same one (make build SAM_ARCH=...).
  SubnetIds:
    Type: CommaDelimitedList
    Default: ""
    Description: >-
      Subnets for the functions (comma-separated), when the databases are in a VPC. Empty: no
      VPC. The subnets need a route to Secrets Manager (NAT or an interface endpoint).
  SecurityGroupIds:
    Type: CommaDelimitedList
    Default: ""
    Description: >-
      Security groups for the functions (comma-separated); required with SubnetIds. They must
      reach the databases and Secrets Manager (HTTPS).
  SecretsManagerEndpoint:
    Type: String
    Default: ""
    Description: >-
      Secrets Manager endpoint URL (SECRETS_MANAGER_ENDPOINT), e.g. a VPC endpoint's DNS name
      with https://. Empty: the regional endpoint.
  SecretsKmsKeyArn:
    Type: String
    Default: ""
    AllowedPattern: "^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{{12}}:key/[A-Za-z0-9-]+)?$"
    Description: >-
      ARN of the customer managed KMS key that encrypts the rotated secrets. Empty: the secrets
      use aws/secretsmanager and no KMS permission is granted.
  AdminSecretArns:
    Type: CommaDelimitedList
    Default: ""
    Description: >-
      Alternating users (and MySQL dual passwords with masterarn): ARNs of the admin (master)
      secrets named by the rotated secrets' masterarn key (comma-separated; a trailing -?????? or
      * matches the random suffix). Required when Strategies is alternating-users or both.
  AdminSecretKmsKeyArn:
    Type: String
    Default: ""
    AllowedPattern: "^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{{12}}:key/[A-Za-z0-9-]+)?$"
    Description: >-
      Alternating users only: ARN of the customer managed KMS key that encrypts the admin
      secrets (for RDS-managed master secrets, the key you chose for them). Empty: none.
  CaBundleFile:
    Type: String
    Default: ""
    Description: >-
      Path, inside the function, of another PEM CA bundle that verifies the databases' TLS
      certificates (ROTATION_TLS_CA_FILE), e.g. /opt/<path in the layer>. Empty: the bundle
      make build puts into every function (/var/task/certs/ca-bundle.pem: the RDS global
      bundle and the Amazon Trust Services roots, or what CA_BUNDLE named).
  CaBundleLayerArn:
    Type: String
    Default: ""
    Description: Optional ARN (with version) of a Lambda layer that holds the CA bundle.
  AllowPlaintextFallback:
    Type: String
    Default: "false"
    AllowedValues: ["true", "false"]
    Description: >-
      ROTATION_TLS_ALLOW_PLAINTEXT_FALLBACK: when a secret has no ssl key and TLS fails, retry
      without TLS (logged as a warning). Keep false.
  ConnectTimeout:
    Type: Number
    Default: 5
    MinValue: 1
    MaxValue: 60
    Description: Seconds allowed for each database connection (ROTATION_CONNECT_TIMEOUT).
  ExcludeCharacters:
    Type: String
    Default: ""
    Description: >-
      Characters never used in generated passwords (EXCLUDE_CHARACTERS). Empty: the engine's
      default, as in the AWS templates (/@"'\\ and, for PostgreSQL and Redshift, the colon).
  PasswordLength:
    Type: String
    Default: ""
    AllowedPattern: "^([1-9][0-9]{{0,3}})?$"
    Description: Length of generated passwords (PASSWORD_LENGTH). Empty = 32 (Oracle 30).
  ExcludeNumbers:
    Type: String
    Default: "false"
    AllowedValues: ["true", "false"]
    Description: EXCLUDE_NUMBERS
  ExcludePunctuation:
    Type: String
    Default: "false"
    AllowedValues: ["true", "false"]
    Description: EXCLUDE_PUNCTUATION
  ExcludeUppercase:
    Type: String
    Default: "false"
    AllowedValues: ["true", "false"]
    Description: EXCLUDE_UPPERCASE
  ExcludeLowercase:
    Type: String
    Default: "false"
    AllowedValues: ["true", "false"]
    Description: EXCLUDE_LOWERCASE
  RequireEachIncludedType:
    Type: String
    Default: "true"
    AllowedValues: ["true", "false"]
    Description: REQUIRE_EACH_INCLUDED_TYPE
  LogRetentionInDays:
    Type: Number
    Default: 90
    AllowedValues: [{retention}]
    Description: Days the functions' logs are kept.
  LogLevel:
    Type: String
    Default: INFO
    AllowedValues: [DEBUG, INFO, WARNING, ERROR]
    Description: POWERTOOLS_LOG_LEVEL
  PermissionsBoundaryArn:
    Type: String
    Default: ""
    AllowedPattern: "^(arn:aws[a-z-]*:iam::[0-9]{{12}}:policy/.+)?$"
    Description: ARN of the IAM policy set as permissions boundary of every role (empty for none).
  RotationFailureAlerts:
    Type: String
    Default: "true"
    AllowedValues: ["true", "false"]
    Description: >-
      An EventBridge rule that sends Secrets Manager's {failure_events}
      events of the secrets named by AlertSecretNamePrefix to the alert topic.
  StepFailedAlarms:
    Type: String
    Default: "true"
    AllowedValues: ["true", "false"]
    Description: >-
      A CloudWatch alarm per function on its {METRICS.STEP_FAILED} metric (namespace
      {METRICS.NAMESPACE}): a rotation step raised.
  FunctionErrorAlarms:
    Type: String
    Default: "true"
    AllowedValues: ["true", "false"]
    Description: A CloudWatch alarm per function on its AWS/Lambda Errors metric.
  AlertTopicArn:
    Type: String
    Default: ""
    AllowedPattern: "^(arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{{12}}:[A-Za-z0-9_-]{{1,256}})?$"
    Description: >-
      An existing SNS topic for the alerts; its policy must let events.amazonaws.com and
      cloudwatch.amazonaws.com publish. Empty: the stack creates one.
  AlertEmail:
    Type: String
    Default: ""
    AllowedPattern: "^([^@ ]+@[^@ ]+)?$"
    Description: >-
      E-mail address subscribed to the topic the stack creates (confirm the e-mail SNS sends).
      Empty: no subscription.
  AlertSecretNamePrefix:
    Type: String
    Default: ""
    AllowedPattern: "^[A-Za-z0-9/_+=.@-]*$"
    Description: >-
      Rotation failure alerts only for secrets whose name starts with this (e.g. prod/db/).
      Empty: every secret of this account and region. The events name the secret, not the
      function, so this is how the rule is scoped to the secrets these functions rotate.

Rules:
  AlternatingUsersNeedAdminSecrets:
    RuleCondition: !Not [!Equals [!Ref Strategies, single-user]]
    Assertions:
      - Assert: !Not [!Contains [!Ref AdminSecretArns, ""]]
        AssertDescription: alternating users functions need AdminSecretArns (no empty entry)
  SubnetsNeedSecurityGroups:
    RuleCondition: !Not [!Contains [!Ref SubnetIds, ""]]
    Assertions:
      - Assert: !Not [!Contains [!Ref SecurityGroupIds, ""]]
        AssertDescription: SubnetIds needs SecurityGroupIds too
  SecurityGroupsNeedSubnets:
    RuleCondition: !Not [!Contains [!Ref SecurityGroupIds, ""]]
    Assertions:
      - Assert: !Not [!Contains [!Ref SubnetIds, ""]]
        AssertDescription: SecurityGroupIds needs SubnetIds too

"""


def _conditions() -> str:
    lines = [
        "Conditions:",
        '  HasVpc: !Not [!Equals [!Join ["", !Ref SubnetIds], ""]]',
        '  HasEndpoint: !Not [!Equals [!Ref SecretsManagerEndpoint, ""]]',
        '  HasSecretsKmsKey: !Not [!Equals [!Ref SecretsKmsKeyArn, ""]]',
        '  HasAdminSecretKmsKey: !Not [!Equals [!Ref AdminSecretKmsKeyArn, ""]]',
        '  HasCaBundle: !Not [!Equals [!Ref CaBundleFile, ""]]',
        '  HasCaBundleLayer: !Not [!Equals [!Ref CaBundleLayerArn, ""]]',
        '  HasExcludeCharacters: !Not [!Equals [!Ref ExcludeCharacters, ""]]',
        '  HasPasswordLength: !Not [!Equals [!Ref PasswordLength, ""]]',
        '  HasPermissionsBoundary: !Not [!Equals [!Ref PermissionsBoundaryArn, ""]]',
        '  HasAdminSecrets: !Not [!Equals [!Join ["", !Ref AdminSecretArns], ""]]',
        "  SingleUser: !Not [!Equals [!Ref Strategies, alternating-users]]",
        "  AlternatingUsers: !Not [!Equals [!Ref Strategies, single-user]]",
        '  DualPasswords: !Equals [!Ref MySQLDualPasswords, "true"]',
        "  # Engines is a validated comma-separated list: ',<name>,' occurs in ',<Engines>,'.",
    ]
    for engine in ENGINES:
        lines += [
            f"  Engine{engine.aws_name}: !Or",
            "    - !Equals [!Ref Engines, all]",
            f'    - !Not [!Equals [!Join ["", !Split [",{engine.name},", !Sub ",${{Engines}},"]],'
            ' !Sub ",${Engines},"]]',
        ]
    for fn in FUNCTIONS:
        lines.append(
            f"  {fn.condition}: !And [!Condition Engine{fn.engine.aws_name},"
            f" !Condition {fn.strategy_condition}]"
        )
    lines += [
        "  # Alerts: each part on its own switch; one topic, given or created, for all of them.",
        '  RotationFailureAlertsOn: !Equals [!Ref RotationFailureAlerts, "true"]',
        '  StepFailedAlarmsOn: !Equals [!Ref StepFailedAlarms, "true"]',
        '  FunctionErrorAlarmsOn: !Equals [!Ref FunctionErrorAlarms, "true"]',
        "  AnyAlerts: !Or",
        "    - !Condition RotationFailureAlertsOn",
        "    - !Condition StepFailedAlarmsOn",
        "    - !Condition FunctionErrorAlarmsOn",
        '  HasAlertTopicArn: !Not [!Equals [!Ref AlertTopicArn, ""]]',
        "  CreateAlertTopic: !And [!Condition AnyAlerts, !Not [!Condition HasAlertTopicArn]]",
        '  HasAlertEmail: !And [!Condition CreateAlertTopic, !Not [!Equals [!Ref AlertEmail, ""]]]',
    ]
    for fn in FUNCTIONS:
        lines += [
            f"  {fn.step_failed_alarm}: !And [!Condition {fn.condition}, !Condition StepFailedAlarmsOn]",
            f"  {fn.errors_alarm}: !And [!Condition {fn.condition}, !Condition FunctionErrorAlarmsOn]",
        ]
    return "\n".join(lines) + "\n\n"


GLOBALS = f"""\
Globals:
  Function:
    Runtime: !Ref PythonRuntime
    Architectures: [!Ref Architecture]
    # One rotation step is a few round trips; 30 s as in the AWS templates.
    Timeout: 30
    MemorySize: 256
    Layers: !If [HasCaBundleLayer, [!Ref CaBundleLayerArn], !Ref AWS::NoValue]
    VpcConfig: !If
      - HasVpc
      - SubnetIds: !Ref SubnetIds
        SecurityGroupIds: !Ref SecurityGroupIds
      - !Ref AWS::NoValue
    Environment:
      Variables:
        SECRETS_MANAGER_ENDPOINT: !If [HasEndpoint, !Ref SecretsManagerEndpoint, !Ref AWS::NoValue]
        # Unset (not empty) unless given, so that each engine's own default applies.
        EXCLUDE_CHARACTERS: !If [HasExcludeCharacters, !Ref ExcludeCharacters, !Ref AWS::NoValue]
        PASSWORD_LENGTH: !If [HasPasswordLength, !Ref PasswordLength, !Ref AWS::NoValue]
        EXCLUDE_NUMBERS: !Ref ExcludeNumbers
        EXCLUDE_PUNCTUATION: !Ref ExcludePunctuation
        EXCLUDE_UPPERCASE: !Ref ExcludeUppercase
        EXCLUDE_LOWERCASE: !Ref ExcludeLowercase
        REQUIRE_EACH_INCLUDED_TYPE: !Ref RequireEachIncludedType
        ROTATION_CONNECT_TIMEOUT: !Ref ConnectTimeout
        ROTATION_TLS_CA_FILE: !If [HasCaBundle, !Ref CaBundleFile, !Ref AWS::NoValue]
        ROTATION_TLS_ALLOW_PLAINTEXT_FALLBACK: !Ref AllowPlaintextFallback
        POWERTOOLS_SERVICE_NAME: {METRICS.SERVICE}
        POWERTOOLS_METRICS_NAMESPACE: {METRICS.NAMESPACE}
        POWERTOOLS_LOG_LEVEL: !Ref LogLevel

"""


def _database_lookup(engine: Engine) -> str:
    """Return the policy that locates a managed admin secret's database (read-only calls).

    Describe and List calls on the whole account: their answers are metadata (endpoints,
    engines), the filtered DescribeDBInstances (members of a cluster) is not scoped to one
    resource, and ListNamespaces/ListWorkgroups support no resource types at all.
    """
    if engine.name == "redshift":
        actions = (
            "redshift:DescribeClusters",
            "redshift-serverless:ListNamespaces",
            "redshift-serverless:ListWorkgroups",
        )
    else:
        actions = ("rds:DescribeDBInstances", "rds:DescribeDBClusters")
    listed = "".join(f"\n                  - {action}" for action in actions)
    return f"""\
        # Where the database of an admin secret that RDS or Redshift manages is: its endpoint,
        # port and engine, and the read replicas / reader endpoints that reach a copy of it.
        - PolicyName: managed-database-lookup
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action:{listed}
                Resource: "*"
"""


def _admin_policies(engine: Engine, condition: str) -> str:
    """Return the policies that read the admin secrets, each under ``condition`` if given."""
    read = """\
        # The admin secret named by masterarn: read its current value and (for the secrets RDS
        # and Redshift manage) its tags, which name the database; nothing else.
        - PolicyName: admin-secret
          PolicyDocument:
            Version: "2012-10-17"
            Statement:
              - Effect: Allow
                Action: secretsmanager:GetSecretValue
                Resource: !Ref AdminSecretArns
                Condition:
                  StringEquals:
                    secretsmanager:VersionStage: AWSCURRENT
              - Effect: Allow
                Action: secretsmanager:DescribeSecret
                Resource: !Ref AdminSecretArns
"""
    kms = """\
        - !If
          - HasAdminSecretKmsKey
          - PolicyName: admin-secret-kms
            PolicyDocument:
              Version: "2012-10-17"
              Statement:
                - Effect: Allow
                  Action: kms:Decrypt
                  Resource: !Ref AdminSecretKmsKeyArn
                  Condition:
                    StringEquals:
                      kms:ViaService: !Sub secretsmanager.${AWS::Region}.amazonaws.com
          - !Ref AWS::NoValue
"""
    if not condition:
        return read + _database_lookup(engine) + kms
    # The KMS grant already depends on AdminSecretKmsKeyArn, which is given only with admins.
    return _only_if(condition, read) + _only_if(condition, _database_lookup(engine)) + kms


def _only_if(condition: str, policy: str) -> str:
    """Wrap one ``- PolicyName:`` list item (8-space indent) in ``!If [condition, it, NoValue]``."""
    lines = policy.rstrip("\n").split("\n")
    comments = [line for line in lines if line.lstrip().startswith("#")]
    body = [line for line in lines if not line.lstrip().startswith("#")]
    assert body[0].startswith("        - "), body[0]
    body = ["          - " + body[0][10:]] + ["  " + line for line in body[1:]]
    head = [*comments, "        - !If", f"          - {condition}"]
    return "\n".join([*head, *body, "          - !Ref AWS::NoValue"]) + "\n"


def _function_resources(fn: Function) -> str:
    lid = fn.logical_id
    words = STRATEGIES[fn.strategy][1]
    admin = ""
    if fn.alternating:
        admin = _admin_policies(fn.engine, "")
    elif fn.dual:
        # The admin acts only for secrets that name one in masterarn; none listed, none granted.
        admin = _admin_policies(fn.engine, "HasAdminSecrets")
    origin = "no AWS template has it" if fn.dual else f"drop-in for the AWS template {lid}"
    role_core = ROLE.role_core(f"${{FunctionNamePrefix}}{lid}")
    invoke_permission = ROLE.invoke_permission(lid, fn.condition)
    return f"""\
  {lid}:
    Type: AWS::Serverless::Function
    Condition: {fn.condition}
    Metadata:
      # Built by `make build-{lid}` (templates/sam.mk) in the project root, without Docker.
      BuildMethod: makefile
      ContextPath: .
      WorkingDirectory: .
      # WS1000 (X-Ray tracing): left off on purpose. A rotation is four short invocations that
      # already emit structured logs and EMF metrics per step; tracing would add cost and an
      # xray:Put* grant on every role for no extra insight.
      cfn-lint:
        config:
          ignore_checks: [WS1000]
    Properties:
      FunctionName: !Sub ${{FunctionNamePrefix}}{lid}
      Description: {fn.engine.display} {words} rotation ({origin})
      CodeUri: rotation
      Handler: {fn.handler}
      Role: !GetAtt {lid}Role.Arn

  {lid}LogGroup:
    Type: AWS::Logs::LogGroup
    Condition: {fn.condition}
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      LogGroupName: !Sub /aws/lambda/${{{lid}}}
      RetentionInDays: !Ref LogRetentionInDays

  {lid}Role:
    Type: AWS::IAM::Role
    Condition: {fn.condition}
    Properties:
      Description: !Sub Execution role of ${{FunctionNamePrefix}}{lid}
      PermissionsBoundary: !If [HasPermissionsBoundary, !Ref PermissionsBoundaryArn, !Ref AWS::NoValue]
{role_core}        - !If
          - HasSecretsKmsKey
          - PolicyName: secrets-kms
            PolicyDocument:
              Version: "2012-10-17"
              Statement:
                - Effect: Allow
                  Action: [kms:Decrypt, kms:GenerateDataKey]
                  Resource: !Ref SecretsKmsKeyArn
                  Condition:
                    StringEquals:
                      kms:ViaService: !Sub secretsmanager.${{AWS::Region}}.amazonaws.com
          - !Ref AWS::NoValue
{admin}\
        # Elastic network interfaces, only in a VPC. EC2 cannot scope these to resources
        # (DescribeNetworkInterfaces has no resource type), as in AWSLambdaVPCAccessExecutionRole.
        - !If
          - HasVpc
          - PolicyName: vpc-network-interfaces
            PolicyDocument:
              Version: "2012-10-17"
              Statement:
                - Effect: Allow
                  Action:
                    - ec2:CreateNetworkInterface
                    - ec2:DescribeNetworkInterfaces
                    - ec2:DeleteNetworkInterface
                    - ec2:AssignPrivateIpAddresses
                    - ec2:UnassignPrivateIpAddresses
                  Resource: "*"
          - !Ref AWS::NoValue

{invoke_permission}
"""


# The alert topic: the one given, or the one the stack creates.
ALERT_TOPIC = "!If [HasAlertTopicArn, !Ref AlertTopicArn, !Ref AlertTopic]"


def _alarms(fn: Function) -> str:
    """Return the two alarms of one function: its failed steps and its Lambda errors."""
    lid = fn.logical_id
    # The dimension values, in the order of METRICS.FUNCTION_DIMENSIONS (a test checks that).
    values = {"function": f"!Ref {lid}", "service": METRICS.SERVICE}
    dimensions = "".join(
        f"\n        - Name: {name}\n          Value: {values[name]}"
        for name in METRICS.FUNCTION_DIMENSIONS
    )
    common = f"""\
      # A rotation runs a few minutes a month: no data is the normal state, not a problem.
      TreatMissingData: notBreaching
      Statistic: Sum
      Period: 300
      EvaluationPeriods: 1
      Threshold: 1
      ComparisonOperator: GreaterThanOrEqualToThreshold
      AlarmActions:
        - {ALERT_TOPIC}
"""
    return f"""\
  # A step raised: the metric rotation.core.log.record_step emits by function inside Lambda.
  {fn.step_failed_alarm}:
    Type: AWS::CloudWatch::Alarm
    Condition: {fn.step_failed_alarm}
    Properties:
      AlarmName: !Sub ${{FunctionNamePrefix}}{lid}-{METRICS.STEP_FAILED}
      AlarmDescription: !Sub A rotation step of ${{{lid}}} failed; its log group says which secret and why.
      Namespace: {METRICS.NAMESPACE}
      MetricName: {METRICS.STEP_FAILED}
      Dimensions:{dimensions}
{common}
  # The function itself failed (a crash, a timeout, an error outside the steps).
  {fn.errors_alarm}:
    Type: AWS::CloudWatch::Alarm
    Condition: {fn.errors_alarm}
    Properties:
      AlarmName: !Sub ${{FunctionNamePrefix}}{lid}-Errors
      AlarmDescription: !Sub ${{{lid}}} ended an invocation with an error.
      Namespace: AWS/Lambda
      MetricName: Errors
      Dimensions:
        - Name: FunctionName
          Value: !Ref {lid}
{common}
"""


def _event_names() -> str:
    return "".join(f"\n            - {name}" for name in ROTATION_FAILURE_EVENTS)


ALERT_RESOURCES = f"""\
  # Secrets Manager's own word that a rotation did not complete, whichever function ran it.
  # The CloudTrail entry names the secret in detail.additionalEventData.SecretId (its ARN);
  # the function appears only in the wording of errorMessage, which is not a documented format
  # (and documented for RotationFailed only). So the rule is scoped by secret: this account and
  # region (all an EventBridge rule on the default bus sees) and AlertSecretNamePrefix.
  # https://docs.aws.amazon.com/secretsmanager/latest/userguide/cloudtrail_log_entries.html
  RotationFailureRule:
    Type: AWS::Events::Rule
    Condition: RotationFailureAlertsOn
    Metadata:
      # ES4000 (a dead-letter queue per target): left off on purpose. An alert that cannot
      # reach the topic would sit unseen in a queue: its own alarm could only notify the topic
      # that failed. EventBridge retries delivery for 24 hours; `rotation status` is the check
      # that needs no delivery at all.
      cfn-lint:
        config:
          ignore_checks: [ES4000]
    Properties:
      Description: !Sub Secrets Manager rotation failures of secrets named ${{AlertSecretNamePrefix}}* (stack ${{AWS::StackName}})
      State: ENABLED
      EventPattern:
        source: [aws.secretsmanager]
        detail-type: [AWS Service Event via CloudTrail]
        detail:
          eventSource: [secretsmanager.amazonaws.com]
          eventName:{_event_names()}
          additionalEventData:
            SecretId:
              - prefix: !Sub arn:${{AWS::Partition}}:secretsmanager:${{AWS::Region}}:${{AWS::AccountId}}:secret:${{AlertSecretNamePrefix}}
      Targets:
        - Id: alert-topic
          Arn: {ALERT_TOPIC}

  AlertTopic:
    Type: AWS::SNS::Topic
    Condition: CreateAlertTopic
    Properties:
      DisplayName: Secrets rotation alerts
      # Not encrypted with aws/sns: EventBridge and CloudWatch cannot use that key. The alerts
      # carry secret ARNs and error messages, never a secret value.

  # EventBridge publishes only with the topic's permission; alarms of this stack likewise.
  # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html#eb-sns-permissions
  AlertTopicPolicy:
    Type: AWS::SNS::TopicPolicy
    Condition: CreateAlertTopic
    Properties:
      Topics: [!Ref AlertTopic]
      PolicyDocument:
        Version: "2012-10-17"
        Statement:
          - !If
            - RotationFailureAlertsOn
            - Sid: RotationFailureRule
              Effect: Allow
              Principal: {{Service: events.amazonaws.com}}
              Action: sns:Publish
              Resource: !Ref AlertTopic
              Condition:
                ArnEquals:
                  aws:SourceArn: !GetAtt RotationFailureRule.Arn
            - !Ref AWS::NoValue
          - Sid: FunctionAlarms
            Effect: Allow
            Principal: {{Service: cloudwatch.amazonaws.com}}
            Action: sns:Publish
            Resource: !Ref AlertTopic
            Condition:
              ArnLike:
                aws:SourceArn: !Sub arn:${{AWS::Partition}}:cloudwatch:${{AWS::Region}}:${{AWS::AccountId}}:alarm:${{FunctionNamePrefix}}SecretsManager*
              StringEquals:
                aws:SourceAccount: !Ref AWS::AccountId

  AlertEmailSubscription:
    Type: AWS::SNS::Subscription
    Condition: HasAlertEmail
    Metadata:
      # ES7000 (a redrive queue): left off for the same reason as on RotationFailureRule.
      cfn-lint:
        config:
          ignore_checks: [ES7000]
    Properties:
      TopicArn: !Ref AlertTopic
      Protocol: email
      Endpoint: !Ref AlertEmail

"""


def _outputs() -> str:
    lines = ["Outputs:"]
    for fn in FUNCTIONS:
        lines += [
            f"  {fn.logical_id}Arn:",
            f"    Condition: {fn.condition}",
            f"    Description: {fn.engine.display} {STRATEGIES[fn.strategy][1]} rotation function",
            f"    Value: !GetAtt {fn.logical_id}.Arn",
        ]
    lines += [
        "  AlertTopic:",
        "    Condition: AnyAlerts",
        "    Description: SNS topic of the rotation alerts (subscribe to it)",
        f"    Value: {ALERT_TOPIC}",
    ]
    return "\n".join(lines) + "\n"


def template_yaml() -> str:
    """Return the text of ``template.yaml``."""
    body = "".join(_function_resources(fn) + _alarms(fn) for fn in FUNCTIONS) + ALERT_RESOURCES
    return _header() + _conditions() + GLOBALS + "Resources:\n" + body + _outputs()


# --- per-engine examples ---------------------------------------------------------------------

EXAMPLE_ACCOUNT = "123456789012"
EXAMPLE_REGION = "us-east-1"
# The event files name the secret and the pending version that `rotation sandbox --engine
# <engine>` creates (rotation/local/sandbox.py: secret_name() and FIRST_TOKEN; a test checks that
# they agree), so they work as they are against the sandbox. There is no RotationToken: only the
# service issues one, and a made-up one would be refused by the real PutSecretValue.
SANDBOX_TOKEN = "6e3b2a7c-1d4f-4b8e-9a2c-5f0e7d1c3b9a"


def sandbox_secret_name(engine: Engine) -> str:
    """Return the name of the application secret `rotation sandbox` creates for the engine."""
    return f"rotation-sandbox/{engine.name}/app-user"


def _example_secret_arn(engine: Engine, what: str) -> str:
    return (
        f"arn:aws:secretsmanager:{EXAMPLE_REGION}:{EXAMPLE_ACCOUNT}:secret:"
        f"rotation-example/{engine.name}/{what}-AbCdEf"
    )


def _secret(engine: Engine, alternating: bool) -> dict[str, object]:
    secret: dict[str, object] = {
        "engine": engine.secret_engine,
        "host": f"example-{engine.name}.cluster-abcdefghijkl.{EXAMPLE_REGION}.rds.amazonaws.com",
        "port": engine.port,
        "username": "app_user",
        "password": "replace-me-with-the-current-password",
    }
    if engine.dbname is not None:
        secret["dbname"] = engine.dbname
    secret["ssl"] = engine.ssl
    if alternating:
        secret["masterarn"] = _example_secret_arn(engine, "admin")
    return secret


def _json(value: object) -> str:
    return json.dumps(value, indent=2) + "\n"


def _events(engine: Engine) -> dict[str, str]:
    return {
        f"events/{step}.json": _json(
            {
                "Step": step,
                "SecretId": sandbox_secret_name(engine),
                "ClientRequestToken": SANDBOX_TOKEN,
            }
        )
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret")
    }


def _env(engine: Engine) -> str:
    # The template's defaults, spelled out: `sam local invoke` would set a variable the template
    # leaves unset to "". SECRETS_MANAGER_ENDPOINT and ROTATION_TLS_CA_FILE are left out, so the
    # shell's values apply (both `sam local invoke` and `rotation invoke` take them from there):
    # unset, the function uses the regional endpoint and the CA bundle every built function
    # carries (certs/ca-bundle.pem); `rotation sandbox` writes the values that point at it.
    variables = {
        "PASSWORD_LENGTH": str(engine.password_length),
        "EXCLUDE_CHARACTERS": engine.exclude_characters,
        "EXCLUDE_NUMBERS": "false",
        "EXCLUDE_PUNCTUATION": "false",
        "EXCLUDE_UPPERCASE": "false",
        "EXCLUDE_LOWERCASE": "false",
        "REQUIRE_EACH_INCLUDED_TYPE": "true",
        "ROTATION_CONNECT_TIMEOUT": "5",
        "ROTATION_TLS_ALLOW_PLAINTEXT_FALLBACK": "false",
        "POWERTOOLS_SERVICE_NAME": METRICS.SERVICE,
        "POWERTOOLS_METRICS_NAMESPACE": METRICS.NAMESPACE,
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
    }
    # sam local invoke --env-vars: one object per function logical id.
    return _json({fn.logical_id: variables for fn in FUNCTIONS if fn.engine == engine})


def _stack(engine: Engine) -> str:
    mine = {fn.strategy: fn for fn in FUNCTIONS if fn.engine == engine}
    single, multi = mine["single_user"], mine["alternating_users"]
    dual = mine.get("dual_passwords")
    dual_note = (
        f"\n#   {dual.logical_id}Arn (dual passwords) takes the single-user secret (Strategy"
        "\n#   single-user)."
        if dual
        else ""
    )
    dbname = ',\n              "dbname": "${DbName}"' if engine.dbname is not None else ""
    dbname_param = (
        f"""\
  DbName:
    Type: String
    Default: {engine.dbname}
    Description: Database name ({"service name; required" if engine.name == "oracle" else "dbname key"}).
"""
        if engine.dbname is not None
        else ""
    )
    exclude = engine.exclude_characters.replace("\\", "\\\\").replace('"', '\\"')
    body = f'''\
              "engine": "{engine.secret_engine}",
              "host": "${{Host}}",
              "port": ${{Port}},
              "username": "${{Username}}"{dbname},
              "ssl": {str(engine.ssl).lower()}'''
    return f"""\
# GENERATED by templates/generate.py -- edit that script, then run `make sam-templates`.
#
# Example: a {engine.display} secret rotated by this pack's function. Deploy template.yaml first
# (Engines includes {engine.name}), then pass the function's ARN from its outputs:
#   {single.logical_id}Arn (single user) or {multi.logical_id}Arn (alternating users).{dual_note}
# The secret's password is generated here: give the database user that password (for
# alternating users, the admin secret must already work), then rotate.
AWSTemplateFormatVersion: "2010-09-09"
Description: Example {engine.display} secret with rotation by the rotation package

Parameters:
  RotationFunctionArn:
    Type: String
    AllowedPattern: "^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{{12}}:function:[A-Za-z0-9_-]+$"
    Description: Unqualified ARN of {single.logical_id} or {multi.logical_id}.
  Strategy:
    Type: String
    Default: single-user
    AllowedValues: [single-user, alternating-users]
    Description: Must match the function (MultiUser = alternating-users).
  Host:
    Type: String
    Description: Database host name.
  Port:
    Type: Number
    Default: {engine.port}
    Description: Database port.
  Username:
    Type: String
    Default: app_user
    Description: Database user whose password is rotated.
{dbname_param}\
  AdminSecretArn:
    Type: String
    Default: ""
    Description: Alternating users only -- ARN of the admin secret (masterarn).
  KmsKeyId:
    Type: String
    Default: ""
    Description: >-
      Customer managed KMS key for the secret (give the same key to the function stack's
      SecretsKmsKeyArn). Empty: aws/secretsmanager.
  ScheduleExpression:
    Type: String
    Default: rate(30 days)
    Description: rate(N days), rate(N hours) (at least 4) or cron(...)
  RotationWindow:
    Type: String
    Default: 2h
    AllowedPattern: "^[0-9]{{1,2}}h$"
    Description: Window (Duration) in which each rotation starts, e.g. 2h.
  RotateImmediately:
    Type: String
    Default: "false"
    AllowedValues: ["true", "false"]
    Description: >-
      Rotate as soon as the schedule is attached. Keep false until the database user has the
      secret's password.

Rules:
  AlternatingUsersNeedAdminSecret:
    RuleCondition: !Equals [!Ref Strategy, alternating-users]
    Assertions:
      - Assert: !Not [!Equals [!Ref AdminSecretArn, ""]]
        AssertDescription: alternating-users needs AdminSecretArn

Conditions:
  Alternating: !Equals [!Ref Strategy, alternating-users]
  HasKmsKey: !Not [!Equals [!Ref KmsKeyId, ""]]

Resources:
  DatabaseSecret:
    Type: AWS::SecretsManager::Secret
    Properties:
      Description: !Sub {engine.display} credentials of ${{Username}} on ${{Host}}
      KmsKeyId: !If [HasKmsKey, !Ref KmsKeyId, !Ref AWS::NoValue]
      GenerateSecretString:
        GenerateStringKey: password
        PasswordLength: {engine.password_length}
        ExcludeCharacters: "{exclude}"
        SecretStringTemplate: !If
          - Alternating
          - !Sub |-
            {{
{body},
              "masterarn": "${{AdminSecretArn}}"
            }}
          - !Sub |-
            {{
{body}
            }}

  DatabaseSecretRotation:
    Type: AWS::SecretsManager::RotationSchedule
    Properties:
      SecretId: !Ref DatabaseSecret
      RotationLambdaARN: !Ref RotationFunctionArn
      RotateImmediatelyOnUpdate: !Ref RotateImmediately
      RotationRules:
        ScheduleExpression: !Ref ScheduleExpression
        Duration: !Ref RotationWindow

Outputs:
  SecretArn:
    Description: ARN of the rotated secret (SecretId in the event files)
    Value: !Ref DatabaseSecret
"""


def engine_files(engine: Engine) -> dict[str, str]:
    """Return the example files of one engine, by path under ``templates/<engine>/``."""
    files = {
        "secret-single-user.json": _json(_secret(engine, alternating=False)),
        "secret-alternating-users.json": _json(_secret(engine, alternating=True)),
        "stack.yaml": _stack(engine),
        "env.json": _env(engine),
    }
    files.update(_events(engine))
    return files


def all_files() -> dict[Path, str]:
    """Return every generated file, by absolute path."""
    files = {ROOT / "template.yaml": template_yaml()}
    for engine in ENGINES:
        for name, text in engine_files(engine).items():
            files[TEMPLATES / engine.name / name] = text
    return files


def pin_built_template(path: Path, runtime: str, architecture: str) -> None:
    """Make ``runtime`` and ``architecture`` the only values a built template accepts.

    The artifacts hold compiled drivers for one Python version and one instruction set, which
    ``sam build`` cannot pass to the Makefile; pinning the parameters of the built template
    (what ``sam deploy`` reads) turns a mismatch into a parameter validation error at deploy time
    instead of an ImportError at the first rotation. Needs aws-sam-cli's YAML helpers (run with
    the SAM virtualenv's Python).
    """
    from samcli.yamlhelper import yaml_dump, yaml_parse

    template = yaml_parse(path.read_text())
    for name, value in (("PythonRuntime", runtime), ("Architecture", architecture)):
        parameter = template["Parameters"][name]
        if value not in parameter["AllowedValues"]:
            raise SystemExit(f"{name}={value} is not one of {parameter['AllowedValues']}")
        parameter["Default"] = value
        parameter["AllowedValues"] = [value]
        parameter["Description"] = f"{parameter['Description']} (pinned by make build)"
    path.write_text(yaml_dump(template))
    print(f"pinned {path}: PythonRuntime={runtime} Architecture={architecture}")


def main(argv: list[str]) -> int:
    """Write the files, or with ``--check`` report the ones that are out of date."""
    if argv[:1] == ["--pin"]:
        pin_built_template(Path(argv[1]), argv[2], argv[3])
        return 0
    check = "--check" in argv
    stale = []
    for path, text in all_files().items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path.relative_to(ROOT))
        if not check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        print(f"{'out of date' if check else 'wrote'}: {path}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
