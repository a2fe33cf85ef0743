"""Where the time goes: the step loop and ``verify`` under a sampling profiler (pyinstrument).

``python -m bench profile`` runs a few hundred lifecycles and one ``verify`` pass under
pyinstrument and prints, as Markdown: the SQL statements and transactions per step, the time
of each phase of a command (load, decide, build the write set, commit, re-read, log), the
self time per layer (driver, SQLAlchemy, engine, …), and the functions with the most self
time. Profiled figures are slower than unprofiled ones; read the shares, not the rates.
pyinstrument is not a dependency of chengxin: ``.venv/bin/pip install pyinstrument``.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ENGINE, STORE, HISTORY = "workflow/engine.py", "storage/store.py", "workflow/history.py"
# The driver's own calls, through SQLAlchemy or straight on its cursors (sqlite3 is C code).
DRIVER = "sqlalchemy/engine/default.py|<built-in>|psycopg/connection.py|psycopg/cursor.py"
DRIVER_COMMIT = "do_commit|Connection.commit|commit"
DRIVER_EXECUTE = "do_execute|do_executemany|Cursor.execute|Cursor.executemany|execute|executemany"
COMMIT = (STORE, "commit")
Phase = tuple[str, str, str, tuple[str, str] | None]  # label, file suffixes, functions, only inside

# Functions that are gone in a later version of the engine simply show 0.
STEP_PHASES: list[Phase] = [
    ("Engine.fire + Engine.register (all commands)", ENGINE, "fire|register", None),
    ("├ Store.load: record + open deadlines", STORE, "load", None),
    ("├ decide (pure decision)", "workflow/decide.py", "decide", None),
    ("├ Engine._write: build the write set", ENGINE, "_write", None),
    ("│ ├ event_hash", HISTORY, "event_hash", (ENGINE, "_write")),
    ("│ └ Engine._outbox: notice contexts", ENGINE, "_outbox", None),
    ("├ Store.commit: the write transaction", STORE, "commit", None),
    ("│ ├ driver COMMIT (fsync)", DRIVER, DRIVER_COMMIT, COMMIT),
    ("│ ├ driver execute", DRIVER, DRIVER_EXECUTE, COMMIT),
    ("│ ├ dataclasses.asdict of the write values", "dataclasses.py", "asdict", COMMIT),
    ("│ └ _write_states: delete + insert per changed track", STORE, "_write_states", None),
    ("├ Engine.get: re-read record + deadlines after the command", ENGINE, "get", None),
    ("├ _view_after: the view built from the write set", ENGINE, "_view_after", None),
    ("├ Engine._log: structlog transition line", ENGINE, "_log", None),
    ("├ Engine._register_definition (register only)", ENGINE, "_register_definition", None),
    ("├ Engine._refuse_system", ENGINE, "_refuse_system", None),
    ("└ request_fingerprint", HISTORY, "request_fingerprint", None),
    ("driver COMMIT anywhere (write and read transactions)", DRIVER, DRIVER_COMMIT, None),
]
VERIFY_PHASES: list[Phase] = [
    ("verify (all)", "workflow/audit.py", "verify", None),
    ("├ reading: Store._merge_streams (rows → values)", STORE, "_merge_streams", None),
    ("│ ├ rows → events (_event, raw_rows)", STORE, "_event|raw_rows", None),
    ("│ └ rows → records (_record, _record_of)", STORE, "_record|_record_of", None),
    ("├ verify_record", "workflow/audit.py", "verify_record", None),
    ("│ ├ verify_chain", "workflow/audit.py", "verify_chain", None),
    ("│ │ └ event hash (event_hash, raw_event_hash)", HISTORY, "event_hash|raw_event_hash", None),
    ("│ ├ fold (structural replay)", "workflow/audit.py", "fold", None),
    ("│ │ └ machines_for", "workflow/machines.py", "machines_for", ("workflow/audit.py", "fold")),
    ("│ └ registry.get", "workflow/registry.py", "get", ("workflow/audit.py", "verify_record")),
    ("JSON encoding (json.dumps, orjson.dumps)", "json/__init__.py|<built-in>", "dumps", None),
    ("JSON decoding (json.loads, orjson.loads)", "json/__init__.py|<built-in>", "loads", None),
    ("datetime column decoding", "storage/coretables.py", "process_result_value", None),
]


def _frames(frame: Any, stack: tuple[Any, ...] = ()) -> Iterator[tuple[Any, tuple[Any, ...]]]:
    yield frame, stack
    for child in frame.children:
        yield from _frames(child, (*stack, frame))


def _matches(frame: Any, suffixes: str, functions: str) -> bool:
    path = (frame.file_path or "").replace("\\", "/")
    return frame.function in functions.split("|") and any(path.endswith(s) for s in suffixes.split("|"))


def _phase_time(root: Any, suffix: str, functions: str, within: tuple[str, str] | None) -> float:
    """Total time in frames of ``functions``, not counting a frame nested inside another match."""
    total = 0.0
    for frame, stack in _frames(root):
        if not _matches(frame, suffix, functions):
            continue
        if any(_matches(f, suffix, functions) for f in stack):
            continue
        if within is not None and not any(_matches(f, *within) for f in stack):
            continue
        total += frame.time
    return total


def _layer(frame: Any, stack: tuple[Any, ...]) -> str:
    """The layer a frame's self time belongs to; a C function counts for the Python code that called it."""
    owner = frame
    if (frame.file_path or "").startswith("<"):  # a builtin: find the Python caller
        for caller in reversed(stack):
            if not (caller.file_path or "").startswith("<"):
                owner = caller
                break
    if owner.function == "do_commit" or frame.function == "Connection.commit":
        return "driver: COMMIT (fsync)"
    if owner.function in {"do_execute", "do_executemany"}:
        return "driver: execute statements"
    path = (owner.file_path or "").replace("\\", "/")
    for needle, name in (
        ("/sqlalchemy/", "SQLAlchemy (statement building, compile cache, results)"),
        ("/sqlmodel/", "SQLAlchemy (statement building, compile cache, results)"),
        ("/psycopg/", "psycopg (Python side, incl. waiting for the server)"),
        ("/workflow/", "chengxin workflow/*"),
        ("/storage/", "chengxin storage/*"),
        ("/definitions/", "chengxin definitions/*"),
        ("/structlog/", "structlog"),
        ("/dataclasses.py", "dataclasses (asdict, replace)"),
        ("/copy.py", "copy.deepcopy (inside asdict)"),
        ("/json/", "json"),
        ("/transitions/", "transitions"),
        ("/dateutil/", "dateutil"),
    ):
        if needle in path:
            return name
    return "other (stdlib)"


