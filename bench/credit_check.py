"""The credit-check benchmark (信用核查): in-process latency at a given number of records.

    python -m bench.credit_check [--records N] [--subjects S] [--checks C] [--backend sqlite|postgresql]

1. ``S`` subjects (organisations by unified social credit code, and every fifth a civil servant by
   ID number) each get a real record driven through the engine (register → submit → accept →
   confirm, and an honour ban on every other one), so the answers have sanctions to find.
2. The ``record`` table is filled up to ``N`` rows by copying one such row under other subjects
   (a bulk insert: the credit check reads only the indexed ``record`` columns, so the filler does
   not need histories).
3. ``C`` single-subject checks (``Engine.subject_status``, every purpose) are timed one by one —
   each includes the durable write of its query-log row (committed before it returns) — and
   ``C // 100`` batch checks of 100 subjects (``subject_statuses``), and the p50/p95/p99 printed.

Every figure is measured by this run; the output is Markdown for ``BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import subprocess
import sys
import time
from typing import Any

FILL_BATCH = 5_000


def _code(rng: random.Random) -> str:
    from stdnum.cn import uscc

    body = (
        "91"
        + "".join(rng.choice("0123456789") for _ in range(6))
        + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    )
    return body + uscc.calc_check_digit(body)


def _id_number(rng: random.Random) -> str:
    from stdnum.cn import ric

    body = f"110105{rng.randint(1960, 2000)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}"
    return body + ric.calc_check_digit(body + "0")  # it expects the check digit place included


def _seed(engine: Any, clock: Any, subjects: int, rng: random.Random) -> list[str]:
    from workflow.testing import ORGANISATION, PERSON, RECORDER, VERIFIER

    asked = []
    for index in range(subjects):
        if index % 5 == 4:
            number = _id_number(rng)
            fields = {**PERSON, "subject_id_number": number}
            asked.append(number)
        else:
            code = _code(rng)
            fields = {**ORGANISATION, "subject_code": code, "subject_name": f"某单位{index}"}
            asked.append(code)
        fields = {k: v for k, v in fields.items() if v is not None}
        fields["document_number"] = f"（2026）津0103民初{index}号"
        clock.advance(dt.timedelta(seconds=1))
        rid = engine.register("national", fields, actor=RECORDER, submit=True).id
        engine.fire(rid, "accept", actor=VERIFIER)
        engine.fire(rid, "confirm", actor=VERIFIER, comment="核查属实，予以记录")
        if index % 2 == 0:
            engine.fire(
                rid,
                "apply_sanctions",
                actor=VERIFIER,
                payload={"measures": ["honour_ban"]},
                comment="依规惩戒",
            )
    return asked


def _fill(engine: Any, target: int, rng: random.Random) -> int:
    """Copies of one record row under other subjects until the table holds ``target`` rows."""
    import sqlalchemy as sa

    from storage.connections import record_t

    with engine.store.db.reading() as c:
        have = c.execute(sa.select(sa.func.count()).select_from(record_t)).scalar_one()
        template = dict(c.execute(sa.select(record_t).limit(1)).one()._mapping)
    added = 0
    while have + added < target:
        rows: list[dict[str, Any]] = []
        for _ in range(min(FILL_BATCH, target - have - added)):
            n = have + added + len(rows)
            person = n % 5 == 4
            rows.append(
                {
                    **template,
                    "id": f"SX20260101-F{n:07d}",
                    "subject_code": None if person else f"9{n:017d}",
                    "subject_key": f"{rng.getrandbits(256):064x}" if person else None,
                    "subject_name": f"填充主体{n}",
                }
            )
        with engine.store.db.writing() as c:
            c.execute(sa.insert(record_t), rows)
        added += len(rows)
    return int(have) + added


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    cuts = statistics.quantiles(ordered, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000, "max": ordered[-1] * 1000}


def run(url: str, *, records: int, subjects: int, checks: int, seed: int = 20261201) -> dict[str, Any]:
    from workflow import Actor, Engine, ManualClock

    rng = random.Random(seed)
    start = dt.datetime(2026, 5, 11, 1, 0, tzinfo=dt.UTC)
    Engine.init(url, simulated_start=start)[0].close()
    clock = ManualClock(start)
    engine = Engine.open(url, clock=clock)
    service = Actor(id="bench.appraisal", role="auditor", unit="hr-office")
    try:
        began = time.perf_counter()
        asked = _seed(engine, clock, subjects, rng)
        seeded = time.perf_counter() - began
        began = time.perf_counter()
        total = _fill(engine, records, rng)
        filled = time.perf_counter() - began
        for subject in asked[:20]:  # warm the connection pool and the caches
            engine.subject_status(subject, actor=service, reason="预热 warm-up")
        single: list[float] = []
        barred = 0
        for index in range(checks):
            subject = asked[rng.randrange(len(asked))]
            began = time.perf_counter()
            status = engine.subject_status(subject, actor=service, reason=f"年度考核前信用核查 {index}")
            single.append(time.perf_counter() - began)
            barred += not status.answer("honours").allowed
        batch: list[float] = []
        for index in range(max(checks // 100, 5)):
            chosen = [asked[rng.randrange(len(asked))] for _ in range(100)]
            began = time.perf_counter()
            engine.subject_statuses(chosen, actor=service, reason=f"批量核查 {index}")
            batch.append(time.perf_counter() - began)
    finally:
        engine.close()
    return {
        "records": total,
        "subjects": subjects,
        "checks": checks,
        "barred_share": barred / checks,
        "seed_seconds": seeded,
        "fill_seconds": filled,
        "single_ms": _percentiles(single),
        "batch100_ms": _percentiles(batch),
        "batch_runs": len(batch),
    }


def _machine() -> str:
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next(
                (line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), "?"
            )
    except OSError:
        pass
    return f"nproc {os.cpu_count()}, {cpu}, Python {sys.version.split()[0]}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.credit_check", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--subjects", type=int, default=1_000)
    parser.add_argument("--checks", type=int, default=2_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    args = parser.parse_args(argv)
    from bench.scratch import scratch

    load_before = os.getloadavg()
    with scratch(args.backend, "credit") as where:
        result = run(where.url, records=args.records, subjects=args.subjects, checks=args.checks)
    load_after = os.getloadavg()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    s, b = result["single_ms"], result["batch100_ms"]
    print(f"Command: `python -m bench.credit_check {' '.join(argv)}`\n")
    print(
        f"- date: `{time.strftime('%a %b %d %H:%M:%S UTC %Y', time.gmtime())}`, git {commit.stdout.strip()}"
    )
    print(f"- machine: {_machine()}; backend {args.backend}")
    print(
        f"- load average (1, 5, 15 min) at start {'/'.join(f'{x:.1f}' for x in load_before)}, "
        f"at end {'/'.join(f'{x:.1f}' for x in load_after)}"
    )
    print(
        f"- {result['records']:,} records ({result['subjects']:,} driven through the engine in "
        f"{result['seed_seconds']:.1f} s, the rest copied in {result['fill_seconds']:.1f} s); "
        f"{result['barred_share']:.0%} of the checked subjects barred from honours\n"
    )
    print("| call | runs | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|")
    print(
        f"| `subject_status` (1 subject, every purpose, query-log row committed) | {result['checks']:,} "
        f"| {s['p50']:.2f} | {s['p95']:.2f} | {s['p99']:.2f} | {s['max']:.2f} |"
    )
    print(
        f"| `subject_statuses` (100 subjects, one query, 100 log rows in one commit) | {result['batch_runs']:,} "
        f"| {b['p50']:.2f} | {b['p95']:.2f} | {b['p99']:.2f} | {b['max']:.2f} |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
