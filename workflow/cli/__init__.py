"""The ``chengxin`` command line: for caseworkers, auditors and operators.

Human output is Chinese first with the English beside it (rich tables); every read command
takes ``--json`` for scripts. A user error prints one line on stderr and exits non-zero — never
a traceback. The database comes from ``--db`` or ``CHENGXIN_DATABASE_URL`` (default:
``chengxin.db`` here); who acts comes from ``--actor/--role/--unit`` or
``CHENGXIN_ACTOR/ROLE/UNIT``; extra definitions from ``--definitions`` (repeatable) or
``CHENGXIN_DEFINITIONS`` (paths joined with ``os.pathsep``). This module only parses, calls the
engine and prints: it decides nothing and never touches storage directly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
import yaml
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from definitions.holidays import HolidayTableError
from definitions.loader import DefinitionError, load_paths
from notifications import NotificationError
from storage.errors import StorageError
from workflow.cli import logs
from workflow.core.decide import Actor
from workflow.engine.clock import SHANGHAI, parse_when, shanghai
from workflow.engine.facade import Engine
from workflow.engine.views import HistoryEntry, RecordView
from workflow.errors import ClockError, RecordNotFound, WorkflowError

if TYPE_CHECKING:
    from storage.values import StoredEvent
    from workflow.audit.checks import Problem

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
        help="额外的流程定义文件或目录，可重复 extra definition files or folders (repeatable; "
        "CHENGXIN_DEFINITIONS joins several with the path separator)",
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
    Path | None, typer.Option("--payload-file", help="JSON 或 YAML 文件 file with the payload")
]
CommentOption = Annotated[str, typer.Option("--comment", "-m", help="理由 reasons (required for decisions)")]
KeyOption = Annotated[
    str | None, typer.Option("--idempotency-key", help="幂等键 the same key twice applies once")
]

T = TypeVar("T")


@dataclasses.dataclass(slots=True)
class _Settings:
    """What the top-level options set for the rest of the invocation."""

    verbose: bool = False


settings = _Settings()


# ------------------------------------------------------------------------------ helpers


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` as one line on stderr and exit with ``code``."""
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    typer.echo(f"错误 error: {line}", err=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn every error a user can cause into one line on stderr and a non-zero exit.

    A definition error is the exception: it prints each problem as ``file:line: message``,
    then one summary line.
    """
    try:
        yield
    except WorkflowError as exc:
        fail(str(exc), exc.exit_code)
    except DefinitionError as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        fail(f"{len(exc.problems)} 处定义错误 (definition problems)", 2)
    except (HolidayTableError, StorageError, NotificationError) as exc:
        fail(str(exc), 2)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}无法读写文件 (file error): {exc.strerror or exc}", 2)
    except UnicodeDecodeError as exc:
        fail(f"文件不是 UTF-8 文本 (the file is not UTF-8 text): {exc.reason}", 2)


def _run(fn: Callable[[], T]) -> T:
    with user_errors():
        return fn()
    raise AssertionError("unreachable")  # pragma: no cover


def _definitions(paths: Iterable[Path] | None) -> list[Path]:
    """The extra definition paths; each item may itself join several with ``os.pathsep``."""
    found: list[Path] = []
    for item in paths or []:
        found.extend(Path(p) for p in str(item).split(os.pathsep) if p)
    return found


@contextmanager
def _opened(db: str | None, definitions: Iterable[Path] | None) -> Iterator[Engine]:
    """The engine of an initialised database, closed when the command is done."""
    engine = Engine.open(db, definitions=_definitions(definitions))
    try:
        yield engine
    finally:
        engine.close()


def _actor(actor: str, role: str, unit: str) -> Actor:
    for name, value in (("--actor", actor), ("--role", role), ("--unit", unit)):
        if not value.strip():
            fail(f"{name} 不能为空 (must not be empty)")
    return Actor(id=actor.strip(), role=role.strip(), unit=unit.strip())


def _payload(sets: list[str] | None, attach: list[str] | None, payload_file: Path | None) -> dict[str, Any]:
    """The event's payload: the file, overridden field by field by ``--set``, plus ``--attach`` documents."""
    payload = _read_payload_file(payload_file) if payload_file is not None else {}
    payload.update(_set_fields(sets or []))
    for item in attach or []:
        key, document = _attachment(item)
        current = payload.get(key)
        payload[key] = [*(current if isinstance(current, list) else [current] if current else []), document]
    return payload


def _set_fields(items: Sequence[str]) -> dict[str, Any]:
    """``--set field=value`` items; a field given more than once becomes a list."""
    fields: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            fail(f"--set {item!r}: 需要 field=value (expected field=value)", 2)
        current = fields.get(key)
        if key not in fields:
            fields[key] = value
        elif isinstance(current, list):
            current.append(value)
        else:
            fields[key] = [current, value]
    return fields


def _read_payload_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        fail(f"--payload-file {path}: 无法读取 (cannot read): {exc.strerror or exc}", 2)
    except UnicodeDecodeError:
        fail(f"--payload-file {path}: 不是 UTF-8 文本 (not UTF-8 text)", 2)
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        fail(f"--payload-file {path}: 不是有效的 JSON/YAML (not valid JSON or YAML): {first}", 2)
    if not isinstance(loaded, dict):
        fail(f"--payload-file {path}: 需要一个键值映射 (expected a mapping of field: value)", 2)
    return {str(k): (v.isoformat() if isinstance(v, dt.date) else v) for k, v in loaded.items()}


def _attachment(item: str) -> tuple[str, dict[str, str]]:
    key, sep, path = item.partition("=")
    if not sep or not key.strip():
        fail(f"--attach {item!r}: 需要 field=PATH (expected field=PATH)", 2)
    file = Path(path)
    if not file.is_file():
        fail(f"--attach {item!r}: 文件不存在 (no such file): {file}", 2)
    return key.strip(), {"name": file.name, "sha256": hashlib.sha256(file.read_bytes()).hexdigest()}


def _end_of(text: str) -> dt.datetime:
    """A time given on the command line; a bare date means the end of that day (Asia/Shanghai).

    Raises:
        ClockError: the text is neither a date nor a date-time.
    """
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        return parse_when(text)
    return parse_when((day + dt.timedelta(days=1)).isoformat()) - dt.timedelta(microseconds=1)


def _state_at(engine: Engine, record_id: str, text: str) -> RecordView:
    """The record as it stood at ``text``.

    Raises:
        ClockError: ``text`` is not a date or time.
        RecordNotFound: no such record.
        typer.Exit: the record did not exist yet at that time.
    """
    when = _end_of(text)
    try:
        return engine.state_at(record_id, when)
    except RecordNotFound:
        engine.get(record_id)  # raises RecordNotFound itself when there is no such record at all
        fail(
            f"记录 {record_id} 在 {shanghai(when)} 时尚未登记 (the record did not exist yet at that time)",
            RecordNotFound.exit_code,
        )


# ------------------------------------------------------------------------------- output


def _print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def _time(value: dt.datetime | None) -> str:
    return shanghai(value) if value else "—"


def _table(*headers: str, title: str | None = None, key_width: int = 0) -> Table:
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


def _row(table: Table, *cells: object) -> None:
    """Add a row of plain text: user data is never read as rich markup."""
    table.add_row(*(Text("" if cell is None else str(cell)) for cell in cells))


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _tracks_line(view: RecordView) -> str:
    return ", ".join(f"{t.track}:{t.state}" for t in view.tracks if t.track != "main")


def _summary(view: RecordView) -> str:
    parts = [view.id, f"{view.state_label} ({view.state})", f"v{view.version}", _tracks_line(view)]
    return "  ".join(part for part in parts if part)


def _show_record(view: RecordView) -> None:
    out.print(
        f"[bold]{escape(view.id)}[/bold]  {escape(view.state_label)} ({escape(view.state)})  "
        f"v{view.version}  {escape(view.definition)}"
    )
    if view.marks:
        out.print(Text("标注 marks: " + "、".join(view.marks)))
    if view.overdue:
        out.print("[bold red]逾期 overdue[/bold red]")
    tracks = _table("轨道 track", "状态 state", title="状态 state")
    for track in view.tracks:
        _row(tracks, f"{track.track_label} ({track.track})", f"{track.label} ({track.state})")
    out.print(tracks)
    data = _table("字段 field", "值 value", title="内容 data")
    for key, value in view.data.items():
        _row(data, key, _value(value))
    out.print(data)
    if view.deadlines:
        table = _table(
            "期限 deadline", "状态 status", "到期 due (Asia/Shanghai)", "说明 why", title="期限 deadlines"
        )
        for d in view.deadlines:
            due = _time(d.due_at) + (" (暂定 provisional)" if d.provisional else "")
            _row(table, f"{d.label} ({d.name})", d.status, due, "；".join(d.explanation[1:]))
        out.print(table)


def _show_history(entries: Sequence[HistoryEntry]) -> None:
    table = _table("#", "时间 time", "事件 event", "操作人 actor", "变化 changes", "理由 comment")
    for e in entries:
        changes = "; ".join(f"{t}: {a or '—'}→{b or '—'}" for t, a, b in e.changes)
        _row(
            table,
            e.seq,
            _time(e.occurred_at),
            f"{e.event_label} ({e.event})",
            f"{e.actor} [{e.role}@{e.unit}]",
            changes,
            e.comment,
        )
    out.print(table)


def _show_records(views: Sequence[RecordView]) -> None:
    table = _table(
        "编号 id",
        "主体 subject",
        "状态 state",
        "标注 marks",
        "逾期 overdue",
        "更新 updated",
        key_width=max((len(v.id) for v in views), default=0),
    )
    for v in views:
        _row(
            table,
            v.id,
            v.data.get("subject_name", ""),
            f"{v.state_label} ({v.state})",
            "、".join(v.marks),
            "是 yes" if v.overdue else "",
            _time(v.updated_at),
        )
    out.print(table)
    out.print(f"共 {len(views)} 条记录 ({len(views)} records)")


# --------------------------------------------------------------------------------- init


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="记录每次状态变化 log every transition")
    ] = False,
) -> None:
    settings.verbose = verbose
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
    with user_errors():
        begin = None
        if simulated_clock:
            begin = parse_when(start) if start else dt.datetime(2026, 1, 5, 9, 0, tzinfo=SHANGHAI)
        elif start:
            raise ClockError("--start 只能与 --simulated-clock 一起使用 (only with --simulated-clock)")
        engine, before, after = Engine.init(db, simulated_start=begin)
        try:
            mode = "模拟时间 simulated" if engine.simulated else "真实时间 real time"
            change = (
                f"{before or '空 empty'} → {after}" if before != after else f"已是最新 up to date ({after})"
            )
            typer.echo(f"数据库就绪 database ready: 结构 schema {change}; 时钟 clock: {mode}")
        finally:
            engine.close()