def _self_times(root: Any) -> tuple[dict[str, float], dict[str, float]]:
    layers: dict[str, float] = collections.defaultdict(float)
    functions: dict[str, float] = collections.defaultdict(float)
    for frame, stack in _frames(root):
        if frame.function == "[self]":
            continue
        # A frame's own self time: its time minus its non-[self] children.
        own = frame.time - sum(c.time for c in frame.children if c.function != "[self]")
        if own <= 0:
            continue
        layers[_layer(frame, stack)] += own
        short = (frame.file_path or "?").replace("\\", "/").split("site-packages/")[-1]
        short = short.split("/lib/python3")[-1] if "/lib/python3" in short else short
        functions[f"{frame.function} ({short}:{frame.line_no})"] += own
    return layers, functions


def _tables(root: Any, phases: list[Phase], units: int, unit: str) -> str:
    total = root.time
    rows = [f"| phase | s | % of profiled time | µs per {unit} |", "|---|---|---|---|"]
    for label, suffix, names, within in phases:
        spent = _phase_time(root, suffix, names, within)
        rows.append(f"| {label} | {spent:.2f} | {spent / total:.0%} | {spent / units * 1e6:,.0f} |")
    layers, functions = _self_times(root)
    rows += ["", f"| layer (self time) | s | % | µs per {unit} |", "|---|---|---|---|"]
    for name, spent in sorted(layers.items(), key=lambda item: -item[1]):
        rows.append(f"| {name} | {spent:.2f} | {spent / total:.0%} | {spent / units * 1e6:,.0f} |")
    rows += ["", "| function (self time, top 15) | s | % |", "|---|---|---|"]
    for name, spent in sorted(functions.items(), key=lambda item: -item[1])[:15]:
        rows.append(f"| `{name}` | {spent:.2f} | {spent / total:.0%} |")
    return "\n".join(rows)


