"""The credit-check benchmark over HTTP (信用核查): ``GET /subjects/{code}/status`` against a real
``chengxin serve`` process, with 1 and with 8 concurrent clients, beside the same query
in-process in the same run.

    python -m bench.credit_http [--records N] [--subjects S] [--checks C] [--workers W]
                                [--backend sqlite|postgresql] [--db FILE|SCHEMA [--reuse]]
                                [--http httptools|h11] [--loop uvloop|asyncio]

1. A database is seeded as ``bench.credit_check`` seeds it: ``S`` subjects driven through the
   engine (register → submit → accept → confirm; an honour ban on every other one), then the
   ``record`` table filled to ``N`` rows in bulk transactions. With ``--db`` the database is kept
   (a SQLite file, or a PostgreSQL schema on the test server), with a list of the subjects asked
   about beside it; ``--reuse`` skips seeding when both exist, so a 1,000,000-record database is
   built once and measured many times.
2. A ``service`` token is created through the engine (``Engine.tokens.create``, as
   ``chengxin token create`` does) and ``python -m workflow.cli serve --port P --no-scheduler
   [--workers W]`` started on a free loopback port, as its own process(es).
3. The same checks, timed one by one: ``C`` in-process calls of ``Engine.subject_status`` (every
   purpose), ``C`` HTTP requests from one client, and ``C`` requests shared by 8 clients. The
   clients are kept-alive connections driven by one asyncio loop in this process, writing each
   request by hand and reading its response by its ``Content-Length`` — a load generator cheap
   enough not to take the CPU the server needs (its CPU is measured and printed). Every check —
   in-process and over HTTP — commits its query-log row before it answers. Only organisations
   are asked (a person is asked by ID number in a POST body, never in a URL).
4. CPU: this process's ``time.process_time`` over each part, and the server's (all its processes,
   from ``/proc``), each divided by the checks: CPU per check, beside wall-clock latency.

``CHENGXIN_BENCH_PROFILE=FILE`` runs the server under cProfile in every thread
(``bench.profiled``) and saves the merged statistics to FILE (``python -m pstats FILE``).

Every figure is measured by this run; the output is Markdown for ``BENCHMARKS.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.credit_check import _fill, _machine, _percentiles, _seed
from bench.scratch import PG_URL

START = dt.datetime(2026, 5, 11, 1, 0, tzinfo=dt.UTC)
SERVICE = {"person": "bench.appraisal", "role": "service", "unit": "hr-office"}
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Kept:
    """A benchmark database that outlives the run: a SQLite file, or a PostgreSQL schema."""

    backend: str
    name: str  # the file's path, or the schema's name

    @property
    def url(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.name}"
        base = PG_URL.replace("postgresql://", "postgresql+psycopg://", 1)
        sep = "&" if "?" in base else "?"
        return f"{base}{sep}options={quote(f'-csearch_path={self.name}', safe='')}"

    @property
    def listing(self) -> Path:
        if self.backend == "sqlite":
            return Path(self.name + ".subjects.json")
        return Path(tempfile.gettempdir()) / f"chengxin-bench-{self.name}.subjects.json"

    def exists(self) -> bool:
        if self.backend == "sqlite":
            return Path(self.name).exists()
        import psycopg

        with psycopg.connect(PG_URL) as connection:
            found = connection.execute(
                "select 1 from information_schema.schemata where schema_name = %s", (self.name,)
            ).fetchone()
        return found is not None

    def reset(self) -> None:
        """Remove what an earlier run left, and (PostgreSQL) create the schema empty."""
        self.listing.unlink(missing_ok=True)
        if self.backend == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                Path(self.name + suffix).unlink(missing_ok=True)
            return
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as connection:
            connection.execute(f'drop schema if exists "{self.name}" cascade')
            connection.execute(f'create schema "{self.name}"')


def prepare(where: Kept, *, records: int, subjects: int, reuse: bool, seed: int = 20261201) -> dict[str, Any]:
    """The database seeded (or reused) and the organisations to ask about."""
    from workflow import Engine, ManualClock

    listing = where.listing
    if reuse and listing.exists() and where.exists():
        kept = json.loads(listing.read_text(encoding="utf-8"))
        return {**kept, "reused": True}
    where.reset()
    url = where.url
    rng = random.Random(seed)
    Engine.init(url, simulated_start=START)[0].close()
    clock = ManualClock(START)
    engine = Engine.open(url, clock=clock)
    try:
        began = time.perf_counter()
        asked = _seed(engine, clock, subjects, rng)
        seeded = time.perf_counter() - began
        began = time.perf_counter()
        total = _fill(engine, records, rng)
        filled = time.perf_counter() - began
    finally:
        engine.close()
    kept = {
        "records": total,
        "subjects": subjects,
        # organisations only: a unified social credit code starts with its registering authority (91…)
        "codes": [s for s in asked if s.startswith("91")],
        "seed_seconds": seeded,
        "fill_seconds": filled,
    }
    listing.write_text(json.dumps(kept), encoding="utf-8")
    return {**kept, "reused": False}


def _token(url: str) -> str:
    from workflow import Engine

    engine = Engine.open(url)
    try:
        return engine.tokens.create(valid_for=dt.timedelta(days=1), label="bench", **SERVICE)[1]
    finally:
        engine.close()


PROFILE = "CHENGXIN_BENCH_PROFILE"  # set to a file: the server runs under cProfile, stats saved there


def _serve(
    url: str, port: int, workers: int = 1, flavour: list[str] | None = None
) -> subprocess.Popen[bytes]:
    env = {**os.environ, "CHENGXIN_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "workflow.cli", "serve", "--port", str(port), "--no-scheduler"]
    if workers > 1:
        command += ["--workers", str(workers)]
    command += flavour or []
    if os.environ.get(PROFILE):
        command[1:3] = ["-m", "bench.profiled", os.environ[PROFILE], "workflow.cli"]
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_ready(base: str, process: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    import httpx

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            said = process.stderr.read().decode("utf-8", "replace") if process.stderr else ""
            raise RuntimeError(f"chengxin serve ended with {process.returncode}: {said[-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("chengxin serve did not answer /health within a minute")


def _in_process(
    url: str, codes: list[str], checks: int, rng: random.Random
) -> tuple[list[float], int, float]:
    from workflow import Actor, Engine

    engine = Engine.open(url)
    actor = Actor(id=SERVICE["person"], role=SERVICE["role"], unit=SERVICE["unit"])
    try:
        for code in codes[:20]:  # warm the connection pool and the caches
            engine.subject_status(code, actor=actor, reason="预热 warm-up")
        samples: list[float] = []
        barred = 0
        cpu = time.process_time()
        for index in range(checks):
            code = codes[rng.randrange(len(codes))]
            began = time.perf_counter()
            status = engine.subject_status(code, actor=actor, reason=f"年度考核前信用核查 {index}")
            samples.append(time.perf_counter() - began)
            barred += not status.answer("honours").allowed
        cpu = time.process_time() - cpu
    finally:
        engine.close()
    return samples, barred, cpu


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds so far of process ``pid`` and its children (the workers of a
    ``serve --workers N``); Linux ``/proc``, None elsewhere."""
    tick = os.sysconf("SC_CLK_TCK")
    total, found = 0.0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if stat.parent.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
            found = True
    return total if found else None


