"""``chengxin definitions``: list, show, validate and draw workflow definitions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from definitions.loader import load_paths
from workflow.cli.common import (
    DefsOption,
    FormatOption,
    JsonOption,
    definition_paths,
    fail,
    out,
    output_format,
    user_errors,
)
from workflow.cli.output import (
    add_row,
    new_table,
    print_json,
    write_csv,
    write_drawing,
)

definitions_app = typer.Typer(help="流程定义 workflow definitions", no_args_is_help=True)


@definitions_app.command("list")
def definitions_list(
    definitions: DefsOption = None, as_json: JsonOption = False, fmt: FormatOption = None
) -> None:
    """列出流程定义 (list the workflow definitions)."""
    from workflow.engine.registry import Registry

    with user_errors():
        registry = Registry.load(definition_paths(definitions))
        items = [
            {
                "name": d.name,
                "version": d.version,
                "title": d.title,
                "jurisdiction": d.jurisdiction,
                "effective_from": d.effective_from.isoformat() if d.effective_from else None,
                "source": d.source,
                "sha256": d.sha256,
            }
            for d in registry.all()
        ]
        chosen = output_format(fmt, as_json)
        if chosen == "json":
            print_json(items)
            return
        if chosen == "csv":
            write_csv(list(items[0]) if items else [], [list(item.values()) for item in items])
            return
        table = new_table("名称 name", "版本 version", "标题 title", "地区 jurisdiction", "生效 from")
        for item in items:
            add_row(
                table,
                item["name"],
                item["version"],
                item["title"],
                item["jurisdiction"],
                item["effective_from"] or "—",
            )
        out.print(table)


@definitions_app.command("show")
def definitions_show(
    name: str,
    version: Annotated[int | None, typer.Option(help="版本 version (default: the newest)")] = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """显示一个流程定义 (show a definition: tracks, events, deadlines)."""
    from workflow.engine.registry import Registry

    with user_errors():
        registry = Registry.load(definition_paths(definitions))
        d = registry.get(name, version) if version else registry.select(name)
        if as_json:
            print_json(json.loads(registry.resolved(d.name, d.version)))
            return
        out.print(
            f"[bold]{escape(d.title)}[/bold] {escape(d.key)} — {escape(d.jurisdiction)}；"
            f"依据 legal basis: {escape(d.legal_basis)}"
        )
        for track in d.tracks.values():
            states = " · ".join(f"{s.label}({s.name})" for s in track.states.values())
            out.print(f"\n[bold]{escape(track.label)}[/bold] ({escape(track.name)}): {escape(states)}")
        events = new_table("事件 event", "角色 roles", "依据 legal basis", title="事件 events")
        for e in d.events.values():
            add_row(events, f"{e.label} ({e.name})", ", ".join(e.roles), e.legal_basis)
        out.print(events)
        deadlines = new_table("期限 deadline", "期间 period", "依据 legal basis", title="期限 deadlines")
        for dl in d.deadlines.values():
            add_row(deadlines, f"{dl.label} ({dl.name})", dl.period.describe(), dl.legal_basis)
        out.print(deadlines)


@definitions_app.command("validate")
def definitions_validate(paths: list[Path]) -> None:
    """校验定义文件 (validate definition files; every problem as file:line: message)."""
    from definitions.loader import load_bundled

    with user_errors():
        for path in paths:
            if not path.exists():
                fail(f"{path}: 文件不存在 (no such file or folder)", 2)
        for item in load_paths(paths, base=load_bundled()):
            typer.echo(f"有效 valid: {item.definition.key} ({item.definition.source})")


@definitions_app.command("diagram")
def definitions_diagram(
    name: str,
    fmt: Annotated[str, typer.Option("--format", help="mermaid | svg")] = "mermaid",
    version: Annotated[int | None, typer.Option(help="版本 version (default: the newest)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="写入文件 write to a file")] = None,
    definitions: DefsOption = None,
) -> None:
    """绘制状态图 (state diagram as mermaid text or SVG)."""
    from workflow.core.diagram import diagram
    from workflow.engine.registry import Registry

    with user_errors():
        if fmt not in {"mermaid", "svg"}:
            fail(f"--format {fmt!r}: 可选 mermaid 或 svg (allowed: mermaid, svg)", 2)
        registry = Registry.load(definition_paths(definitions))
        d = registry.get(name, version) if version else registry.select(name)
        write_drawing(diagram(d, fmt), output)
