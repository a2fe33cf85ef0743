"""The README runs as written: every ``sh`` block, in order, in one shell, in a temporary folder
with a temporary SQLite database, with ``chengxin`` on the PATH running this checkout. A block
preceded by ``<!-- readme-test: skip (why) -->`` is left out (a server, root, a file of your own)
and must say why."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"(?P<before>[^\n]*)\n```(?P<lang>\w*)\n(?P<body>.*?)\n```", re.DOTALL)
SKIP = re.compile(r"<!-- readme-test: skip \((?P<why>[^)]+)\) -->")


def blocks() -> list[tuple[int, str, str | None]]:
    """(line, body, why it is skipped or None) of every ``sh`` block of the README."""
    text = README.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        if match.group("lang") != "sh":
            continue
        skip = SKIP.search(match.group("before"))
        line = text.count("\n", 0, match.start("body"))
        found.append((line, match.group("body"), skip.group("why") if skip else None))
    return found


def test_every_skipped_block_says_why_and_most_blocks_run() -> None:
    found = blocks()
    skipped = [why for _line, _body, why in found if why is not None]
    assert all(why.strip() for why in skipped)
    assert len(found) - len(skipped) >= 6


def test_the_readme_shell_blocks_run_as_written(tmp_path: Path) -> None:
    shim = tmp_path / "bin"
    shim.mkdir()
    command = shim / "chengxin"
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m workflow.cli "$@"\n', encoding="utf-8")
    command.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    script = ["set -eo pipefail"]
    for line, body, why in blocks():
        if why is None:
            script += [f"echo '=== README.md:{line}' >&2", body]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHENGXIN_")}
    env |= {
        "PATH": f"{shim}{os.pathsep}{env.get('PATH', '')}",
        "PYTHONPATH": str(README.parent),
        "CHENGXIN_MAIL_DIR": str(work / "mail"),
        "COLUMNS": "200",
    }
    done = subprocess.run(
        ["bash", "-c", "\n".join(script)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    where = [line for line in done.stderr.splitlines() if line.startswith("=== README.md:")]
    assert done.returncode == 0, (
        f"the block at {where[-1] if where else '?'} failed (exit {done.returncode})\n"
        f"stdout: {done.stdout[-3000:]}\nstderr: {done.stderr[-3000:]}"
    )
    assert len(where) == sum(1 for _line, _body, why in blocks() if why is None)
    assert "Traceback" not in done.stderr
    assert (work / "chengxin.db").exists()
    assert (work / "auditor" / "2026-11.json").exists()
    assert (work / "records.csv").read_bytes().startswith(b"\xef\xbb\xbf")