# -------------------------------------------------------------------------- definitions


@definitions_app.command("list")
def definitions_list(definitions: DefsOption = None, as_json: JsonOption = False) -> None:
    """列出流程定义 (list the workflow definitions)."""
    from workflow.engine.registry import Registry

    with user_errors():
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
        table = _table("名称 name", "版本 version", "标题 title", "地区 jurisdiction", "生效 from")
        for item in items:
            _row(
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
        registry = Registry.load(_definitions(definitions))
        d = registry.get(name, version) if version else registry.select(name)
        if as_json:
            _print_json(json.loads(registry.resolved(d.name, d.version)))
            return
        out.print(
            f"[bold]{escape(d.title)}[/bold] {escape(d.key)} — {escape(d.jurisdiction)}；"
            f"依据 legal basis: {escape(d.legal_basis)}"
        )
        for track in d.tracks.values():
            states = " · ".join(f"{s.label}({s.name})" for s in track.states.values())
            out.print(f"\n[bold]{escape(track.label)}[/bold] ({escape(track.name)}): {escape(states)}")
        events = _table("事件 event", "角色 roles", "依据 legal basis", title="事件 events")
        for e in d.events.values():
            _row(events, f"{e.label} ({e.name})", ", ".join(e.roles), e.legal_basis)
        out.print(events)
        deadlines = _table("期限 deadline", "期间 period", "依据 legal basis", title="期限 deadlines")
        for dl in d.deadlines.values():
            _row(deadlines, f"{dl.label} ({dl.name})", dl.period.describe(), dl.legal_basis)
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
    from workflow.core.machines import diagram
    from workflow.engine.registry import Registry

    with user_errors():
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
            sys.stdout.buffer.flush()
        else:
            typer.echo(drawn)


# ------------------------------------------------------------------------------ records


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
) -> None:
    """登记并提交失信记录 (register a record and submit it for verification)."""
    with user_errors():
        payload = _payload(sets, attach, payload_file)
        who = _actor(actor, role, unit)
        with _opened(db, definitions) as engine:
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
            _print_json(view.to_json())
        else:
            typer.echo(_summary(view))


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
        payload = _payload(sets, attach, payload_file)
        who = _actor(actor, role, unit)
        with _opened(db, definitions) as engine:
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
            _print_json(view.to_json())
        else:
            typer.echo(_summary(view))


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
    with user_errors(), _opened(db, definitions) as engine:
        view = _state_at(engine, record_id, at) if at else engine.get(record_id)
        if as_json:
            _print_json(view.to_json())
        else:
            _show_record(view)


