"""The jurisdictions the engine serves and the levels of their units, read from
``definitions/jurisdictions.yaml``.

A unit of the directory belongs to one jurisdiction and sits at one level (city → district →
department / township). This module only reads and checks that file into frozen values; it
must not import ``workflow``, ``storage`` or ``notifications``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = ["Jurisdiction", "JurisdictionError", "Jurisdictions", "Level", "load_jurisdictions"]


class JurisdictionError(ValueError):
    """``definitions/jurisdictions.yaml`` is not valid."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Level:
    name: str
    label: str
    rank: int  # 1 is the top; a unit's superior sits at a smaller rank


@dataclass(frozen=True, slots=True, kw_only=True)
class Jurisdiction:
    key: str
    name: str
    definitions: tuple[str, ...]  # the ``jurisdiction:`` text of its workflow definitions
    top: str  # the level of its own government
    legal_basis: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Jurisdictions:
    levels: Mapping[str, Level]
    by_key: Mapping[str, Jurisdiction]

    def of_definition(self, jurisdiction_text: str) -> str | None:
        """The key of the jurisdiction a workflow definition (by its ``jurisdiction:``) belongs to."""
        for key, found in self.by_key.items():
            if jurisdiction_text in found.definitions:
                return key
        return None

    def allowed(self) -> str:
        return ", ".join(self.by_key)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _LevelModel(_Strict):
    label: str = Field(min_length=1)
    rank: int = Field(ge=1, le=9)


class _JurisdictionModel(_Strict):
    name: str = Field(min_length=1)
    definitions: list[str] = Field(min_length=1)
    top: str
    legal_basis: str = Field(min_length=1)


class _FileModel(_Strict):
    levels: dict[str, _LevelModel] = Field(min_length=1)
    jurisdictions: dict[str, _JurisdictionModel] = Field(min_length=1)


def parse_jurisdictions(text: str) -> Jurisdictions:
    """Read the text of a jurisdictions file.

    Raises:
        JurisdictionError: not YAML, not the expected shape, or a ``top`` naming no level.
    """
    try:
        model = _FileModel.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise JurisdictionError(f"jurisdictions.yaml: {exc}") from exc
    levels = {k: Level(name=k, label=v.label, rank=v.rank) for k, v in model.levels.items()}
    found = {}
    for key, item in model.jurisdictions.items():
        if item.top not in levels:
            raise JurisdictionError(
                f"jurisdictions.yaml: {key}.top {item.top!r} is not a level; allowed: {', '.join(levels)}"
            )
        found[key] = Jurisdiction(
            key=key,
            name=item.name,
            definitions=tuple(item.definitions),
            top=item.top,
            legal_basis=item.legal_basis,
        )
    return Jurisdictions(levels=MappingProxyType(levels), by_key=MappingProxyType(found))


@cache
def load_jurisdictions() -> Jurisdictions:
    """The bundled jurisdictions (read once per process)."""
    text = resources.files("definitions").joinpath("jurisdictions.yaml").read_text(encoding="utf-8")
    return parse_jurisdictions(text)
