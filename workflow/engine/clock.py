"""Clocks: the engine reads time only through one of these, never from ``datetime.now()``.

``SystemClock`` is the wall clock of a production database. ``ManualClock`` is simulated
time for tests, demos and drills: it only moves forward. Which one a database may use is
fixed when the database is created (see ``workflow.engine.facade``): a production database refuses
simulated time, so no one can backdate an event there.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol
from zoneinfo import ZoneInfo

from workflow.errors import ClockError

UTC = dt.UTC
SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    """Where the engine gets the current time; always timezone-aware."""

    @property
    def simulated(self) -> bool: ...

    def now(self) -> dt.datetime: ...


class SystemClock:
    """The wall clock, in UTC."""

    simulated = False

    def now(self) -> dt.datetime:
        return dt.datetime.now(UTC)


class ManualClock:
    """Simulated time that moves only when told to, and only forward."""

    simulated = True

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ClockError("模拟时钟需要带时区的时间 (the simulated clock needs a timezone-aware time)")
        self._now = start.astimezone(UTC)

    def now(self) -> dt.datetime:
        return self._now

    def set(self, when: dt.datetime) -> None:
        """Move to ``when``.

        Raises:
            ClockError: ``when`` is naive or earlier than the current simulated time.
        """
        if when.tzinfo is None:
            raise ClockError("模拟时钟需要带时区的时间 (the simulated clock needs a timezone-aware time)")
        when = when.astimezone(UTC)
        if when < self._now:
            raise ClockError(
                f"模拟时间不能倒退 (simulated time only moves forward): {shanghai(when)} is before {shanghai(self._now)}"
            )
        self._now = when

    def advance(self, delta: dt.timedelta) -> dt.datetime:
        """Move forward by ``delta``; returns the new time."""
        self.set(self._now + delta)
        return self._now


def shanghai(when: dt.datetime) -> str:
    """A time as people read it here: ``2026-12-03 17:00 (Asia/Shanghai)``."""
    return when.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def parse_when(text: str) -> dt.datetime:
    """Parse a date or date-time given on the command line; naive values are Asia/Shanghai.

    Raises:
        ClockError: the text is not an ISO date or date-time.
    """
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ClockError(
            f"无法识别的时间 {text!r} (not a date or time); use e.g. 2026-12-03 or 2026-12-03T09:30"
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # 0001-01-01 in Shanghai is still year 0 in UTC
        raise ClockError(f"时间 {text!r} 超出范围 (out of range: 0001-01-02 to 9999-12-30)") from exc
