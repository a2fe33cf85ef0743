"""Recurring commitment checks (践诺检查): open, on every standing commitment, the check its rhythm
says is due, the way the ledger checks are opened.

A commitment with a ``check_rhythm`` other than ``none`` is checked at the end of each rhythm period
counted from its ``period_start`` (quarterly: every three months, half-yearly: six, yearly: twelve),
up to but not including ``period_end``, where the fulfilment deadline takes over. Each check is
opened by a system event (``open_scheduled_check``) with an idempotency key per case and period, so
several engine processes open it once. A check still open holds the next one back; after downtime
only the latest due check is opened and the periods it skipped are named in its history row.

Only a commitment whose definition version has the system event is opened this way (commitment@2
and its jurisdiction variants); a case on an earlier version keeps its hand-opened checks. This
module uses only the engine's public API and reads no clock of its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta

from workflow.engine.facade import Engine
from workflow.engine.views import RecordView
from workflow.log import get_logger

log = get_logger("chengxin.commitments")
COMMITMENT_KIND = "commitment"
EVENT = "open_scheduled_check"
CHECK_TRACK = "check"
MONTHS = {"quarterly": 3, "half_yearly": 6, "yearly": 12}
DEFAULT_REPORT_DAYS = 15
OPEN_STATES = ("published", "overdue")
_PAGE = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class Period:
    """One rhythm period of a commitment, checked when it ends."""

    number: int
    start: dt.date
    end: dt.date  # the day the check opens

    @property
    def label(self) -> str:
        return f"第{self.number}次践诺检查（{self.start.isoformat()}至{self.end.isoformat()}）"


@dataclass(frozen=True, slots=True, kw_only=True)
class CommitmentChecksResult:
    opened: list[str] = field(default_factory=list)  # case ids whose check was opened now


def periods(data: Mapping[str, Any]) -> list[Period]:
    """The rhythm periods of a commitment whose end falls before its ``period_end``."""
    months = MONTHS.get(str(data.get("check_rhythm") or "none"))
    if months is None or not data.get("period_start") or not data.get("period_end"):
        return []
    first = dt.date.fromisoformat(str(data["period_start"]))
    last = dt.date.fromisoformat(str(data["period_end"]))
    out: list[Period] = []
    number = 1
    while True:
        start = first + relativedelta(months=months * (number - 1))
        end = first + relativedelta(months=months * number)
        if end >= last:
            return out
        out.append(Period(number=number, start=start, end=end))
        number += 1


def _cases(engine: Engine, definition: str, state: str) -> Iterator[RecordView]:
    offset = 0
    while True:
        page = engine.query(definition=definition, state=state, limit=_PAGE, offset=offset)
        yield from page
        if len(page) < _PAGE:
            return
        offset += _PAGE


def _check_state(view: RecordView) -> str:
    return next((t.state for t in view.tracks if t.track == CHECK_TRACK), "")


def open_due_commitment_checks(engine: Engine) -> CommitmentChecksResult:
    """Open the latest due check of every standing commitment whose check track is idle
    (idempotent, safe to run in several processes at once)."""
    result = CommitmentChecksResult()
    now = engine.clock.now()
    for newest in engine.registry.of_kind(COMMITMENT_KIND):
        local = now.astimezone(ZoneInfo(newest.timezone)).date()
        for state in OPEN_STATES:
            for view in list(_cases(engine, newest.name, state)):
                name, _, version = view.definition.rpartition("@")
                if EVENT not in engine.registry.get(name, int(version)).events:
                    continue
                if _check_state(view) != "idle":
                    continue
                covered = str(view.data.get("check_due") or "")  # a check due later covered the period
                due = [p for p in periods(view.data) if p.end <= local and p.end.isoformat() > covered]
                if not due:
                    continue
                step, skipped = due[-1], due[:-1]
                days = int(view.data.get("check_report_days") or DEFAULT_REPORT_DAYS)
                report_due = min(
                    step.end + dt.timedelta(days=days), dt.date.fromisoformat(str(view.data["period_end"]))
                )
                payload: dict[str, Any] = {"check_label": step.label, "check_due": report_due.isoformat()}
                if skipped:
                    payload["missed"] = [p.label for p in skipped]
                _view, fired = engine.fire_system(view.id, EVENT, payload, key=_opened_key(view.id, step))
                if fired:
                    result.opened.append(view.id)
                    log.info("commitment check opened", case=view.id, check=step.label)
    return result


def _opened_key(case: str, period: Period) -> str:
    return f"commitment-check/{case}/{period.end.isoformat()}"
