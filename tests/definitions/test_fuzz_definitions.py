"""Random mutations of every bundled definition file against the loader: each one ends in loaded
definitions or a ``DefinitionError`` whose every problem is ``file:line: message`` — never another
exception. Budget: a few seconds per file (``max_examples`` below)."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from definitions.loader import BUNDLED_DIR, DefinitionError, load_bundled, load_paths
from workflow.engine.registry import template_exists

FILES = sorted(p for p in BUNDLED_DIR.rglob("*.y*ml") if p.suffix in {".yaml", ".yml"})
PROBLEM = re.compile(r"^.+:\d+: \S.*$", re.DOTALL)

# What may end up where a value was: other types, YAML that builds nothing safe, dates that are
# not dates, anchors and merge keys, text that is not quite YAML.
SCALARS = [
    "null", "[]", "{}", "-1", "0", "1e999", ".inf", "yes", "'@'", '"x"', "2026-13-45", "2026-02-30",
    "!!python/object:os.system", "!!binary aGVsbG8=", "!!set {a, b}", "&a x", "*a", "<<: *a", "|",
    "{a: [", "]", "'", "\t", "中文", "~", "!!timestamp 2026-99-99", "12:30:61", "0x1F", "[1, {x: y}]",
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    lines = text.splitlines()
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        if not lines:
            break
        at = draw(st.integers(min_value=0, max_value=len(lines) - 1))
        line = lines[at]
        operation = draw(
            st.sampled_from(
                ["delete", "duplicate", "swap", "value", "key", "indent", "dedent", "insert", "cut"]
            )
        )
        if operation == "delete":
            del lines[at]
        elif operation == "duplicate":
            lines.insert(at, line)
        elif operation == "swap":
            other = draw(st.integers(min_value=0, max_value=len(lines) - 1))
            lines[at], lines[other] = lines[other], line
        elif operation == "value" and ":" in line:
            head = line.split(":", 1)[0]
            lines[at] = f"{head}: {draw(st.sampled_from(SCALARS))}"
        elif operation == "key" and ":" in line:
            indent = line[: len(line) - len(line.lstrip())]
            word = draw(st.sampled_from([*SCALARS, "roles", "while", "extends", "version", "name", "kind"]))
            lines[at] = f"{indent}{word}:{line.split(':', 1)[1]}"
        elif operation == "indent":
            lines[at] = "  " + line
        elif operation == "dedent":
            lines[at] = line[2:] if line.startswith("  ") else line
        elif operation == "insert":
            lines.insert(at, draw(st.text(max_size=20)))
        elif operation == "cut":
            lines[at] = line[: draw(st.integers(min_value=0, max_value=len(line)))]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("path", FILES, ids=[p.relative_to(BUNDLED_DIR).as_posix() for p in FILES])
def test_a_mutated_definition_loads_or_names_each_problem_with_its_line(path: Path) -> None:
    bundled = load_bundled(template_exists)
    original = path.read_text(encoding="utf-8")

    @settings(
        max_examples=20,
        deadline=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(text=mutated(original))
    def load(text: str) -> None:
        with tempfile.TemporaryDirectory() as folder:
            file = Path(folder) / path.name
            file.write_text(text, encoding="utf-8")
            problems: tuple[str, ...] = ()
            try:
                loaded = load_paths([file], base=bundled, templates=template_exists)
            except DefinitionError as exc:
                problems = exc.problems
                loaded = []
            assert bool(loaded) != bool(problems)
            for problem in problems:
                assert PROBLEM.match(problem), problem
                assert problem.startswith(str(file)), problem

    load()
