"""``chengxin unit``: the unit directory mail is addressed from."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Annotated

import typer

from workflow.cli.common import (
    DbOption,
    JsonOption,
    fail,
    opened,
    out,
    user_errors,
)
from workflow.cli.output import (
    add_row,
    new_table,
    print_json,
)

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
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """列出单位目录 (list the unit directory)."""
    with user_errors(), opened(db, None) as engine:
        units = engine.units.list(jurisdiction)
        if as_json:
            print_json([dataclasses.asdict(u) for u in units])
            return
        table = new_table(
            "代码 code",
            "名称 name",
            "辖区 jurisdiction",
            "层级 level",
            "上级 superior",
            "邮箱 emails",
            "联系人 contact",
        )
        for unit in units:
            add_row(
                table,
                unit.code,
                unit.name,
                unit.jurisdiction or "",
                unit.level or "",
                unit.superior or "",
                ", ".join(unit.emails),
                unit.contact or "",
            )
        out.print(table)


@unit_app.command("import")
def unit_import(file: Path, db: DbOption = None) -> None:
    """从 CSV 导入单位：code,name,superior,emails,contact,jurisdiction,level (emails separated by ';')."""
    import csv

    with user_errors(), opened(db, None) as engine:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"code", "name"} - set(reader.fieldnames or [])
            if missing:
                fail(
                    f"{file}: 缺少列 missing columns {', '.join(sorted(missing))}; expected code,name,superior,emails,contact,jurisdiction,level",
                    2,
                )
            units = []
            for line, row in enumerate(reader, start=2):
                if not (row.get("code") or "").strip():
                    fail(f"{file}:{line}: code 为空 (empty code)", 2)
                units.append(
                    {
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
                )
        count = engine.units.save(units)
        typer.echo(f"已导入 imported {count} 个单位 units from {file}")