@record_app.command("list")
def record_list(
    *,
    state: Annotated[
        str | None, typer.Option(help="状态 state, or track:state e.g. publication:published")
    ] = None,
    unit: Annotated[str | None, typer.Option(help="责任单位或认定单位 unit")] = None,
    subject: Annotated[str | None, typer.Option(help="主体名称或统一社会信用代码 subject")] = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="仅逾期 only overdue")] = False,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="仅有效记录 only active records")
    ] = None,
    definition: Annotated[str | None, typer.Option("--definition", "-d", help="流程定义 definition")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    offset: Annotated[int, typer.Option(min=0)] = 0,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """查询记录 (list records by state, unit, subject, overdue)."""
    with user_errors(), _opened(db, definitions) as engine:
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
        else:
            _show_records(views)


@record_app.command("history")
def record_history(
    record_id: str, db: DbOption = None, definitions: DefsOption = None, as_json: JsonOption = False
) -> None:
    """记录的完整历史 (the record's full history, oldest first)."""
    with user_errors(), _opened(db, definitions) as engine:
        entries = engine.history(record_id)
        if as_json:
            _print_json([e.to_json() for e in entries])
        else:
            _show_history(entries)


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
        who = _actor(actor, role, unit)
        with _opened(db, definitions) as engine:
            options = engine.events_for(record_id, who)
        if as_json:
            _print_json([o.to_json() for o in options])
            return
        table = _table("事件 event", "可执行 available", "字段 fields (* required)", "原因 why not")
        for o in options:
            _row(
                table,
                f"{o.label} ({o.event})",
                "是 yes" if o.available else "否 no",
                ", ".join(o.payload_fields),
                o.reason,
            )
        out.print(table)


# -------------------------------------------------------------------------------- audit


def _problems_json(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(p) for p in problems]


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[
        Path | None, typer.Option("--checkpoint", help="与检查点比对 compare with a checkpoint file")
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, max=64, help="并行进程数 processes (for large databases)")
    ] = 1,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """校验历史未被篡改 (verify every hash chain and projection; exit 1 naming each altered record)."""
    from storage.db import resolve_url
    from workflow.audit import checks as audit

    with user_errors(), _opened(db, definitions) as engine:
        heads = audit.read_checkpoint(checkpoint) if checkpoint is not None else None
        real_time = not engine.simulated
        if jobs > 1:
            report = audit.verify_parallel(
                resolve_url(db),
                definitions=_definitions(definitions),
                real_time=real_time,
                jobs=jobs,
                split=engine.store.split_points(jobs),
            )
        else:
            report = audit.verify(engine.registry, engine.iter_history_rows(), real_time=real_time)
        problems = list(report.problems)
        if heads is not None:
            problems.extend(audit.verify_checkpoint(heads, engine.store.iter_event_hashes()))
        if as_json:
            _print_json(
                {"records": report.records, "events": report.events, "problems": _problems_json(problems)}
            )
        else:
            for problem in problems:
                typer.echo(f"篡改 TAMPERED {problem}", err=True)
            damaged = len({p.record_id for p in problems})
            status = f"{damaged} 条记录有问题 records with problems" if problems else "完好 intact"
            typer.echo(
                f"已校验 checked {report.records} 条记录 records, {report.events} 条历史 events: {status}"
            )
        if problems:
            raise typer.Exit(1)


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
    from workflow.audit import checks as audit

    with user_errors(), _opened(db, definitions) as engine:
        histories: Iterable[Sequence[audit.EventRow]] = (
            [_stored_history(engine, record_id) for record_id in record_ids]
            if record_ids
            else (events for _record, events in engine.iter_history_rows() if events)
        )
        count = 0
        problems: list[audit.Problem] = []
        for events in histories:  # one record at a time: memory stays flat
            count += 1
            problems.extend(audit.replay(engine.registry, events))
        if as_json:
            _print_json({"records": count, "problems": _problems_json(problems)})
        else:
            for problem in problems:
                typer.echo(f"不一致 DIVERGED {problem}", err=True)
            status = f"{len(problems)} 处不一致 differences" if problems else "一致 identical"
            typer.echo(f"已重放 replayed {count} 条记录 records: {status}")
        if problems:
            raise typer.Exit(1)


