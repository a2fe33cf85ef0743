"""The peers chengxin is measured against: their folder, their own environment, one run of each.

The peers' scripts live in ``../shared/peers`` beside the checkout (``--peers DIR`` or
``CHENGXIN_PEERS_DIR`` point elsewhere). Their environment is made from the folder's
``requirements.txt`` with ``python -m venv`` + ``pip install`` into a cache folder outside the
project's own ``.venv`` (``$CHENGXIN_BENCH_CACHE``, else ``$XDG_CACHE_HOME/chengxin-bench``, else
``~/.cache/chengxin-bench``), named after the SHA-256 of the requirements file, so it is made
once and reused until that file changes. Anything missing is reported as one line and the run
goes on without the peers.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RUNNER = HERE / "peer_run.py"
STAMP = ".chengxin-bench-ready"

# contender key → (script and its arguments before N / after N, label)
CONTENDERS: dict[str, tuple[str, str, list[str], str]] = {
    "raw": ("bench_persisted.py", "raw", ["--sync", "full"], "raw sqlite3 (peer)"),
    "orm": ("bench_persisted.py", "orm", ["--sync", "full"], "transitions + SQLModel (naive peer)"),
    "spiff": ("bench_spiff.py", "reload", [], "SpiffWorkflow reload (peer)"),
}
STEPS_PER_RECORD = 8


@dataclass(frozen=True, slots=True)
class Peers:
    """Where the peers' scripts are and the interpreter of their environment."""

    folder: Path
    python: Path
    env: Path
    made: bool  # made by this run (else reused)


def folder(given: str | None) -> Path:
    """``--peers DIR``, else ``CHENGXIN_PEERS_DIR``, else ``shared/peers`` beside the checkout."""
    chosen = given or os.environ.get("CHENGXIN_PEERS_DIR")
    return Path(chosen).expanduser().resolve() if chosen else ROOT.parent / "shared" / "peers"


def cache() -> Path:
    own = os.environ.get("CHENGXIN_BENCH_CACHE")
    if own:
        return Path(own).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "chengxin-bench"


def _base_python() -> str:
    """The interpreter the project's venv was made from (a venv made from a venv works too)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def prepare(given: str | None, log: Any = print) -> Peers | str:
    """The peers ready to run, or one line saying why they cannot be (the run goes on without)."""
    where = folder(given)
    requirements = where / "requirements.txt"
    if not where.is_dir():
        return (
            f"peers folder {where} not found (give --peers DIR or CHENGXIN_PEERS_DIR): measured without peers"
        )
    if not requirements.is_file():
        return f"{requirements} not found: measured without peers"
    missing = [s for s, *_ in CONTENDERS.values() if not (where / s).is_file()]
    if missing:
        return f"peers folder {where} lacks {', '.join(sorted(set(missing)))}: measured without peers"
    digest = hashlib.sha256(requirements.read_bytes()).hexdigest()[:16]
    env = cache() / f"peers-{digest}"
    python = env / "bin" / "python"
    if (env / STAMP).is_file() and python.exists():
        return Peers(where, python, env, made=False)
    log(f"peers: making their environment in {env} from {requirements} …")
    shutil.rmtree(env, ignore_errors=True)
    env.parent.mkdir(parents=True, exist_ok=True)
    steps = [
        [_base_python(), "-m", "venv", str(env)],
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(requirements),
        ],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            shutil.rmtree(env, ignore_errors=True)
            return f"could not make the peers' environment ({' '.join(step[:3])} …: {tail[0]}): measured without peers"
    (env / STAMP).write_text(f"{requirements}\n{digest}\n", encoding="utf-8")
    return Peers(where, python, env, made=True)


def run(peers: Peers, key: str, records: int, data: Path, out: Path) -> dict[str, Any]:
    """One peer script over ``records`` records (8 steps each) in a child process; its figures.

    Every peer commits with ``synchronous=FULL`` in WAL (``bench_spiff.py`` is told to by
    ``peer_run.py``, the others by their ``--sync full``). Databases go to ``data`` ($PEERS_DATA).
    """
    script, mode, extra, label = CONTENDERS[key]
    data.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "PEERS_DATA": str(data),
        "CHENGXIN_PEER_SQLITE_SYNC": "FULL",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = [str(peers.python), "-I", "-B", str(RUNNER), str(peers.folder), str(out), script, mode]
    command += [str(records), *extra]
    done = subprocess.run(command, cwd=peers.folder, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0 or not out.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"label": label, "records": records, "error": f"{script} {mode} failed: {tail[0]}"}
    figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    steps = records * STEPS_PER_RECORD
    per_second = float(figures.get("transitions_per_s") or figures.get("steps_per_s") or 0)
    return {
        "label": label,
        "records": records,
        "steps": steps,
        "seconds": steps / per_second if per_second else float("nan"),
        "cpu_seconds": figures["cpu_seconds"],
        "sync_forced": figures.get("sync_forced"),
        "peer": figures,
    }
