"""Supervision reports, assessments and rankings of one jurisdiction and one period.

Each unit's measures (``workflow.reports.measures``) go through the report's indicator formulas
and its score formula (``definitions/reports.yaml``); a unit at a level the report rolls up
(逐级归集: a district, the city) counts its subordinates' cases with its own. Units of each rank
group are ranked by score, highest first, equal scores sharing a rank. A period with nothing in
it says so (``Report.empty``) instead of dividing by zero; a rate with nothing to divide has no
value. Reads only.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from definitions.jurisdictions import Jurisdiction, load_jurisdictions
from definitions.reports import REPORT_KINDS, ReportSpec, load_reports
from storage.values import UnitRow
from workflow.core.report_periods import GRAINS, ReportPeriod, parse_period
from workflow.engine.directory import superior_by_level
from workflow.engine.facade import Engine
from workflow.errors import ArgumentInvalid
from workflow.reports.measures import CaseFacts, case_measures, cases_in_scope, input_measures, instant

TREND_PERIODS = 4  # the period reported and the three before it


@dataclass(frozen=True, slots=True, kw_only=True)
class UnitRowResult:
    code: str
    name: str
    level: str | None
    values: Mapping[str, float | None]  # indicator → value (None: no data)
    score: float | None
    group: str | None  # the rank group it is ranked in
    rank: int | None
    measures: Mapping[str, int]
    superior_level: str | None = None  # the level of the unit its figures roll up to


@dataclass(frozen=True, slots=True, kw_only=True)
class TrendPoint:
    period: str
    label: str
    values: Mapping[str, float | None]  # the jurisdiction's totals per indicator
    average_score: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Report:
    spec: ReportSpec
    kind: str  # as asked: supervision | assessment | ranking
    jurisdiction: Jurisdiction
    period: ReportPeriod
    as_of: dt.datetime  # the period's end, or now when it has not ended
    rows: Sequence[UnitRowResult]
    totals: Mapping[str, float | None]
    trend: Sequence[TrendPoint]
    empty: bool

    @property
    def no_data_message(self) -> str:
        return f"{self.period.label}（{self.period.key}）{self.jurisdiction.name}无数据 (no data for this period)"


def spec_for(jurisdiction: str, kind: str) -> ReportSpec:
    """The report of ``kind`` a jurisdiction defines (a ranking is the assessment's ranking where
    the jurisdiction has no ranking of its own).

    Raises:
        ArgumentInvalid: an unknown jurisdiction or kind, or one the jurisdiction has no report of.
    """
    places = load_jurisdictions()
    if jurisdiction not in places.by_key:
        raise ArgumentInvalid(
            "--jurisdiction", f"{jurisdiction!r} 不是辖区 (no such jurisdiction); allowed: {places.allowed()}"
        )
    if kind not in REPORT_KINDS:
        raise ArgumentInvalid("kind", f"{kind!r}; allowed: {', '.join(REPORT_KINDS)}")
    reports = load_reports().reports.get(jurisdiction, {})
    spec = reports.get(kind)
    if spec is None and kind == "ranking":
        spec = next((s for s in reports.values() if s.score is not None and s.rank_groups), None)
    if spec is None:
        have = ", ".join(
            k
            for k in REPORT_KINDS
            if k in reports or (k == "ranking" and any(s.rank_groups for s in reports.values()))
        )
        raise ArgumentInvalid(
            "kind", f"{jurisdiction} 没有 {kind} 报告 (no such report); allowed: {have or 'none'}"
        )
    return spec


def period_for(spec: ReportSpec, text: str) -> ReportPeriod:
    """The period ``text`` names, of a grain the report is made for.

    Raises:
        ArgumentInvalid: anything else, naming the forms allowed.
    """
    period = parse_period(text, spec.periods)
    if period is None:
        allowed = "; ".join(GRAINS[g] for g in spec.periods)
        raise ArgumentInvalid(
            "--period", f"{text!r} 不是本报告的期次 (not a period of this report); allowed: {allowed}"
        )
    return period


def _superiors(units: Sequence[UnitRow]) -> dict[str, str | None]:
    return {u.code: u.superior or superior_by_level(u, units) for u in units}


def _level_of(code: str | None, directory: Mapping[str, UnitRow]) -> str | None:
    unit = directory.get(code) if code else None
    return unit.level if unit else None


def _ancestors(code: str, superiors: Mapping[str, str | None]) -> list[str]:
    found: list[str] = []
    current = superiors.get(code)
    while current is not None and current not in found and current != code:
        found.append(current)
        current = superiors.get(current)
    return found


def _measures(
    engine: Engine,
    spec: ReportSpec,
    cases: Sequence[CaseFacts],
    period: ReportPeriod,
    end: dt.datetime,
    directory: Mapping[str, UnitRow],
) -> tuple[dict[str, Counter[str]], dict[str, Counter[str]]]:
    """(own, counted) measures per unit: counted adds the subordinates' for rolled-up levels."""
    start = instant(period.start)
    own: dict[str, Counter[str]] = {code: Counter() for code in directory}
    for case in cases:
        own.setdefault(case.unit, Counter()).update(case_measures(engine, case, start, end))
    inputs = input_measures(engine.report_inputs.list(spec.jurisdiction), period)
    for unit, counts in inputs.items():
        own.setdefault(unit, Counter()).update(counts)
    superiors = _superiors(list(directory.values()))
    counted = {code: Counter(c) for code, c in own.items()}
    for code, counts in own.items():
        for above in _ancestors(code, superiors):
            parent = directory.get(above)
            if parent is not None and parent.level in spec.roll_up:
                counted.setdefault(above, Counter()).update(counts)
    return own, counted


