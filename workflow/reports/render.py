"""A report as CSV (UTF-8 with a BOM, so Excel opens it in Chinese) and as an HTML page with
charts drawn as inline SVG on the server from the same numbers: the ranking as bars, overdue
records per unit, and the trend over the last periods. No script, nothing fetched from elsewhere.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from html import escape

from definitions.reports import Indicator
from workflow.reports.compute import Report, UnitRowResult

NO_DATA = "无数据"
FONTS = "'Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"
BAR = "#b22222"
GREY = "#888"


def shown(indicator: Indicator, value: float | None) -> str:
    """A value as a report shows it: a rate in per cent, a count whole, no value as 无数据."""
    if value is None:
        return NO_DATA
    if indicator.format == "rate":
        return f"{value * 100:.1f}%"
    return f"{value:g}"


def _score(value: float | None) -> str:
    return NO_DATA if value is None else f"{value:.2f}"


def header(report: Report) -> list[str]:
    columns = ["名次 rank", "排名组 group", "单位代码 code", "单位 unit", "层级 level"]
    columns += [f"{i.label} {i.label_en}" for i in report.spec.indicators]
    if report.spec.score is not None:
        columns.append("得分 score")
    return columns


def table_rows(report: Report) -> list[list[str]]:
    groups = {g.name: g.label for g in report.spec.rank_groups}
    lines = []
    for row in report.rows:
        line = [
            "" if row.rank is None else str(row.rank),
            groups.get(row.group or "", ""),
            row.code,
            row.name,
            row.level or "",
        ]
        line += [shown(i, row.values.get(i.name)) for i in report.spec.indicators]
        if report.spec.score is not None:
            line.append(_score(row.score))
        lines.append(line)
    total = ["", "", "", f"{report.jurisdiction.name}合计 total", ""]
    total += [shown(i, report.totals.get(i.name)) for i in report.spec.indicators]
    if report.spec.score is not None:
        total.append("")
    lines.append(total)
    return lines


def to_csv(report: Report) -> bytes:
    """The report's table as CSV, UTF-8 with a BOM; a period with no data is one line saying so."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([f"{report.spec.title}（{report.period.label}）"])
    writer.writerow([f"依据 basis: {report.spec.legal_basis}"])
    writer.writerow([f"报送 to: {'、'.join(report.spec.addressed_to)}"])
    if report.empty:
        writer.writerow([report.no_data_message])
    else:
        writer.writerow(header(report))
        writer.writerows(table_rows(report))
        for indicator in report.spec.indicators:
            writer.writerow([f"{indicator.label}：{indicator.formula.text}（{indicator.legal_basis}）"])
        if report.spec.score is not None:
            writer.writerow([f"得分 score = {report.spec.score.text}（权重为本系统默认值 default weights）"])
    return buffer.getvalue().encode("utf-8-sig")