@dataclass(frozen=True, slots=True)
class Load:
    """One closed-loop load: the latencies, the honours-barred count, wall and CPU seconds."""

    samples: list[float]
    barred: int
    wall: float
    client_cpu: float  # this process (the load generator) during the load
    server_cpu: float | None  # the server process during the load


async def _client(
    host: str,
    port: int,
    token: str,
    codes: list[str],
    warm: list[str],
    ready: Any,
    gate: Any,
    label: str,
) -> tuple[list[float], int]:
    """One kept-alive connection asking ``codes`` one after the other (HTTP/1.1 by hand: a
    request is one write, a response one read of its headers and one of its body)."""
    import asyncio

    import orjson

    reader, writer = await asyncio.open_connection(host, port)
    head = f"Host: {host}:{port}\r\nAuthorization: Bearer {token}\r\nAccept: application/json\r\n\r\n"

    async def ask(code: str, reason: str) -> tuple[int, bytes]:
        writer.write(f"GET /subjects/{code}/status?reason={quote(reason)} HTTP/1.1\r\n{head}".encode())
        header = await reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        length = 0
        for line in header.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        return status, await reader.readexactly(length)

    try:
        for code in warm:  # open the connection, warm the server's path
            await ask(code, "预热 warm-up")
        ready.release()
        await gate.wait()
        samples: list[float] = []
        barred = 0
        for index, code in enumerate(codes):
            began = time.perf_counter()
            status, body = await ask(code, f"接口核查 {label}-{index}")
            samples.append(time.perf_counter() - began)
            if status != 200:
                raise RuntimeError(f"{status} {body[:200]!r}")
            answers = orjson.loads(body)["purposes"]
            barred += not next(a for a in answers if a["purpose"] == "honours")["allowed"]
        return samples, barred
    finally:
        writer.close()