def _stored_history(engine: Engine, record_id: str) -> list[StoredEvent]:
    events = engine.store.history(record_id)
    if not events:
        raise RecordNotFound(record_id)
    return events


@audit_app.command("checkpoint")
def audit_checkpoint(file: Path, db: DbOption = None, definitions: DefsOption = None) -> None:
    """写出检查点：每条链的头与总摘要 (write every chain head and one digest to a file the auditor keeps)."""
    from storage.db import redact
    from workflow.audit import checks as audit

    with user_errors(), _opened(db, definitions) as engine:
        count, digest = audit.write_checkpoint(
            engine.store.heads(), file, at=engine.clock.now(), database=redact(str(engine.store.engine.url))
        )
        typer.echo(f"检查点已写入 checkpoint written: {file} ({count} 条记录 records, 摘要 digest {digest})")


# -------------------------------------------------------------------------------- clock


@clock_app.command("show")
def clock_show(db: DbOption = None, as_json: JsonOption = False) -> None:
    """显示当前时间 (show the database's clock)."""
    with user_errors(), _opened(db, None) as engine:
        now = engine.clock.now()
        if as_json:
            _print_json({"now": now.astimezone(SHANGHAI).isoformat(), "simulated": engine.simulated})
            return
        mode = "模拟时间 simulated" if engine.simulated else "真实时间 real time"
        typer.echo(f"当前时间 now: {shanghai(now)} (Asia/Shanghai), {mode}")