def _root(profiler: Any) -> Any:
    session = profiler.last_session
    if session is None or session.root_frame() is None:
        raise RuntimeError("pyinstrument recorded nothing")
    return session.root_frame()


def run(url: str, *, records: int, output: str | None, label: str) -> dict[str, Any]:
    import pyinstrument
    import sqlalchemy as sa

    from bench import lifecycle
    from workflow import Engine, ManualClock
    from workflow.audit import verify

    Engine.init(url, simulated_start=lifecycle.T0)[0].close()
    clock = ManualClock(lifecycle.T0)
    engine = Engine.open(url, clock=clock)
    statements: collections.Counter[str] = collections.Counter()

    @sa.event.listens_for(engine.store.engine, "before_cursor_execute")
    def _count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        words = statement.split()
        verb = words[0].upper()
        table = {"INSERT": 2, "DELETE": 2, "UPDATE": 1}.get(verb)
        statements[f"{verb} {words[table].strip(chr(34))}" if table is not None else verb] += 1

    @sa.event.listens_for(engine.store.engine, "commit")
    def _commits(_conn: Any) -> None:
        statements["(transactions committed)"] += 1

    try:
        for index in range(20):  # warm the statement caches first
            lifecycle.drive(engine, clock, index)
        statements.clear()
        profiler = pyinstrument.Profiler(interval=0.0005)
        started = time.perf_counter()
        profiler.start()
        steps = sum(lifecycle.drive(engine, clock, index) for index in range(20, 20 + records))
        profiler.stop()
        wall = time.perf_counter() - started
        step_root = _root(profiler)
        counts = dict(statements)
        if output:
            Path(output).mkdir(parents=True, exist_ok=True)
            Path(output, f"{label}-steps.txt").write_text(
                profiler.output_text(unicode=True, color=False), encoding="utf-8"
            )

        verifier = pyinstrument.Profiler(interval=0.0005)
        verifier.start()
        report = verify(engine.registry, engine.cases(), real_time=False, subject_key=engine.subject_key)
        verifier.stop()
        verify_root = _root(verifier)
        if output:
            Path(output, f"{label}-verify.txt").write_text(
                verifier.output_text(unicode=True, color=False), encoding="utf-8"
            )
    finally:
        engine.close()

    lines = [
        f"#### {label}: {records} lifecycles, {steps} steps under pyinstrument ({wall:.1f} s, "
        f"{steps / wall:,.0f} steps/s profiled)",
        "",
        "| statement per step | count |",
        "|---|---|",
        *(f"| {name} | {n / steps:.2f} |" for name, n in sorted(counts.items(), key=lambda kv: -kv[1])),
        "",
        _tables(step_root, STEP_PHASES, steps, "step"),
        "",
        f"#### {label}: verify over {report.records} records, {report.events} events "
        f"({report.events / verify_root.time:,.0f} events/s profiled, {len(report.problems)} problems)",
        "",
        _tables(verify_root, VERIFY_PHASES, report.events, "event"),
        "",
    ]
    return {"markdown": "\n".join(lines)}