def _bars(title: str, items: Sequence[tuple[str, float]], unit: str, colour: str) -> str:
    """A horizontal bar chart: one bar per (label, value)."""
    if not items:
        return f"<h3>{escape(title)}</h3><p>{NO_DATA}</p>"
    height = 26 * len(items) + 20
    top = max(v for _, v in items) or 1.0
    parts = [
        f'<h3>{escape(title)}</h3><svg xmlns="http://www.w3.org/2000/svg" width="640" height="{height}" '
        f'role="img" aria-label="{escape(title)}">'
    ]
    for index, (label, value) in enumerate(items):
        y = 10 + index * 26
        width = 0 if value <= 0 else max(1.0, 380 * value / top)
        parts.append(f'<text x="190" y="{y + 15}" text-anchor="end" font-size="13">{escape(label)}</text>')
        parts.append(f'<rect x="200" y="{y}" width="{width:.1f}" height="18" fill="{colour}"/>')
        parts.append(
            f'<text x="{205 + width:.1f}" y="{y + 14}" font-size="12">{value:g}{escape(unit)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _trend(report: Report, indicator: Indicator | None) -> str:
    """A line over the last periods: the average score, or else the first count indicator."""
    if report.spec.score is not None:
        title = "平均得分趋势 trend of the average score"
        points = [(p.period, p.average_score) for p in report.trend]
    elif indicator is not None:
        title = f"{indicator.label}趋势 trend"
        points = [(p.period, p.values.get(indicator.name)) for p in report.trend]
    else:
        return ""
    known = [v for _, v in points if v is not None]
    if not known:
        return f"<h3>{escape(title)}</h3><p>{NO_DATA}</p>"
    top = max(known) or 1.0
    step = 520 / max(1, len(points) - 1)
    parts = [
        f'<h3>{escape(title)}</h3><svg xmlns="http://www.w3.org/2000/svg" width="640" height="200" role="img">'
    ]
    parts.append('<line x1="60" y1="160" x2="600" y2="160" stroke="#444"/>')
    coords = []
    for index, (key, value) in enumerate(points):
        x = 60 + index * step
        parts.append(f'<text x="{x:.1f}" y="180" text-anchor="middle" font-size="12">{escape(key)}</text>')
        if value is None:
            parts.append(
                f'<text x="{x:.1f}" y="150" text-anchor="middle" font-size="11" fill="{GREY}">{NO_DATA}</text>'
            )
            continue
        y = 160 - 130 * value / top
        coords.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{BAR}"/>')
        parts.append(
            f'<text x="{x:.1f}" y="{y - 8:.1f}" text-anchor="middle" font-size="12">{value:g}</text>'
        )
    if len(coords) > 1:
        parts.append(f'<polyline points="{" ".join(coords)}" fill="none" stroke="{BAR}" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def _ranking_charts(report: Report) -> list[str]:
    charts = []
    for group in report.spec.rank_groups:
        members: list[UnitRowResult] = sorted(
            (r for r in report.rows if r.group == group.name and r.score is not None),
            key=lambda r: (r.rank or 0, r.code),
        )
        charts.append(
            _bars(
                f"{group.label}量化排名 ranking",
                [(f"{r.rank}. {r.name}", r.score or 0.0) for r in members],
                "分",
                BAR,
            )
        )
    return charts


def charts(report: Report) -> list[str]:
    """The report's charts as SVG (each with its heading): the rankings, overdue records per
    unit, and the trend over earlier periods. Every label is escaped."""
    parts = []
    if report.spec.score is not None and report.spec.rank_groups:
        parts.extend(_ranking_charts(report))
    overdue = next((i for i in report.spec.indicators if i.name == "overdue_records"), None)
    if overdue is not None:
        items = [(r.name, float(r.values.get(overdue.name) or 0.0)) for r in report.rows]
        parts.append(_bars("各单位逾期未办结的失信记录 overdue records per unit", items, "条", BAR))
    counts = next((i for i in report.spec.indicators if i.format == "count"), None)
    parts.append(_trend(report, counts))
    return parts


def to_html(report: Report) -> str:
    """The report as a page: title, addressees and basis, the table, and the charts."""
    title = f"{report.spec.title}（{report.period.label}）"
    head = (
        f'<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>body{{font-family:{FONTS};margin:2em}}svg text{{font-family:{FONTS}}}table{{border-collapse:collapse}}"
        "td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px}th{background:#f3f3f3}"
        "td:nth-child(n+6){text-align:right}</style></head><body>"
    )
    parts = [head, f"<h1>{escape(title)}</h1>"]
    parts.append(f"<p>报送：{escape('、'.join(report.spec.addressed_to))}</p>")
    parts.append(f"<p>依据：{escape(report.spec.legal_basis)}</p>")
    parts.append(f"<p>统计截至：{report.as_of:%Y-%m-%d %H:%M}</p>")
    if report.empty:
        parts.append(f"<p><strong>{escape(report.no_data_message)}</strong></p></body></html>")
        return "".join(parts)
    parts.append("<table><tr>" + "".join(f"<th>{escape(c)}</th>" for c in header(report)) + "</tr>")
    for line in table_rows(report):
        parts.append("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in line) + "</tr>")
    parts.append("</table>")
    parts.extend(charts(report))
    parts.append("<h3>指标与依据 indicators and their basis</h3><ul>")
    for indicator in report.spec.indicators:
        parts.append(
            f"<li>{escape(indicator.label)}：<code>{escape(indicator.formula.text)}</code>（{escape(indicator.legal_basis)}）</li>"
        )
    if report.spec.score is not None:
        parts.append(f"<li>得分：<code>{escape(report.spec.score.text)}</code>（权重为本系统默认值）</li>")
    parts.append("</ul></body></html>")
    return "".join(parts)
