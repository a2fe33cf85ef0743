"""The console's "my work" page under load: server time of ``GET /console/`` for a responsible
unit with N open records, through the ASGI app in-process (no network in the figure).

    python -m bench.console --records 2000 [--repeat 20]

Records are written by the engine (registered, accepted and confirmed: each owes an explanation),
all for one responsible unit, into a throwaway SQLite file. Prints p50/p95 in milliseconds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
import warnings

from workflow import Engine, ManualClock
from workflow.api import create_app
from workflow.console import mount
from workflow.testing import MONDAY, ORGANISATION, RECORDER, SUBJECT, VERIFIER

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.console")
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chengxin-bench-console-") as folder:
        url = f"sqlite:///{folder}/console.db"
        Engine.init(url, simulated_start=MONDAY)[0].close()
        clock = ManualClock(MONDAY)
        engine = Engine.open(url, clock=clock)
        try:
            started = time.perf_counter()
            for _ in range(args.records):
                rid = engine.register("national", ORGANISATION, actor=RECORDER, submit=True).id
                engine.fire(rid, "accept", actor=VERIFIER)
                engine.fire(rid, "confirm", actor=VERIFIER, comment="核查属实")
            seeded = time.perf_counter() - started
            clock.advance(dt.timedelta(hours=1))
            engine.accounts.create(
                name="unit",
                password="bench password",
                person=SUBJECT.id,
                roles=["subject"],
                unit=SUBJECT.unit,
            )
            client = TestClient(mount(create_app(engine, cors=())), base_url="https://bench")
            client.post("/console/sign-in", data={"name": "unit", "password": "bench password"})
            times = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                answer = client.get("/console/")
                times.append((time.perf_counter() - t) * 1000)
                assert answer.status_code == 200
            times.sort()
            p95 = times[max(0, round(0.95 * len(times)) - 1)]
            print(
                f"my work, {args.records} open records of one unit (seeded in {seeded:.0f} s): "
                f"p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms over {args.repeat} requests"
            )
        finally:
            engine.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
