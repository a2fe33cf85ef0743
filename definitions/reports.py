"""Assessment and ranking rules as data, read from ``definitions/reports.yaml``.

Each indicator has a label, its source clause and a formula over the measures the engine counts;
each jurisdiction's reports (supervision, assessment, ranking) name their period grains, whom
they are addressed to, their indicators, the levels whose figures roll up their subordinates'
(逐级归集), a score formula and the groups ranked. Formulas are checked when the file is read
(syntax, the names they use) and evaluated here without ``eval``: arithmetic, ``nz``, ``min`` and
``max`` only. This module must not import ``workflow``, ``storage`` or ``notifications``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "MEASURE",
    "REPORT_KINDS",
    "Formula",
    "Indicator",
    "InputSpec",
    "RankGroup",
    "ReportSpec",
    "Reports",
    "ReportsError",
    "load_reports",
    "parse_reports",
]

REPORT_KINDS = ("supervision", "assessment", "ranking")
MEASURE = re.compile(r"^(open|overdue|cases|new|state|due|ontime|late|event|input)_[a-z0-9_]+$")
_FUNCTIONS = {"nz": 2, "min": None, "max": None}
Value = float | None


class ReportsError(ValueError):
    """``definitions/reports.yaml`` is not valid."""


@dataclass(frozen=True, slots=True)
class Formula:
    """An arithmetic formula, parsed once; ``names`` are the variables it reads."""

    text: str
    tree: ast.expr
    names: frozenset[str]

    def __call__(self, values: Mapping[str, Value]) -> Value:
        """The formula's value; None when it divides by zero or reads a value that has none."""
        return _evaluate(self.tree, values)


def parse_formula(text: str) -> Formula:
    """Parse ``text`` into a formula.

    Raises:
        ReportsError: not an expression of numbers, names, + - * /, parentheses, nz, min, max.
    """
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as exc:
        raise ReportsError(f"formula {text!r}: {exc.msg}") from None
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS or node.keywords:
                raise ReportsError(f"formula {text!r}: only nz(), min() and max() may be called")
            arity = _FUNCTIONS[node.func.id]
            if (arity is not None and len(node.args) != arity) or not node.args:
                raise ReportsError(f"formula {text!r}: {node.func.id}() takes {arity or 'some'} arguments")
        elif isinstance(node, ast.Name):
            if node.id not in _FUNCTIONS:
                names.add(node.id)
        elif isinstance(node, ast.Constant):
            if not isinstance(node.value, int | float) or isinstance(node.value, bool):
                raise ReportsError(f"formula {text!r}: only numbers may be written in a formula")
        elif not isinstance(
            node, ast.BinOp | ast.UnaryOp | ast.Add | ast.Sub | ast.Mult | ast.Div | ast.USub | ast.Load
        ):
            raise ReportsError(f"formula {text!r}: {type(node).__name__} is not allowed")
    return Formula(text=text.strip(), tree=tree, names=frozenset(names))


_OPS: Mapping[type[ast.operator], Callable[[float, float], Value]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: None if b == 0 else a / b,
}


def _evaluate(node: ast.expr, values: Mapping[str, Value]) -> Value:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int | float)  # parse_formula lets nothing else through
        return float(node.value)
    if isinstance(node, ast.Name):
        return values.get(node.id, 0.0)
    if isinstance(node, ast.UnaryOp):
        inner = _evaluate(node.operand, values)
        return None if inner is None else -inner
    if isinstance(node, ast.BinOp):
        left, right = _evaluate(node.left, values), _evaluate(node.right, values)
        if left is None or right is None:
            return None
        return _OPS[type(node.op)](left, right)
    assert isinstance(node, ast.Call)
    assert isinstance(node.func, ast.Name)
    args = [_evaluate(a, values) for a in node.args]
    if node.func.id == "nz":
        return args[1] if args[0] is None else args[0]
    known = [a for a in args if a is not None]
    if len(known) != len(args):
        return None
    return min(known) if node.func.id == "min" else max(known)