@clock_app.command("advance")
def clock_advance(
    days: Annotated[int, typer.Option(min=0, help="天数 days")] = 0,
    hours: Annotated[int, typer.Option(min=0, help="小时数 hours")] = 0,
    to: Annotated[str | None, typer.Option("--to", help="前进到 move to, e.g. 2026-09-01T09:00")] = None,
    db: DbOption = None,
) -> None:
    """推进演练库的模拟时间 (move a drill database's simulated time forward)."""
    with user_errors(), _opened(db, None) as engine:
        target = parse_when(to) if to else engine.clock.now() + dt.timedelta(days=days, hours=hours)
        now = engine.advance_clock(target)
        typer.echo(f"模拟时间 simulated now: {shanghai(now)} (Asia/Shanghai)")


@app.command()
def tick(
    now: Annotated[
        str | None, typer.Option("--now", help="仅演练库：先把模拟时间推进到此 (drill databases only)")
    ] = None,
    mail: Annotated[
        bool, typer.Option("--mail/--no-mail", help="同时发送待发邮件 also send queued mail")
    ] = True,
    db: DbOption = None,
    definitions: DefsOption = None,
) -> None:
    """执行一次巡检：开启到期督查、处理到期期限和提醒、发送邮件 (one pass: rounds, deadlines, reminders, mail)."""
    from workflow.runtime.dispatch import Dispatcher, MailSettings
    from workflow.runtime.service import run_once

    with user_errors(), _opened(db, definitions) as engine:
        if now is not None:
            engine.advance_clock(parse_when(now))
        dispatcher = Dispatcher(engine, MailSettings.from_env()) if mail else None
        result = run_once(engine, dispatcher)
        sent = result.get("mail", {})
        typer.echo(
            f"{shanghai(engine.clock.now())} (Asia/Shanghai): 督查 rounds opened {result['rounds_opened']}，"
            f"到期处理 fired {result['fired']}，跳过 skipped {result['skipped']}，"
            f"邮件 mail sent {sent.get('sent', 0)}，failed {sent.get('failed', 0)}，dead {sent.get('dead', 0)}，"
            f"错误 errors {len(result['errors'])}"
        )
        for error in result["errors"]:
            typer.echo(f"错误 error: {error}", err=True)
        if result["errors"]:
            raise typer.Exit(1)


