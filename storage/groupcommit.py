"""Group commit: the rows of concurrent callers written in one transaction, one fsync for all.

Every credit check writes one query-log row and may answer only once that row is durable. With
eight checks in flight, eight commits (eight fsyncs, eight turns of SQLite's one writer) queue
behind one another. ``GroupCommit`` lets them share a commit: a caller queues its rows and
waits while another batch is being written; when none is, it takes *every* row queued so far (its
own and those of the callers that arrived while the previous commit ran), writes them in one
transaction, then marks each of their callers done (or failed) and wakes them: they return at
once, without waiting for the next batch.

``submit_later`` is the same for a caller that must not block (an event loop): it queues the rows
and gets a future; a writer thread commits queued rows batch after batch.

The promise is the one of a plain commit: ``submit`` returns only after the transaction holding
the caller's rows has committed, and raises if that transaction failed — every caller of a
failed batch gets the error, none of them a silent success. There is no timer: a lone caller
commits at once (no added latency), and batches form only from callers that would otherwise have
waited for the writer anyway (``submit`` callers lead batches themselves; the writer thread
exists only once ``submit_later`` is used). Nothing is lost on a crash that a plain commit
would have kept: a row is acknowledged only after its commit.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

Row = dict[str, Any]


class _Pending:
    __slots__ = ("done", "error", "future", "rows")

    def __init__(self, rows: Sequence[Row], future: Future[None] | None = None) -> None:
        self.rows = rows
        self.done = False
        self.error: BaseException | None = None
        self.future = future  # submit_later's: resolved when the batch ends


class GroupCommit:
    """Queue rows and write them with those of concurrent callers in one ``write`` call.

    ``write(rows)`` must write all ``rows`` in one transaction and return only once it has
    committed (or raise). Thread-safe.
    """

    def __init__(self, write: Callable[[list[Row]], None]) -> None:
        self._write = write
        self._queue: list[_Pending] = []
        self._state = threading.Condition()  # guards _queue and _writing (held for microseconds)
        self._writing = False  # a batch is being written
        self._writer: threading.Thread | None = None  # submit_later's writer, started on first use
        self.batches = 0  # transactions written (for tests and benchmarks)
        self.rows = 0  # rows written

    def submit(self, rows: Sequence[Row]) -> None:
        """Write ``rows``; return once they are committed.

        Raises:
            Exception: the error of the transaction that was to hold them (every caller whose
                rows were in it gets that error: the one who wrote it the error itself, the
                others a copy of it caused by it).
        """
        if not rows:
            return
        mine = _Pending(rows)
        with self._state:
            self._queue.append(mine)
            while self._writing and not mine.done:
                self._state.wait()  # woken when the batch being written ends
            if not mine.done:  # nobody writing, and my rows still queued: I write the batch
                self._writing = True
                batch, self._queue = self._queue, []
        if mine.done:
            if mine.error is not None:
                raise _copy(mine.error) from mine.error
            return
        self._commit(batch)  # raises the batch's error to the caller who wrote it

    def submit_later(self, rows: Sequence[Row]) -> Future[None]:
        """Queue ``rows`` without waiting: the future completes once they are committed (or
        fails with the batch's error). For an event loop, which must not block on a commit: a
        writer thread of this object commits what is queued, batch after batch, together with
        the rows of ``submit`` callers. The caller must not act as if the rows were written
        before the future is done."""
        future: Future[None] = Future()
        if not rows:
            future.set_result(None)
            return future
        with self._state:
            self._queue.append(_Pending(rows, future))
            if self._writer is None:
                self._writer = threading.Thread(target=self._write_queued, name="group-commit", daemon=True)
                self._writer.start()
            self._state.notify_all()
        return future

    def _write_queued(self) -> None:
        """The writer thread: while rows are queued and nobody is writing, write them."""
        while True:
            with self._state:
                while self._writing or not any(p.future is not None for p in self._queue):
                    self._state.wait()
                self._writing = True
                batch, self._queue = self._queue, []
            # the batch's error is handed to each of its callers' futures by _commit
            with contextlib.suppress(BaseException):
                self._commit(batch)

    def _commit(self, batch: list[_Pending]) -> None:
        rows = [row for pending in batch for row in pending.rows]
        error: BaseException | None = None
        try:
            self._write(rows)
        except BaseException as exc:
            error = exc
            raise
        finally:
            with self._state:
                for pending in batch:
                    pending.error = error
                    pending.done = True
                if error is None:
                    self.batches += 1
                    self.rows += len(rows)
                self._writing = False
                self._state.notify_all()  # the batch's callers return; one of the rest writes next
            for pending in batch:  # outside the lock: a future's callbacks run here
                if pending.future is not None:
                    if error is None:
                        pending.future.set_result(None)
                    else:
                        pending.future.set_exception(_copy(error))


def _copy(error: BaseException) -> BaseException:
    """A copy of ``error`` to raise in another thread (one exception object raised in several
    threads at once would share, and garble, one traceback). ``copy.copy`` would call the
    class's ``__init__`` with the message as its only argument, which not every error takes."""
    kind = type(error)
    try:
        clone = kind.__new__(kind, *error.args)
        clone.args = error.args
        clone.__dict__.update(error.__dict__)
    except Exception:  # an exception that cannot be copied: raise the original
        return error
    return clone
