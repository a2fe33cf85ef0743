"""Group commit: the rows of concurrent callers written in one transaction, one fsync for all.

Every credit check writes one query-log row and may answer only once that row is durable. With
eight checks in flight, eight commits (eight fsyncs, eight turns of SQLite's one writer) queue
behind one another. ``GroupCommit`` lets them share a commit: a caller queues its rows and
waits while another batch is being written; when none is, it takes *every* row queued so far (its
own and those of the callers that arrived while the previous commit ran), writes them in one
transaction, then marks each of their callers done (or failed) and wakes them: they return at
once, without waiting for the next batch.

The promise is the one of a plain commit: ``submit`` returns only after the transaction holding
the caller's rows has committed, and raises if that transaction failed — every caller of a
failed batch gets the error, none of them a silent success. There is no timer and no background
thread: a lone caller commits at once (no added latency), and batches form only from callers that
would otherwise have waited for the writer anyway. Nothing is lost on a crash that a plain commit
would have kept: a row is acknowledged only after its commit.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

Row = dict[str, Any]


class _Pending:
    __slots__ = ("done", "error", "rows")

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = rows
        self.done = False
        self.error: BaseException | None = None


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
