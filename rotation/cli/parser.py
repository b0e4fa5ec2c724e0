"""The command line: global options, the commands and their arguments."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, NoReturn

from rotation import __version__
from rotation.core.errors import ConfigurationError
from rotation.core.registry import ENGINES
from rotation.core.strategies import STRATEGIES

if TYPE_CHECKING:
    from collections.abc import Callable

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

EPILOG = """\
exit codes:
  0    success
  1    the rotation, step or check failed, a secret needs attention (status), a repair was
       refused or declined (or the demo could not start a server)
  2    usage or configuration error: bad arguments, unknown engine, invalid settings, unknown
       AWS profile, no region, no credentials
  130  interrupted (Ctrl-C); everything the command started is cleaned up

Output: --output text (default) is for people; --output json prints exactly one JSON document
on stdout for scripts. Logs and progress go to stderr. Passwords are never printed: they
appear as *** or as a short sha256 fingerprint.
"""

DEMO_ENGINES = ("postgresql", "mysql", "mariadb", "redshift")


class UsageError(ConfigurationError):
    """Raise when the command line asks for something impossible (exit code 2)."""


class CommandLineError(UsageError):
    """Raise when argparse rejects the arguments; ``usage`` is the (sub)command's usage line."""

    def __init__(self, message: str, usage: str) -> None:
        super().__init__(message)
        self.usage = usage


class Parser(argparse.ArgumentParser):
    """An argument parser that raises instead of exiting, so JSON mode can print a document."""

    def error(self, message: str) -> NoReturn:  # noqa: D102 (argparse API)
        raise CommandLineError(message, self.format_usage())


def positive_seconds(text: str) -> float:
    """Parse a positive number of seconds for argparse."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not 0 < value <= 3600:
        raise argparse.ArgumentTypeError("must be between 0 and 3600 seconds")
    return value


def positive_int(text: str) -> int:
    """Parse a whole number from 1 to 100 for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError("must be between 1 and 100")
    return value


def port_number(text: str) -> int:
    """Parse a TCP port (0: any free one) for argparse."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError("must be between 0 and 65535")
    return value


def _global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    # Subcommands repeat the global options with SUPPRESS defaults, so they may be given before
    # or after the command name without the subcommand resetting what the main parser read.
    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    group = parser.add_argument_group("global options")
    group.add_argument(
        "--output", choices=("text", "json"), default=default("text"), help="output format"
    )
    group.add_argument(
        "--log-level",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        type=str.upper,
        default=default(None),
        help="level of the handler's JSON logs on stderr (default WARNING; INFO for step)",
    )
    group.add_argument(
        "--debug",
        action="store_true",
        default=default(False),
        help="show tracebacks of errors (passwords stay masked)",
    )


def _aws_options(parser: argparse.ArgumentParser, *, regions: bool = False) -> None:
    parser.add_argument(
        "--profile", help="AWS profile (default: AWS_PROFILE, else the default profile)"
    )
    parser.add_argument(
        "--endpoint-url",
        help="Secrets Manager endpoint, e.g. a VPC endpoint or a stand-in (default: "
        "SECRETS_MANAGER_ENDPOINT, then AWS_ENDPOINT_URL_SECRETS_MANAGER, AWS_ENDPOINT_URL)",
    )
    region_help = "AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, the profile's region)"
    if not regions:
        parser.add_argument("--region", help=region_help)
        return
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--region", dest="regions", action="append", metavar="REGION",
        help=region_help + "; repeat for several",
    )  # fmt: skip
    where.add_argument(
        "--all-regions", action="store_true",
        help="every region Secrets Manager is offered in (regions not enabled are skipped)",
    )  # fmt: skip


def filter_option(text: str) -> dict[str, object]:
    """Parse ``KEY=VALUE[,VALUE...]`` into a ListSecrets filter, as the AWS CLI's --filters."""
    key, sep, values = text.partition("=")
    keys = ("description", "name", "tag-key", "tag-value", "primary-region", "owning-service",
            "all")  # fmt: skip
    if not sep or key not in keys or not values:
        raise argparse.ArgumentTypeError(
            f"expected KEY=VALUE[,VALUE...] with KEY one of {', '.join(keys)}: {text!r}"
        )
    return {"Key": key, "Values": values.split(",")}


def _engine_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    which = parser.add_mutually_exclusive_group(required=required)
    which.add_argument(
        "--engine",
        choices=sorted(ENGINES),
        help="engine module" + ("" if required else " (default: from the secret's engine value)"),
    )
    which.add_argument(
        "--handler",
        metavar="MODULE:CLASS",
        help="your own RotationHandler subclass instead of an engine (imported from the "
        "current directory or the Python path), e.g. redis_acl:RedisACLHandler",
    )
    parser.add_argument(
        "--strategy",
        choices=sorted(STRATEGIES),
        required=required,
        help="rotation strategy"
        + ("" if required else " (default: alternating when the secret has masterarn)"),
    )


def _db_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--connect-timeout",
        type=positive_seconds,
        help="seconds to wait for the database (default: ROTATION_CONNECT_TIMEOUT or 5)",
    )
    parser.add_argument(
        "--ca-file", help="CA bundle for verifying the database (default: ROTATION_TLS_CA_FILE)"
    )


