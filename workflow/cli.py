"""The ``chengxin`` command line: for caseworkers, auditors and operators.

Human output is Chinese first (rich tables); every read command takes ``--json`` for
scripts. A user error prints one line on stderr and exits non-zero — never a traceback. The
database comes from ``--db`` or ``CHENGXIN_DATABASE_URL`` (default: ``chengxin.db`` here);
who acts comes from ``--actor/--role/--unit`` or ``CHENGXIN_ACTOR/ROLE/UNIT``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
import yaml
from rich.console import Console
from rich.table import Table

from definitions.holidays import HolidayTableError
from definitions.loader import DefinitionError, load_paths
from storage.errors import StorageError
from workflow import logs
from workflow.clock import SHANGHAI, parse_when, shanghai
from workflow.decide import Actor
from workflow.engine import Engine
from workflow.errors import ClockError, WorkflowError
from workflow.views import HistoryEntry, RecordView

app = typer.Typer(
    name="chengxin",
    help="诚信 chengxin — 政务失信记录全生命周期引擎 (workflow engine for government dishonesty records).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
definitions_app = typer.Typer(help="流程定义 workflow definitions", no_args_is_help=True)
record_app = typer.Typer(
    help="失信记录 records: submit, fire events, show, list, history", no_args_is_help=True
)
audit_app = typer.Typer(help="审计 audit: verify hash chains, replay, checkpoints", no_args_is_help=True)
clock_app = typer.Typer(help="演练库的模拟时钟 simulated clock of a drill database", no_args_is_help=True)
app.add_typer(definitions_app, name="definitions")
app.add_typer(record_app, name="record")
app.add_typer(audit_app, name="audit")
app.add_typer(clock_app, name="clock")

out = Console(highlight=False, soft_wrap=True)

DbOption = Annotated[
    str | None,
    typer.Option("--db", envvar="CHENGXIN_DATABASE_URL", help="数据库 URL (default sqlite:///chengxin.db)"),
]
DefsOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--definitions",
        help="额外的流程定义文件或目录 extra definition files or folders",
        envvar="CHENGXIN_DEFINITIONS",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="输出 JSON (for scripts)")]
ActorOption = Annotated[str, typer.Option("--actor", envvar="CHENGXIN_ACTOR", help="操作人 who acts")]
RoleOption = Annotated[
    str, typer.Option("--role", envvar="CHENGXIN_ROLE", help="角色 role, e.g. recorder, verifier")
]
UnitOption = Annotated[
    str, typer.Option("--unit", envvar="CHENGXIN_UNIT", help="操作人所在单位代码 the actor's unit")
]
SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", "-s", help="字段 field=value (repeat a field for lists)"),
]
AttachOption = Annotated[
    list[str] | None,
    typer.Option("--attach", help="附件 field=PATH: adds a document with its SHA-256"),
]
PayloadFileOption = Annotated[
    Path | None, typer.Option("--payload-file", help="JSON 或 YAML 文件 file with the payload", exists=False)
]

T = TypeVar("T")


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"错误 error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn every error a user can cause into one line on stderr and a non-zero exit."""
    try:
        yield
    except WorkflowError as exc:
        fail(str(exc), exc.exit_code)
    except DefinitionError as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        fail(f"{len(exc.problems)} 处定义错误 (definition problems)", 2)
    except (HolidayTableError, StorageError) as exc:
        fail(str(exc), 2)
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{exc}", 2)


def _definitions(paths: list[Path] | None) -> list[Path]:
    found: list[Path] = []
    for item in paths or []:
        found.extend(Path(p) for p in str(item).split(os.pathsep) if p)
    return found


def _engine(db: str | None, definitions: list[Path] | None) -> Engine:
    return Engine.open(db, definitions=_definitions(definitions))


def _actor(actor: str, role: str, unit: str) -> Actor:
    for name, value in (("--actor", actor), ("--role", role), ("--unit", unit)):
        if not value.strip():
            fail(f"{name} 不能为空 (must not be empty)")
    return Actor(id=actor.strip(), role=role.strip(), unit=unit.strip())


