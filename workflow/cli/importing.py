"""``chengxin record import``: read the file, import it through the engine, report each bad
row as one line on stderr and a summary (a progress bar on a terminal, JSON with ``--json``)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

import typer

from workflow.cli.common import fail, opened
from workflow.cli.errors import exit_code
from workflow.cli.output import print_json
from workflow.cli.progress import progress_of, shown
from workflow.core.values import Actor
from workflow.engine.import_files import count_lines, format_of, read_rows
from workflow.engine.importing import RowProblem
from workflow.errors import PayloadInvalid

BAD_ROWS = exit_code(PayloadInvalid("import", "", ""))  # the exit code of invalid input


def run_import(
    file: Path,
    actor: Actor,
    *,
    definition: str,
    file_format: str | None,
    dry_run: bool,
    batch: int,
    workers: int,
    db: str | None,
    definitions: Iterable[Path] | None,
    as_json: bool,
) -> None:
    """Import ``file`` (see ``record_import``); exits non-zero when any row was bad.

    Raises:
        WorkflowError, OSError: what ``user_errors`` turns into one line.
    """
    fmt = format_of(file, file_format)
    if not file.is_file():
        fail(f"{file}: 文件不存在 (no such file)", 2)
    total = count_lines(file) - (1 if fmt == "csv" else 0) if shown(quiet=as_json) else None

    def report(problem: RowProblem) -> None:
        typer.echo(f"错误 error: {problem}", err=True)

    started, cpu = time.perf_counter(), time.process_time()
    with opened(db, definitions) as engine, progress_of("导入 importing", total, quiet=as_json) as advance:
        result = engine.import_records(
            read_rows(file, fmt),
            source=file.name,
            actor=actor,
            definition=definition,
            dry_run=dry_run,
            batch=batch,
            workers=workers,
            on_problem=report,
            on_progress=advance,
        )
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    if as_json:
        body = result.to_json()
        body.pop("problems")  # each was printed on stderr already
        print_json(
            {
                **body,
                "seconds": round(wall, 3),
                "cpu_seconds": round(cpu, 3),
                "records_per_second": round(result.imported / wall, 1) if wall else None,
            }
        )
    else:
        verb = "可导入 would import" if dry_run else "已导入 imported"
        typer.echo(
            f"{verb} {result.imported}，已存在跳过 skipped (imported before) {result.skipped}，"
            f"错误行 bad rows {result.bad}，共读取 read {result.read} ({wall:.1f} s)"
        )
    if result.bad:
        raise typer.Exit(BAD_ROWS)