def build_parser(commands: dict[str, Callable[..., bool]]) -> argparse.ArgumentParser:
    """Build the ``rotation`` argument parser; ``commands`` maps names to their functions."""
    parser = Parser(
        prog="rotation",
        description="Run, check and debug AWS Secrets Manager rotations on your own machine.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"rotation {__version__}")
    _global_options(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        child = sub.add_parser(name, help=help_text, description=help_text, epilog=EPILOG,
                               formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
        _global_options(child, defaults=False)
        child.set_defaults(run=commands[name])
        return child

    demo = command("demo", "run real rotations against throwaway local servers (no AWS, no Docker)")
    demo.add_argument("--engine", choices=DEMO_ENGINES, default="postgresql")
    demo.add_argument("--strategy", choices=sorted(STRATEGIES), default="single")
    demo.add_argument("--rounds", type=positive_int, default=2, help="rotations to run (2)")

    sandbox = command(
        "sandbox",
        "keep a local secret with a rotation in progress, for `rotation invoke` of each step",
    )
    sandbox.add_argument("--engine", choices=DEMO_ENGINES, default="postgresql")
    sandbox.add_argument("--strategy", choices=sorted(STRATEGIES), default="single")
    sandbox.add_argument(
        "--dir", default="rotation-sandbox", help="where the event and env files go"
    )
    sandbox.add_argument(
        "--port", type=port_number, default=0, help="Secrets Manager port (default: a free one)"
    )

    check = command("check", "read-only preflight of a secret: format, TLS, login, privileges")
    source = check.add_mutually_exclusive_group(required=True)
    source.add_argument("secret_id", nargs="?", metavar="SECRET_ID", help="secret name or ARN")
    source.add_argument("--file", help="read the secret JSON from a file instead")
    _engine_options(check, required=False)
    _aws_options(check)
    _db_options(check)

    rotate = command("rotate", "rotate a secret now and follow its version labels")
    rotate.add_argument("secret_id", metavar="SECRET_ID")
    rotate.add_argument("--wait", action="store_true", help="follow the labels until done")
    rotate.add_argument("--timeout", type=positive_seconds, default=300.0,
                        help="seconds to wait with --wait (300)")  # fmt: skip
    rotate.add_argument("--interval", type=positive_seconds, default=2.0, help=argparse.SUPPRESS)
    rotate.add_argument(
        "--local",
        action="store_true",
        help="run the four steps here through the local handler instead of RotateSecret",
    )
    _engine_options(rotate, required=False)
    _aws_options(rotate)
    _db_options(rotate)

    step = command("step", "run one rotation step locally, as `sam local invoke` would")
    steps = ("createSecret", "setSecret", "testSecret", "finishSecret")
    step.add_argument("step", metavar="STEP", choices=steps, help=", ".join(steps))
    step.add_argument("secret_id", metavar="SECRET_ID")
    step.add_argument("--token", required=True, help="ClientRequestToken (the pending version)")
    step.add_argument("--rotation-token", help="RotationToken to pass along, if any")
    _engine_options(step, required=True)
    _aws_options(step)
    _db_options(step)

    status = command("status", "the rotation state of many secrets: a table, or JSON")
    status.add_argument(
        "secret_ids", nargs="*", metavar="SECRET_ID",
        help="secrets to show (default: every secret rotated by a function of this pack)",
    )  # fmt: skip
    status.add_argument(
        "--filter", dest="filters", action="append", type=filter_option, default=[],
        metavar="KEY=VALUE", help="ListSecrets filter, e.g. name=prod/ or tag-key=team "
        "(repeat to combine)",
    )  # fmt: skip
    status.add_argument("--concurrency", type=positive_int, default=8,
                        help="DescribeSecret calls in flight at once (8)")  # fmt: skip
    status.add_argument("--page-size", type=positive_int, default=100, help=argparse.SUPPRESS)
    _aws_options(status, regions=True)

    repair = command("repair", "clear an AWSPENDING label stuck on a version that is not current")
    repair.add_argument("secret_id", metavar="SECRET_ID")
    repair.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    repair.add_argument(
        "--force", action="store_true",
        help="remove the label even when the pending password is the only one that logs in",
    )  # fmt: skip
    _engine_options(repair, required=False)
    _aws_options(repair)
    _db_options(repair)

    invoke = command(
        "invoke", "run a function from its built artifact, as `sam local invoke` does (no Docker)"
    )
    invoke.add_argument("function", metavar="LOGICAL_ID", help="the function's logical id")
    invoke.add_argument("-e", "--event", help="event file (JSON; - for stdin; default {})")
    invoke.add_argument("-n", "--env-vars", help="environment variables file (SAM's format)")
    invoke.add_argument(
        "-t", "--template", help="template (default: .aws-sam/build/template.yaml, template.yaml)"
    )
    invoke.add_argument("--parameter-overrides", nargs="+", metavar="KEY=VALUE",
                        help="template parameter values")  # fmt: skip
    invoke.add_argument("--region", help="AWS region (default: from the AWS configuration)")

    events = command("events", "write the four `sam local invoke` event files for a new token")
    events.add_argument("secret_id", metavar="SECRET_ID", help="the secret's ARN (as AWS sends)")
    events.add_argument("--out", default="events", help="directory for the files (./events)")
    events.add_argument("--token", help="ClientRequestToken (default: a new UUID)")
    events.add_argument("--rotation-token", help="RotationToken to include, if any")

    init = command("init-service", "write a rotation function for your own service: the "
                   "handler, its test (green as written) and a SAM template")  # fmt: skip
    init.add_argument("name", metavar="NAME", help="module name, e.g. my_service")
    init.add_argument(
        "--strategy",
        choices=("dual", "single"),
        default="dual",
        help="dual: add the new password beside the old (default); single: replace it",
    )
    init.add_argument("--dir", default=".", help="directory for the files (.)")
    return parser