def _payload(sets: list[str] | None, attach: list[str] | None, payload_file: Path | None) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if payload_file is not None:
        text = payload_file.read_text(encoding="utf-8")
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            fail(
                f"{payload_file}: 不是有效的 JSON/YAML (not valid JSON or YAML): {str(exc).splitlines()[0]}",
                2,
            )
        if not isinstance(loaded, dict):
            fail(f"{payload_file}: 需要一个键值映射 (expected a mapping of field: value)", 2)
        payload.update({str(k): (v.isoformat() if isinstance(v, dt.date) else v) for k, v in loaded.items()})
    for item in sets or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"--set {item!r}: 需要 field=value (expected field=value)", 2)
        key = key.strip()
        if key in payload and not isinstance(payload[key], list):
            payload[key] = [payload[key], value]
        elif key in payload:
            payload[key].append(value)
        else:
            payload[key] = value
    for item in attach or []:
        key, sep, path = item.partition("=")
        if not sep:
            fail(f"--attach {item!r}: 需要 field=PATH (expected field=PATH)", 2)
        file = Path(path)
        if not file.is_file():
            fail(f"--attach: 文件不存在 (no such file): {file}", 2)
        doc = {"name": file.name, "sha256": hashlib.sha256(file.read_bytes()).hexdigest()}
        current = payload.get(key)
        payload[key] = [*(current if isinstance(current, list) else [current] if current else []), doc]
    return payload


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _time(value: dt.datetime | None) -> str:
    return shanghai(value) if value else "—"


def _show_record(view: RecordView) -> None:
    out.print(
        f"[bold]{view.id}[/bold]  {view.state_label} ({view.state})  v{view.version}  {view.definition}"
    )
    if view.marks:
        out.print("标注 marks: " + "、".join(view.marks))
    if view.overdue:
        out.print("[bold red]逾期 overdue[/bold red]")
    tracks = Table("轨道 track", "状态 state", title="状态 state", title_justify="left")
    for track in view.tracks:
        tracks.add_row(f"{track.track_label} ({track.track})", f"{track.label} ({track.state})")
    out.print(tracks)
    data = Table("字段 field", "值 value", title="内容 data", title_justify="left")
    for key, value in view.data.items():
        data.add_row(key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    out.print(data)
    if view.deadlines:
        table = Table(
            "期限 deadline",
            "状态 status",
            "到期 due (Asia/Shanghai)",
            "说明 why",
            title="期限 deadlines",
            title_justify="left",
        )
        for d in view.deadlines:
            due = _time(d.due_at) + (" (暂定 provisional)" if d.provisional else "")
            table.add_row(f"{d.label} ({d.name})", d.status, due, "；".join(d.explanation[1:]))
        out.print(table)


def _show_history(entries: Sequence[HistoryEntry]) -> None:
    table = Table(
        "#", "时间 time", "事件 event", "操作人 actor", "变化 changes", "理由 comment", title_justify="left"
    )
    for e in entries:
        changes = "; ".join(f"{t}: {a or '—'}→{b or '—'}" for t, a, b in e.changes)
        table.add_row(
            str(e.seq),
            _time(e.occurred_at),
            f"{e.event_label} ({e.event})",
            f"{e.actor} [{e.role}@{e.unit}]",
            changes,
            e.comment,
        )
    out.print(table)


def _run(fn: Callable[[], T]) -> T:
    with user_errors():
        return fn()
    raise AssertionError("unreachable")  # pragma: no cover


# ------------------------------------------------------------------------------ init


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="记录每次状态变化 log every transition")
    ] = False,
) -> None:
    logs.configure(verbose=verbose)