@app.command()
def serve(
    sweep_seconds: Annotated[float, typer.Option(min=1, help="巡检间隔秒数 seconds between sweeps")] = 30.0,
    rounds_seconds: Annotated[
        float, typer.Option(min=10, help="督查排期检查间隔 seconds between schedule checks")
    ] = 300.0,
    mail: Annotated[bool, typer.Option("--mail/--no-mail", help="发送邮件 send queued mail")] = True,
    db: DbOption = None,
    definitions: DefsOption = None,
) -> None:
    """运行引擎服务：定时巡检期限、提醒、督查和邮件 (run the scheduler until stopped)."""
    from workflow.runtime.dispatch import Dispatcher, MailSettings
    from workflow.runtime.service import serve as run_service

    with user_errors(), _opened(db, definitions) as engine:
        settings_ = MailSettings.from_env()
        dispatcher = Dispatcher(engine, settings_) if mail else None
        typer.echo(
            f"chengxin serve: 巡检 sweep every {sweep_seconds:g}s, 督查 rounds every {rounds_seconds:g}s, "
            f"{settings_.describe() if mail else '不发送邮件 mail off'}; Ctrl-C 停止 to stop",
            err=True,
        )
        run_service(engine, dispatcher, sweep_seconds=sweep_seconds, rounds_seconds=rounds_seconds)


# ------------------------------------------------------------------------------ calendar

