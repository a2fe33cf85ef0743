"""The replay-and-verify benchmark over a database the step benchmark filled.

Four passes over every record, in a fresh process (so its peak RSS is its own):

1. read only — stream ``Engine.cases()`` (every case with its history, parallel tracks,
   deadlines, reminder log and personal data) and count, the floor under the others;
2. ``workflow.audit.verify`` — hash chains, structural replay, every table that drives behaviour
   against its history (timed);
3. the same ``verify`` again under tracemalloc (untimed), for its peak of Python allocations;
4. ``workflow.audit.replay`` of every record's history through ``decide`` (timed, and the
   time inside ``replay`` itself summed apart from reading);
5. ``workflow.audit.verify_parallel`` with one process per CPU, as ``chengxin audit verify
   --jobs N`` runs it (timed from the split to the merged report, process start-up included).
"""

from __future__ import annotations

import os
import time
import tracemalloc
from typing import Any


def run(url: str) -> dict[str, Any]:
    from bench.memory import current_rss, peak_rss
    from workflow import Engine
    from workflow.audit import replay, verify, verify_parallel

    engine = Engine.open(url, audit=True)  # a drill database: its clock comes from the database
    out: dict[str, Any] = {"rss_start": current_rss(), "peak_rss_start": peak_rss()}
    try:
        started = time.perf_counter()
        records = events = 0
        for case in engine.cases():
            records += 1
            events += len(case.events)
        out.update(read_records=records, read_events=events, read_seconds=time.perf_counter() - started)
        out["peak_rss_read"] = peak_rss()

        started, cpu = time.perf_counter(), time.process_time()
        report = verify(engine.registry, engine.cases(), real_time=False, subject_key=engine.subject_key)
        out.update(
            verify_seconds=time.perf_counter() - started,
            verify_cpu_seconds=time.process_time() - cpu,
            verify_records=report.records,
            verify_events=report.events,
            verify_problems=len(report.problems),
            verify_problem_sample=[str(p) for p in report.problems[:3]],
            peak_rss_verify=peak_rss(),
        )

        tracemalloc.start()
        verify(engine.registry, engine.cases(), real_time=False, subject_key=engine.subject_key)
        out["tracemalloc_peak_verify"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()

        sample: list[str] = []
        inside = 0.0
        records = events = failing = 0
        started, cpu = time.perf_counter(), time.process_time()
        for _record, history in engine.histories():
            records += 1
            events += len(history)
            begun = time.perf_counter()
            found = replay(engine.registry, history)
            inside += time.perf_counter() - begun
            if found:
                failing += 1
                sample.extend(str(p) for p in found[: max(0, 3 - len(sample))])
        out.update(
            replay_seconds=time.perf_counter() - started,
            replay_cpu_seconds=time.process_time() - cpu,
            replay_inside_seconds=inside,
            replay_records=records,
            replay_events=events,
            replay_problem_records=failing,
            replay_problem_sample=sample,
            peak_rss_end=peak_rss(),
        )

        jobs = os.cpu_count() or 1
        started = time.perf_counter()
        parallel = verify_parallel(url, real_time=False, jobs=jobs, split=engine.split_points(jobs))
        out.update(
            parallel_jobs=jobs,
            parallel_seconds=time.perf_counter() - started,
            parallel_events=parallel.events,
            parallel_problems=len(parallel.problems),
        )
    finally:
        engine.close()
    return out