@app.command()
def init(
    db: DbOption = None,
    simulated_clock: Annotated[
        bool,
        typer.Option(
            "--simulated-clock", help="创建演练库：使用模拟时钟 (drill database on simulated time, for life)"
        ),
    ] = False,
    start: Annotated[
        str | None, typer.Option("--start", help="模拟时钟起点 start of simulated time, e.g. 2026-05-11")
    ] = None,
) -> None:
    """创建或升级数据库结构 (create or upgrade the schema)."""

    def run() -> None:
        begin = None
        if simulated_clock:
            begin = parse_when(start) if start else dt.datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)
        elif start:
            raise ClockError("--start 只能与 --simulated-clock 一起使用 (only with --simulated-clock)")
        engine, before, after = Engine.init(db, simulated_start=begin)
        mode = "模拟时间 simulated" if engine.simulated else "真实时间 real time"
        change = f"{before or '空 empty'} → {after}" if before != after else f"已是最新 up to date ({after})"
        typer.echo(f"数据库就绪 database ready: schema {change}; clock: {mode}")
        engine.close()

    _run(run)


# ------------------------------------------------------------------------ definitions


@definitions_app.command("list")
def definitions_list(definitions: DefsOption = None, as_json: JsonOption = False) -> None:
    """列出流程定义 (list the workflow definitions)."""
    from workflow.registry import Registry

    def run() -> None:
        registry = Registry.load(_definitions(definitions))
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
        if as_json:
            _print_json(items)
            return
        table = Table("名称 name", "版本 version", "标题 title", "地区 jurisdiction", "生效 from")
        for item in items:
            table.add_row(
                item["name"],
                str(item["version"]),
                item["title"],
                item["jurisdiction"],
                item["effective_from"] or "—",
            )
        out.print(table)

    _run(run)