def _over_http(
    port: int, token: str, codes: list[str], checks: int, clients: int, rng: random.Random, server: int
) -> Load:
    """``checks`` GETs shared by ``clients`` kept-alive connections of one asyncio loop in this
    process (a cheap load generator: its CPU is measured, and it does not take the server's)."""
    import asyncio

    chosen = [codes[rng.randrange(len(codes))] for _ in range(checks)]
    shares = [chosen[i::clients] for i in range(clients)]

    async def load() -> tuple[list[tuple[list[float], int]], float, float, float | None]:
        gate, ready = asyncio.Event(), asyncio.Semaphore(0)
        tasks = [
            asyncio.create_task(_client("127.0.0.1", port, token, shares[n], codes[:5], ready, gate, str(n)))
            for n in range(clients)
        ]
        for _ in tasks:  # every connection open and warm
            await ready.acquire()
        cpu, server_cpu, began = time.process_time(), _cpu_seconds(server), time.perf_counter()
        gate.set()
        done = await asyncio.gather(*tasks)
        wall = time.perf_counter() - began
        server_after = _cpu_seconds(server)
        used = None if server_cpu is None or server_after is None else server_after - server_cpu
        return done, wall, time.process_time() - cpu, used

    done, wall, client_cpu, server_cpu = asyncio.run(load())
    return Load(
        samples=[s for part, _ in done for s in part],
        barred=sum(b for _, b in done),
        wall=wall,
        client_cpu=client_cpu,
        server_cpu=server_cpu,
    )


