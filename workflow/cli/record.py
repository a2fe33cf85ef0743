"""``chengxin record``: submit cases, fire events, show, list, history, what may be done."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from workflow.cli.common import (
    ActorOption,
    AttachOption,
    CommentOption,
    DbOption,
    DefsOption,
    FormatOption,
    JsonOption,
    KeyOption,
    LimitOption,
    OffsetOption,
    PayloadFileOption,
    RoleOption,
    SetOption,
    UnitOption,
    actor_of,
    definition_paths,
    fail,
    opened,
    out,
    output_format,
    state_at,
    user_errors,
)
from workflow.cli.output import (
    add_row,
    new_table,
    page_rows,
    print_json,
    show_history,
    show_page,
    show_record,
    summary,
    write_csv,
    write_drawing,
)
from workflow.cli.payload import payload_of
from workflow.engine import reading

if TYPE_CHECKING:
    from workflow.engine.search import CasePage

record_app = typer.Typer(
    help="失信记录 records: submit, fire events, show, list, history", no_args_is_help=True
)


@record_app.command("submit")
def record_submit(
    *,
    actor: ActorOption,
    role: RoleOption,
    unit: UnitOption,
    definition: Annotated[
        str, typer.Option("--definition", "-d", help="流程定义 e.g. national, tianjin")
    ] = "national",
    version: Annotated[int | None, typer.Option(help="指定版本 pin a version")] = None,
    sets: SetOption = None,
    attach: AttachOption = None,
    payload_file: PayloadFileOption = None,
    draft: Annotated[bool, typer.Option("--draft", help="只登记为草稿 (register a draft only)")] = False,
    comment: CommentOption = "",
    idempotency_key: KeyOption = None,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet", "-q", help="只输出记录编号 print only the id: ID=$(chengxin record submit -q …)"
        ),
    ] = False,
) -> None:
    """登记并提交失信记录 (register a record and submit it for verification)."""
    with user_errors():
        payload = payload_of(sets, attach, payload_file)
        who = actor_of(actor, role, unit)
        with opened(db, definitions) as engine:
            view = engine.register(
                definition,
                payload,
                actor=who,
                version=version,
                comment=comment,
                idempotency_key=idempotency_key,
                submit=not draft,
            )
        if as_json:
            print_json(view.to_json())
        elif quiet:
            typer.echo(view.id)
        else:
            typer.echo(summary(view))


@record_app.command("fire")
def record_fire(
    record_id: str,
    event: str,
    *,
    actor: ActorOption,
    role: RoleOption,
    unit: UnitOption,
    sets: SetOption = None,
    attach: AttachOption = None,
    payload_file: PayloadFileOption = None,
    comment: CommentOption = "",
    idempotency_key: KeyOption = None,
    expect_version: Annotated[
        int | None, typer.Option("--expect-version", help="你看到的版本 the version you saw")
    ] = None,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """对记录执行事件 (fire an event on a record)."""
    with user_errors():
        payload = payload_of(sets, attach, payload_file)
        who = actor_of(actor, role, unit)
        with opened(db, definitions) as engine:
            view = engine.fire(
                record_id,
                event,
                actor=who,
                payload=payload,
                comment=comment,
                idempotency_key=idempotency_key,
                expected_version=expect_version,
            )
        if as_json:
            print_json(view.to_json())
        else:
            typer.echo(summary(view))


@record_app.command("show")
def record_show(
    record_id: str,
    *,
    at: Annotated[
        str | None, typer.Option("--at", help="某一时间的状态 state as of, e.g. 2026-06-01")
    ] = None,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """显示记录 (show a record, now or as of a past time)."""
    if at is None:
        with user_errors(), reading.opened(db, definition_paths(definitions)) as quick:
            if quick is not None:  # a SQLite database: read on the driver alone, no SQLAlchemy
                view = quick.get(record_id)
                if as_json:
                    print_json(view.to_json())
                else:
                    name, _, version = view.definition.partition("@")
                    show_record(view, quick.registry.get(name, int(version)))
                return
    with user_errors(), opened(db, definitions) as engine:
        view = state_at(engine, record_id, at) if at else engine.get(record_id)
        if as_json:
            print_json(view.to_json())
        else:
            name, _, version = view.definition.partition("@")
            show_record(view, engine.registry.get(name, int(version)))


StateFilter = Annotated[
    str | None, typer.Option(help="状态 state, or track:state e.g. publication:published")
]
UnitFilter = Annotated[str | None, typer.Option(help="责任单位或认定单位 unit")]
SubjectFilter = Annotated[
    str | None, typer.Option(help="主体名称的一部分或统一社会信用代码 part of a subject's name, or its code")
]
OverdueFilter = Annotated[bool, typer.Option("--overdue", help="仅逾期 only overdue")]
ActiveFilter = Annotated[
    bool | None, typer.Option("--active/--inactive", help="仅有效记录 only active records")
]
DefinitionFilter = Annotated[str | None, typer.Option("--definition", "-d", help="流程定义 definition")]
DueBefore = Annotated[
    str | None,
    typer.Option("--due-before", help="有期限在此日前到期 an open deadline due before, e.g. 2026-12-31"),
]
DueWithin = Annotated[
    str | None,
    typer.Option(
        "--due-within", help="有期限在此期间内到期 due within: 5wd (工作日 working days) or 10d (days)"
    ),
]


@record_app.command("list")
def record_list(
    *,
    state: StateFilter = None,
    unit: UnitFilter = None,
    subject: SubjectFilter = None,
    overdue: OverdueFilter = False,
    active: ActiveFilter = None,
    definition: DefinitionFilter = None,
    due_before: DueBefore = None,
    due_within: DueWithin = None,
    sort: Annotated[
        str, typer.Option("--sort", help="排序 created | updated | due | id ('-due': latest first)")
    ] = "created",
    limit: LimitOption = 100,
    offset: OffsetOption = 0,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
    fmt: FormatOption = None,
) -> None:
    """查询记录 (list records by state, unit, subject, due date; one page with the total)."""
    chosen = output_format(fmt, as_json)
    filtered = (state, unit, subject, active, definition, due_before, due_within) != (None,) * 7 or overdue
    if not filtered and reading.Reading.pages(sort):
        with user_errors(), reading.opened(db, definition_paths(definitions)) as quick:
            if quick is not None:  # every case of a SQLite database: on the driver alone
                show_list(quick.page(sort=sort, limit=limit, offset=offset), chosen)
                return
    with user_errors(), opened(db, definitions) as engine:
        page = engine.search.page(
            state=state,
            unit=unit,
            subject=subject,
            overdue=overdue,
            active=active,
            definition=definition,
            due_before=engine.search.due_limit(due_before, due_within),
            sort=sort,
            limit=limit,
            offset=offset,
        )
        show_list(page, chosen)


def show_list(page: CasePage, chosen: str) -> None:
    if chosen == "json":
        print_json(page.to_json())
    elif chosen == "csv":
        write_csv(*page_rows(page))
    else:
        show_page(page)


@record_app.command("stats")
def record_stats(
    *,
    by: Annotated[
        list[str] | None, typer.Option("--by", help="分组 unit | state | definition | kind (repeatable)")
    ] = None,
    state: StateFilter = None,
    unit: UnitFilter = None,
    overdue: OverdueFilter = False,
    active: ActiveFilter = None,
    definition: DefinitionFilter = None,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
    fmt: FormatOption = None,
) -> None:
    """按单位和状态统计记录数 (count records per unit and state)."""
    chosen = output_format(fmt, as_json)
    groups = by or ["unit", "state"]
    with user_errors(), opened(db, definitions) as engine:
        counts = engine.search.counts(
            groups, state=state, unit=unit, overdue=overdue, active=active, definition=definition
        )
    headers = [*groups, "count"]
    if chosen == "json":
        print_json(
            {
                "by": groups,
                "total": sum(n for _, n in counts),
                "counts": [{**dict(zip(groups, key, strict=True)), "count": n} for key, n in counts],
            }
        )
        return
    if chosen == "csv":
        write_csv(headers, [[*key, n] for key, n in counts])
        return
    labels = {
        "unit": "单位 unit",
        "state": "状态 state",
        "definition": "流程 definition",
        "kind": "类型 kind",
    }
    table = new_table(*(labels[g] for g in groups), "数量 count")
    for key, n in counts:
        add_row(table, *(k or "—" for k in key), n)
    out.print(table)
    out.print(f"共 {sum(n for _, n in counts):,} 条记录 ({sum(n for _, n in counts):,} records)")


@record_app.command("diagram")
def record_diagram(
    record_id: str,
    fmt: Annotated[str, typer.Option("--format", help="svg | mermaid")] = "svg",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="写入文件 write to a file")] = None,
    db: DbOption = None,
    definitions: DefsOption = None,
) -> None:
    """绘制记录的状态图并标出当前状态 (the definition's diagram with the record's current states marked)."""
    from workflow.core.diagram import diagram

    with user_errors():
        if fmt not in {"mermaid", "svg"}:
            fail(f"--format {fmt!r}: 可选 mermaid 或 svg (allowed: mermaid, svg)", 2)
        with opened(db, definitions) as engine:
            view = engine.get(record_id)
            name, _, version = view.definition.partition("@")
            drawn = diagram(
                engine.registry.get(name, int(version)), fmt, current={t.track: t.state for t in view.tracks}
            )
        write_drawing(drawn, output)


@record_app.command("history")
def record_history(
    record_id: str, db: DbOption = None, definitions: DefsOption = None, as_json: JsonOption = False
) -> None:
    """记录的完整历史 (the record's full history, oldest first)."""
    with user_errors(), opened(db, definitions) as engine:
        entries = engine.history(record_id)
        if as_json:
            print_json([e.to_json() for e in entries])
        else:
            show_history(entries)


@record_app.command("events")
def record_events(
    record_id: str,
    *,
    actor: ActorOption,
    role: RoleOption,
    unit: UnitOption,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """当前可执行的事件 (events this actor may fire now, and why not the others)."""
    with user_errors():
        who = actor_of(actor, role, unit)
        with opened(db, definitions) as engine:
            options = engine.events_for(record_id, who)
        if as_json:
            print_json([o.to_json() for o in options])
            return
        table = new_table("事件 event", "可执行 available", "字段 fields (* required)", "原因 why not")
        for o in options:
            add_row(
                table,
                f"{o.label} ({o.event})",
                "是 yes" if o.available else "否 no",
                ", ".join(o.payload_fields),
                o.reason,
            )
        out.print(table)


@record_app.command("import")
def record_import(
    file: Annotated[Path, typer.Argument(help="导入文件 the file: JSON Lines (.jsonl) or CSV (.csv)")],
    *,
    actor: ActorOption,
    role: RoleOption,
    unit: UnitOption,
    definition: Annotated[
        str, typer.Option("--definition", "-d", help="行未指明时的流程定义 definition of rows that name none")
    ] = "national",
    file_format: Annotated[
        str | None, typer.Option("--format", help="文件格式 jsonl|csv (default: by the file's extension)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="只校验，不写入 (check every row, write nothing)")
    ] = False,
    batch: Annotated[
        int, typer.Option("--batch", min=1, max=100_000, help="每个事务的记录数 cases per transaction")
    ] = 2000,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=0,
            max=64,
            help="另用几个进程决定记录 forked processes deciding rows (0: this one decides them)",
        ),
    ] = 0,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """导入旧系统的记录 (import existing records with their state, dates and documents).

    Each bad row is reported on stderr with its line number and reason, and nothing of it is
    written; the good rows still import, and the exit code is non-zero when any row was bad. A
    second run of the same file imports only the rows the first did not (resumable after a kill).
    """
    from workflow.cli.importing import run_import

    with user_errors():
        who = actor_of(actor, role, unit)
        run_import(
            file,
            who,
            definition=definition,
            file_format=file_format,
            dry_run=dry_run,
            batch=batch,
            workers=workers,
            db=db,
            definitions=definitions,
            as_json=as_json,
        )
