#!/usr/bin/env python3
"""Set up and run chengxin on a fresh machine that has nothing but Python 3.11+.

    python3 run.py demo     create .venv, install chengxin, run the lifecycle demo on a SQLite file
    python3 run.py test     create .venv, install chengxin with its test tools, run the whole suite
                            (one worker per CPU; ``python3 run.py coverage`` runs it with coverage)
    python3 run.py check    lint (ruff), types (mypy --strict) and import boundaries (import-linter)
    python3 run.py bench    the benchmarks of bench/, results printed for BENCHMARKS.md

Extra arguments after the verb go to the tool (``python3 run.py test -k repair``).
The virtual environment is reinstalled only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".chengxin-installed"


def _ensure_venv(extras: str) -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - run.py itself may be started by an older python3
        sys.exit(f"chengxin needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists():
        installed_digest, _, installed_extras = STAMP.read_text().partition(" ")
        if installed_digest == digest and (not extras or extras in installed_extras.split(",")):
            return
    if not (BIN / "python").exists():
        print("creating .venv …", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    target = f".[{extras}]" if extras else "."
    print(f"installing chengxin{f'[{extras}]' if extras else ''} into .venv …", flush=True)
    subprocess.run(
        [str(BIN / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", target],
        cwd=ROOT,
        check=True,
    )
    STAMP.write_text(f"{digest} {extras}")


def _run(*argv: str) -> int:
    return subprocess.run(list(argv), cwd=ROOT, check=False).returncode


def main() -> int:
    verb, rest = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 1 else ("help", [])
    if verb == "demo":
        _ensure_venv("")
        return _run(str(BIN / "chengxin"), "demo", *rest)
    if verb in {"test", "coverage"}:
        _ensure_venv("test")
        if Path("/dev/shm").is_dir() and "TMPDIR" not in os.environ:
            # Test databases on tmpfs: the same WAL and synchronous=FULL settings, cheap fsyncs.
            os.environ["TMPDIR"] = "/dev/shm"
        # One worker process per CPU (pytest-xdist): every test has its own database (a SQLite file
        # or a PostgreSQL schema), free port and temporary folder, so they run side by side.
        # ``worksteal``: an idle worker takes queued tests from a busy one, so the few long tests
        # (the README walk-through, the browser walk, the served API) do not leave a worker idle.
        parallel = not any(a == "-n" or a.startswith("-n") for a in rest)
        workers = ["-n", "auto", "--dist", "worksteal"] if parallel else []
        measured = ["--cov", "--cov-report=term:skip-covered"] if verb == "coverage" else []
        return _run(str(BIN / "python"), "-m", "pytest", *workers, *measured, *rest)
    if verb == "check":
        _ensure_venv("test")
        status = _run(str(BIN / "ruff"), "check", ".")
        status |= _run(str(BIN / "ruff"), "format", "--check", ".")
        status |= _run(str(BIN / "mypy"))
        status |= _run(str(BIN / "lint-imports"))
        return status
    if verb == "bench":
        _ensure_venv("test")
        return _run(str(BIN / "python"), "-m", "bench", *rest)
    print(__doc__)
    return 0 if verb in {"help", "-h", "--help"} else 2


if __name__ == "__main__":
    sys.exit(main())
