"""A function's configuration as ``sam local invoke`` reads it from a SAM template.

:func:`function_config` reads one ``AWS::Serverless::Function``: its ``Handler``, ``Runtime``,
``Timeout``, ``MemorySize`` and ``Environment`` with the template's ``Globals`` merged in
(https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-specification-template-anatomy-globals.html),
and the directory of its built code. Intrinsic functions are resolved the way the SAM CLI does
locally, against the parameters' defaults (and overrides): ``Ref``, ``Condition``, ``Fn::If``,
``Fn::Equals``, ``Fn::Not``, ``Fn::And``, ``Fn::Or``, ``Fn::Join``, ``Fn::Split``,
``Fn::Select`` and ``Fn::Sub``. What cannot be resolved locally (``Fn::GetAtt``, imports)
becomes an empty string, as in the SAM CLI. One deliberate difference: a variable whose value is
``AWS::NoValue`` is left unset, as in the deployed function, where the SAM CLI would set it to
an empty string.

The code is the built artifact: a built template's ``CodeUri`` names it; for a source template
(``sam build`` input) it is ``.aws-sam/build/<LogicalId>`` next to the template, as ``sam build``
leaves it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rotation.core.errors import ConfigurationError

# The account the SAM CLI gives local functions (AWS_ACCOUNT_ID) and pseudo parameters.
LOCAL_ACCOUNT_ID = "123456789012"
TEMPLATE_NAMES = ("template.yaml", "template.yml")
BUILD_DIR = Path(".aws-sam") / "build"
SERVERLESS_FUNCTION = "AWS::Serverless::Function"
# Lambda's defaults for a function that sets neither.
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 3.0


class TemplateError(ConfigurationError):
    """Raise when a template, a function in it or its built code cannot be used."""


class _NoValue:
    """``AWS::NoValue``: the property or list item is left out."""


NO_VALUE = _NoValue()


@dataclass(frozen=True)
class FunctionConfig:
    """What a local invocation needs to know about one function.

    Attributes:
        logical_id: The function's logical id in the template.
        handler: ``module.attribute`` of the entry point.
        runtime: The Lambda runtime, e.g. ``python3.13``.
        code_dir: The built artifact (what Lambda mounts as ``/var/task``).
        memory_mb: ``MemorySize``.
        timeout_s: ``Timeout``.
        variables: ``Environment.Variables`` as resolved; None where the template leaves a
            variable unset (``AWS::NoValue``).
    """

    logical_id: str
    handler: str
    runtime: str
    code_dir: Path
    memory_mb: int = DEFAULT_MEMORY_MB
    timeout_s: float = DEFAULT_TIMEOUT_S
    variables: dict[str, str | None] = field(default_factory=dict)


def load_template(path: Path) -> Any:
    """Parse a CloudFormation YAML file; short-form intrinsics become ``{"Fn::X": ...}``.

    Raises:
        TemplateError: PyYAML is not installed, or the file cannot be read or is not YAML.
    """
    try:
        import yaml
    except ImportError:
        raise TemplateError(
            'reading a SAM template needs PyYAML: pip install "rotation[demo]"'
        ) from None

    class Loader(yaml.SafeLoader):
        pass

    def intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        else:
            value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
        if suffix in ("Ref", "Condition"):
            return {suffix: value}
        if suffix == "GetAtt" and isinstance(value, str):
            value = value.split(".", 1)
        return {f"Fn::{suffix}": value}

    Loader.add_multi_constructor("!", intrinsic)
    try:
        return yaml.load(path.read_text(), Loader=Loader)  # noqa: S506 -- SafeLoader subclass
    except OSError as exc:
        raise TemplateError(f"cannot read template {path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise TemplateError(f"template {path} is not valid YAML: {exc}") from None


def default_template(directory: Path) -> Path:
    """Return the template ``sam local invoke`` would use: the built one, else the source one.

    Raises:
        TemplateError: Neither exists.
    """
    for folder in (directory / BUILD_DIR, directory):
        for name in TEMPLATE_NAMES:
            if (folder / name).is_file():
                return folder / name
    raise TemplateError(f"no template.yaml in {directory / BUILD_DIR} or {directory}: pass -t")


class Resolver:
    """Resolve intrinsic functions against parameter values and pseudo parameters."""

    def __init__(self, template: dict[str, Any], overrides: dict[str, str], region: str) -> None:
        self.template = template
        self.conditions: dict[str, Any] = template.get("Conditions") or {}
        self.refs: dict[str, Any] = {
            "AWS::Region": region,
            "AWS::AccountId": LOCAL_ACCOUNT_ID,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "local",
            "AWS::NoValue": NO_VALUE,
        }
        for name, spec in (template.get("Parameters") or {}).items():
            value = overrides.get(name, (spec or {}).get("Default"))
            if value is None:
                continue
            text = str(value).lower() if isinstance(value, bool) else str(value)
            if str((spec or {}).get("Type", "")).startswith(("CommaDelimitedList", "List<")):
                self.refs[name] = [] if text == "" else text.split(",")
            else:
                self.refs[name] = text
        self._condition_cache: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        """Evaluate a named condition."""
        if name not in self._condition_cache:
            if name not in self.conditions:
                raise TemplateError(f"condition {name} is not defined in the template")
            self._condition_cache[name] = bool(self.resolve(self.conditions[name]))
        return self._condition_cache[name]

    def resolve(self, node: Any) -> Any:
        """Return ``node`` with every intrinsic function it can resolve locally resolved."""
        if isinstance(node, list):
            items = [self.resolve(item) for item in node]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            ((key, argument),) = node.items()
            method = _INTRINSICS.get(key)
            if method is not None:
                return method(self, argument)
            if key.startswith("Fn::"):
                return node  # not resolvable locally (GetAtt, ImportValue, ...)
        resolved = {key: self.resolve(value) for key, value in node.items()}
        return {key: value for key, value in resolved.items() if value is not NO_VALUE}

    def _ref(self, name: Any) -> Any:
        return self.refs.get(name, {"Ref": name})

    def _if(self, argument: Any) -> Any:
        name, when_true, when_false = argument
        return self.resolve(when_true if self.condition(name) else when_false)

    def _equals(self, argument: Any) -> Any:
        left, right = (self.resolve(a) for a in argument)
        return str(left) == str(right) if not isinstance(left, dict | list) else left == right

    def _not(self, argument: Any) -> Any:
        return not self.resolve(argument[0])

    def _and(self, argument: Any) -> Any:
        return all(self.resolve(a) for a in argument)

    def _or(self, argument: Any) -> Any:
        return any(self.resolve(a) for a in argument)

    def _condition(self, name: Any) -> Any:
        return self.condition(name)

    def _join(self, argument: Any) -> Any:
        delimiter, items = argument[0], self.resolve(argument[1])
        if not isinstance(items, list) or any(isinstance(i, dict | list) for i in items):
            return {"Fn::Join": argument}
        return str(delimiter).join(str(i) for i in items)

    def _split(self, argument: Any) -> Any:
        delimiter, text = argument[0], self.resolve(argument[1])
        return text.split(delimiter) if isinstance(text, str) else {"Fn::Split": argument}

    def _select(self, argument: Any) -> Any:
        index, items = int(self.resolve(argument[0])), self.resolve(argument[1])
        return items[index] if isinstance(items, list) else {"Fn::Select": argument}

    def _sub(self, argument: Any) -> Any:
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        values = {**self.refs, **{k: self.resolve(v) for k, v in variables.items()}}
        unresolved = False

        def replace(match: re.Match[str]) -> str:
            nonlocal unresolved
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} stays literal
            value = values.get(name)
            if value is None or isinstance(value, dict | list | _NoValue):
                unresolved = True
                return match.group(0)
            return str(value)

        result = re.sub(r"\$\{([^}]+)\}", replace, text)
        return {"Fn::Sub": argument} if unresolved else result


_INTRINSICS = {
    "Ref": Resolver._ref,
    "Condition": Resolver._condition,
    "Fn::If": Resolver._if,
    "Fn::Equals": Resolver._equals,
    "Fn::Not": Resolver._not,
    "Fn::And": Resolver._and,
    "Fn::Or": Resolver._or,
    "Fn::Join": Resolver._join,
    "Fn::Split": Resolver._split,
    "Fn::Select": Resolver._select,
    "Fn::Sub": Resolver._sub,
}


def _merged(globals_: dict[str, Any], properties: dict[str, Any]) -> dict[str, Any]:
    """Merge SAM Globals into a function's properties: maps merge, the function's values win."""
    merged = dict(globals_)
    for key, value in properties.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _code_dir(template_path: Path, logical_id: str, code_uri: Any, handler: str) -> Path:
    """Return the built code of a function (see the module docstring)."""
    package = handler.split(".", 1)[0]
    candidates = []
    if isinstance(code_uri, str):
        candidates.append(template_path.parent / code_uri)
    candidates.append(template_path.parent / BUILD_DIR / logical_id)
    for candidate in candidates:
        if (candidate / package).is_dir() or (candidate / f"{package}.py").is_file():
            return candidate.resolve()
    raise TemplateError(
        f"no built code for {logical_id} (looked in {', '.join(map(str, candidates))}): "
        "build it first (make build, or sam build)"
    )


def function_config(
    template_path: Path, logical_id: str, overrides: dict[str, str], region: str
) -> FunctionConfig:
    """Return the configuration of one function of a SAM template.

    Raises:
        TemplateError: The template has no such function, or it is not a Python function with
            built code.
    """
    template = load_template(template_path)
    if not isinstance(template, dict):
        raise TemplateError(f"template {template_path} is not a mapping")
    resources = template.get("Resources") or {}
    functions = sorted(
        name for name, spec in resources.items() if (spec or {}).get("Type") == SERVERLESS_FUNCTION
    )
    if logical_id not in functions:
        raise TemplateError(
            f"no function {logical_id} in {template_path}; its functions: "
            f"{', '.join(functions) or 'none'}"
        )
    resolver = Resolver(template, overrides, region)
    globals_ = ((template.get("Globals") or {}).get("Function")) or {}
    properties = resolver.resolve(_merged(globals_, resources[logical_id].get("Properties") or {}))
    handler, runtime = properties.get("Handler"), properties.get("Runtime")
    if not isinstance(handler, str) or not isinstance(runtime, str):
        raise TemplateError(f"{logical_id} has no Handler or Runtime that resolves to a string")
    if not runtime.startswith("python"):
        raise TemplateError(f"{logical_id} runs on {runtime}; only Python functions can run here")
    raw = _merged(globals_, resources[logical_id].get("Properties") or {})
    declared = ((raw.get("Environment") or {}).get("Variables")) or {}
    resolved = ((properties.get("Environment") or {}).get("Variables")) or {}
    variables: dict[str, str | None] = {}
    for name in declared:
        if name not in resolved:
            variables[name] = None  # AWS::NoValue: unset, as when deployed
        else:
            variables[name] = _stringify(resolved[name])
    return FunctionConfig(
        logical_id=logical_id,
        handler=handler,
        runtime=runtime,
        code_dir=_code_dir(template_path, logical_id, properties.get("CodeUri"), handler),
        memory_mb=int(properties.get("MemorySize", DEFAULT_MEMORY_MB)),
        timeout_s=float(properties.get("Timeout", DEFAULT_TIMEOUT_S)),
        variables=variables,
    )


def _stringify(value: Any) -> str:
    """Render a variable's value as Lambda receives it (what the SAM CLI does locally)."""
    if isinstance(value, dict | list):
        return ""  # an intrinsic that cannot be resolved locally
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
