"""The names of the metrics the handler emits: one source of truth for code and template.

:func:`rotation.core.log.record_step` emits these and ``templates/generate.py`` builds the
template's alarms from them (it reads this file without importing the package, so it must
import nothing). A CloudWatch alarm matches a metric only on its exact set of dimensions, so
each tuple below is a dimension set exactly as it appears in an EMF document's ``Dimensions``.
"""

from __future__ import annotations

NAMESPACE = "SecretsRotation"
SERVICE = "rotation"

STEP_SUCCEEDED = "StepSucceeded"
STEP_FAILED = "StepFailed"
STEP_DURATION = "StepDuration"

# Every step: its outcome count and duration, by engine and step (Powertools adds "service").
STEP_DIMENSIONS: tuple[str, ...] = ("engine", "step", "service")
# Inside Lambda also the outcome count by function, which a per-function alarm watches: the
# engine alone cannot tell a stack's single-user function from its alternating-users one.
FUNCTION_DIMENSIONS: tuple[str, ...] = ("function", "service")
# Set by the Lambda runtime to the function's name.
FUNCTION_NAME_VARIABLE = "AWS_LAMBDA_FUNCTION_NAME"
