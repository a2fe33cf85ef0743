"""Progress of long work on a terminal (rich's bar on stderr): verify, replay, imports, bulk
operations. Silent when stderr is not a terminal, or when the command prints JSON, so scripts and
pipes see only the result."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


def shown(*, quiet: bool = False) -> bool:
    """Whether a progress bar would reach a person: stderr is a terminal and the output is not JSON."""
    return not quiet and sys.stderr.isatty()


@contextmanager
def progress_of(
    description: str, total: int | None = None, *, quiet: bool = False
) -> Iterator[Callable[..., None]]:
    """A function to call once per item done (``advance(n=1)``); a bar on a terminal, else nothing."""
    if not shown(quiet=quiet):
        yield lambda n=1: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)

        def advance(n: int = 1) -> None:
            progress.advance(task, n)

        yield advance
