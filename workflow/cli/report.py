"""``chengxin report``: supervision reports, assessments and rankings, and the figures reported
for them from outside (a court's lost administrative lawsuits)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Annotated

import typer

from workflow.cli.common import ActorOption, DbOption, DefsOption, JsonOption, fail, opened, out, user_errors
from workflow.cli.output import add_row, new_table, print_json

report_app = typer.Typer(
    help="考核评价与排名 supervision reports, assessments and rankings", no_args_is_help=True
)
input_app = typer.Typer(
    help="外部报送的考核数据 figures reported from outside (败诉率)", no_args_is_help=True
)
report_app.add_typer(input_app, name="input")

JurisdictionOption = Annotated[
    str, typer.Option("--jurisdiction", "-j", help="辖区 tianjin | guangyuan | tongxin | taian")
]
PeriodOption = Annotated[str, typer.Option("--period", "-p", help="期次 2026 | 2026H2 | 2026Q3")]
OutOption = Annotated[
    Path, typer.Option("--out", help="CSV 与 HTML 写入的目录 folder the CSV and the HTML page are written to")
]


def _run(
    kind: str,
    jurisdiction: str,
    period: str,
    out_dir: Path,
    db: str | None,
    definitions: list[Path] | None,
    as_json: bool,
) -> None:
    from workflow.reports import build_report
    from workflow.reports.render import header, table_rows, to_csv, to_html

    with user_errors():
        with opened(db, definitions) as engine:
            report = build_report(engine, kind, jurisdiction.strip(), period)
        stem = f"report-{kind}-{report.jurisdiction.key}-{report.period.key}"
        out_dir.mkdir(parents=True, exist_ok=True)
        csv_path, html_path = out_dir / f"{stem}.csv", out_dir / f"{stem}.html"
        csv_path.write_bytes(to_csv(report))
        html_path.write_text(to_html(report), encoding="utf-8")
    if as_json:
        print_json(
            {
                "title": report.spec.title,
                "period": report.period.key,
                "empty": report.empty,
                "rows": [dict(zip(header(report), line, strict=True)) for line in table_rows(report)],
                "csv": str(csv_path),
                "html": str(html_path),
            }
        )
        return
    out.print(f"{report.spec.title}（{report.period.label}）")
    out.print(f"报送 to: {'、'.join(report.spec.addressed_to)}")
    out.print(f"依据 basis: {report.spec.legal_basis}")
    if report.empty:
        out.print(report.no_data_message)
    else:
        table = new_table(*header(report))
        for line in table_rows(report):
            add_row(table, *line)
        out.print(table)
    typer.echo(f"已写入 written: {csv_path}  {html_path}")


@report_app.command("supervision")
def report_supervision(
    jurisdiction: JurisdictionOption,
    period: PeriodOption,
    out_dir: OutOption = Path("."),
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """督查报告 (supervision report: Tianjin half-yearly, Guangyuan quarterly, …)."""
    _run("supervision", jurisdiction, period, out_dir, db, definitions, as_json)


@report_app.command("assessment")
def report_assessment(
    jurisdiction: JurisdictionOption,
    period: PeriodOption,
    out_dir: OutOption = Path("."),
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """考核评价 (year-end assessment, 诚信政府建设 evaluation, 政务诚信评价)."""
    _run("assessment", jurisdiction, period, out_dir, db, definitions, as_json)


@report_app.command("ranking")
def report_ranking(
    jurisdiction: JurisdictionOption,
    period: PeriodOption,
    out_dir: OutOption = Path("."),
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """量化排名 (quantified ranking of departments and counties)."""
    _run("ranking", jurisdiction, period, out_dir, db, definitions, as_json)


@input_app.command("add")
def input_add(
    jurisdiction: JurisdictionOption,
    period: PeriodOption,
    unit: Annotated[str, typer.Option("--unit", help="单位代码 unit code")],
    measure: Annotated[
        str, typer.Option("--measure", help="指标 e.g. lawsuits, lost_lawsuits, unperformed_judgments")
    ],
    value: Annotated[str, typer.Option("--value", help="数值 a whole number")],
    source: Annotated[str, typer.Option("--source", help="报送单位 who keeps the figure, e.g. 县人民法院")],
    actor: ActorOption,
    db: DbOption = None,
) -> None:
    """报送一项考核数据 (report one figure; the same figure again replaces it)."""
    item = {
        "jurisdiction": jurisdiction,
        "period": period,
        "unit": unit,
        "measure": measure,
        "value": value,
        "source": source,
    }
    with user_errors(), opened(db, None) as engine:
        engine.report_inputs.save([item], reported_by=actor)
    typer.echo(f"已报送 reported {jurisdiction} {period} {unit} {measure}={value}（{source}）")


@input_app.command("import")
def input_import(file: Path, actor: ActorOption, db: DbOption = None) -> None:
    """从 CSV 导入考核数据：jurisdiction,period,unit,measure,value,source (all or none)."""
    columns = ("jurisdiction", "period", "unit", "measure", "value", "source")
    with user_errors():
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = set(columns) - set(reader.fieldnames or [])
            if missing:
                fail(
                    f"{file}: 缺少列 missing columns {', '.join(sorted(missing))}; expected {','.join(columns)}",
                    2,
                )
            items = [{k: (row.get(k) or "").strip() for k in columns} for row in reader]
        with opened(db, None) as engine:
            count = engine.report_inputs.save(items, reported_by=actor)
    typer.echo(f"已导入 imported {count} 项考核数据 figures from {file}")


@input_app.command("list")
def input_list(jurisdiction: JurisdictionOption, db: DbOption = None, as_json: JsonOption = False) -> None:
    """列出已报送的考核数据 (the figures reported for a jurisdiction)."""
    with user_errors(), opened(db, None) as engine:
        rows = engine.report_inputs.list(jurisdiction)
    if as_json:
        print_json(
            [
                {
                    "period": r.period,
                    "unit": r.unit,
                    "measure": r.measure,
                    "value": r.value,
                    "source": r.source,
                    "reported_by": r.reported_by,
                }
                for r in rows
            ]
        )
        return
    table = new_table(
        "期次 period", "单位 unit", "指标 measure", "数值 value", "报送单位 source", "报送人 by"
    )
    for r in rows:
        add_row(table, r.period, r.unit, r.measure, str(r.value), r.source, r.reported_by)
    out.print(table)
