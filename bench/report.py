"""Markdown for ``BENCHMARKS.md`` from the figures the benchmark children measured.

Only formatting: every number comes from the results handed in, nothing is computed from
anything else than those, and nothing is remembered between runs.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import platform
import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.memory import mib

ROOT = Path(__file__).resolve().parent.parent
VERIFY_TARGETS = {"sqlite": 150_000, "postgresql": 100_000}  # events/s (issue 15)

STEP_HEADER = [
    "backend",
    "records",
    "steps",
    "s",
    "steps/s",
    "ms/step",
    "CPU ms/step",
    "sweep steps",
    "sweep s",
    "sweep steps/s",
    "all steps/s",
]
VERIFY_HEADER = [
    "backend",
    "records",
    "events",
    "read only ev/s",
    "verify s",
    "verify ev/s",
    "verify ev per CPU-s",
    "problems",
    "replay ev/s",
    "replay ev/s (inside replay)",
    "replay problem records",
    "target ev/s",
    "verify met?",
    "verify --jobs N ev/s",
    "--jobs N met?",
]
MEMORY_HEADER = [
    "backend",
    "records in DB",
    "step loop RSS",
    "step loop peak RSS",
    "steps tracemalloc peak",
    "verify RSS before",
    "verify peak RSS",
    "verify tracemalloc peak",
]
WRITTEN_HEADER = ["run", "records", "history rows / expected", "final states", "outbox", "deadlines", "notes"]


def rate(count: float, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("nan")


def n(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _run_text(*argv: str) -> str | None:
    try:
        return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def load() -> str:
    try:
        return "/".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def source() -> str:
    """Which code was measured: a label given by whoever ran it, else the git commit and its edits."""
    label = os.environ.get("CHENGXIN_BENCH_SOURCE")
    if label:
        return label
    head = _run_text("git", "rev-parse", "--short", "HEAD")
    if head is None:
        return f"{ROOT} (not a git checkout)"
    status = (_run_text("git", "status", "--porcelain") or "").splitlines()
    changed = [line for line in status if not line.startswith("??")]
    new = [line for line in status if line.startswith("??") and not line[3:].startswith(("bench/", "BENCH"))]
    edits = [
        f"{len(changed)} changed tracked file(s)" if changed else "",
        f"{len(new)} untracked" if new else "",
    ]
    shown = " and ".join(e for e in edits if e)
    return f"git {head}" + (f" plus uncommitted edits: {shown}" if shown else "")


def machine(pg_version: str | None) -> list[str]:
    """Date, code, machine and versions, one Markdown bullet each."""
    import psycopg
    import sqlalchemy

    cpu = memory = "?"
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines()
            if line.startswith("model name")
        )
        memory = f"{int(Path('/proc/meminfo').read_text(encoding='utf-8').split()[1]) / 1024**2:.1f} GiB"
    except (OSError, StopIteration, ValueError, IndexError):
        pass
    lines = [
        f"- date: `{_run_text('date') or dt.datetime.now(dt.UTC).isoformat()}`",
        f"- source: {source()}",
        f"- machine: nproc {_run_text('nproc') or os.cpu_count()}, {cpu}, {memory} RAM, "
        f"{platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} ({sys.executable}), SQLAlchemy {sqlalchemy.__version__}, "
        f"psycopg {psycopg.__version__}, SQLite library {sqlite3.sqlite_version}",
    ]
    if pg_version:
        lines.append(f"- PostgreSQL server {pg_version} (local, default settings, `synchronous_commit=on`)")
    return lines


@dataclass(slots=True)
class Report:
    """The tables of one run, filled backend by backend."""

    records: int
    steps: list[list[str]] = field(default_factory=list)
    verifies: list[list[str]] = field(default_factory=list)
    memory: list[list[str]] = field(default_factory=list)
    written: list[list[str]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    verdicts: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add(self, backend: str, result: dict[str, Any]) -> None:
        if "skipped" in result:
            self.skipped.append(f"- {backend}: skipped — {result['skipped']}")
            return
        for size, run in sorted(result["runs"].items(), key=lambda item: int(item[0])):
            self._add_steps(backend, int(size), run["steps"])
            self._add_memory(backend, int(size), run["steps"], run.get("verify"))
            if "verify" in run:
                self._add_verify(backend, int(size), run["verify"])

    def _add_steps(self, backend: str, size: int, s: dict[str, Any]) -> None:
        per_second = rate(s["steps"], s["seconds"])
        row = [
            backend,
            n(size),
            n(s["steps"]),
            n(s["seconds"], 1),
            n(per_second),
            n(1000 / per_second, 2),
            n(1000 * s["cpu_seconds"] / s["steps"], 2),
        ]
        if "sweep_steps" in s:
            row += [
                n(s["sweep_steps"]),
                n(s["sweep_seconds"], 1),
                n(rate(s["sweep_steps"], s["sweep_seconds"])),
                n(rate(s["steps"] + s["sweep_steps"], s["seconds"] + s["sweep_seconds"])),
            ]
        else:
            row += ["—", "—", "—", "—"]
        self.steps.append(row)
        states = ", ".join(f"{k} {v}" for k, v in sorted(s["states"].items()))
        self.written.append(
            [
                backend,
                f"{n(size)} + {s['traced_records']} traced",
                f"{n(s['history_rows'])} / {n(s['history_rows_expected'])}",
                states,
                n(s["outbox_rows"]),
                n(s["deadline_rows"]),
                "sweep errors: " + ("; ".join(s.get("sweep_errors", [])) or "none"),
            ]
        )

    def _add_memory(self, backend: str, size: int, s: dict[str, Any], v: dict[str, Any] | None) -> None:
        samples = s["rss_samples"]
        self.memory.append(
            [
                backend,
                n(size),
                f"{mib(samples[0][1])} → {mib(samples[-1][1])}",
                mib(s["peak_rss_steps"]),
                f"{mib(s['tracemalloc_peak_steps'])} ({s['traced_records']} records)",
                mib(v["rss_start"]) if v else "—",
                mib(v["peak_rss_verify"]) if v else "—",
                mib(v["tracemalloc_peak_verify"]) if v else "—",
            ]
        )

    def _add_verify(self, backend: str, size: int, v: dict[str, Any]) -> None:
        per_second = rate(v["verify_events"], v["verify_seconds"])
        target = VERIFY_TARGETS[backend]
        met = per_second >= target
        parallel = rate(v["parallel_events"], v["parallel_seconds"])
        self.verifies.append(
            [
                backend,
                n(v["verify_records"]),
                n(v["verify_events"]),
                n(rate(v["read_events"], v["read_seconds"])),
                n(v["verify_seconds"], 2),
                n(per_second),
                n(rate(v["verify_events"], v["verify_cpu_seconds"])),
                str(v["verify_problems"]),
                n(rate(v["replay_events"], v["replay_seconds"])),
                n(rate(v["replay_events"], v["replay_inside_seconds"])),
                f"{v['replay_problem_records']} of {n(v['replay_records'])}",
                n(target),
                "met" if met else "**not met**",
                f"{n(parallel)} (N={v['parallel_jobs']}, {v['parallel_problems']} problems)",
                "met" if parallel >= target else "**not met**",
            ]
        )
        for text in v["verify_problem_sample"]:
            self.problems.append(f"- {backend} n={size} verify: `{text}`")
        for text in v["replay_problem_sample"]:
            self.problems.append(f"- {backend} n={size} replay: `{text}`")
        if size == self.records:
            self.verdicts.append(
                f"- {backend}: verify {n(per_second)} events/s over {n(v['verify_events'])} events — "
                f"target ≥ {n(target)}/s {'met' if met else 'NOT met'}; "
                f"in {v['parallel_jobs']} processes (`audit verify --jobs {v['parallel_jobs']}`) "
                f"{n(parallel)} events/s — {'met' if parallel >= target else 'NOT met'}"
            )

    def markdown(self, command: str, environment: list[str]) -> str:
        out = [f"Command: `{command}`", "", *environment, *self.skipped, ""] if command else []
        sections: list[tuple[str, str, list[str], list[list[str]]]] = [
            (
                "Persisted lifecycle steps (engine)",
                "Happy path of `national`, 8 commands per record (register … accept_rectification), one "
                "transaction each, 1 simulated second apart; then the sweep (`run_due`) lets "
                "`expire_publication` and `archive` fire. CPU ms/step is the worker's own CPU time.",
                STEP_HEADER,
                self.steps,
            ),
            (
                "Verify and replay",
                "`verify(registry, engine.cases(), real_time=False, subject_key=…)` end to end: chains, "
                "legality and every table that drives behaviour against its history, reading "
                "included; `read only` streams the same rows without checking them; replay is "
                "`audit.replay(registry, events)` per record, with and without the reading.",
                VERIFY_HEADER,
                self.verifies,
            ),
            (
                "Memory (MiB)",
                "Each column comes from its own process. Step loop: RSS when the loop starts → when it "
                "ends, and peak RSS (`getrusage`); tracemalloc peak while a few more lifecycles run on "
                "the full database. Verify: RSS of a fresh process before, its peak after verify, "
                "tracemalloc peak of one verify pass.",
                MEMORY_HEADER,
                self.memory,
            ),
            ("What was written", "", WRITTEN_HEADER, self.written),
        ]
        for title, text, header, rows in sections:
            if rows:
                out += [f"### {title}", "", *([text, ""] if text else []), table(header, rows), ""]
        if self.problems:
            out += ["### Problems reported by verify and replay (first three each)", "", *self.problems, ""]
        if self.verdicts:
            out += ["### Targets", "", *self.verdicts, ""]
        return "\n".join(out)


# ------------------------------------------------------------------ issue 15: side by side and targets

PEER_RATIO_TARGET = 2.0  # chengxin steps/s ÷ the naive peer, ÷ SpiffWorkflow reload
RAW_RATIO_TARGET = 0.5  # chengxin steps/s ÷ raw sqlite3 (peer), ÷ raw psycopg per worker
WORKERS_TARGET = 1.5  # two PostgreSQL workers ÷ one
IMPORT_TARGET = (1_000_000, 600.0)  # records, seconds
SWEEP_TARGET = 1.0  # seconds for the due among the pending
MEMORY_GROWTH = 1.10  # peak RSS of the step loop at the larger size ÷ at the smaller, at most
CONTENDER_LABELS = {
    "raw": "raw sqlite3 (peer)",
    "orm": "transitions + SQLModel (naive peer)",
    "spiff": "SpiffWorkflow reload (peer)",
    "chengxin": "**chengxin**",
    "chengxin2": "**chengxin, 2 workers at once**",
}
SIDE_HEADER = [
    "contender",
    "records",
    "steps/s per round",
    "steps/s min–max",
    "median",
    "CPU ms/step (median)",
]
TARGET_HEADER = ["target", "measured", "peers / baseline, same run", "met?"]


def now() -> str:
    return _run_text("date", "-u", "+%Y-%m-%d %H:%M:%S UTC") or dt.datetime.now(dt.UTC).isoformat()


def median(values: list[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def verdict(measured: float, target: float, *, at_most: bool = False) -> str:
    """``met`` or ``NOT met by x%`` (how far the measured figure is from the target)."""
    if math.isnan(measured):
        return "not measured"
    if at_most:
        return "met" if measured <= target else f"**NOT met by {measured / target - 1:.0%}**"
    return "met" if measured >= target else f"**NOT met by {1 - measured / target:.0%}**"


@dataclass(slots=True)
class Contender:
    """One contender's figures over the rounds of one backend."""

    key: str
    label: str
    records: list[int] = field(default_factory=list)
    rates: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # ms per step
    errors: list[str] = field(default_factory=list)

    @property
    def median(self) -> float:
        return median(self.rates)

    def row(self) -> list[str]:
        if not self.rates:
            return [self.label, "—", "; ".join(self.errors) or "—", "—", "—", "—"]
        sizes = sorted(set(self.records))
        return [
            self.label,
            " / ".join(n(s) for s in sizes),
            ", ".join(n(r) for r in self.rates),
            f"{n(min(self.rates))}–{n(max(self.rates))}",
            n(self.median),
            n(median(self.cpu), 2) if self.cpu else "—",
        ]

    def brief(self) -> str:
        if not self.rates:
            return f"{self.label}: " + ("; ".join(self.errors) or "not run")
        return (
            f"{self.label} median {n(self.median)} steps/s ({n(min(self.rates))}–{n(max(self.rates))}, "
            f"N={' / '.join(n(s) for s in sorted(set(self.records)))})"
        )