calendar_app = typer.Typer(help="工作日历 working-day calendar and holiday tables", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")


@calendar_app.command("load")
def calendar_load(file: Path, db: DbOption = None, definitions: DefsOption = None) -> None:
    """载入一年的放假安排并重算暂定期限 (load a year's holiday table; recompute provisional deadlines)."""
    with user_errors(), _opened(db, definitions) as engine:
        table, moved = engine.load_holiday_table(file)
        kind = "暂定 provisional" if table.provisional else "正式 official"
        typer.echo(f"已载入 loaded {table.year} ({kind}): {table.source}")
        for record_id, name, old, new in moved:
            typer.echo(f"  重算 recomputed {record_id} {name}: {shanghai(old)} → {shanghai(new)}")
        typer.echo(f"{len(moved)} 个期限已重算 deadlines recomputed")


@calendar_app.command("show")
def calendar_show(
    year: int, db: DbOption = None, definitions: DefsOption = None, as_json: JsonOption = False
) -> None:
    """显示某年的休息日与调休上班日 (days off and make-up working days of a year)."""
    with user_errors(), _opened(db, definitions) as engine:
        calendar = engine.registry.calendar(engine.registry.select("national"))
        source = calendar.known_years().get(year, "法定节假日推算 statutory fallback (provisional)")
        days = [calendar.day(dt.date(year, 1, 1) + dt.timedelta(days=i)) for i in range(366)]
        special = [d for d in days if d.date.year == year and (not d.working) != (d.date.weekday() >= 5)]
        if as_json:
            _print_json(
                {
                    "year": year,
                    "source": source,
                    "days": [
                        {
                            "date": d.date.isoformat(),
                            "working": d.working,
                            "reason": d.reason,
                            "provisional": d.provisional,
                        }
                        for d in special
                    ],
                }
            )
            return
        typer.echo(f"{year}: {source}")
        table = _table("日期 date", "类型 kind", "原因 reason")
        for d in special:
            _row(
                table,
                d.date.isoformat(),
                "上班 working" if d.working else "休息 off",
                d.reason + (" (暂定)" if d.provisional else ""),
            )
        out.print(table)


# -------------------------------------------------------------------------------- outbox

outbox_app = typer.Typer(help="邮件发件箱 the mail outbox", no_args_is_help=True)
app.add_typer(outbox_app, name="outbox")


@outbox_app.command("list")
def outbox_list(
    status: Annotated[str | None, typer.Option(help="queued | sending | sent | failed | dead")] = None,
    record: Annotated[str | None, typer.Option("--record", help="记录编号 record id")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """列出邮件 (list queued, sent, failed and dead mails)."""
    allowed = ("queued", "sending", "sent", "failed", "dead")
    if status is not None and status not in allowed:
        fail(f"--status {status!r} 无效 (invalid); allowed: {', '.join(allowed)}", 2)
    with user_errors(), _opened(db, None) as engine:
        rows = engine.store.outbox(record_id=record, status=status, limit=limit)
        if as_json:
            _print_json([{k: v for k, v in row.items() if k != "context"} for row in rows])
            return
        table = _table(
            "#", "状态 status", "模板 template", "收件单位 unit", "记录 record", "尝试 tries", "错误 error"
        )
        for row in rows:
            _row(
                table,
                row["id"],
                row["status"],
                row["template"],
                row["recipient_unit"],
                row["record_id"] or "",
                row["attempts"],
                row["last_error"] or "",
            )
        out.print(table)
        counts = engine.store.outbox_counts()
        typer.echo(
            "  ".join(f"{k}: {v}" for k, v in sorted(counts.items())) or "发件箱为空 the outbox is empty"
        )


@outbox_app.command("show")
def outbox_show(outbox_id: int, db: DbOption = None, as_json: JsonOption = False) -> None:
    """显示一封邮件的内容与状态 (one mail: status, error and the rendered text)."""
    from notifications import TemplateCatalog
    from workflow.runtime.dispatch import revive

    with user_errors(), _opened(db, None) as engine:
        rows = [r for r in engine.store.outbox(limit=1_000_000) if r["id"] == outbox_id]
        if not rows:
            fail(f"邮件 {outbox_id} 不存在 (no such mail)", 3)
        row = rows[0]
        if as_json:
            _print_json(row)
            return
        rendered = TemplateCatalog().render(row["template"], revive(row["context"]["vars"]))
        typer.echo(
            f"#{row['id']} {row['status']} → {row['recipient_unit']} (tries {row['attempts']}) {row['last_error'] or ''}"
        )
        typer.echo(f"主题 Subject: {rendered.subject}\n")
        typer.echo(rendered.text)


@outbox_app.command("retry")
def outbox_retry(
    ids: Annotated[
        list[int] | None, typer.Argument(help="邮件编号；省略则全部死信 (all dead mails when omitted)")
    ] = None,
    db: DbOption = None,
) -> None:
    """重新发送失败或死信邮件 (put failed or dead mails back in the queue)."""
    with user_errors(), _opened(db, None) as engine:
        count = engine.store.retry_outbox(ids=ids or [], dead=not ids, now=engine.clock.now())
        typer.echo(f"{count} 封邮件已重新排队 mails queued again")


@outbox_app.command("send")
def outbox_send(db: DbOption = None) -> None:
    """立即发送到期的邮件 (send what is due now)."""
    from workflow.runtime.dispatch import Dispatcher, MailSettings

    with user_errors(), _opened(db, None) as engine:
        settings_ = MailSettings.from_env()
        result = Dispatcher(engine, settings_).run()
        typer.echo(f"{settings_.describe()}: sent {result.sent}, failed {result.failed}, dead {result.dead}")
        for error in result.errors:
            typer.echo(f"错误 error: {error}", err=True)
        if result.dead:
            raise typer.Exit(1)


# ---------------------------------------------------------------------------------- units

unit_app = typer.Typer(help="单位目录 units and their mail addresses", no_args_is_help=True)
app.add_typer(unit_app, name="unit")


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
    db: DbOption = None,
) -> None:
    """添加或更新单位 (add or replace a unit)."""
    with user_errors(), _opened(db, None) as engine:
        engine.save_units(
            [{"code": code, "name": name, "emails": email or [], "superior": superior, "contact": contact}]
        )
        typer.echo(f"已保存 saved {code} {name}")


@unit_app.command("set-email")
def unit_set_email(code: str, emails: list[str], db: DbOption = None) -> None:
    """设置单位的收件邮箱 (set a unit's addresses)."""
    with user_errors(), _opened(db, None) as engine:
        unit = engine.store.unit(code)
        if unit is None:
            fail(f"单位 {code} 不存在 (no such unit); add it with 'chengxin unit add'", 3)
        engine.save_units([{**unit, "emails": emails}])
        typer.echo(f"已保存 saved {code}: {', '.join(emails)}")


@unit_app.command("list")
def unit_list(db: DbOption = None, as_json: JsonOption = False) -> None:
    """列出单位目录 (list the unit directory)."""
    with user_errors(), _opened(db, None) as engine:
        units = engine.store.units()
        if as_json:
            _print_json(units)
            return
        table = _table("代码 code", "名称 name", "上级 superior", "邮箱 emails", "联系人 contact")
        for unit in units:
            _row(
                table,
                unit["code"],
                unit["name"],
                unit["superior"] or "",
                ", ".join(unit["emails"]),
                unit["contact"] or "",
            )
        out.print(table)


@unit_app.command("import")
def unit_import(file: Path, db: DbOption = None) -> None:
    """从 CSV 导入单位：code,name,superior,emails,contact (emails separated by ';')."""
    import csv

    with user_errors(), _opened(db, None) as engine:
        with file.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"code", "name"} - set(reader.fieldnames or [])
            if missing:
                fail(
                    f"{file}: 缺少列 missing columns {', '.join(sorted(missing))}; expected code,name,superior,emails,contact",
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
                    }
                )
        count = engine.save_units(units)
        typer.echo(f"已导入 imported {count} 个单位 units from {file}")


@app.command()
def demo(
    db: Annotated[Path, typer.Option("--db", help="演练库文件 the demo's SQLite file")] = Path(
        "chengxin-demo.db"
    ),
    out_dir: Annotated[Path, typer.Option("--out", help="邮件输出目录 where mails are written")] = Path(
        "demo-output"
    ),
) -> None:
    """演示：在模拟时钟上走完几条记录的生命周期 (demo: records through their lifecycle, simulated clock)."""
    from workflow.cli.demo import run_demo

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
    except Exception as exc:  # a bug, not a user error: one line for people, the traceback with -v
        if settings.verbose:
            import structlog

            structlog.get_logger("chengxin").exception("internal error")
        detail = " ".join(str(exc).split())
        typer.echo(
            f"内部错误 internal error: {type(exc).__name__}: {detail} (这是程序缺陷 a bug; "
            "run again with -v for the traceback)",
            err=True,
        )
        sys.exit(70)


if __name__ == "__main__":
    main()