@definitions_app.command("show")
def definitions_show(
    name: str,
    version: Annotated[int | None, typer.Option()] = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """显示一个流程定义 (show a definition: tracks, events, deadlines)."""
    from workflow.registry import Registry

    def run() -> None:
        registry = Registry.load(_definitions(definitions))
        d = registry.get(name, version) if version else registry.select(name)
        if as_json:
            typer.echo(registry.resolved(d.name, d.version))
            return
        out.print(f"[bold]{d.title}[/bold] {d.key} — {d.jurisdiction}; 依据 {d.legal_basis}")
        for track in d.tracks.values():
            out.print(
                f"\n[bold]{track.label}[/bold] ({track.name}): "
                + " · ".join(f"{s.label}({s.name})" for s in track.states.values())
            )
        events = Table(
            "事件 event", "角色 roles", "依据 legal basis", title="事件 events", title_justify="left"
        )
        for e in d.events.values():
            events.add_row(f"{e.label} ({e.name})", ", ".join(e.roles), e.legal_basis)
        out.print(events)
        deadlines = Table(
            "期限 deadline", "期间 period", "依据 legal basis", title="期限 deadlines", title_justify="left"
        )
        for dl in d.deadlines.values():
            deadlines.add_row(f"{dl.label} ({dl.name})", dl.period.describe(), dl.legal_basis)
        out.print(deadlines)

    _run(run)


@definitions_app.command("validate")
def definitions_validate(paths: list[Path]) -> None:
    """校验定义文件 (validate definition files; every problem as file:line: message)."""
    from definitions.loader import load_bundled

    def run() -> None:
        for path in paths:
            if not path.exists():
                fail(f"{path}: 文件不存在 (no such file or folder)", 2)
        loaded = load_paths(paths, base=load_bundled())
        for item in loaded:
            typer.echo(f"有效 valid: {item.definition.key} ({item.definition.source})")

    _run(run)


@definitions_app.command("diagram")
def definitions_diagram(
    name: str,
    fmt: Annotated[str, typer.Option("--format", help="mermaid | svg")] = "mermaid",
    version: Annotated[int | None, typer.Option()] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o")] = None,
    definitions: DefsOption = None,
) -> None:
    """绘制状态图 (state diagram as mermaid text or SVG)."""
    from workflow.machines import diagram
    from workflow.registry import Registry

    def run() -> None:
        if fmt not in {"mermaid", "svg"}:
            fail(f"--format {fmt!r}: 可选 mermaid 或 svg (allowed: mermaid, svg)", 2)
        registry = Registry.load(_definitions(definitions))
        d = registry.get(name, version) if version else registry.select(name)
        drawn = diagram(d, fmt)
        if output is not None:
            output.write_bytes(drawn if isinstance(drawn, bytes) else drawn.encode())
            typer.echo(f"已写入 written: {output}")
        elif isinstance(drawn, bytes):
            sys.stdout.buffer.write(drawn)
        else:
            typer.echo(drawn)

    _run(run)


# ----------------------------------------------------------------------------- records


@record_app.command("submit")
def record_submit(
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
    comment: Annotated[str, typer.Option("--comment", "-m")] = "",
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """登记并提交失信记录 (register a record and submit it for verification)."""

    def run() -> None:
        engine = _engine(db, definitions)
        view = engine.register(
            definition,
            _payload(sets, attach, payload_file),
            actor=_actor(actor, role, unit),
            version=version,
            comment=comment,
            idempotency_key=idempotency_key,
            submit=not draft,
        )
        if as_json:
            _print_json(view.to_json())
        else:
            typer.echo(f"{view.id}  {view.state_label} ({view.state})  v{view.version}")

    _run(run)


@record_app.command("fire")
def record_fire(
    record_id: str,
    event: str,
    actor: ActorOption,
    role: RoleOption,
    unit: UnitOption,
    sets: SetOption = None,
    attach: AttachOption = None,
    payload_file: PayloadFileOption = None,
    comment: Annotated[
        str, typer.Option("--comment", "-m", help="理由 reasons (required for decisions)")
    ] = "",
    idempotency_key: Annotated[str | None, typer.Option("--idempotency-key")] = None,
    expect_version: Annotated[
        int | None, typer.Option("--expect-version", help="你看到的版本 the version you saw")
    ] = None,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """对记录执行事件 (fire an event on a record)."""

    def run() -> None:
        engine = _engine(db, definitions)
        view = engine.fire(
            record_id,
            event,
            actor=_actor(actor, role, unit),
            payload=_payload(sets, attach, payload_file),
            comment=comment,
            idempotency_key=idempotency_key,
            expected_version=expect_version,
        )
        if as_json:
            _print_json(view.to_json())
        else:
            tracks = ", ".join(f"{t.track}:{t.state}" for t in view.tracks if t.track != "main")
            typer.echo(f"{view.id}  {view.state_label} ({view.state})  v{view.version}  {tracks}")

    _run(run)


@record_app.command("show")
def record_show(
    record_id: str,
    at: Annotated[
        str | None, typer.Option("--at", help="某一时间的状态 state as of, e.g. 2026-06-01")
    ] = None,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """显示记录 (show a record, now or as of a past time)."""

    def run() -> None:
        engine = _engine(db, definitions)
        view = engine.state_at(record_id, _end_of(at)) if at else engine.get(record_id)
        if as_json:
            _print_json(view.to_json())
        else:
            _show_record(view)

    _run(run)


def _end_of(text: str) -> dt.datetime:
    """A bare date means the end of that day (Asia/Shanghai)."""
    when = parse_when(text)
    if len(text.strip()) == 10:
        when = when + dt.timedelta(days=1) - dt.timedelta(microseconds=1)
    return when


@record_app.command("list")
def record_list(
    state: Annotated[
        str | None, typer.Option(help="状态 state, or track:state e.g. publication:published")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="责任单位或认定单位 unit")] = None,
    subject: Annotated[str | None, typer.Option(help="主体名称或统一社会信用代码 subject")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="仅逾期 only overdue")] = False,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="仅有效记录 only active records")
    ] = None,
    definition: Annotated[str | None, typer.Option("--definition", "-d")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """查询记录 (list records by state, unit, subject, overdue)."""

    def run() -> None:
        engine = _engine(db, definitions)
        views = engine.query(
            state=state,
            unit=unit,
            subject=subject,
            overdue=overdue,
            active=active,
            definition=definition,
            limit=limit,
            offset=offset,
        )
        if as_json:
            _print_json([v.to_json() for v in views])
            return
        table = Table("编号 id", "主体 subject", "状态 state", "标注 marks", "逾期 overdue", "更新 updated")
        for v in views:
            table.add_row(
                v.id,
                str(v.data.get("subject_name", "")),
                f"{v.state_label} ({v.state})",
                "、".join(v.marks),
                "是" if v.overdue else "",
                _time(v.updated_at),
            )
        out.print(table)
        out.print(f"{len(views)} 条 records")

    _run(run)


@record_app.command("history")
def record_history(
    record_id: str, db: DbOption = None, definitions: DefsOption = None, as_json: JsonOption = False
) -> None:
    """记录的完整历史 (the record's full history, oldest first)."""

    def run() -> None:
        entries = _engine(db, definitions).history(record_id)
        if as_json:
            _print_json([e.to_json() for e in entries])
        else:
            _show_history(entries)

    _run(run)


@record_app.command("events")
def record_events(
    record_id: str,
    actor: ActorOption,
    role: RoleOption,
    unit: UnitOption,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """当前可执行的事件 (events this actor may fire now, and why not the others)."""

    def run() -> None:
        options = _engine(db, definitions).events_for(record_id, _actor(actor, role, unit))
        if as_json:
            _print_json([o.to_json() for o in options])
            return
        table = Table("事件 event", "可执行 available", "字段 fields (* required)", "原因 why not")
        for o in options:
            table.add_row(
                f"{o.label} ({o.event})", "是" if o.available else "否", ", ".join(o.payload_fields), o.reason
            )
        out.print(table)

    _run(run)


# ------------------------------------------------------------------------------- audit


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="与检查点比对 compare with a checkpoint file")
    ] = None,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """校验所有记录的历史未被篡改 (verify every hash chain and projection; exit 1 naming each altered record)."""
    from workflow import audit

    def run() -> None:
        engine = _engine(db, definitions)
        report = audit.verify(engine.registry, engine.iter_history_rows(), real_time=not engine.simulated)
        problems = list(report.problems)
        if checkpoint is not None:
            heads = audit.read_checkpoint(checkpoint)
            problems.extend(audit.verify_checkpoint(heads, engine.store.iter_event_hashes()))
        if as_json:
            _print_json(
                {
                    "records": report.records,
                    "events": report.events,
                    "problems": [p.__dict__ for p in problems]
                    if False
                    else [{"record_id": p.record_id, "kind": p.kind, "detail": p.detail} for p in problems],
                }
            )
        else:
            for problem in problems:
                typer.echo(f"篡改 TAMPERED {problem}", err=True)
            status = (
                "完好 intact"
                if not problems
                else f"{len({p.record_id for p in problems})} 条记录有问题 records with problems"
            )
            typer.echo(f"已校验 checked {report.records} records, {report.events} events: {status}")
        if problems:
            raise typer.Exit(1)

    _run(run)


@audit_app.command("replay")
def audit_replay(
    record_ids: Annotated[
        list[str] | None, typer.Argument(help="记录编号；省略则全部 (all records when omitted)")
    ] = None,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """重放历史并与存储比对 (re-run every stored command through the decision function)."""
    from workflow import audit

    def run() -> None:
        engine = _engine(db, definitions)
        problems: list[audit.Problem] = []
        count = 0
        if record_ids:
            for record_id in record_ids:
                events = engine.store.history(record_id)
                if not events:
                    fail(f"记录 {record_id} 不存在 (record not found)", 3)
                count += 1
                problems.extend(audit.replay(engine.registry, events))
        else:
            for _record, events in engine.iter_history_rows():
                if events:
                    count += 1
                    problems.extend(audit.replay(engine.registry, events))
        if as_json:
            _print_json(
                {
                    "records": count,
                    "problems": [
                        {"record_id": p.record_id, "kind": p.kind, "detail": p.detail} for p in problems
                    ],
                }
            )
        else:
            for problem in problems:
                typer.echo(f"不一致 DIVERGED {problem}", err=True)
            typer.echo(
                f"已重放 replayed {count} records: {'一致 identical' if not problems else f'{len(problems)} differences'}"
            )
        if problems:
            raise typer.Exit(1)

    _run(run)


@audit_app.command("checkpoint")
def audit_checkpoint(file: Path, db: DbOption = None, definitions: DefsOption = None) -> None:
    """写出检查点：每条链的头与总摘要 (write every chain head and one digest to a file the auditor keeps)."""
    from storage.db import redact
    from workflow import audit

    def run() -> None:
        engine = _engine(db, definitions)
        count, digest = audit.write_checkpoint(
            engine.store.heads(), file, at=engine.clock.now(), database=redact(str(engine.store.engine.url))
        )
        typer.echo(f"检查点已写入 checkpoint written: {file} ({count} records, digest {digest})")

    _run(run)


# ------------------------------------------------------------------------------- clock


@clock_app.command("show")
def clock_show(db: DbOption = None) -> None:
    """显示当前时间 (show the database's clock)."""

    def run() -> None:
        engine = _engine(db, None)
        mode = "模拟 simulated" if engine.simulated else "真实 real"
        typer.echo(f"{shanghai(engine.clock.now())} (Asia/Shanghai), {mode}")

    _run(run)


@clock_app.command("advance")
def clock_advance(
    days: Annotated[int, typer.Option(min=0)] = 0,
    hours: Annotated[int, typer.Option(min=0)] = 0,
    to: Annotated[str | None, typer.Option("--to", help="前进到 move to, e.g. 2026-09-01T09:00")] = None,
    db: DbOption = None,
) -> None:
    """推进演练库的模拟时间 (move a drill database's simulated time forward)."""

    def run() -> None:
        engine = _engine(db, None)
        target = parse_when(to) if to else engine.clock.now() + dt.timedelta(days=days, hours=hours)
        now = engine.advance_clock(target)
        typer.echo(f"模拟时间 simulated now: {shanghai(now)}")

    _run(run)


@app.command()
def tick(
    now: Annotated[
        str | None, typer.Option("--now", help="仅演练库：先把模拟时间推进到此 (drill databases only)")
    ] = None,
    db: DbOption = None,
    definitions: DefsOption = None,
) -> None:
    """执行一次期限巡检 (run one sweep: expire due deadlines)."""

    def run() -> None:
        engine = _engine(db, definitions)
        if now is not None:
            engine.advance_clock(parse_when(now))
        result = engine.run_due()
        typer.echo(
            f"{shanghai(engine.clock.now())}: 到期处理 fired {result.fired}, skipped {result.skipped}, errors {len(result.errors)}"
        )
        for error in result.errors:
            typer.echo(f"错误 error: {error}", err=True)
        if result.errors:
            raise typer.Exit(1)

    _run(run)


@app.command()
def demo(
    db: Annotated[Path, typer.Option("--db", help="演练库文件 the demo's SQLite file")] = Path(
        "chengxin-demo.db"
    ),
    out_dir: Annotated[Path, typer.Option("--out", help="邮件输出目录 where mails are written")] = Path(
        "demo-output"
    ),
) -> None:
    """演示：在模拟时钟上走完几条记录的生命周期 (demo: records through their lifecycle on a simulated clock)."""
    from workflow.demo import run_demo

    def run() -> None:
        run_demo(db, out_dir, out)

    _run(run)


def main() -> None:
    """Entry point of the ``chengxin`` command."""
    try:
        app()
    except KeyboardInterrupt:
        typer.echo("已中断 interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug, not a user error: one line for people, the traceback in the log
        import structlog

        structlog.get_logger("chengxin").exception("internal error")
        typer.echo(f"内部错误 internal error: {type(exc).__name__}: {exc}", err=True)
        sys.exit(70)
