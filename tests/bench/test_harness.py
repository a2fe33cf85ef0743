"""``python -m bench all``: every target row of issue 15, with its verdict, in one report.

The first tests run the harness in-process with its child processes replaced by fixed figures,
so the verdicts are known in advance; the last one (slow) runs ``bench all --quick`` for real,
peers included, with tiny sizes.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench import __main__ as harness
from bench import peers, report, scratch, sweep

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
REAL_PREPARE = peers.prepare
TITLES = (
    "SQLite steps/s ≥ 2× transitions + SQLModel (naive peer)",
    "SQLite steps/s ≥ 2× SpiffWorkflow reload",
    "SQLite steps/s ≥ 50% of raw sqlite3 (peer)",
    "SQLite CPU per step",
    "PostgreSQL steps/s per worker ≥ 50% of raw psycopg",
    "PostgreSQL: 2 worker processes ≥ 1.5× one",
    "verify ≥ 150,000 events/s (sqlite)",
    "verify ≥ 100,000 events/s (postgresql)",
    "memory per step flat in the number of records (sqlite)",
    "memory per step flat in the number of records (postgresql)",
    "sweep of 1,000 due among 1,000,000 pending < 1 s (SQLite)",
    "bulk import of 1,000,000 records ≤ 10 min (SQLite)",
)


def _steps(records: int, per_second: float, peak_mib: float) -> dict[str, Any]:
    steps = records * 8
    return {
        "records": records,
        "steps": steps,
        "seconds": steps / per_second,
        "cpu_seconds": steps * 0.0009,
        "wall_start": 1000.0,
        "wall_end": 1000.0 + steps / per_second,
        "rss_samples": [[0, 90 * MIB], [records, 95 * MIB]],
        "peak_rss_steps": peak_mib * MIB,
        "row_sizes": {"record_json": 842.0, "event_json": 582.5},
        "traced_records": 5,
        "tracemalloc_peak_steps": 75_000,
        "states": {"archived": records + 5},
        "history_rows": (records + 5) * 8,
        "history_rows_expected": (records + 5) * 8,
        "outbox_rows": 1,
        "deadline_rows": 1,
    }


def _verify(events_per_second: float) -> dict[str, Any]:
    events = 100_000
    seconds = events / events_per_second
    return {
        "rss_start": 70 * MIB,
        "read_events": events,
        "read_seconds": seconds / 3,
        "verify_seconds": seconds,
        "verify_cpu_seconds": seconds,
        "verify_records": 10_000,
        "verify_events": events,
        "verify_problems": 0,
        "verify_problem_sample": [],
        "peak_rss_verify": 80 * MIB,
        "tracemalloc_peak_verify": 4 * MIB,
        "replay_seconds": 1.0,
        "replay_inside_seconds": 0.5,
        "replay_records": 10_000,
        "replay_events": events,
        "replay_problem_records": 0,
        "replay_problem_sample": [],
        "parallel_jobs": 2,
        "parallel_seconds": seconds,
        "parallel_events": events,
        "parallel_problems": 0,
    }


@pytest.fixture
def fixed(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The harness with every child process replaced by fixed figures (steps/s chosen per contender)."""
    rates = {"sqlite": 1000.0, "postgresql": 600.0}
    raw = {"sqlite": 5000.0, "postgresql": 1000.0}
    verify = {"sqlite": 160_000.0, "postgresql": 90_000.0}
    seen: dict[str, Any] = {"children": [], "peers": []}

    @contextlib.contextmanager
    def fake_scratch(backend: str, label: str) -> Iterator[scratch.Scratch]:
        yield scratch.Scratch(backend=backend, url=f"{backend}://{label}", dsn=label)

    def fake_child(folder: Path, name: str, *argv: str) -> dict[str, Any]:
        seen["children"].append(name)
        kind, backend = argv[0], "sqlite" if name.startswith(("sq", "sqlite")) else "postgresql"
        records = int(argv[argv.index("--records") + 1]) if "--records" in argv else 0
        if kind == "_steps":
            return _steps(records, rates[backend], 100.0 if records < 1000 else 104.0)
        if kind == "_verify":
            return _verify(verify[backend])
        assert kind == "_baseline"
        return {"steps": records * 8, "seconds": records * 8 / raw[backend], "cpu_seconds": 0.1}

    def fake_peer(_peers: Any, key: str, records: int, data: Path, out: Path) -> dict[str, Any]:
        seen["peers"].append((key, records))
        per_second = {"raw": 2400.0, "orm": 400.0, "spiff": 600.0}[key]
        steps = records * 8
        return {
            "label": key,
            "records": records,
            "steps": steps,
            "seconds": steps / per_second,
            "cpu_seconds": 1.0,
        }

    def fake_workers(args: Any, folder: Path, tag: str) -> dict[str, Any]:
        steps = args.records * 8
        return {
            "workers": 2,
            "records": args.records,
            "steps": steps,
            "seconds": steps / 840.0,
            "cpu_seconds": 1.0,
        }

    monkeypatch.setenv("CHENGXIN_BENCH_SOURCE", "test run")  # main() keeps the commit of its start there
    ready = peers.Peers(folder=Path("/peers"), python=Path("/peers/bin/python"), env=Path("/env"), made=False)
    monkeypatch.setattr(harness, "_child", fake_child)
    monkeypatch.setattr(harness, "_two_workers", fake_workers)
    monkeypatch.setattr(peers, "run", fake_peer)
    monkeypatch.setattr(peers, "prepare", lambda given, log=print: ready)
    monkeypatch.setattr(scratch, "scratch", fake_scratch)
    monkeypatch.setattr(scratch, "pg_problem", lambda: None)
    monkeypatch.setattr(scratch, "pg_server_version", lambda: "15.20")
    monkeypatch.setattr(
        sweep,
        "_run",
        lambda kind, pending, due: {
            "pending": pending,
            "due": due,
            "fired": due,
            "errors": 0,
            "seconds": 0.5,
            "peak_rss_mib": 110.0,
        },
    )
    monkeypatch.setattr(
        harness,
        "_bulk_import",
        lambda args, folder: {
            "records": args.import_records,
            "seconds": 500.0,
            "records_per_s": args.import_records / 500.0,
            "cpu_s": 450.0,
            "peak_rss_mib": 120.0,
        },
    )
    return seen


