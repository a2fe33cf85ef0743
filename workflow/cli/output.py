"""What commands print for people: rich tables that never read user data as markup."""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from workflow.cli import labels
from workflow.cli.common import out
from workflow.engine.clock import shanghai

if TYPE_CHECKING:
    from definitions.model import Definition
    from workflow.engine.search import CasePage
    from workflow.engine.views import HistoryEntry, RecordView

# ------------------------------------------------------------------------------- output


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def time_text(value: dt.datetime | None) -> str:
    return shanghai(value) if value else "—"


def new_table(*headers: str, title: str | None = None, key_width: int = 0) -> Table:
    """A table that wraps long cells instead of cutting them, so a pipe loses no text.

    ``key_width`` keeps the first column (an id people copy) on one line at that width.
    """
    table = Table(title=title, title_justify="left")
    for index, header in enumerate(headers):
        if index == 0 and key_width:
            table.add_column(header, no_wrap=True, min_width=key_width)
        else:
            table.add_column(header, overflow="fold")
    return table


def add_row(table: Table, *cells: object) -> None:
    """Add a row of plain text: user data is never read as rich markup."""
    table.add_row(*(Text("" if cell is None else str(cell)) for cell in cells))


def value_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def tracks_line(view: RecordView) -> str:
    """The parallel tracks, Chinese first: ``公示 publication: 待决定 (pending_decision)``."""
    main = view.tracks[0].track if view.tracks else "main"
    return "，".join(
        f"{t.track_label} {t.track}: {t.label} ({t.state})" for t in view.tracks if t.track != main
    )


def summary(view: RecordView) -> str:
    parts = [view.id, f"{view.state_label} ({view.state})", f"v{view.version}", tracks_line(view)]
    return "  ".join(part for part in parts if part)


def show_record(view: RecordView, definition: Definition | None = None) -> None:
    out.print(
        f"[bold]{escape(view.id)}[/bold]  {escape(view.state_label)} ({escape(view.state)})  "
        f"v{view.version}  {escape(view.definition)}"
    )
    if view.marks:
        out.print(Text("标注 marks: " + "、".join(view.marks)))
    if view.overdue:
        out.print("[bold red]逾期 overdue[/bold red]")
    tracks = new_table("轨道 track", "状态 state", title="状态 state")
    for track in view.tracks:
        add_row(tracks, f"{track.track_label} ({track.track})", f"{track.label} ({track.state})")
    out.print(tracks)
    data = new_table("字段 field", "值 value", title="内容 data")
    for key, value in view.data.items():
        add_row(data, labels.field_text(definition, key), labels.value_text(definition, key, value))
    out.print(data)
    if view.deadlines:
        table = new_table(
            "期限 deadline", "状态 status", "到期 due (Asia/Shanghai)", "说明 why", title="期限 deadlines"
        )
        for d in view.deadlines:
            due = time_text(d.due_at) + (" (暂定 provisional)" if d.provisional else "")
            add_row(
                table,
                f"{d.label} ({d.name})",
                labels.status_text(d.status),
                due,
                "；".join(d.explanation[1:]),
            )
        out.print(table)


def show_history(entries: Sequence[HistoryEntry]) -> None:
    table = new_table("#", "时间 time", "事件 event", "操作人 actor", "变化 changes", "理由 comment")
    for e in entries:
        changes = "; ".join(f"{t}: {a or '—'}→{b or '—'}" for t, a, b in e.changes)
        add_row(
            table,
            e.seq,
            time_text(e.occurred_at),
            f"{e.event_label} ({e.event})",
            f"{e.actor} [{e.role}@{e.unit}]",
            changes,
            e.comment,
        )
    out.print(table)


def show_records(views: Sequence[RecordView]) -> None:
    table = new_table(
        "编号 id",
        "主体 subject",
        "状态 state",
        "标注 marks",
        "逾期 overdue",
        "更新 updated",
        key_width=max((len(v.id) for v in views), default=0),
    )
    for v in views:
        add_row(
            table,
            v.id,
            v.data.get("subject_name", ""),
            f"{v.state_label} ({v.state})",
            "、".join(v.marks),
            "是 yes" if v.overdue else "",
            time_text(v.updated_at),
        )
    out.print(table)
    out.print(f"共 {len(views)} 条记录 ({len(views)} records)")


def page_footer(total: int, offset: int, shown: int, what: str = "条记录 records") -> str:
    """``第 1–100 条，共 3,000 条记录 (1–100 of 3,000); 下一页 next page: --offset 100``."""
    if shown == 0:
        return f"共 {total:,} {what} (0 of {total:,} shown at --offset {offset})"
    first, last = offset + 1, offset + shown
    line = f"第 {first:,}–{last:,} 条，共 {total:,} {what} ({first:,}–{last:,} of {total:,})"
    if last < total:
        line += f"；下一页 next page: --offset {last}"
    return line


def show_page(page: CasePage) -> None:
    """A page of cases with next due date, days overdue and responsible unit, and its footer."""
    table = new_table(
        "编号 id",
        "主体 subject",
        "状态 state",
        "责任单位 unit",
        "下一期限 next due",
        "逾期天数 days overdue",
        "标注 marks",
        key_width=max((len(i.view.id) for i in page.items), default=0),
    )
    for item in page.items:
        v = item.view
        due = f"{time_text(item.next_due)} {item.next_deadline}" if item.next_due else "—"
        add_row(
            table,
            v.id,
            v.data.get("subject_name", ""),
            f"{v.state_label} ({v.state})",
            item.responsible_unit or "",
            due,
            item.days_overdue or ("是 yes" if v.overdue else ""),
            "、".join(v.marks),
        )
    out.print(table)
    out.print(page_footer(page.total, page.offset, len(page.items)))


def page_rows(page: CasePage) -> tuple[list[str], list[list[object]]]:
    """The columns and rows of a page of cases, for CSV."""
    headers = [
        "编号 id",
        "主体 subject_name",
        "主体代码 subject_code",
        "状态 state",
        "状态名称 state_label",
        "责任单位 responsible_unit",
        "下一期限 next_due",
        "期限 next_deadline",
        "逾期天数 days_overdue",
        "逾期 overdue",
        "标注 marks",
        "流程 definition",
        "更新 updated",
    ]
    rows: list[list[object]] = []
    for item in page.items:
        v = item.view
        rows.append(
            [
                v.id,
                v.data.get("subject_name", ""),
                v.data.get("subject_code", ""),
                v.state,
                v.state_label,
                item.responsible_unit or "",
                time_text(item.next_due) if item.next_due else "",
                item.next_deadline or "",
                item.days_overdue,
                "是 yes" if v.overdue else "",
                "、".join(v.marks),
                v.definition,
                time_text(v.updated_at),
            ]
        )
    return headers, rows


def write_csv(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """CSV on stdout as WPS and Excel open it: UTF-8 with a byte-order mark, CRLF line ends."""
    import csv
    import io

    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(headers)
    writer.writerows([["" if cell is None else cell for cell in row] for row in rows])
    sys.stdout.buffer.write(("\ufeff" + text.getvalue()).encode("utf-8"))
    sys.stdout.buffer.flush()


def write_drawing(drawn: str | bytes, output: Path | None) -> None:
    """A diagram to ``output``, or to stdout (SVG bytes as they are, Mermaid as text)."""
    if output is not None:
        output.write_bytes(drawn if isinstance(drawn, bytes) else drawn.encode())
        typer.echo(f"已写入 written: {output}")
    elif isinstance(drawn, bytes):
        sys.stdout.buffer.write(drawn)
        sys.stdout.buffer.flush()
    else:
        typer.echo(drawn)
