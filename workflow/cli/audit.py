"""``chengxin audit``: verify every chain and what drives behaviour, replay histories, write checkpoints."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from workflow.cli.common import (
    DbOption,
    DefsOption,
    JsonOption,
    definition_paths,
    opened,
    user_errors,
)
from workflow.cli.output import (
    print_json,
)
from workflow.cli.progress import progress_of
from workflow.core.fold import Problem
from workflow.errors import CheckpointError

T = TypeVar("T")

audit_app = typer.Typer(help="审计 audit: verify hash chains, replay, checkpoints", no_args_is_help=True)

KeyFileOption = Annotated[
    Path | None,
    typer.Option(
        "--key-file",
        envvar="CHENGXIN_HISTORY_KEY_FILE",
        help="历史密钥文件 the history key file: also check every row's MAC",
    ),
]
CheckpointDirOption = Annotated[
    Path | None,
    typer.Option(
        "--checkpoint-dir",
        envvar="CHENGXIN_CHECKPOINT_DIR",
        help="检查点目录 the folder serve writes checkpoints into (for --checkpoint latest)",
    ),
]


def _problems_json(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(p) for p in problems]


def _checkpoint_file(checkpoint: str | None, folder: Path | None) -> Path | None:
    """The checkpoint to compare with: a file, or ``latest`` in the folder.

    Raises:
        CheckpointError: ``latest`` without a folder, or the folder holds none.
    """
    from workflow import audit

    if checkpoint is None:
        return None
    if checkpoint != "latest":
        return Path(checkpoint)
    if folder is None:
        raise CheckpointError(
            "--checkpoint latest 需要检查点目录 (needs the checkpoint folder: --checkpoint-dir or "
            "CHENGXIN_CHECKPOINT_DIR)"
        )
    return audit.latest(folder)


def counted(items: Iterable[T], advance: Callable[..., None]) -> Iterator[T]:
    """``items`` as they are, advancing the progress bar once each."""
    for item in items:
        yield item
        advance()


@audit_app.command("verify")
def audit_verify(
    checkpoint: Annotated[
        str | None,
        typer.Option(
            "--checkpoint",
            help="与检查点比对 compare with a checkpoint file, or 'latest' in the checkpoint folder",
        ),
    ] = None,
    checkpoint_dir: CheckpointDirOption = None,
    key_file: KeyFileOption = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, max=64, help="并行进程数 processes (for large databases)")
    ] = 1,
    export: Annotated[
        Path | None,
        typer.Option(
            "--export",
            help="离线校验导出文件或目录，不连数据库 verify an export (dossier, page or bulk folder) offline, "
            "without the database",
        ),
    ] = None,
    against: Annotated[
        Path | None,
        typer.Option("--against", help="与早先导出的链头比对 compare with the heads of an earlier export"),
    ] = None,
    db: DbOption = None,
    definitions: DefsOption = None,
    as_json: JsonOption = False,
) -> None:
    """校验历史未被篡改 (verify every hash chain, every table that drives behaviour and the stored
    definitions; exit 1 naming each finding). With --export: verify an export offline."""
    from storage.db import resolve_url
    from workflow import audit

    if export is not None:
        _verify_export(export, key_file, against, as_json)
        return
    with user_errors(), opened(db, definitions, audit=True, key_file=key_file) as engine:
        file = _checkpoint_file(checkpoint, checkpoint_dir)
        heads = audit.read_checkpoint(file, key=engine.history_key) if file is not None else None
        real_time = not engine.simulated
        if jobs > 1:
            report = audit.verify_parallel(
                resolve_url(db),
                definitions=definition_paths(definitions),
                real_time=real_time,
                jobs=jobs,
                split=engine.split_points(jobs),
                key_file=key_file,
            )
        else:
            with progress_of("校验 verifying records", quiet=as_json) as advance:
                report = audit.verify(
                    engine.registry,
                    counted(engine.cases(), advance),
                    real_time=real_time,
                    subject_key=engine.subject_key,
                    key=engine.history_key,
                    key_mark=engine.key_mark,
                )
        problems = list(report.problems)
        if heads is not None:
            problems.extend(audit.verify_checkpoint(heads, engine.event_hashes()))
        if as_json:
            print_json(
                {
                    "records": report.records,
                    "events": report.events,
                    "sealed": report.sealed,
                    "unkeyed": report.unkeyed,
                    "checkpoint": str(file) if file is not None else None,
                    "problems": _problems_json(problems),
                }
            )
        else:
            for problem in problems:
                typer.echo(f"篡改 TAMPERED {problem}", err=True)
            damaged = len({p.record_id for p in problems})
            status = f"{damaged} 条记录有问题 records with problems" if problems else "完好 intact"
            typer.echo(
                f"已校验 checked {report.records} 条记录 records, {report.events} 条历史 events: {status}"
            )
            if engine.history_key is not None:
                typer.echo(
                    f"密钥校验 MACs checked on {report.sealed} 条历史 rows; {report.unkeyed} 条为启用密钥前写入 "
                    "rows written before the history key was in use (unkeyed: a rewrite of them with its hashes "
                    "recomputed cannot show)"
                )
            if file is not None:
                typer.echo(f"已与检查点比对 compared with checkpoint {file}")
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
    from workflow import audit
    from workflow.errors import RecordNotFound

    with user_errors(), opened(db, definitions, audit=True) as engine:

        def one(record_id: str) -> Sequence[audit.EventRow]:
            for case in engine.cases(only=record_id):
                if case.events:
                    return case.events
            raise RecordNotFound(record_id)

        histories: Iterable[Sequence[audit.EventRow]] = (
            (one(record_id) for record_id in record_ids)
            if record_ids
            else (events for _record, events in engine.histories() if events)
        )
        count = 0
        problems: list[audit.Problem] = []
        with progress_of("重放 replaying records", quiet=as_json) as advance:
            for events in histories:  # one record at a time: memory stays flat
                count += 1
                problems.extend(audit.replay(engine.registry, events))
                advance()
        if as_json:
            print_json({"records": count, "problems": _problems_json(problems)})
        else:
            for problem in problems:
                typer.echo(f"不一致 DIVERGED {problem}", err=True)
            status = f"{len(problems)} 处不一致 differences" if problems else "一致 identical"
            typer.echo(f"已重放 replayed {count} 条记录 records: {status}")
        if problems:
            raise typer.Exit(1)


@audit_app.command("checkpoint")
def audit_checkpoint(
    file: Path, key_file: KeyFileOption = None, db: DbOption = None, definitions: DefsOption = None
) -> None:
    """写出检查点：每条链的头与总摘要 (write every chain head and one digest to a file the auditor keeps;
    its folder must exist)."""
    from workflow import audit

    with user_errors(), opened(db, definitions, audit=True, key_file=key_file) as engine:
        count, digest = audit.write_checkpoint(
            engine.heads(), file, at=engine.clock.now(), database=engine.database, key=engine.history_key
        )
        typer.echo(f"检查点已写入 checkpoint written: {file} ({count} 条记录 records, 摘要 digest {digest})")


def _verify_export(path: Path, key_file: Path | None, against: Path | None, as_json: bool) -> None:
    """``audit verify --export``: no database is opened and no database setting is read."""
    from workflow.audit.offline import verify_export
    from workflow.engine.keys import read_key

    with user_errors():
        key = read_key(key_file) if key_file is not None else None
        report = verify_export(path, key=key, earlier=against)
    if as_json:
        print_json(dataclasses.asdict(report))
    else:
        for problem in report.problems:
            typer.echo(f"篡改 TAMPERED {problem}", err=True)
        status = f"{len(report.problems)} 处问题 problems" if report.problems else "完好 intact"
        typer.echo(
            f"已离线校验 verified offline {path}: {report.records} 条记录 records, {report.rows} 条历史 rows: {status}"
        )
        if report.digest:
            typer.echo(f"摘要 digest {report.digest}")
        if key is not None:
            typer.echo(f"密钥校验 MACs checked on {report.sealed} rows")
        for note in report.notes:
            typer.echo(f"注意 note: {note}")
    if report.problems:
        raise typer.Exit(1)


@audit_app.command("export")
def audit_export(
    record_id: Annotated[str | None, typer.Argument(help="记录编号 the case to export")] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="输出文件（--all 时为目录） output file (a folder with --all)"),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="json | html")] = "json",
    all_: Annotated[
        bool,
        typer.Option(
            "--all", help="导出全部历史为 JSON Lines 与清单 every history as JSON Lines with a manifest"
        ),
    ] = False,
    db: DbOption = None,
    definitions: DefsOption = None,
) -> None:
    """导出审计卷宗或全部历史 (export one case's dossier as JSON or printable HTML, or every
    history with a manifest of chain heads; verify it offline with 'audit verify --export')."""
    from workflow.audit import export as exporting
    from workflow.cli.common import fail

    if fmt not in ("json", "html"):
        fail(f"--format {fmt!r} 无效 (invalid); allowed: json, html", 2)
    if out is None:
        fail("需要 --out (an output file or, with --all, a folder)", 2)
    if all_ == (record_id is not None):
        fail("请给出记录编号或 --all，二者选一 (give a record id or --all, not both)", 2)
    with user_errors(), opened(db, definitions, audit=True) as engine:
        if all_:
            done = exporting.export_all(engine, out)
            typer.echo(
                f"已导出 exported {done.records} 条记录 records, {done.rows} 条历史 rows → {out}; "
                f"清单摘要 manifest digest {done.digest}（请另行保存 keep it elsewhere)"
            )
            return
        assert record_id is not None
        from workflow.runtime.dispatch import MailSettings

        document = exporting.dossier(engine, record_id, mail_domain=MailSettings.from_env().domain)
        exporting.write_dossier(document, out, fmt=fmt)
        typer.echo(
            f"已导出卷宗 dossier exported: {record_id} → {out} (链头 head seq {document['head']['seq']} "
            f"{document['head']['hash']}, 摘要 digest {document['digest']})"
        )
