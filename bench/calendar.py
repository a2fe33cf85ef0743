"""Working-day arithmetic: due dates per second of ``WorkingCalendar.add_working_days``.

    python -m bench.calendar [--calls 20000] [--days 1200] [--working-days 10] [--repeat 5]

The work that ``tests/core/test_calendar.py`` once timed (it asserted 20,000 due dates in under two
seconds; timed tests are not allowed on a shared machine): ``calls`` due dates of
``working_days`` working days, their start days cycling over ``days`` days from 2025-01-01 —
the bundled official years and, past them, the provisional statutory fallback. As in the old
test, the calendar is built and one due date computed before the clock starts (the cold first
call is shown apart); the first round then also builds the per-year caches of the later years,
the rounds after it run on a warm calendar. Each round is timed alone; the table gives the
first, the best and the median round. Nothing here is carried over from an earlier run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time

from definitions.holidays import bundled_tables
from workflow.core.calendar import WorkingCalendar

FIRST_START = dt.date(2025, 1, 1)


def starts(calls: int, days: int) -> list[dt.date]:
    """The start days: ``calls`` of them, cycling over ``days`` days from ``FIRST_START``."""
    return [FIRST_START + dt.timedelta(days=k % days) for k in range(calls)]


def cold_seconds(first: dt.date, working_days: int) -> float:
    """The first due date of a freshly built calendar: the per-year caches are built on it."""
    calendar = WorkingCalendar(bundled_tables())
    began = time.perf_counter()
    calendar.add_working_days(first, working_days)
    return time.perf_counter() - began


def rounds(days: list[dt.date], working_days: int, repeat: int) -> tuple[list[float], int]:
    """Seconds of each round of due dates on one calendar, and how many due dates are provisional."""
    calendar = WorkingCalendar(bundled_tables())
    calendar.add_working_days(days[0], working_days)  # the old test's warm-up: one call
    timed = []
    for _ in range(repeat):
        began = time.perf_counter()
        for day in days:
            calendar.add_working_days(day, working_days)
        timed.append(time.perf_counter() - began)
    provisional = sum(calendar.add_working_days(day, working_days).provisional for day in days)
    return timed, provisional


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.calendar", description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000, help="due dates computed in one round")
    parser.add_argument("--days", type=int, default=1200, help="start days cycle over this many days")
    parser.add_argument("--working-days", type=int, default=10, help="length of each period")
    parser.add_argument("--repeat", type=int, default=5, help="rounds timed (at least 1)")
    args = parser.parse_args(argv)
    if min(args.calls, args.days, args.repeat) < 1 or args.working_days < 0:
        parser.error("--calls, --days and --repeat must be at least 1, --working-days at least 0")
    days = starts(args.calls, args.days)
    cold = cold_seconds(days[0], args.working_days)
    timed, provisional = rounds(days, args.working_days, args.repeat)
    last = days[0] + dt.timedelta(days=min(args.calls, args.days) - 1)
    print(
        f"Command: `python -m bench.calendar --calls {args.calls} --days {args.days} "
        f"--working-days {args.working_days} --repeat {args.repeat}`"
    )
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}, {dt.date.today().isoformat()}")  # noqa: DTZ011 - the report's date
    print(
        f"starts {days[0].isoformat()} … {last.isoformat()}; {provisional:,} of {args.calls:,} due dates "
        f"provisional; cold first call {cold * 1000:.1f} ms\n"
    )
    print("| round | due dates | seconds | due dates/s | µs per due date |")
    print("|---|---:|---:|---:|---:|")
    figures = (
        ("first (the old test's)", timed[0]),
        (f"best of {args.repeat}", min(timed)),
        (f"median of {args.repeat}", statistics.median(timed)),
    )
    for name, seconds in figures:
        print(
            f"| {name} | {args.calls:,} | {seconds:.3f} | {args.calls / seconds:,.0f} | "
            f"{seconds / args.calls * 1e6:.1f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
