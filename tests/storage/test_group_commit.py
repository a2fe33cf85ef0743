"""Group commit of query-log rows (``storage.groupcommit``): concurrent callers share one
transaction, each returns only once its own rows are committed, and a failed commit fails every
caller whose rows it held — never a success without the row."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from storage.groupcommit import GroupCommit, Row


class Gate:
    """A ``write`` whose first call waits until ``expect`` callers queue behind it, so the next
    call deterministically holds all of them."""

    def __init__(self, commits: Callable[[], GroupCommit], expect: int, fail: set[int] | None = None) -> None:
        self.commits, self.expect, self.fail = commits, expect, fail or set()
        self.calls: list[list[Row]] = []
        self.committed: list[Row] = []
        self.lock = threading.Lock()

    def __call__(self, rows: list[Row]) -> None:
        call = len(self.calls)
        self.calls.append(list(rows))
        if call == 0:
            _wait_for(lambda: len(self.commits()._queue) >= self.expect)
        if call in self.fail:
            raise OSError(f"disk full (batch {call})")
        with self.lock:
            self.committed.extend(rows)


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.001)


def _concurrently(n: int, submit: Callable[[int], Any]) -> list[Any]:
    results: list[Any] = [None] * n

    def run(i: int) -> None:
        try:
            results[i] = submit(i)
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    threads[0].start()
    time.sleep(0.02)  # the first caller is the first writer
    for thread in threads[1:]:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_concurrent_callers_share_one_commit_and_each_returns_after_its_row() -> None:
    commits: GroupCommit
    gate = Gate(lambda: commits, expect=7)
    commits = GroupCommit(gate)

    def submit(i: int) -> bool:
        commits.submit([{"n": i}])
        return {"n": i} in gate.committed  # seen committed by the caller when it returns

    results = _concurrently(8, submit)
    assert results == [True] * 8
    assert sorted(r["n"] for r in gate.committed) == list(range(8))
    assert [len(c) for c in gate.calls] == [1, 7]  # 8 rows, 2 commits
    assert (commits.batches, commits.rows) == (2, 8)


def test_a_failed_commit_fails_every_caller_it_held_and_no_other() -> None:
    commits: GroupCommit
    gate = Gate(lambda: commits, expect=7, fail={1})
    commits = GroupCommit(gate)
    results = _concurrently(8, lambda i: commits.submit([{"n": i}]))
    assert results[0] is None  # the first batch (its own row only) committed
    failed = results[1:]
    assert all(isinstance(r, OSError) and "disk full" in str(r) for r in failed), results
    assert len({id(r) for r in failed}) == 7  # each caller raises its own exception object
    assert gate.committed == [{"n": 0}]
    # the next caller commits normally: a failure does not wedge the queue
    commits.submit([{"n": 99}])
    assert gate.committed == [{"n": 0}, {"n": 99}]


def test_a_lone_caller_commits_at_once_and_an_empty_submit_writes_nothing() -> None:
    written: list[list[Row]] = []
    commits = GroupCommit(written.append)
    commits.submit([])
    assert written == []
    commits.submit([{"a": 1}, {"a": 2}])
    assert written == [[{"a": 1}, {"a": 2}]]


def test_a_lone_writer_gets_the_error_itself() -> None:
    boom = RuntimeError("connection lost")

    def write(rows: list[Row]) -> None:
        raise boom

    commits = GroupCommit(write)
    with pytest.raises(RuntimeError) as caught:
        commits.submit([{"a": 1}])
    assert caught.value is boom
    assert (commits.batches, commits.rows) == (0, 0)


def test_callers_of_a_committed_batch_do_not_wait_for_the_next_one() -> None:
    commits: GroupCommit
    release = threading.Event()
    late: list[threading.Thread] = []
    calls: list[int] = []

    def write(rows: list[Row]) -> None:
        calls.append(len(rows))
        if len(calls) == 1:
            _wait_for(lambda: len(commits._queue) >= 7)
        elif len(calls) == 2:  # a caller arrives while this batch commits; its batch then hangs
            late.append(threading.Thread(target=commits.submit, args=([{"late": True}],)))
            late[0].start()
            _wait_for(lambda: len(commits._queue) >= 1)
        else:
            assert release.wait(20)

    commits = GroupCommit(write)
    threads = [threading.Thread(target=commits.submit, args=([{"n": i}],)) for i in range(8)]
    threads[0].start()
    time.sleep(0.02)
    for thread in threads[1:]:
        thread.start()
    try:
        _wait_for(lambda: len(calls) == 3)  # the late batch is being written, and hangs
        for thread in threads:
            thread.join(timeout=5)
        assert not any(t.is_alive() for t in threads), "a committed caller waited for the next batch"
    finally:
        release.set()
        late[0].join(timeout=10)
    assert calls == [1, 7, 1]


def test_submit_later_resolves_after_the_commit_and_fails_with_it() -> None:
    written: list[Row] = []
    release = threading.Event()
    fail = [False]

    def write(rows: list[Row]) -> None:
        assert release.wait(10)
        if fail[0]:
            raise OSError("disk full")
        written.extend(rows)

    commits = GroupCommit(write)
    first, second = commits.submit_later([{"n": 1}]), commits.submit_later([{"n": 2}])
    time.sleep(0.05)
    assert not first.done() and not second.done() and written == []  # not before the commit
    release.set()
    first.result(timeout=10)
    second.result(timeout=10)
    assert sorted(r["n"] for r in written) == [1, 2]
    fail[0] = True
    failed = commits.submit_later([{"n": 3}])
    with pytest.raises(OSError, match="disk full"):
        failed.result(timeout=10)
    assert sorted(r["n"] for r in written) == [1, 2]
