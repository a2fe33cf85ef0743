"""One verify (or read-only) pass over an existing database, for A/B runs of two checkouts.

    PYTHONPATH=CHECKOUT python -m bench.verify_once URL [verify|read] [ROUNDS]

Prints the events, problems, wall and CPU seconds of each pass. Run it alternately with two
checkouts' ``PYTHONPATH`` over the same database (one filled by ``bench.lifecycle``) to compare
them in the same minutes of a shared machine; CPU time is the steadier figure there.
"""

from __future__ import annotations

import os
import sys
import time


def main(argv: list[str]) -> int:
    from workflow import Engine
    from workflow.audit import verify

    url = argv[0]
    mode = argv[1] if len(argv) > 1 else "verify"
    rounds = int(argv[2]) if len(argv) > 2 else 1
    engine = Engine.open(url, audit=True)
    try:
        for _ in range(rounds):
            wall, cpu = time.perf_counter(), time.process_time()
            if mode == "read":
                events = sum(len(case.events) for case in engine.cases())
                problems = 0
            else:
                report = verify(
                    engine.registry, engine.cases(), real_time=False, subject_key=engine.subject_key
                )
                events, problems = report.events, len(report.problems)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            print(
                f"{os.environ.get('TAG', '')} {mode} events={events} problems={problems} wall={wall:.3f}s "
                f"cpu={cpu:.3f}s ev/s={events / wall:,.0f} ev/cpu-s={events / cpu:,.0f}",
                flush=True,
            )
    finally:
        engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