def contenders(result: dict[str, Any]) -> dict[str, Contender]:
    """Figures per contender over the rounds of one backend's result."""
    found: dict[str, Contender] = {}
    for entry in result.get("rounds", []):
        for key in entry["order"]:
            figures = entry[key]
            label = CONTENDER_LABELS.get(key) or f"raw {figures.get('driver', '?')} (engine's rows)"
            c = found.setdefault(key, Contender(key, label))
            if "error" in figures:
                c.errors.append(figures["error"])
                continue
            records = figures.get("records") or figures["steps"] // 8
            c.records.append(int(records))
            c.rates.append(rate(figures["steps"], figures["seconds"]))
            if figures.get("cpu_seconds") is not None:
                c.cpu.append(1000 * figures["cpu_seconds"] / figures["steps"])
    return found


def _ratio_row(
    title: str, mine: Contender | None, other: Contender | None, target: float, why_missing: str
) -> list[str]:
    if mine is None or other is None or not mine.rates or not other.rates:
        gone = (other.brief() if other is not None else why_missing) if mine is not None else why_missing
        return [title, "not measured", gone, "not measured"]
    ratio = mine.median / other.median
    rounds = [a / b for a, b in zip(mine.rates, other.rates, strict=False)]
    shown = f"{ratio:.2f}× ({ratio:.0%})" if target < 1 else f"{ratio:.2f}×"
    per_round = ", ".join(f"{r:.2f}" for r in rounds)
    return [
        title,
        f"{shown}: chengxin median {n(mine.median)} steps/s; per round {per_round}",
        other.brief(),
        verdict(ratio, target),
    ]


