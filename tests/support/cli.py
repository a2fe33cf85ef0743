"""``chengxin`` as the CLI tests run it: in-process through ``CliRunner`` or as the installed command.

``Cli`` carries an environment (the database URL, mail settings); ``Outcome`` is what a run left
behind; ``one_line_error`` checks a refused command's single stderr line; ``submit`` and
``recorded`` are a caseworker's first steps, with the actor options ``RECORDER``, ``VERIFIER``
and ``SUBJECT``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from support.harness import ORGANISATION
from workflow.cli import app
from workflow.cli.common import out

CHENGXIN = Path(sys.executable).with_name("chengxin")
RECORDER = ("--actor", "li.lei", "--role", "recorder", "--unit", "court-3")
VERIFIER = ("--actor", "wang.fang", "--role", "verifier", "--unit", "credit-office")
SUBJECT = ("--actor", "zhao.qiang", "--role", "subject", "--unit", "hexi-zjw")


@dataclass(frozen=True, slots=True)
class Outcome:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        assert self.code == 0, self.stderr
        return json.loads(self.stdout)

    def ok(self) -> Outcome:
        assert self.code == 0, f"exit {self.code}\nstdout: {self.stdout}\nstderr: {self.stderr}"
        return self


@dataclass(frozen=True, slots=True)
class Cli:
    """``chengxin`` with some environment: in-process by calling it, in a subprocess by ``shell``."""

    env: dict[str, str] = field(default_factory=dict)

    def __call__(self, *args: str) -> Outcome:
        # A real command is a fresh process whose console reads COLUMNS when it starts; in-process
        # the console was made when the module was first imported, maybe by another test.
        out.width = int(self.env.get("COLUMNS") or os.environ.get("COLUMNS") or 80)
        result = CliRunner().invoke(app, list(args), env=self.env, catch_exceptions=False)
        return Outcome(result.exit_code, result.stdout, result.stderr)

    def shell(self, *args: str) -> Outcome:
        command = [str(CHENGXIN)] if CHENGXIN.exists() else [sys.executable, "-m", "workflow.cli"]
        done = subprocess.run(
            [*command, *args],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return Outcome(done.returncode, done.stdout, done.stderr)


def one_line_error(outcome: Outcome, *needles: str) -> str:
    """The single stderr line of a refused command, after checking it names every needle."""
    assert outcome.code != 0, outcome.stdout
    assert "Traceback" not in outcome.stderr
    lines = outcome.stderr.strip().splitlines()
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("错误 error: "), lines[0]
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def fields(**overrides: Any) -> list[str]:
    merged = {**ORGANISATION, **overrides}
    return [arg for key, value in merged.items() if value is not None for arg in ("--set", f"{key}={value}")]


def submit(cli: Cli, *extra: str, **overrides: Any) -> str:
    return str(cli("record", "submit", *RECORDER, *fields(**overrides), *extra, "--json").json()["id"])


def recorded(cli: Cli) -> str:
    record_id = submit(cli)
    cli("record", "fire", record_id, "accept", *VERIFIER).ok()
    cli("record", "fire", record_id, "confirm", *VERIFIER, "-m", "核查属实，予以记录").ok()
    return record_id