def _values(spec: ReportSpec, counts: Mapping[str, int]) -> tuple[dict[str, float | None], float | None]:
    numbers = {k: float(v) for k, v in counts.items()}
    values = {i.name: i.formula(numbers) for i in spec.indicators}
    score = spec.score(values) if spec.score is not None else None
    return values, (round(score, 2) if score is not None else None)


def _rank(rows: list[UnitRowResult], spec: ReportSpec) -> list[UnitRowResult]:
    ranked: list[UnitRowResult] = []
    for group in spec.rank_groups:
        members = sorted(
            (
                r
                for r in rows
                if r.level in group.levels
                and r.score is not None
                and (not group.under or r.superior_level in group.under)
            ),
            key=lambda r: (-(r.score or 0.0), r.code),
        )
        for index, row in enumerate(members):
            same = index > 0 and members[index - 1].score == row.score
            rank = ranked[-1].rank if same else index + 1
            ranked.append(_replace(row, group=group.name, rank=rank))
    placed = {r.code for r in ranked}
    return ranked + [r for r in rows if r.code not in placed]


def _replace(row: UnitRowResult, *, group: str, rank: int | None) -> UnitRowResult:
    return UnitRowResult(
        code=row.code,
        name=row.name,
        level=row.level,
        values=row.values,
        score=row.score,
        group=group,
        rank=rank,
        measures=row.measures,
        superior_level=row.superior_level,
    )


def _end(period: ReportPeriod, now: dt.datetime) -> dt.datetime:
    return min(instant(period.end), now)


def build_report(engine: Engine, kind: str, jurisdiction: str, period_text: str) -> Report:
    """The report of ``kind`` for a jurisdiction and a period.

    Raises:
        ArgumentInvalid: an unknown jurisdiction or report kind, or a period of the wrong form.
    """
    spec = spec_for(jurisdiction, kind)
    period = period_for(spec, period_text)
    place = load_jurisdictions().by_key[jurisdiction]
    directory = {u.code: u for u in engine.units.list(jurisdiction)}
    cases = cases_in_scope(engine, place, directory)
    superiors = _superiors(list(directory.values()))
    now = engine.clock.now()
    trend: list[TrendPoint] = []
    rows: list[UnitRowResult] = []
    totals: dict[str, float | None] = {}
    empty = True
    current = period
    periods = [current]
    for _ in range(TREND_PERIODS - 1):
        current = current.previous()
        periods.append(current)
    for index, each in enumerate(reversed(periods)):
        last = index == TREND_PERIODS - 1
        start = instant(each.start)
        if start >= now:
            trend.append(TrendPoint(period=each.key, label=each.label, values={}, average_score=None))
            continue
        own, counted = _measures(engine, spec, cases, each, _end(each, now), directory)
        total: Counter[str] = Counter()
        for counts in own.values():
            total.update(counts)
        values, _ = _values(spec, total)
        scores = []
        for code in sorted(counted):
            unit_values, score = _values(spec, counted[code])
            if score is not None:
                scores.append(score)
            if last:
                unit = directory.get(code)
                rows.append(
                    UnitRowResult(
                        code=code,
                        name=unit.name if unit else code,
                        level=unit.level if unit else None,
                        values=unit_values,
                        score=score,
                        group=None,
                        rank=None,
                        measures=dict(counted[code]),
                        superior_level=_level_of(superiors.get(code), directory),
                    )
                )
        nothing = sum(total.values()) == 0  # no case, deadline, event or figure: no data, not full marks
        average = round(sum(scores) / len(scores), 2) if scores and not nothing else None
        trend.append(
            TrendPoint(
                period=each.key, label=each.label, values={} if nothing else values, average_score=average
            )
        )
        if last:
            totals = values
            empty = nothing
    if spec.rank_groups and spec.score is not None:
        rows = _rank(rows, spec)
    return Report(
        spec=spec,
        kind=kind,
        jurisdiction=place,
        period=period,
        as_of=_end(period, now),
        rows=rows,
        totals=totals,
        trend=trend,
        empty=empty,
    )