def _memory_row(backend: str, result: dict[str, Any], why: str) -> list[str]:
    title = f"memory per step flat in the number of records ({backend})"
    runs = result.get("runs", {})
    sizes = sorted(int(k) for k in runs)
    if len(sizes) < 2:
        return [title, "not measured", why or "needs two sizes (`--small`)", "not measured"]
    small, large = (runs[str(sizes[0])]["steps"], runs[str(sizes[-1])]["steps"])
    growth = large["peak_rss_steps"] / small["peak_rss_steps"]
    traced = f"{mib(small['tracemalloc_peak_steps'])} → {mib(large['tracemalloc_peak_steps'])}"
    return [
        title,
        f"step loop peak RSS {mib(small['peak_rss_steps'])} MiB at {n(sizes[0])} records → "
        f"{mib(large['peak_rss_steps'])} MiB at {n(sizes[-1])} (×{growth:.2f}); tracemalloc peak of "
        f"{large['traced_records']} more lifecycles {traced} MiB",
        f"limit: ×{MEMORY_GROWTH:.2f} from {n(sizes[0])} to {n(sizes[-1])} records",
        verdict(growth, MEMORY_GROWTH, at_most=True),
    ]


def targets(results: dict[str, Any], *, full: bool) -> list[list[str]]:
    """The targets table of issue 15: every row present, measured or saying why not."""
    rows: list[list[str]] = []
    sq, pg = results.get("sqlite", {}), results.get("postgresql", {})
    peers_why = results.get("peers", {}).get("skipped", "")
    sq_why = sq.get("skipped", "")
    pg_why = pg.get("skipped", "")
    c = contenders(sq)
    mine = c.get("chengxin")
    for key, target, title in (
        ("orm", PEER_RATIO_TARGET, "SQLite steps/s ≥ 2× transitions + SQLModel (naive peer)"),
        ("spiff", PEER_RATIO_TARGET, "SQLite steps/s ≥ 2× SpiffWorkflow reload"),
        ("raw", RAW_RATIO_TARGET, "SQLite steps/s ≥ 50% of raw sqlite3 (peer)"),
    ):
        rows.append(_ratio_row(title, mine, c.get(key), target, sq_why or peers_why or "peer left out"))
    base = c.get("baseline")
    if mine is not None and mine.cpu:
        rows.append(
            [
                "SQLite CPU per step (no target; ≈ 0.4 ms needed for 50% of raw)",
                f"{median(mine.cpu):.2f} ms (median over rounds)",
                "; ".join(
                    f"{x.label} {median(x.cpu):.2f} ms" for k, x in c.items() if k != "chengxin" and x.cpu
                )
                or "—",
                "for reference",
            ]
        )
    else:
        rows.append(["SQLite CPU per step (no target)", "not measured", sq_why or "—", "not measured"])
    if base is not None and mine is not None and base.rates and mine.rates:
        rows.append(
            [
                "SQLite steps/s ÷ raw sqlite3 writing the engine's own rows (no target)",
                f"{mine.median / base.median:.0%}",
                base.brief(),
                "for reference",
            ]
        )
    p = contenders(pg)
    rows.append(
        _ratio_row(
            "PostgreSQL steps/s per worker ≥ 50% of raw psycopg",
            p.get("chengxin"),
            p.get("baseline"),
            RAW_RATIO_TARGET,
            pg_why or "baseline left out",
        )
    )
    one, two = p.get("chengxin"), p.get("chengxin2")
    if one is not None and two is not None and one.rates and two.rates:
        ratio = two.median / one.median
        rows.append(
            [
                "PostgreSQL: 2 worker processes ≥ 1.5× one",
                f"{ratio:.2f}×: two at once {n(two.median)} steps/s (median; per round "
                f"{', '.join(n(r) for r in two.rates)})",
                one.brief().replace("**", ""),
                verdict(ratio, WORKERS_TARGET),
            ]
        )
    else:
        rows.append(
            [
                "PostgreSQL: 2 worker processes ≥ 1.5× one",
                "not measured",
                pg_why or "left out",
                "not measured",
            ]
        )
    for backend, result in (("sqlite", sq), ("postgresql", pg)):
        title = f"verify ≥ {n(VERIFY_TARGETS[backend])} events/s ({backend})"
        runs = result.get("runs", {})
        v = runs[max(runs, key=int)].get("verify") if runs else None
        if v is None:
            why = result.get("skipped", "") or "measured by `bench all` and `bench replay`"
            rows.append([title, "not measured", why, "not measured"])
            continue
        per_second = rate(v["verify_events"], v["verify_seconds"])
        rows.append(
            [
                title,
                f"{n(per_second)} events/s over {n(v['verify_events'])} events, {v['verify_problems']} problems",
                f"read only (no checks) {n(rate(v['read_events'], v['read_seconds']))} events/s",
                verdict(per_second, VERIFY_TARGETS[backend]),
            ]
        )
    if full:
        rows.append(_memory_row("sqlite", sq, sq_why))
        rows.append(_memory_row("postgresql", pg, pg_why))
        rows.append(_sweep_row(results.get("sweep", {"skipped": "not run"})))
        rows.append(_import_row(results.get("import", {"skipped": "not run"})))
    return rows


