"""Memory readings of the current process: resident set now, and the peak since the process began.

``ru_maxrss`` never goes down, which is why every measured phase runs in a process of its
own (see ``bench.__main__``). The current RSS comes from ``/proc/self/statm`` where there is
one; elsewhere it falls back to the peak.
"""

from __future__ import annotations

import os
import resource
import sys

MIB = 1024 * 1024


def peak_rss() -> int:
    """Peak resident set size of this process in bytes (``getrusage``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # Linux reports KiB, macOS bytes


def current_rss() -> int:
    """Resident set size of this process now, in bytes."""
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            resident_pages = int(statm.read().split()[1])
    except (OSError, IndexError, ValueError):
        return peak_rss()
    return resident_pages * os.sysconf("SC_PAGE_SIZE")


def mib(value: float) -> str:
    return f"{value / MIB:.1f}"
