"""Local password generation with GetRandomPassword's options."""

from __future__ import annotations

import string

import pytest

from rotation.core.config import PasswordPolicy
from rotation.core.errors import ConfigurationError
from rotation.core.password import generate_password

SAMPLES = 300


def test_default_policy_gives_32_characters_without_excluded_ones() -> None:
    policy = PasswordPolicy()
    for _ in range(SAMPLES):
        password = generate_password(policy)
        assert len(password) == 32
        assert not set(password) & set("/@\"'\\")


def test_each_included_type_is_present_when_required() -> None:
    policy = PasswordPolicy(length=4)
    for _ in range(SAMPLES):
        password = generate_password(policy)
        assert set(password) & set(string.ascii_lowercase)
        assert set(password) & set(string.ascii_uppercase)
        assert set(password) & set(string.digits)
        assert set(password) & set(string.punctuation)


@pytest.mark.parametrize(
    ("option", "forbidden"),
    [
        ("exclude_numbers", string.digits),
        ("exclude_punctuation", string.punctuation),
        ("exclude_uppercase", string.ascii_uppercase),
        ("exclude_lowercase", string.ascii_lowercase),
    ],
)
def test_excluded_classes_never_appear(option: str, forbidden: str) -> None:
    policy = PasswordPolicy(**{option: True})  # type: ignore[arg-type]
    for _ in range(SAMPLES):
        assert not set(generate_password(policy)) & set(forbidden)


def test_excluded_characters_never_appear() -> None:
    policy = PasswordPolicy(length=64, exclude_characters="abcdefABCDEF012345!#$%")
    for _ in range(SAMPLES):
        assert not set(generate_password(policy)) & set("abcdefABCDEF012345!#$%")


def test_a_class_emptied_by_exclusions_is_not_required() -> None:
    policy = PasswordPolicy(length=8, exclude_characters=string.digits)
    assert not set(generate_password(policy)) & set(string.digits)


def test_length_too_short_for_the_required_types_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="cannot include one of each"):
        generate_password(PasswordPolicy(length=3))


def test_a_policy_that_excludes_everything_is_refused() -> None:
    policy = PasswordPolicy(
        exclude_numbers=True,
        exclude_punctuation=True,
        exclude_uppercase=True,
        exclude_lowercase=True,
    )
    with pytest.raises(ConfigurationError, match="excludes every character"):
        generate_password(policy)


def test_required_characters_are_not_at_fixed_positions() -> None:
    policy = PasswordPolicy(length=4, exclude_punctuation=True, exclude_uppercase=True)
    firsts = {generate_password(policy)[0].isdigit() for _ in range(SAMPLES)}
    assert firsts == {True, False}