def _sweep_row(s: dict[str, Any]) -> list[str]:
    if "skipped" in s:
        return [
            "sweep of 1,000 due among 1,000,000 pending < 1 s (SQLite)",
            "not measured",
            s["skipped"],
            "not measured",
        ]
    title = "sweep of 1,000 due among 1,000,000 pending < 1 s (SQLite)"
    measured = (
        f"{s['seconds']:.2f} s for {n(s['fired'])} fired of {n(s['due'])} due among {n(s['pending'])} pending, "
        f"{s['errors']} errors, peak RSS {s['peak_rss_mib']:.0f} MiB"
    )
    sized = s["pending"] >= 1_000_000 and s["due"] >= 1_000
    met = verdict(s["seconds"], SWEEP_TARGET, at_most=True)
    return [title, measured, "—", met if sized else f"{met} at this size only (not the target's size)"]


def _import_row(s: dict[str, Any]) -> list[str]:
    title = "bulk import of 1,000,000 records ≤ 10 min (SQLite)"
    if "skipped" in s:
        return [title, "not measured", s["skipped"], "not measured"]
    records, seconds = s["records"], s["seconds"]
    projected = IMPORT_TARGET[0] / s["records_per_s"] if s["records_per_s"] else float("nan")
    measured = (
        f"{n(records)} records in {seconds:,.1f} s = {n(s['records_per_s'])} records/s, "
        f"CPU {s['cpu_s']:,.1f} s, peak RSS {s['peak_rss_mib']:.0f} MiB"
    )
    if "small" in s:
        measured += f" ({s['small']['peak_rss_mib']:.0f} MiB at {n(s['small']['records'])} records)"
    if "exactly_once" in s:
        measured += (
            f"; killed and resumed: every record exactly once {'yes' if s['exactly_once'] else '**NO**'}"
        )
    if s.get("exit"):
        measured += f"; bench.bulk_import exit {s['exit']}"
    if records >= IMPORT_TARGET[0]:
        return [title, measured, "—", verdict(seconds, IMPORT_TARGET[1], at_most=True)]
    return [
        title,
        f"{measured}; 1,000,000 at this rate: {projected / 60:,.1f} min",
        "—",
        f"{verdict(projected, IMPORT_TARGET[1], at_most=True)} (projected from {n(records)} records)",
    ]


