"""Credit checks from many threads of one process, as the HTTP API's thread pool makes them: every
check answers and leaves its query-log row; none fails as busy, none waits on another thread's
commit for long (on SQLite the process's writers queue for the one write lock in order)."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from support.harness import Harness

from workflow import Actor
from workflow.testing import ORGANISATION

SERVICE = Actor(id="hr.appraisal", role="service", unit="hr-office")
THREADS, CHECKS = 8, 15


def test_concurrent_checks_of_one_engine_all_answer_and_all_are_logged(h: Harness) -> None:
    h.recorded()
    start = threading.Barrier(THREADS, timeout=30)
    failures: list[BaseException] = []
    slowest: list[float] = []

    def check(n: int) -> None:
        try:
            start.wait()
            for index in range(CHECKS):
                began = time.perf_counter()
                status = h.engine.subject_status(
                    ORGANISATION["subject_code"], actor=SERVICE, reason=f"并发核查 {n}-{index}"
                )
                slowest.append(time.perf_counter() - began)
                assert status.active_records
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=check, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a check never returned"
    assert not failures, failures[0]
    with h.engine.store.db.reading() as c:
        logged = c.execute(sa.text("SELECT count(*) FROM subject_query_log")).scalar_one()
    assert logged == THREADS * CHECKS
    assert max(slowest) < 10.0  # far below the 30 s busy timeout: nobody starved