@dataclass(frozen=True, slots=True, kw_only=True)
class Indicator:
    name: str
    label: str
    label_en: str
    formula: Formula
    format: str  # count | rate
    better: str  # higher | lower
    legal_basis: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InputSpec:
    name: str
    label: str
    source: str
    legal_basis: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RankGroup:
    name: str
    label: str
    levels: tuple[str, ...]
    under: tuple[str, ...] = ()  # only units whose superior is at one of these levels (empty: any)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportSpec:
    jurisdiction: str
    kind: str  # supervision | assessment | ranking
    title: str
    periods: tuple[str, ...]  # year | half | quarter
    addressed_to: tuple[str, ...]
    legal_basis: str
    indicators: tuple[Indicator, ...]
    roll_up: tuple[str, ...]  # levels whose figures include their subordinates'
    score: Formula | None
    rank_groups: tuple[RankGroup, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Reports:
    indicators: Mapping[str, Indicator]
    inputs: Mapping[str, Mapping[str, InputSpec]]
    reports: Mapping[str, Mapping[str, ReportSpec]]

    def inputs_of(self, jurisdiction: str) -> Mapping[str, InputSpec]:
        return self.inputs.get(jurisdiction, {})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _IndicatorModel(_Strict):
    label: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    formula: str = Field(min_length=1)
    format: Literal["count", "rate"]
    better: Literal["higher", "lower"]
    legal_basis: str = Field(min_length=1)


class _InputModel(_Strict):
    label: str = Field(min_length=1)
    source: str = Field(min_length=1)
    legal_basis: str = Field(min_length=1)


class _GroupModel(_Strict):
    label: str = Field(min_length=1)
    levels: list[str] = Field(min_length=1)
    under: list[str] = Field(default_factory=list)


class _ReportModel(_Strict):
    title: str = Field(min_length=1)
    periods: list[Literal["year", "half", "quarter"]] = Field(min_length=1)
    addressed_to: list[str] = Field(min_length=1)
    legal_basis: str = Field(min_length=1)
    indicators: list[str] = Field(min_length=1)
    roll_up: list[str] = Field(default_factory=list)
    score: str | None = None
    rank_groups: dict[str, _GroupModel] = Field(default_factory=dict)


class _FileModel(_Strict):
    indicators: dict[str, _IndicatorModel] = Field(min_length=1)
    inputs: dict[str, dict[str, _InputModel]] = Field(default_factory=dict)
    reports: dict[str, dict[Literal["supervision", "assessment", "ranking"], _ReportModel]]


def _indicator(name: str, item: _IndicatorModel) -> Indicator:
    formula = parse_formula(item.formula)
    wrong = sorted(n for n in formula.names if not MEASURE.match(n))
    if wrong:
        raise ReportsError(
            f"indicator {name}: {', '.join(wrong)} is not a measure (open_…, due_…, event_…, input_… )"
        )
    return Indicator(
        name=name,
        label=item.label,
        label_en=item.label_en,
        formula=formula,
        format=item.format,
        better=item.better,
        legal_basis=item.legal_basis,
    )


def parse_reports(text: str, levels: frozenset[str] | None = None) -> Reports:
    """Read the text of a reports file; ``levels`` are the unit levels a report may name.

    Raises:
        ReportsError: not YAML, not the expected shape, a formula that does not parse or names
            what it may not, an indicator or level that does not exist.
    """
    try:
        model = _FileModel.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        raise ReportsError(f"reports.yaml: {exc}") from exc
    indicators = {name: _indicator(name, item) for name, item in model.indicators.items()}
    inputs = {
        place: MappingProxyType(
            {
                k: InputSpec(name=k, label=v.label, source=v.source, legal_basis=v.legal_basis)
                for k, v in items.items()
            }
        )
        for place, items in model.inputs.items()
    }
    reports: dict[str, Mapping[str, ReportSpec]] = {}
    for place, kinds in model.reports.items():
        found: dict[str, ReportSpec] = {}
        for kind, item in kinds.items():
            where = f"reports.{place}.{kind}"
            unknown = [i for i in item.indicators if i not in indicators]
            if unknown:
                raise ReportsError(f"{where}: unknown indicators {', '.join(unknown)}")
            named = [*item.roll_up, *(lv for g in item.rank_groups.values() for lv in (*g.levels, *g.under))]
            if levels is not None and any(lv not in levels for lv in named):
                raise ReportsError(
                    f"{where}: a level that does not exist; allowed: {', '.join(sorted(levels))}"
                )
            score = parse_formula(item.score) if item.score else None
            if score is not None and not score.names <= set(item.indicators):
                extra = ", ".join(sorted(score.names - set(item.indicators)))
                raise ReportsError(f"{where}.score: {extra} is not one of the report's indicators")
            if kind == "ranking" and (score is None or not item.rank_groups):
                raise ReportsError(f"{where}: a ranking needs a score and rank_groups")
            found[kind] = ReportSpec(
                jurisdiction=place,
                kind=kind,
                title=item.title,
                periods=tuple(item.periods),
                addressed_to=tuple(item.addressed_to),
                legal_basis=item.legal_basis,
                indicators=tuple(indicators[i] for i in item.indicators),
                roll_up=tuple(item.roll_up),
                score=score,
                rank_groups=tuple(
                    RankGroup(name=k, label=g.label, levels=tuple(g.levels), under=tuple(g.under))
                    for k, g in item.rank_groups.items()
                ),
            )
        reports[place] = MappingProxyType(found)
    return Reports(
        indicators=MappingProxyType(indicators),
        inputs=MappingProxyType(inputs),
        reports=MappingProxyType(reports),
    )


@cache
def load_reports() -> Reports:
    """The bundled reports file (read once per process)."""
    from definitions.jurisdictions import load_jurisdictions

    text = resources.files("definitions").joinpath("reports.yaml").read_text(encoding="utf-8")
    return parse_reports(text, frozenset(load_jurisdictions().levels))
