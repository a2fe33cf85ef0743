"""How dates and times are written in notices: in Chinese, in Asia/Shanghai.

The functions here are the Jinja filters ``cn_datetime`` and ``cn_date`` and may be called from Python
too. They only format: they never read the clock, and they refuse naive datetimes rather than guess the
zone a time was meant in.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

DISPLAY_ZONE = ZoneInfo("Asia/Shanghai")
"""The zone every date and time in a notice is shown in."""

_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


def _local(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value.isoformat()}: notices need timezone-aware datetimes")
    return value.astimezone(DISPLAY_ZONE)


def cn_date(value: date) -> str:
    """Write a date as ``2026年12月3日（星期四）``.

    Args:
        value: a date, or an aware datetime, whose date in Asia/Shanghai is written.

    Returns:
        The date in Chinese with its weekday.

    Raises:
        TypeError: ``value`` is not a date.
        ValueError: ``value`` is a naive datetime.
    """
    if isinstance(value, datetime):
        value = _local(value).date()
    elif not isinstance(value, date):
        raise TypeError(f"cn_date needs a date, not {type(value).__name__}")
    return f"{value.year}年{value.month}月{value.day}日（{_WEEKDAYS[value.weekday()]}）"


def cn_datetime(value: datetime) -> str:
    """Write an aware datetime in Asia/Shanghai as ``2026年12月3日（星期四）17:00``.

    Args:
        value: a timezone-aware datetime (UTC or any other zone).

    Returns:
        The local date with its weekday and the time to the minute.

    Raises:
        TypeError: ``value`` is not a datetime.
        ValueError: ``value`` is naive.
    """
    if not isinstance(value, datetime):
        raise TypeError(f"cn_datetime needs a datetime, not {type(value).__name__}")
    local = _local(value)
    return f"{cn_date(local.date())}{local:%H:%M}"