def run(
    where: Kept,
    *,
    records: int,
    subjects: int,
    checks: int,
    reuse: bool,
    workers: int = 1,
    flavour: list[str] | None = None,
) -> dict[str, Any]:
    seed = prepare(where, records=records, subjects=subjects, reuse=reuse)
    url = where.url
    codes: list[str] = seed["codes"]
    rng = random.Random(7)
    token = _token(url)
    inproc, barred_in, inproc_cpu = _in_process(url, codes, checks, rng)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = _serve(url, port, workers, flavour)
    try:
        _wait_ready(base, server)
        one = _over_http(port, token, codes, checks, 1, rng, server.pid)
        eight = _over_http(port, token, codes, checks, 8, rng, server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return {
        **seed,
        "checks": checks,
        "workers": workers,
        "barred": {"in-process": barred_in / checks, "1": one.barred / checks, "8": eight.barred / checks},
        "in_process_ms": _percentiles(inproc),
        "in_process_cpu_ms": inproc_cpu / checks * 1000,
        "http": {"1": one, "8": eight},
    }


def _row(
    label: str, runs: int, p: dict[str, float], rate: str, cpu: str, base: dict[str, float] | None
) -> str:
    ratio = "1"
    if base is not None:
        ratio = f"{p['p50'] / base['p50']:.1f} / {p['p95'] / base['p95']:.1f} / {p['p99'] / base['p99']:.1f}"
    return (
        f"| {label} | {runs:,} | {p['p50']:.2f} | {p['p95']:.2f} | {p['p99']:.2f} | {p['max']:.2f} | {rate} "
        f"| {cpu} | {ratio} |"
    )


def _cpu(load: Load, checks: int) -> str:
    server = "—" if load.server_cpu is None else f"{load.server_cpu / checks * 1000:.2f}"
    return f"{server} / {load.client_cpu / checks * 1000:.2f}"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.credit_http", description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--subjects", type=int, default=1_000)
    parser.add_argument("--checks", type=int, default=2_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--db",
        help="keep the database: SQLite, this file; PostgreSQL, this schema (default: a scratch one, removed)",
    )
    parser.add_argument("--reuse", action="store_true", help="with --db: reuse the database if it was seeded")
    parser.add_argument("--workers", type=int, default=1, help="server processes (chengxin serve --workers)")
    parser.add_argument("--http", help="the server's HTTP parser (chengxin serve --http: httptools, h11)")
    parser.add_argument("--loop", help="the server's event loop (chengxin serve --loop: uvloop, asyncio)")
    args = parser.parse_args(argv)
    flavour = [*(["--http", args.http] if args.http else []), *(["--loop", args.loop] if args.loop else [])]
    if args.reuse and args.db is None:
        parser.error("--reuse needs --db")
    load_before = os.getloadavg()
    measure: Callable[[Kept], dict[str, Any]] = lambda where: run(  # noqa: E731
        where,
        records=args.records,
        subjects=args.subjects,
        checks=args.checks,
        reuse=args.reuse,
        workers=args.workers,
        flavour=flavour,
    )
    if args.db is not None:
        name = str(Path(args.db).resolve()) if args.backend == "sqlite" else args.db
        result = measure(Kept(args.backend, name))
    else:
        from bench.scratch import scratch

        with scratch(args.backend, "credithttp") as made:
            result = measure(Kept(args.backend, made.schema or made.dsn))
    load_after = os.getloadavg()
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False
    )
    print(f"Command: `python -m bench.credit_http {' '.join(argv)}`\n")
    print(
        f"- date: `{time.strftime('%a %b %d %H:%M:%S UTC %Y', time.gmtime())}`, git {commit.stdout.strip()}"
    )
    durable = "WAL, synchronous=FULL" if args.backend == "sqlite" else "synchronous_commit=on"
    print(f"- machine: {_machine()}; backend {args.backend} ({durable})")
    print(
        f"- load average (1, 5, 15 min) at start {'/'.join(f'{x:.1f}' for x in load_before)}, "
        f"at end {'/'.join(f'{x:.1f}' for x in load_after)}"
    )
    how = "reused from an earlier run, which seeded it" if result["reused"] else "seeded in this run"
    print(
        f"- {result['records']:,} records, {how}: {result['subjects']:,} driven through the engine in "
        f"{result['seed_seconds']:.1f} s, the rest copied in {result['fill_seconds']:.1f} s; "
        f"{len(result['codes']):,} organisations asked; barred from honours: "
        + ", ".join(f"{k} {v:.0%}" for k, v in result["barred"].items())
        + "\n"
    )
    base, checks = result["in_process_ms"], result["checks"]
    served = f"{result['workers']} server process{'es' if result['workers'] > 1 else ''}"
    if flavour:
        served += f" ({' '.join(flavour)})"
    print(f"HTTP: {served}; load generator: one asyncio loop in the benchmark's process.\n")
    print(
        "| call | runs | p50 ms | p95 ms | p99 ms | max ms | checks/s | CPU ms per check, server / client "
        "| ÷ in-process p50 / p95 / p99 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    inproc_cpu = f"{result['in_process_cpu_ms']:.2f} (in-process)"
    print(_row("in-process `Engine.subject_status`", checks, base, "—", inproc_cpu, None))
    for clients, load in result["http"].items():
        label = f"HTTP `GET /subjects/{{code}}/status`, {clients} client{'s' if clients != '1' else ''}"
        rate = f"{checks / load.wall:.0f}"
        print(_row(label, checks, _percentiles(load.samples), rate, _cpu(load, checks), base))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
