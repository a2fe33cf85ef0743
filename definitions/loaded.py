"""A loaded definition and what reading one from the cache needs, without the loader.

The loader (``definitions.loader``: YAML, the pydantic schema, the structural checks) is what
turns files into definitions; a command that only reads cases takes its definitions from the
checked cache (``definitions.cache``) and needs none of it. This module holds what both share —
``LoadedDefinition``, ``DefinitionError``, the canonical JSON a definition's SHA-256 is taken
over, the bundled files — and imports the loader only when a deferred definition has to be
validated from its text. The loader re-exports every name here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from definitions import codec
from definitions.model import Definition

BUNDLED_DIR = Path(__file__).resolve().parent / "workflows"

TemplateCheck = Callable[[str, "Path | None"], bool]


class DefinitionError(ValueError):
    """One or more definition files are invalid; ``problems`` holds one ``file:line: message`` each."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        head = "invalid workflow definition" if count == 1 else f"{count} problems in workflow definitions"
        super().__init__(f"{head}: " + "; ".join(self.problems))


def canonical_json(data: Mapping[str, Any]) -> str:
    """The one serialisation that definition hashes are taken over."""

    def default(value: object) -> str:
        if isinstance(value, dt.date | dt.time):
            return value.isoformat()
        raise TypeError(f"cannot serialise {type(value).__name__} in a definition")

    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=default)


def resolved_sha256(text: str) -> str:
    """The SHA-256 of a definition's resolved JSON, as the loader takes it (over the canonical
    form), without validating the definition.

    Raises:
        ValueError: the text is not JSON.
        TypeError: not a JSON object.
    """
    data = json.loads(text)
    if not isinstance(data, dict):
        raise TypeError("a definition is a JSON object")
    body = {key: value for key, value in data.items() if key != "extends"}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def files_under(paths: Iterable[Path]) -> Iterator[Path]:
    """Every definition file (``*.yaml``, ``*.yml``) of ``paths``, a folder's in name order."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*.y*ml") if p.suffix in {".yaml", ".yml"})
        else:
            yield path


def bundled_files() -> list[Path]:
    """The bundled definition files, in the order they are loaded."""
    return list(files_under([BUNDLED_DIR]))


class LoadedDefinition:
    """A loaded definition: ``resolved``, its resolved document as ordered JSON (its ``sha256`` is
    taken over the canonical form), and the checked ``definition``.

    One read from the cache of bundled definitions (``definitions.cache``) is ``deferred``: its
    ``definition`` is built when first asked for, so a command builds only the definitions it
    uses — from the checked definition's values the cache holds (``built``, see
    ``definitions.codec``) when it has them, else validated and checked from ``resolved``.
    """

    __slots__ = ("_built", "_definition", "_source", "_templates", "name", "resolved", "sha256", "version")

    def __init__(self, definition: Definition, resolved: str) -> None:
        self._definition: Definition | None = definition
        self.resolved = resolved
        self.name, self.version, self.sha256 = definition.name, definition.version, definition.sha256
        self._source = definition.source
        self._templates: TemplateCheck | None = None
        self._built: Callable[[], str | None] | None = None

    @classmethod
    def deferred(
        cls,
        *,
        name: str,
        version: int,
        sha256: str,
        resolved: str,
        source: str,
        templates: TemplateCheck | None,
        built: Callable[[], str | None] | None = None,
    ) -> LoadedDefinition:
        """A definition whose ``resolved`` text was checked before and hashes to ``sha256``;
        ``built``, when given, reads the checked definition's values (``codec.encode``) from a
        source as trusted as the text (the cache, under its HMAC), or gives None."""
        item = cls.__new__(cls)
        item._definition, item.resolved, item._source, item._templates = None, resolved, source, templates
        item.name, item.version, item.sha256 = name, version, sha256
        item._built = built
        return item

    @property
    def definition(self) -> Definition:
        """The checked definition (built now if it was deferred).

        Raises:
            DefinitionError: the deferred text is no longer a valid definition, or does not hash
                to its recorded SHA-256.
        """
        if self._definition is None:
            built = self._decoded()
            if built is None:
                from definitions.loader import finish_resolved  # the schema and checks: ≈ 0.1 s

                built = finish_resolved(self.resolved, self._source, self._templates)
            if built.sha256 != self.sha256 or (built.name, built.version) != (self.name, self.version):
                raise DefinitionError(
                    [
                        f"{self._source}:1: the cached text does not hash to its recorded SHA-256 (delete the cache)"
                    ]
                )
            self._definition = built
        return self._definition

    def _decoded(self) -> Definition | None:
        """The definition from ``built``, or None when there is none or it does not decode."""
        text = self._built() if self._built is not None else None
        if text is None:
            return None
        try:
            return codec.decode(text)
        except (ValueError, TypeError, KeyError, AttributeError):
            return None

    def encoded(self) -> str | None:
        """The checked definition's values for the cache (``codec.encode``), or None when it holds
        a value the codec does not know."""
        try:
            return codec.encode(self.definition)
        except TypeError:
            return None

    def __repr__(self) -> str:
        return f"LoadedDefinition({self.name}@{self.version}, sha256={self.sha256[:12]})"
