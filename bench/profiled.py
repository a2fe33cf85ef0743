"""Run a module under cProfile in every thread: ``python -m bench.profiled OUT MODULE ARGS…``.

``cProfile`` sees only the thread that enabled it; a server answers in its worker threads too.
Each thread started after this point gets a profiler of its own (``threading.setprofile``); when the process ends, all of
them are merged into ``OUT`` (``pstats`` format: ``python -m pstats OUT``). For benchmarks only
(``CHENGXIN_BENCH_PROFILE`` in ``bench.credit_http``): profiling slows the program down.
"""

from __future__ import annotations

import atexit
import cProfile
import pstats
import runpy
import sys
import threading
from typing import Any

_profiles: list[cProfile.Profile] = []


def _start_profile(*_args: Any) -> None:
    """The first profile event of a new thread (``threading.setprofile``) starts its profiler,
    which replaces this function for that thread."""
    profile = cProfile.Profile()
    _profiles.append(profile)
    profile.enable()


def main(argv: list[str]) -> None:
    out, module, *rest = argv
    threading.setprofile(_start_profile)
    main_profile = cProfile.Profile()
    _profiles.append(main_profile)

    def save() -> None:
        main_profile.disable()
        stats = pstats.Stats(_profiles[0])
        for profile in _profiles[1:]:
            try:
                stats.add(profile)
            except (TypeError, ValueError):  # a thread's profile still running or empty
                continue
        stats.dump_stats(out)

    atexit.register(save)
    sys.argv = [module, *rest]
    main_profile.enable()
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
