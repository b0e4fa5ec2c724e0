"""Pure functions over a secret's ``VersionIdsToStages`` map."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

AWSCURRENT = "AWSCURRENT"
AWSPENDING = "AWSPENDING"
AWSPREVIOUS = "AWSPREVIOUS"

Stages = Mapping[str, Sequence[str]]


def version_with(stages: Stages, label: str) -> str | None:
    """Return the version id that carries ``label``, or None when no version does."""
    for version_id, labels in stages.items():
        if label in labels:
            return version_id
    return None


def labels_of(stages: Stages, version_id: str) -> tuple[str, ...] | None:
    """Return the labels of one version, or None when the version is unknown."""
    labels = stages.get(version_id)
    return None if labels is None else tuple(labels)


def labelled(stages: Stages) -> dict[str, list[str]]:
    """Return ``{version: sorted labels}`` with the versions that carry no label left out."""
    return {version_id: sorted(labels) for version_id, labels in stages.items() if labels}