def side_by_side(backend: str, result: dict[str, Any]) -> str:
    found = contenders(result)
    rows = [c.row() for c in found.values()]
    return table(SIDE_HEADER, rows) if rows else ""


def render(command: str, environment: list[str], results: dict[str, Any], *, full: bool) -> str:
    """The whole Markdown of one run: environment, side-by-side tables, targets, then the details."""
    settings = results.get("settings", {})
    out = [f"Command: `{command}`", "", *environment]
    peers = results.get("peers", {})
    if "skipped" in peers:
        out.append(f"- peers: {peers['skipped']}")
    elif peers:
        made = "made by this run" if peers.get("made") else "reused"
        out.append(f"- peers: scripts in `{peers['folder']}`, their environment `{peers['env']}` ({made})")
    for backend in ("sqlite", "postgresql"):
        if "skipped" in results.get(backend, {}):
            out.append(f"- {backend}: skipped — {results[backend]['skipped']}")
    if settings.get("quick"):
        out.append("- `--quick`: a smoke run with tiny sizes — its figures say nothing about speed")
    out.append("")
    out += ["### Targets", "", table(TARGET_HEADER, targets(results, full=full)), ""]
    texts = {
        "sqlite": "SQLite, WAL, `synchronous=FULL` for every contender, one transaction per step, 8 steps per "
        "record; each contender a child process, the contenders interleaved in rounds (order rotated each "
        "round). chengxin: the happy path of `national` (register … accept_rectification); peers: their "
        "8-step lifecycle (`bench_spiff.py`'s `synchronous=NORMAL` turned into FULL by `bench/peer_run.py`; "
        "its steps/s counts instance creation, the others' do not). CPU ms/step: the timed phase's own CPU.",
        "postgresql": "PostgreSQL, one transaction per step; raw psycopg writes the engine's rows (one UPDATE "
        "+ one INSERT per step); two workers: two processes started together on one database, each on "
        "records of its own, steps/s = all their steps ÷ (last end − first start).",
    }
    for backend in ("sqlite", "postgresql"):
        if results.get(backend, {}).get("rounds"):
            rounds = len(results[backend]["rounds"])
            out += [
                f"### Steps side by side: {backend} ({rounds} round{'s' if rounds > 1 else ''})",
                "",
                texts[backend],
                "",
                side_by_side(backend, results[backend]),
                "",
            ]
    details = Report(records=int(settings.get("records", 0)))
    for backend in ("sqlite", "postgresql"):
        if results.get(backend, {}).get("runs"):
            details.add(backend, results[backend])
    details.verdicts.clear()
    out.append(details.markdown("", []))
    return "\n".join(out)
