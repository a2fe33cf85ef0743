"""Pages for the credit lead department: the work ledger's progress by department, and the
supervision and ranking reports of a chosen jurisdiction and period.

The progress is ``workflow.runtime.ledgers.ledger_status`` (what ``chengxin ledger status``
prints), counted per lead department; a verifier scoped to part of the unit tree sees the
departments of the directory in that part, and those the directory does not hold. The reports are ``workflow.reports.build_report`` with its own SVG
charts, drawn on the server; every label in them is escaped. Nothing here writes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from markupsafe import Markup

from definitions.jurisdictions import load_jurisdictions
from definitions.reports import load_reports
from workflow import WorkflowError
from workflow.console.audit import DASHBOARD_ROLES, refused
from workflow.console.charts import bars
from workflow.console.identity import Who, engine_of, who
from workflow.console.render import page
from workflow.errors import ArgumentInvalid
from workflow.reports import build_report
from workflow.reports.render import charts, header, table_rows
from workflow.runtime.ledgers import DepartmentCount, ledger_definitions, ledger_status

router = APIRouter(include_in_schema=False)
REPORTS = {"supervision": "督查报告 supervision report", "ranking": "量化排名 ranking"}


def _departments(person: Who, known: set[str], counts: list[DepartmentCount]) -> list[DepartmentCount]:
    """The departments in the person's part of the unit tree; a department the directory does
    not hold (the seed ledger names it only by name) belongs to no part, and is shown."""
    return [c for c in counts if c.department not in known or person.caller.sees_unit(c.department)]


@router.get("/dashboard/ledger")
def ledger_progress(request: Request, jurisdiction: Annotated[str, Query(max_length=200)] = "") -> Response:
    """The ledger's progress by lead department, for one jurisdiction or all."""
    person = who(request)
    if person.role not in DASHBOARD_ROLES:
        return refused(person, "台账进度 ledger progress")
    engine = engine_of(request)
    places = sorted(d.ledger.source for d in ledger_definitions(engine) if d.ledger and d.ledger.source)
    error = ""
    counts: list[DepartmentCount] = []
    try:
        _tasks, found = ledger_status(engine, jurisdiction=jurisdiction.strip() or None)
        counts = _departments(person, {u.code for u in engine.units.list()}, found)
    except WorkflowError as exc:
        error = str(exc)
    return page(
        "ledger.html",
        422 if error else 200,
        title="台账进度 ledger progress",
        session=person.session,
        places=places,
        jurisdiction=jurisdiction,
        counts=counts,
        error=error,
        chart=bars(
            "逾期未报的检查（按牵头部门） overdue checks by lead department",
            [(f"{c.name} ({c.department})", c.overdue) for c in counts if c.overdue],
            tone="late",
        ),
        open_chart=bars(
            "待报送的检查（按牵头部门） checks awaiting a report by lead department",
            [(f"{c.name} ({c.department})", c.open_checks) for c in counts if c.open_checks],
        ),
    )


@router.get("/reports")
def report_page(
    request: Request,
    kind: Annotated[str, Query(max_length=16)] = "supervision",
    jurisdiction: Annotated[str, Query(max_length=200)] = "",
    period: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """A supervision or ranking report of a jurisdiction and period, with its charts."""
    person = who(request)
    if person.role not in DASHBOARD_ROLES:
        return refused(person, "报告 reports")
    engine = engine_of(request)
    jurisdictions = load_jurisdictions().by_key
    offered = {key: jurisdictions[key].name for key in sorted(load_reports().reports) if key in jurisdictions}
    report = None
    errors: dict[str, str] = {}
    if kind not in REPORTS:
        errors["kind"] = f"报告种类应为 (the report is one of) {', '.join(REPORTS)}"
    elif jurisdiction or period:
        if not jurisdiction.strip():
            errors["jurisdiction"] = "必填 (required)"
        if not period.strip():
            errors["period"] = "必填 (required)，如 2026、2026H2、2026Q3"
        if not errors:
            try:
                report = build_report(engine, kind, jurisdiction.strip(), period.strip())
            except ArgumentInvalid as exc:
                field = exc.argument.lstrip("-")
                errors[field if field in {"kind", "jurisdiction", "period"} else "period"] = str(exc)
            except WorkflowError as exc:
                errors["period"] = str(exc)
    return page(
        "reports.html",
        422 if errors else 200,
        title="督查与排名报告 supervision and ranking reports",
        session=person.session,
        kinds=REPORTS,
        offered=offered,
        chosen={"kind": kind, "jurisdiction": jurisdiction, "period": period},
        errors=errors,
        report=report,
        header=header(report) if report and not report.empty else [],
        rows=table_rows(report) if report and not report.empty else [],
        # the charts are built by workflow.reports.render, which escapes every label it draws
        charts=[Markup(svg) for svg in charts(report)] if report and not report.empty else [],
    )
