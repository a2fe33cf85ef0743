"""Run one peer script of ``../shared/peers`` unchanged, and hand its result back as JSON.

    PEERS_PYTHON peer_run.py PEERS_DIR OUT.json SCRIPT [ARG ...]

Started by ``bench`` with the peers' own interpreter (their virtual environment, not chengxin's),
so it imports nothing of chengxin. Before the script runs, two things of its helper module
``benchlib`` are wrapped, and the script itself is left as it is:

* ``now`` also reads the process's CPU clock each time it is called. The scripts time their
  measured phase between their third call of ``now`` and their last (``bench_persisted.py``:
  the transitions after the records were created; ``bench_spiff.py``: every instance and step
  after parsing the BPMN), so the CPU time between those two calls is the phase's own.
* ``result`` writes the fields of its ``RESULT`` line, unrounded, plus that CPU time to OUT.json.

``CHENGXIN_PEER_SQLITE_SYNC=FULL`` makes ``sqlite3.connect`` (used directly by
``bench_spiff.py``) turn the script's ``PRAGMA synchronous=NORMAL`` into ``FULL``, so every
contender commits with the same durability; the JSON says whether that happened.
"""

from __future__ import annotations

import importlib
import json
import os
import runpy
import sqlite3
import sys
import time
from typing import Any

FORCED_SYNC = os.environ.get("CHENGXIN_PEER_SQLITE_SYNC", "").upper()


class _Connection(sqlite3.Connection):
    """A connection whose ``PRAGMA synchronous=…`` is the one ``bench`` asked for."""

    rewritten = 0

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if FORCED_SYNC and sql.replace(" ", "").upper().startswith("PRAGMASYNCHRONOUS="):
            _Connection.rewritten += 1
            sql = f"PRAGMA synchronous={FORCED_SYNC}"
        return super().execute(sql, *args)


def main(argv: list[str]) -> int:
    peers, out, script, *args = argv
    # This file's folder (bench/) holds modules named like the standard library's (calendar, …);
    # bench starts it with ``python -I``, and this guards the other ways of starting it.
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [peers, *(p for p in sys.path if p and os.path.abspath(p) != here)]
    benchlib: Any = importlib.import_module("benchlib")  # the peers' helper module, from PEERS_DIR

    marks = [0, 0.0, 0.0]  # calls so far, CPU at the third call, CPU at the latest call
    perf_counter, process_time = time.perf_counter, time.process_time

    def now() -> float:
        cpu = process_time()
        marks[0] += 1
        if marks[0] == 3:
            marks[1] = cpu
        marks[2] = cpu
        return perf_counter()

    original_result = benchlib.result

    def result(bench: str, **fields: Any) -> None:
        original_result(bench, **fields)
        cpu = marks[2] - marks[1] if marks[0] > 3 else process_time()
        record = {
            "bench": bench,
            **{k: v for k, v in fields.items() if isinstance(v, int | float | str)},
            "cpu_seconds": cpu,
            "sync_forced": FORCED_SYNC or None,
            "sync_rewrites": _Connection.rewritten,
        }
        with open(out, "w", encoding="utf-8") as file:
            json.dump(record, file)

    benchlib.now = now
    benchlib.result = result
    if FORCED_SYNC:
        connect = sqlite3.connect

        def forced(*a: Any, **k: Any) -> sqlite3.Connection:
            k.setdefault("factory", _Connection)
            connection: sqlite3.Connection = connect(*a, **k)
            return connection

        sqlite3.connect = forced  # type: ignore[assignment]
    sys.argv = [os.path.join(peers, script), *args]
    runpy.run_path(sys.argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