def _targets(markdown: str) -> dict[str, list[str]]:
    """The targets table: its first column → the other three."""
    body = markdown.split("### Targets", 1)[1].split("###", 1)[0]
    rows = [line.strip("|").split(" | ") for line in body.splitlines() if line.startswith("| ")]
    return {row[0].strip(): [cell.strip() for cell in row[1:]] for row in rows[1:]}


def _title(rows: dict[str, list[str]], start: str) -> list[str]:
    found = [cells for title, cells in rows.items() if title.startswith(start)]
    assert len(found) == 1, (start, list(rows))
    return found[0]


def test_every_target_row_with_its_verdict(fixed: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert harness.main(["all", "--records", "2000", "--small", "500", "--rounds", "2"]) == 0
    markdown = capsys.readouterr().out
    rows = _targets(markdown)
    assert len(rows) == len(TITLES) + 1  # and the reference row against raw sqlite3 with the engine's rows
    verdicts = {start: _title(rows, start)[2] for start in TITLES}
    assert verdicts == {
        TITLES[0]: "met",  # 1000 ÷ 400 = 2.5×
        TITLES[1]: "**NOT met by 17%**",  # 1000 ÷ 600 = 1.67×
        TITLES[2]: "**NOT met by 17%**",  # 1000 ÷ 2400 = 42%
        TITLES[3]: "for reference",
        TITLES[4]: "met",  # 600 ÷ 1000 = 60%
        TITLES[5]: "**NOT met by 7%**",  # 840 ÷ 600 = 1.4×
        TITLES[6]: "met",
        TITLES[7]: "**NOT met by 10%**",
        TITLES[8]: "met",  # 100 → 104 MiB
        TITLES[9]: "met",
        TITLES[10]: "met",
        TITLES[11]: "met",
    }
    assert _title(rows, TITLES[0])[0].startswith("2.50×: chengxin median 1,000 steps/s; per round 2.50, 2.50")
    assert "median 400 steps/s (400–400, N=2,000)" in _title(rows, TITLES[0])[1]
    assert _title(rows, TITLES[3])[0] == "0.90 ms (median over rounds)"
    # two rounds, every contender in each, the order rotated; the peers at the same N
    assert [k for k, _ in fixed["peers"]] == ["raw", "orm", "spiff", "orm", "spiff", "raw"]
    assert {n for _, n in fixed["peers"]} == {2000}
    assert "### Steps side by side: sqlite (2 rounds)" in markdown
    assert "| **chengxin** | 2,000 | 1,000, 1,000 | 1,000–1,000 | 1,000 | 0.90 |" in markdown
    for line in (
        "- date:",
        "- source:",
        "- machine:",
        "load average (1, 5, 15 min) at start",
        "Command: `python -m bench all",
    ):
        assert line in markdown
    assert "- peers: scripts in `/peers`" in markdown
    assert "- source: test run" in markdown


def test_peers_missing_is_one_line_and_the_run_goes_on(
    fixed: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(peers, "prepare", REAL_PREPARE)
    missing = tmp_path / "nowhere"
    assert harness.main(["steps", "--quick", "--peers", str(missing), "--backend", "sqlite"]) == 0
    captured = capsys.readouterr()
    assert f"- peers: peers folder {missing} not found" in captured.out
    assert captured.err.count("not found") == 1
    assert fixed["peers"] == []
    rows = _targets(captured.out)
    assert _title(rows, TITLES[0])[2] == "not measured"
    assert _title(rows, TITLES[4])[2] == "not measured"
    assert "sqlite3 (engine's rows)" in captured.out  # the raw baseline is still measured


def test_peers_folder_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CHENGXIN_PEERS_DIR", raising=False)
    assert peers.folder(None) == ROOT.parent / "shared" / "peers"
    monkeypatch.setenv("CHENGXIN_PEERS_DIR", str(tmp_path))
    assert peers.folder(None) == tmp_path
    assert peers.folder(str(tmp_path / "x")) == tmp_path / "x"
    (tmp_path / "requirements.txt").write_text("", encoding="utf-8")
    problem = peers.prepare(str(tmp_path))
    assert isinstance(problem, str)
    assert "lacks bench_persisted.py, bench_spiff.py" in problem


def test_bad_sizes_are_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert harness.main(["all", "--records", "0"]) == 2
    assert capsys.readouterr().err.strip() == "--records 必须至少为 1 / must be at least 1 (got 0)"


def test_verdict_says_by_how_much() -> None:
    assert report.verdict(2.0, 2.0) == "met"
    assert report.verdict(1.5, 2.0) == "**NOT met by 25%**"
    assert report.verdict(0.9, 1.0, at_most=True) == "met"
    assert report.verdict(1.3, 1.0, at_most=True) == "**NOT met by 30%**"
    assert report.verdict(float("nan"), 1.0) == "not measured"


@pytest.mark.slow
def test_quick_run_for_real(tmp_path: Path) -> None:
    """``bench all --quick`` end to end in a subprocess (SQLite), peers included when their folder is there."""
    out = tmp_path / "run.json"
    command = [sys.executable, "-m", "bench", "all", "--quick", "--records", "6", "--small", "3"]
    command += ["--traced", "1", "--spiff-records", "6", "--sweep-pending", "100", "--sweep-due", "10"]
    # PostgreSQL's five children are left out: each child's start-up costs seconds on a loaded
    # machine, and the in-process tests above cover the PostgreSQL rows.
    command += ["--import-records", "50", "--skip", "postgresql", "--json", str(out)]
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=600
    )
    assert done.returncode == 0, done.stderr[-2000:]
    rows = _targets(done.stdout)
    for start in TITLES:
        _title(rows, start)
    assert _title(rows, TITLES[4])[1] == "left out (--skip / --backend)"
    assert "not measured" not in _title(rows, TITLES[6])[0]  # verify on SQLite
    assert "not measured" not in _title(rows, TITLES[8])[0]  # memory at two sizes
    assert "not measured" not in _title(rows, TITLES[10])[0]  # the sweep
    results = json.loads(out.read_text(encoding="utf-8"))["results"]
    chengxin = results["sqlite"]["rounds"][0]["chengxin"]
    assert chengxin["steps"] == 6 * 8
    if peers.folder(None).is_dir() and "skipped" not in results["peers"]:
        for key in ("raw", "orm", "spiff"):
            figures = results["sqlite"]["rounds"][0][key]
            assert "error" not in figures, figures
            assert figures["steps"] == 48
        assert results["sqlite"]["rounds"][0]["spiff"]["sync_forced"] == "FULL"
        assert "not measured" not in _title(rows, TITLES[0])[0]


def test_bulk_import_json_flat_or_nested() -> None:
    flat = {"records": 10, "seconds": 2.0, "records_per_s": 5.0, "cpu_s": 1.0, "peak_rss_mib": 90.0}
    assert harness.import_figures(flat) == flat
    nested = {
        "large": {"records": 10, "wall_s": 2.0, "records_per_s": 5.0, "cpu_s": 1.0, "peak_rss_mib": 90.0},
        "small": {"records": 1, "wall_s": 0.2, "records_per_s": 5.0, "cpu_s": 0.1, "peak_rss_mib": 88.0},
        "resume": {"exactly_once": True},
    }
    figures = harness.import_figures(nested)
    assert figures is not None
    assert figures["seconds"] == 2.0
    assert figures["small"] == {"records": 1, "peak_rss_mib": 88.0}
    assert figures["exactly_once"] is True
    assert harness.import_figures({"records": 10}) is None
    row = report._import_row({**figures, "exit": 0})
    assert row[0] == "bulk import of 1,000,000 records ≤ 10 min (SQLite)"
    assert "1,000,000 at this rate: 3,333.3 min" in row[1]
    assert "every record exactly once yes" in row[1]
    assert row[3] == "**NOT met by 33233%** (projected from 10 records)"
