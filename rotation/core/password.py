"""Generate passwords locally, with the options of Secrets Manager's GetRandomPassword.

Generating with :mod:`secrets` saves an API call per rotation and works where the function has no
route to the Secrets Manager endpoint for anything but the secret itself.
"""

from __future__ import annotations

import secrets
import string
from typing import TYPE_CHECKING

from rotation.core.errors import ConfigurationError

if TYPE_CHECKING:
    from rotation.core.config import PasswordPolicy

# The classes GetRandomPassword draws from; punctuation is ASCII punctuation, as there.
LOWERCASE = string.ascii_lowercase
UPPERCASE = string.ascii_uppercase
NUMBERS = string.digits
PUNCTUATION = string.punctuation


def character_classes(policy: PasswordPolicy) -> list[str]:
    """Return the included character classes, each without the excluded characters."""
    chosen = [
        (LOWERCASE, policy.exclude_lowercase),
        (UPPERCASE, policy.exclude_uppercase),
        (NUMBERS, policy.exclude_numbers),
        (PUNCTUATION, policy.exclude_punctuation),
    ]
    excluded = set(policy.exclude_characters)
    classes = []
    for chars, leave_out in chosen:
        if leave_out:
            continue
        kept = "".join(c for c in chars if c not in excluded)
        if kept:
            classes.append(kept)
    return classes


def generate_password(policy: PasswordPolicy) -> str:
    """Return a random password that satisfies ``policy``.

    Raises:
        ConfigurationError: The policy leaves no characters, or requires more classes than the
            length allows.
    """
    classes = character_classes(policy)
    if not classes:
        raise ConfigurationError("the password policy excludes every character")
    alphabet = "".join(classes)
    chars = []
    if policy.require_each_included_type:
        if policy.length < len(classes):
            raise ConfigurationError(
                f"a password of {policy.length} characters cannot include one of each of "
                f"{len(classes)} character types"
            )
        chars = [secrets.choice(cls) for cls in classes]
    chars += [secrets.choice(alphabet) for _ in range(policy.length - len(chars))]
    # Shuffle so the required characters do not sit at fixed positions.
    for i in range(len(chars) - 1, 0, -1):
        j = secrets.randbelow(i + 1)
        chars[i], chars[j] = chars[j], chars[i]
    return "".join(chars)
