"""``chengxin unit``: the unit directory mail is addressed from."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from workflow.cli.common import (
    DbOption,
    FormatOption,
    JsonOption,
    LimitOption,
    OffsetOption,
    fail,
    opened,
    out,
    output_format,
    user_errors,
)
from workflow.cli.output import (
    add_row,
    new_table,
    page_footer,
    print_json,
    write_csv,
)
from workflow.cli.progress import progress_of

unit_app = typer.Typer(help="单位目录 units and their mail addresses", no_args_is_help=True)


@unit_app.command("add")
def unit_add(
    code: str,
    name: Annotated[str, typer.Option("--name", help="单位名称 the unit's name")],
    email: Annotated[
        list[str] | None, typer.Option("--email", help="邮箱 an address (repeat for several)")
    ] = None,
    superior: Annotated[
        str | None, typer.Option("--superior", help="上级单位代码 superior unit code")
    ] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="联系人 contact person")] = None,
    jurisdiction: Annotated[
        str | None,
        typer.Option("--jurisdiction", help="辖区 jurisdiction: tianjin, guangyuan, tongxin, taian"),
    ] = None,
    level: Annotated[
        str | None, typer.Option("--level", help="层级 level: city, district, department, township")
    ] = None,
    db: DbOption = None,
) -> None:
    """添加或更新单位 (add or replace a unit)."""
    with user_errors(), opened(db, None) as engine:
        engine.units.save(
            [
                {
                    "code": code,
                    "name": name,
                    "emails": email or [],
                    "superior": superior,
                    "contact": contact,
                    "jurisdiction": jurisdiction,
                    "level": level,
                }
            ]
        )
        typer.echo(f"已保存 saved {code} {name}")


@unit_app.command("set-email")
def unit_set_email(code: str, emails: list[str], db: DbOption = None) -> None:
    """设置单位的收件邮箱 (set a unit's addresses)."""
    with user_errors(), opened(db, None) as engine:
        unit = engine.units.get(code)
        if unit is None:
            fail(f"单位 {code} 不存在 (no such unit); add it with 'chengxin unit add'", 3)
        engine.units.save([{**dataclasses.asdict(unit), "emails": emails}])
        typer.echo(f"已保存 saved {code}: {', '.join(emails)}")


@unit_app.command("list")
def unit_list(
    jurisdiction: Annotated[
        str | None, typer.Option("--jurisdiction", help="只列此辖区 only this jurisdiction")
    ] = None,
    limit: LimitOption = 100,
    offset: OffsetOption = 0,
    db: DbOption = None,
    as_json: JsonOption = False,
    fmt: FormatOption = None,
) -> None:
    """列出单位目录，分页 (list the unit directory, one page with the total)."""
    chosen = output_format(fmt, as_json)
    with user_errors(), opened(db, None) as engine:
        units = engine.units.list(jurisdiction)
    page = units[offset : offset + limit]
    if chosen == "json":
        print_json(
            {
                "total": len(units),
                "offset": offset,
                "limit": limit,
                "next_offset": offset + len(page) if offset + len(page) < len(units) else None,
                "units": [dataclasses.asdict(u) for u in page],
            }
        )
        return
    headers = [
        "代码 code",
        "名称 name",
        "辖区 jurisdiction",
        "层级 level",
        "上级 superior",
        "邮箱 emails",
        "联系人 contact",
    ]
    rows = [
        [
            u.code,
            u.name,
            u.jurisdiction or "",
            u.level or "",
            u.superior or "",
            "; ".join(u.emails),
            u.contact or "",
        ]
        for u in page
    ]
    if chosen == "csv":
        write_csv(headers, rows)
        return
    table = new_table(*headers)
    for row in rows:
        add_row(table, *row)
    out.print(table)
    out.print(page_footer(len(units), offset, len(page), "个单位 units"))


@unit_app.command("import")
def unit_import(file: Path, db: DbOption = None) -> None:
    """从 CSV 导入单位：code,name,superior,emails,contact,jurisdiction,level (emails separated by ';'; UTF-8 or GBK/GB18030)."""
    import csv
    import io

    from workflow.errors import PayloadInvalid

    with user_errors(), opened(db, None) as engine:
        reader = csv.DictReader(io.StringIO(csv_text(file), newline=""))
        missing = {"code", "name"} - set(reader.fieldnames or [])
        if missing:
            fail(
                f"{file}: 缺少列 missing columns {', '.join(sorted(missing))}; expected code,name,superior,emails,contact,jurisdiction,level",
                2,
            )
        units = []
        with progress_of("导入单位 importing units") as advance:
            for row in reader:
                line = reader.line_num
                if not (row.get("code") or "").strip():
                    fail(f"{file}:{line}: code 为空 (empty code)", 2)
                unit = {
                    "code": row["code"],
                    "name": row.get("name") or row["code"],
                    "superior": row.get("superior") or None,
                    "emails": [
                        e for e in (row.get("emails") or "").replace(",", ";").split(";") if e.strip()
                    ],
                    "contact": row.get("contact") or None,
                    "jurisdiction": (row.get("jurisdiction") or "").strip() or None,
                    "level": (row.get("level") or "").strip() or None,
                }
                try:
                    engine.units.check(unit)
                except PayloadInvalid as exc:
                    fail(
                        f"{file}:{line}: 第 {line} 行 (row {line}) {row['code'].strip()}: {exc.field}: {exc.problem}",
                        7,
                    )
                units.append(unit)
                advance()
        count = engine.units.save(units)
        typer.echo(f"已导入 imported {count} 个单位 units from {file}")


def csv_text(file: Path) -> str:
    """A CSV file's text: UTF-8 (with or without a BOM), else GB18030 — what Excel and WPS write
    on Chinese Windows (GBK is a subset of it).

    Raises:
        typer.Exit: the file is in neither encoding.
    """
    raw = file.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("gb18030")
    except UnicodeDecodeError as exc:
        fail(
            f"{file}: 文件既不是 UTF-8 也不是 GBK/GB18030 (the file is neither UTF-8 nor GB18030): {exc.reason}",
            2,
        )
