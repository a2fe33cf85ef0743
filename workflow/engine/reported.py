"""Figures a report takes from outside the engine, as the body that keeps them reports them.

Tongxin's yearly evaluation counts the administrative lawsuits a unit lost and the judgments it
has not performed (败诉率, 履行人民法院生效判决情况, 同心县分工表 第4项): the court or the legal
office reports them, the engine does not know them. Each figure is for one jurisdiction, one
period (2026, 2026H2, 2026Q3), one unit and one measure, with who reported it; reporting the same
figure again replaces it. The measures a jurisdiction accepts are named in
``definitions/reports.yaml`` (``inputs:``).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from typing import Any

from definitions.jurisdictions import load_jurisdictions
from storage.store import Store
from storage.values import ReportInputRow
from workflow.core.report_periods import GRAINS, parse_period
from workflow.engine import inputs
from workflow.engine.clock import Clock
from workflow.engine.wrapping import public
from workflow.errors import ArgumentInvalid, PayloadInvalid

MAX_VALUE = 10**9


def _row(item: Mapping[str, Any], reported_by: str) -> ReportInputRow:
    """One reported figure, checked.

    Raises:
        PayloadInvalid: an unknown jurisdiction or measure, a period that is not one, a value
            that is not a whole number from 0, an empty unit or source.
    """
    places = load_jurisdictions()
    jurisdiction = str(item.get("jurisdiction", "")).strip()
    if jurisdiction not in places.by_key:
        raise PayloadInvalid(
            "report_input",
            "jurisdiction",
            f"{jurisdiction!r} 不是辖区 (no such jurisdiction); allowed: {places.allowed()}",
        )
    from definitions.reports import load_reports  # its pydantic models load when a figure is reported

    measures = load_reports().inputs_of(jurisdiction)
    measure = str(item.get("measure", "")).strip()
    if measure not in measures:
        raise PayloadInvalid(
            "report_input",
            "measure",
            f"{measure!r} 不是{jurisdiction}报送的指标 (not a reported measure); allowed: {', '.join(measures) or 'none'}",
        )
    period_text = str(item.get("period", "")).strip()
    period = parse_period(period_text)
    if period is None:
        raise PayloadInvalid(
            "report_input",
            "period",
            f"{period_text!r} 不是期次 (not a period); allowed: {'; '.join(GRAINS.values())}",
        )
    unit = inputs.code("unit", str(item.get("unit", "")).strip())
    source = str(item.get("source", "")).strip()
    if not unit or not source:
        raise PayloadInvalid("report_input", "unit" if not unit else "source", "不能为空 (must not be empty)")
    try:
        value = int(str(item.get("value", "")).strip())
    except ValueError:
        raise PayloadInvalid(
            "report_input", "value", f"{item.get('value')!r} 不是非负整数 (not a whole number from 0)"
        ) from None
    if not 0 <= value <= MAX_VALUE:
        raise PayloadInvalid("report_input", "value", f"{value} 不在 0–{MAX_VALUE} 之间 (out of range)")
    return ReportInputRow(
        jurisdiction=jurisdiction,
        period=period.key,
        unit=unit,
        measure=measure,
        value=value,
        source=inputs.text("source", source, limit=200),
        reported_by=reported_by,
    )


class ReportInputs:
    """The figures reported for assessments, read and written through the engine."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    @public
    def save(self, items: Sequence[Mapping[str, Any]], *, reported_by: str) -> int:
        """Add or replace reported figures, all or none. Each: ``jurisdiction``, ``period``,
        ``unit``, ``measure``, ``value`` and ``source`` (who keeps the figure).

        Raises:
            ArgumentInvalid: not a list of mappings, or ``reported_by`` is not a name.
            PayloadInvalid: a figure that is not valid (see ``_row``).
        """
        actor = inputs.text("reported_by", reported_by, limit=inputs.ACTOR_ID, empty=False)
        if isinstance(items, str | bytes | Mapping) or not isinstance(items, Sequence):
            raise ArgumentInvalid("items", "需要列表 (expected a list of mappings)")
        if len(items) > inputs.UNITS:
            raise ArgumentInvalid("items", f"过多 (too many): at most {inputs.UNITS} per call")
        rows = []
        for index, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise ArgumentInvalid(f"items[{index}]", "需要映射 (expected a mapping)")
            rows.append(_row(item, actor))
        return self._store.directory.save_report_inputs(rows, self._clock.now())

    @public
    def list(self, jurisdiction: str) -> builtins.list[ReportInputRow]:
        """Every figure reported for ``jurisdiction``.

        Raises:
            ArgumentInvalid: ``jurisdiction`` is not a code's text.
        """
        return self._store.directory.report_inputs(inputs.code("jurisdiction", jurisdiction))
