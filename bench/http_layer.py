"""The server's CPU per request of the HTTP layer alone, per uvicorn parser and loop:
``GET /subjects/{code}/status`` without a token against a real ``chengxin serve``, answered 401
by the route before any database work, so what is measured is the HTTP parser, the event loop,
the middleware and the routing.

    python -m bench.http_layer [--db FILE] [--requests N] [--rounds R]

Each round starts the server with ``--http h11 --loop asyncio`` and then with ``--http httptools
--loop uvloop`` and sends N requests over 8 kept-alive connections (one asyncio loop in this
process); the server's CPU (``/proc``) and this process's are printed per request. ``--db`` is
an existing database (e.g. the one ``bench.credit_http --db`` keeps); default a new SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from bench.credit_http import Kept, _cpu_seconds, _free_port, _serve, _wait_ready

FLAVOURS = (["--http", "h11", "--loop", "asyncio"], ["--http", "httptools", "--loop", "uvloop"])
CLIENTS = 8


async def _client(port: int, count: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        b"GET /subjects/91350100M000100Y43/status HTTP/1.1\r\nHost: bench\r\nAccept: application/json\r\n\r\n"
    )
    try:
        for _ in range(count):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if head[9:12] != b"401":
                raise RuntimeError(head.decode(errors="replace"))
            length = next(int(x[15:]) for x in head.split(b"\r\n") if x[:15].lower() == b"content-length:")
            await reader.readexactly(length)
    finally:
        writer.close()


def measure(url: str, flavour: list[str], requests: int) -> tuple[float, float, float]:
    """(server CPU ms, client CPU ms) per request, and requests per second."""
    port = _free_port()
    server = _serve(url, port, 1, flavour)
    try:
        _wait_ready(f"http://127.0.0.1:{port}", server)
        asyncio.run(_client(port, 200))  # warm the path

        async def load() -> None:
            await asyncio.gather(*(_client(port, requests // CLIENTS) for _ in range(CLIENTS)))

        done = requests // CLIENTS * CLIENTS
        server_cpu, cpu, began = _cpu_seconds(server.pid), time.process_time(), time.perf_counter()
        asyncio.run(load())
        wall, used = time.perf_counter() - began, time.process_time() - cpu
        after = _cpu_seconds(server.pid)
        spent = float("nan") if server_cpu is None or after is None else after - server_cpu
        return spent / done * 1000, used / done * 1000, done / wall
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.http_layer", description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing SQLite database file (default: a new one)")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        if args.db is None:
            from workflow import Engine

            path = str(Path(folder) / "layer.db")
            Engine.init(f"sqlite:///{path}")[0].close()
        else:
            path = str(Path(args.db).resolve())
        url = Kept("sqlite", path).url
        print(f"load average at start {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(
            "| round | server | server CPU ms per request | client CPU ms | requests/s |\n|---|---|---|---|---|"
        )
        for round_ in range(1, args.rounds + 1):
            for flavour in FLAVOURS:
                server_ms, client_ms, rate = measure(url, flavour, args.requests)
                print(
                    f"| {round_} | `{' '.join(flavour)}` | {server_ms:.3f} | {client_ms:.3f} | {rate:.0f} |",
                    flush=True,
                )
        print(f"load average at end {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
