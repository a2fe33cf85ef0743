"""What every command shares: its options, one-line errors with their exit codes, the engine
it opens, who acts, and times given on the command line."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn, TypeVar

import typer
from rich.console import Console

from workflow.cli.errors import exit_code
from workflow.core.values import Actor
from workflow.engine.clock import parse_when, shanghai
from workflow.errors import ClockError, DefinitionInvalid, RecordNotFound, WorkflowError

if TYPE_CHECKING:  # the engine loads when a command opens it, not when the CLI starts
    from workflow import Engine
    from workflow.engine.views import RecordView

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
FormatOption = Annotated[
    str | None,
    typer.Option(
        "--format", "-f", help="输出格式 table | json | csv (csv: UTF-8 with BOM, opens in WPS/Excel)"
    ),
]
LimitOption = Annotated[int, typer.Option("--limit", min=1, max=10_000, help="每页条数 rows per page")]
OffsetOption = Annotated[int, typer.Option("--offset", min=0, help="跳过前几条 rows to skip (paging)")]
FORMATS = ("table", "json", "csv")


def output_format(fmt: str | None, as_json: bool) -> str:
    """``table``, ``json`` or ``csv`` from ``--format`` and ``--json`` (which is ``--format json``)."""
    chosen = (fmt or ("json" if as_json else "table")).strip().lower()
    if chosen not in FORMATS:
        fail(f"--format {fmt!r}: 可选 allowed: {', '.join(FORMATS)}", 2)
    if as_json and chosen != "json":
        fail(f"--json 与 --format {chosen} 不能同时使用 (give one of them)", 2)
    return chosen


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
    from definitions.loaded import DefinitionError

    try:
        yield
    except (DefinitionInvalid, DefinitionError) as exc:
        for problem in exc.problems:
            typer.echo(problem, err=True)
        fail(f"{len(exc.problems)} 处定义错误 (definition problems)", 2)
    except WorkflowError as exc:
        fail(str(exc), exit_code(exc))
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        fail(f"{where}无法读写文件 (file error): {exc.strerror or exc}", 2)
    except UnicodeDecodeError as exc:
        fail(f"文件不是 UTF-8 文本 (the file is not UTF-8 text): {exc.reason}", 2)


def run_guarded(fn: Callable[[], T]) -> T:
    with user_errors():
        return fn()
    raise AssertionError("unreachable")  # pragma: no cover


def definition_paths(paths: Iterable[Path] | None) -> list[Path]:
    """The extra definition paths; each item may itself join several with ``os.pathsep``."""
    found: list[Path] = []
    for item in paths or []:
        found.extend(Path(p) for p in str(item).split(os.pathsep) if p)
    return found


@contextmanager
def opened(
    db: str | None, definitions: Iterable[Path] | None, *, audit: bool = False, key_file: Path | None = None
) -> Iterator[Engine]:
    """The engine of an initialised database, closed when the command is done (``audit``: opened
    for an auditor, who reads everything and writes nothing)."""
    from workflow import Engine

    engine = Engine.open(db, definitions=definition_paths(definitions), audit=audit, key_file=key_file)
    try:
        yield engine
    finally:
        engine.close()


def actor_of(actor: str, role: str, unit: str) -> Actor:
    for name, value in (("--actor", actor), ("--role", role), ("--unit", unit)):
        if not value.strip():
            fail(f"{name} 不能为空 (must not be empty)")
    return Actor(id=actor.strip(), role=role.strip(), unit=unit.strip())


def end_of(text: str) -> dt.datetime:
    """A time given on the command line; a bare date means the end of that day (Asia/Shanghai).

    Raises:
        ClockError: the text is neither a date nor a date-time.
    """
    try:
        day = dt.date.fromisoformat(text.strip())
    except ValueError:
        return parse_when(text)
    if day >= dt.date.max:
        raise ClockError(f"时间 {text!r} 超出范围 (out of range: 0001-01-02 to 9999-12-30)")
    return parse_when((day + dt.timedelta(days=1)).isoformat()) - dt.timedelta(microseconds=1)


def state_at(engine: Engine, record_id: str, text: str) -> RecordView:
    """The record as it stood at ``text``.

    Raises:
        ClockError: ``text`` is not a date or time.
        RecordNotFound: no such record.
        typer.Exit: the record did not exist yet at that time.
    """
    when = end_of(text)
    try:
        return engine.state_at(record_id, when)
    except RecordNotFound:
        engine.get(record_id)  # raises RecordNotFound itself when there is no such record at all
        fail(
            f"记录 {record_id} 在 {shanghai(when)} 时尚未登记 (the record did not exist yet at that time)",
            exit_code(RecordNotFound(record_id)),
        )
