"""Option values without pydantic where Typer's own coercion would return them unchanged.

Typer 0.29 coerces every parameter's value through a pydantic ``TypeAdapter``, built when the
parameter is first processed: importing pydantic and building the adapters costs a command
≈ 0.06–0.1 s of CPU before it does anything. ``install`` wraps Typer's ``build_runtime_param``
so that the values whose coercion is the identity — a ``str`` for a ``str`` parameter, a
``bool`` for a ``bool``, an ``int`` within the parameter's range for an ``int``, or a string of
decimal digits for one — are taken as they are, and every other value (a path, a list, a
choice, a custom parser, a malformed number, a number out of range) goes through Typer's own
adapter, built the first time it is needed, with Typer's own errors. The value a command
receives and every message it prints are Typer's
(``tests/cli/test_cli_coercion.py`` compares them over many values).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer.core
from typer._coercion import RuntimeParam, TypeDescriptor

if TYPE_CHECKING:
    from collections.abc import Callable

    from typer._click import Context
    from typer.core import _TyperParameter

DIGITS = re.compile(r"(?:0|[1-9][0-9]{0,17})\Z")
"""A non-negative decimal integer without sign, spaces, underscores or leading zeros (what
pydantic reads as the same ``int`` as Python does)."""


@dataclass(frozen=True)
class LightRuntimeParam(RuntimeParam):
    """A parameter's coercion: the identity where Typer's is, else Typer's (built when needed)."""

    descriptor: TypeDescriptor = field(compare=False)
    build: Callable[[TypeDescriptor], RuntimeParam] = field(compare=False)
    built: list[RuntimeParam] = field(default_factory=list, compare=False)

    def _coerce_value(self, value: Any, param: _TyperParameter, ctx: Context) -> Any:
        same, coerced = light(self.descriptor, value)
        if same:
            return coerced
        if not self.built:
            self.built.append(self.build(self.descriptor))
        return self.built[0]._coerce_value(value, param=param, ctx=ctx)


def light(descriptor: TypeDescriptor, value: Any) -> tuple[bool, Any]:
    """``(True, value)`` when Typer's coercion of ``value`` is known to give ``value`` (or, for a
    string of digits for an ``int``, that ``int``), else ``(False, None)``."""
    info = descriptor.parameter_info
    annotation = descriptor.annotation
    if info.parser is not None or descriptor.is_file:
        return False, None
    if annotation is str and type(value) is str and not descriptor.is_choice:
        return True, value
    if annotation is bool and type(value) is bool:
        return True, value
    if annotation is int and not info.clamp:
        number = value if type(value) is int else None
        if type(value) is str and DIGITS.match(value):
            number = int(value)
        if number is None:
            return False, None
        if (info.min is not None and number < info.min) or (info.max is not None and number > info.max):
            return False, None
        return True, number
    return False, None


def install() -> None:
    """Make Typer build ``LightRuntimeParam``s (once; for the whole process)."""
    build: Callable[[TypeDescriptor], RuntimeParam] = getattr(typer.core, "build_runtime_param")  # noqa: B009
    if getattr(build, "light", False):
        return

    def build_light(descriptor: TypeDescriptor) -> RuntimeParam:
        return LightRuntimeParam(
            parameter_info=descriptor.parameter_info,
            annotation=descriptor.annotation,
            descriptor=descriptor,
            build=build,
        )

    build_light.light = True  # type: ignore[attr-defined]
    setattr(typer.core, "build_runtime_param", build_light)  # noqa: B010 - Typer's name, not exported
