"""The README's main job: the demo runs end to end on the embedded default and leaves an intact database."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from workflow import audit
from workflow.cli.demo import run_demo


def test_demo_moves_every_record_to_its_expected_state_and_audits_clean(tmp_path: Path) -> None:
    console = Console(file=(tmp_path / "out.txt").open("w", encoding="utf-8"), width=160)
    engine = run_demo(tmp_path / "demo.db", tmp_path / "mail", console)
    states = {v.data["subject_name"]: (v.state, v.overdue) for v in engine.query(limit=100)}
    engine.close()
    console.file.close()
    assert states == {
        "河西区住房和建设委员会": ("repaired", False),
        "西青区大寺镇人民政府": ("recorded", True),
        "河西区人力资源和社会保障局": ("archived", False),
        "王某": ("recorded", True),
        "河西区政务服务办公室": ("exempted", False),
    }
    text = (tmp_path / "out.txt").read_text(encoding="utf-8")
    assert "完好 intact" in text
    assert "11010519491231002X" not in text  # the civil servant's ID number never shows


def test_demo_can_run_twice_in_the_same_place(tmp_path: Path) -> None:
    for _ in range(2):
        console = Console(file=(tmp_path / "out.txt").open("w", encoding="utf-8"))
        engine = run_demo(tmp_path / "demo.db", tmp_path / "mail", console)
        report = audit.verify(engine.registry, engine.histories(), real_time=False)
        engine.close()
        console.file.close()
        assert report.records == 5 and report.intact
