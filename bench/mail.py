"""Mail throughput: 10,000 queued notices rendered and delivered to a local aiosmtpd server.

    python -m bench.mail [--mails 10000] [--batch 200]

A drill database gets the mails of real records (record notice, repair notice, written
explanation request with its ``.ics``), copied in bulk to ``mails`` outbox rows with causes of
their own; the dispatcher then renders, builds and sends every one over one SMTP connection per
batch and marks each sent in its own transaction. The baseline, in the same run: the same
number of already-built messages sent with bare aiosmtplib over one connection — no database,
no rendering — so the ratio shows what the outbox costs on top of SMTP itself.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import resource
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SH = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 5, 11, 9, 0, tzinfo=SH)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _queue(db: Path, mails: int) -> Any:
    from bench.lifecycle import FIELDS
    from workflow import Actor, Engine, ManualClock

    url = f"sqlite:///{db}"
    Engine.init(url, simulated_start=START)[0].close()
    engine = Engine.open(url, clock=ManualClock(START))
    engine.units.save(
        [{"code": "hexi-zjw", "name": "河西区住房和建设委员会", "emails": "bgs@zjw.example.gov.cn"}]
    )
    recorder = Actor(id="li.lei", role="recorder", unit="court-3")
    verifier = Actor(id="wang.fang", role="verifier", unit="credit-office")
    fields = {**FIELDS, "subject_name": "河西区住房和建设委员会"}
    fields.pop("superior_unit")
    rid = engine.register("national", fields, actor=recorder, submit=True).id
    engine.fire(rid, "accept", actor=verifier)
    engine.fire(rid, "confirm", actor=verifier, comment="核查属实")
    raw = sqlite3.connect(db)
    columns = [r[1] for r in raw.execute("PRAGMA table_info(outbox)") if r[1] != "id"]
    seeds = [
        dict(zip(columns, row, strict=True)) for row in raw.execute(f"select {','.join(columns)} from outbox")
    ]
    raw.execute("delete from outbox")

    def rows() -> Any:
        for n in range(mails):
            row = dict(seeds[n % len(seeds)])
            row["cause"] = f"{row['cause']}/copy-{n}"
            row["message_id"] = f"{row['message_id']}{n}"
            yield [row[c] for c in columns]

    raw.executemany(
        f"insert into outbox ({','.join(columns)}) values ({','.join('?' * len(columns))})", rows()
    )
    raw.commit()
    raw.close()
    return engine


SERVER = """
import asyncio, signal, sys
from aiosmtpd.controller import Controller

class Counter:
    count = 0
    async def handle_DATA(self, server, session, envelope):
        Counter.count += 1
        return "250 OK"

controller = Controller(Counter(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
for line in sys.stdin:  # one line asks for the count so far
    print(Counter.count, flush=True)
controller.stop()
"""


class Server:
    """aiosmtpd in a process of its own, as a real local mail server would be."""

    def __init__(self) -> None:
        import socket
        import subprocess

        with socket.socket() as sock:  # Controller cannot take port 0
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVER, str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == "ready"

    def count(self) -> int:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        self.proc.stdin.write("?\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def stop(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


def run(mails: int, batch: int) -> dict[str, Any]:
    from workflow.cli.logs import configure
    from workflow.runtime.dispatch import Dispatcher, MailSettings

    os.environ["CHENGXIN_LOG_LEVEL"] = "ERROR"
    configure()
    with tempfile.TemporaryDirectory(prefix="chengxin-mail-") as folder:
        engine = _queue(Path(folder) / "mail.db", mails)
        server = Server()
        port = server.port
        try:
            env = {
                "CHENGXIN_SMTP_HOST": "127.0.0.1",
                "CHENGXIN_SMTP_PORT": str(port),
                "CHENGXIN_SMTP_SECURITY": "none",
                "CHENGXIN_MAIL_FROM": "xinyong@credit.example.gov.cn",
            }
            settings = MailSettings.from_env(env)
            object.__setattr__(settings, "batch", batch)
            dispatcher = Dispatcher(engine, settings)
            started = time.perf_counter()
            result = dispatcher.run()
            seconds = time.perf_counter() - started
            received = server.count()
            # the baseline: the same number of built messages, bare aiosmtplib, one connection
            sample = list(engine.outbox.list(limit=3))
            units = engine.units.by_code({"hexi-zjw"})
            names = {code: unit.name for code, unit in units.items()}
            messages = [dispatcher._job(row, units, names)() for row in sample]
            assert all(not isinstance(m, str) for m in messages), messages
            base_seconds = asyncio.run(_bare(port, [messages[n % len(messages)] for n in range(mails)]))
            base_received = server.count() - received
        finally:
            server.stop()
            engine.close()
    return {
        "mails": mails,
        "batch": batch,
        "sent": result.sent,
        "dead": result.dead,
        "failed": result.failed,
        "received": received,
        "seconds": seconds,
        "mails_per_s": result.sent / seconds,
        "baseline_seconds": base_seconds,
        "baseline_received": base_received,
        "baseline_per_s": base_received / base_seconds,
        "peak_rss_mib": _peak_mib(),
    }


async def _bare(port: int, messages: list[Any]) -> float:
    """The same flattened bytes and envelopes, sent one after the other over one connection."""
    import aiosmtplib

    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, use_tls=False)
    started = time.perf_counter()
    await client.connect()
    for message in messages:
        await client.sendmail("xinyong@credit.example.gov.cn", list(message.recipients), message.data)
    await client.quit()
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mail")
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args(argv)
    result = run(args.mails, args.batch)
    print(f"command: python -m bench.mail --mails {args.mails} --batch {args.batch}")
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {dt.date.today().isoformat()}\n")  # noqa: DTZ011 - the report's date
    print(
        "| mails | sent | received | dispatcher s | mails/s | bare aiosmtplib mails/s | dispatcher ÷ bare | peak RSS MiB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {result['mails']:,} | {result['sent']:,} | {result['received']:,} | {result['seconds']:.1f} | "
        f"{result['mails_per_s']:.0f} | {result['baseline_per_s']:.0f} | "
        f"{result['mails_per_s'] / result['baseline_per_s']:.0%} | {result['peak_rss_mib']:.0f} |"
    )
    print(f"<!-- {json.dumps(result)} -->")
    return 0 if result["received"] == result["mails"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
