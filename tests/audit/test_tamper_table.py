"""The README's tamper table, row by row: each edit is done in SQL on a keyed database with a
checkpoint, and what ``audit verify``, ``audit verify --checkpoint`` and ``audit verify
--key-file`` find is compared with what the table says (the table is read from README.md, so
the two cannot drift apart). On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from support.harness import SH, T0, Harness

from definitions.loader import canonical_json
from storage.connections import event_t, record_t
from workflow import Engine, ManualClock, audit
from workflow.core.history import hash_of
from workflow.testing import PERSON

README = Path(__file__).resolve().parents[2] / "README.md"
CITY = """\
name: my_city
version: 1
extends: national@1
title: 某市政务失信记录流程
jurisdiction: 某市
legal_basis: 某市政务诚信建设实施方案
"""


@dataclasses.dataclass
class Scene:
    h: Harness
    url: str
    key: Path
    city: Path
    checkpoint: Path
    rid: str  # recorded, published, a reminder fired; at the checkpoint
    later: str  # one more event after the checkpoint
    person: str
    city_rid: str
    snapshot: dict[str, list[dict[str, object]]]  # rid's rows before its last event
    definitions: list[Path] = dataclasses.field(default_factory=list)


def _sql(scene: Scene, statement: str, **params: object) -> None:
    with scene.h.engine.store.engine.begin() as connection:
        connection.execute(sa.text(statement), params)


def _rows(h: Harness, record_id: str) -> dict[str, list[dict[str, object]]]:
    with h.engine.store.engine.connect() as connection:
        return {
            table: [
                dict(r._mapping)
                for r in connection.execute(
                    sa.text(f"select * from {table} where {key} = :r"), {"r": record_id}
                )
            ]
            for table, key in (
                ("record", "id"),
                ("record_state", "record_id"),
                ("deadline", "record_id"),
                ("deadline_reminder", "record_id"),
            )
        }


@pytest.fixture
def scene(database_url: str, tmp_path: Path) -> Iterator[Scene]:
    key = tmp_path / "history.key"
    key.write_text("a1" * 32, encoding="utf-8")
    city = tmp_path / "city"
    city.mkdir()
    (city / "my_city.yaml").write_text(CITY, encoding="utf-8")
    Engine.init(database_url, simulated_start=T0)[0].close()
    clock = ManualClock(T0)
    h = Harness(Engine.open(database_url, clock=clock, key_file=key, definitions=[city]), clock)
    h.later(seconds=1)
    rid = h.recorded()
    h.fire(rid, "publish", h.verifier)
    h.at(dt.datetime(2026, 5, 18, 10, 0, tzinfo=SH))
    snapshot = _rows(h, rid)
    h.engine.sweep()  # the explanation's first reminder rung
    assert h.engine.store.records.reminders(record_id=rid)
    person = h.recorded(**{**PERSON, "subject_code": None})
    fields = dict(h.engine.get(h.recorded()).data)
    city_rid = h.engine.register("my_city", fields, actor=h.recorder, submit=True).id
    later = h.recorded()
    checkpoint = tmp_path / "checkpoint.json"
    audit.write_checkpoint(h.engine.heads(), checkpoint, at=h.clock.now(), database="test")
    h.later(hours=1)
    h.fire(later, "publish", h.verifier)
    yield Scene(h, database_url, key, city, checkpoint, rid, later, person, city_rid, snapshot, [city])
    h.engine.close()


def _found(scene: Scene) -> tuple[bool, bool, bool]:
    """Whether ``audit verify``, ``… --checkpoint`` and ``… --key-file`` report anything."""
    found = []
    for key in (None, scene.key):
        clock = ManualClock(scene.h.clock.now())
        with Engine.open(
            scene.url, clock=clock, definitions=scene.definitions, key_file=key, audit=True
        ) as auditor:
            report = audit.verify(
                auditor.registry, auditor.cases(), real_time=False, subject_key=auditor.subject_key,
                key=auditor.history_key, key_mark=auditor.key_mark,
            )  # fmt: skip
            problems = list(report.problems)
            if key is None:
                found.append(bool(problems))
                heads = audit.read_checkpoint(scene.checkpoint)
                problems += audit.verify_checkpoint(heads, auditor.event_hashes())
            found.append(bool(problems))
    return found[0], found[1], found[2]


def _forge(scene: Scene, record_id: str, seq: int) -> None:
    events = scene.h.engine.stored_history(record_id)
    prev = events[seq - 2].hash
    with scene.h.engine.store.engine.begin() as connection:
        for event in events[seq - 1 :]:
            comment = "改写的理由" if event.seq == seq else event.comment
            digest = hash_of(dataclasses.replace(event, prev_hash=prev, comment=comment))
            connection.execute(
                sa.update(event_t)
                .where(event_t.c.record_id == record_id, event_t.c.seq == event.seq)
                .values(comment=comment, prev_hash=prev, hash=digest)
            )
            prev = digest
        connection.execute(sa.update(record_t).where(record_t.c.id == record_id).values(head_hash=prev))


def _remove_whole(scene: Scene) -> None:
    for table in (
        "record_state",
        "deadline_reminder",
        "deadline",
        "outbox",
        "record_personal",
        "record_event",
    ):
        _sql(scene, f"delete from {table} where record_id = :r", r=scene.rid)
    _sql(scene, "delete from record where id = :r", r=scene.rid)


def _cut_tail(scene: Scene) -> None:
    """Delete the last row and set every table back to what it was before it."""
    last = len(scene.h.engine.stored_history(scene.rid))
    _sql(scene, "delete from deadline_reminder where record_id = :r", r=scene.rid)
    _sql(scene, "delete from record_event where record_id = :r and seq = :s", r=scene.rid, s=last)
    with scene.h.engine.store.engine.begin() as connection:
        for table, rows in scene.snapshot.items():
            for row in rows:
                keys = ["id"] if "id" in row else ["record_id", "track"]
                where = " and ".join(f"{k} = :{k}" for k in keys)
                sets = ", ".join(f"{k} = :{k}" for k in row if k not in keys)
                values = {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in row.items()}
                connection.execute(sa.text(f"update {table} set {sets} where {where}"), values)


def _definition(scene: Scene, name: str, *, rehash: bool) -> None:
    with scene.h.engine.store.engine.begin() as connection:
        body = connection.execute(
            sa.text("select body from workflow_definition where name = :n"), {"n": name}
        ).scalar_one()
        document = json.loads(body)
        document["events"]["submit_explanation"]["roles"] = ["auditor"]
        sha = hashlib.sha256(canonical_json(document).encode()).hexdigest()
        column = ", sha256 = :s" if rehash else ""
        connection.execute(
            sa.text(f"update workflow_definition set body = :b{column} where name = :n"),
            {"n": name, "b": json.dumps(document, ensure_ascii=False), "s": sha},
        )


def _absent_file(scene: Scene) -> None:
    _definition(scene, "my_city", rehash=True)
    scene.definitions = []  # the auditor has no file of my_city@1


def _mark(scene: Scene) -> None:
    with scene.h.engine.store.engine.begin() as connection:
        mark = json.loads(
            connection.execute(
                sa.text("select value from chengxin_meta where key = 'history_key'")
            ).scalar_one()
        )
        mark["since"] = "2031-01-01T00:00:00+00:00"
        connection.execute(
            sa.text("update chengxin_meta set value = :v where key = 'history_key'"), {"v": json.dumps(mark)}
        )


def _strip_macs(scene: Scene) -> None:
    _sql(scene, "update record_event set mac = null where record_id = :r", r=scene.rid)


def _swap(scene: Scene, first: int, second: int) -> None:
    _sql(scene, "update record_event set seq = -1 where record_id = :r and seq = :s", r=scene.rid, s=first)
    _sql(
        scene,
        "update record_event set seq = :f where record_id = :r and seq = :s",
        r=scene.rid,
        f=first,
        s=second,
    )
    _sql(scene, "update record_event set seq = :s where record_id = :r and seq = -1", r=scene.rid, s=second)


def _malformed(scene: Scene) -> None:
    _sql(
        scene, "update record_event set payload = '\"garbage\"' where record_id = :r and seq = 1", r=scene.rid
    )


EDITS: dict[str, Callable[[Scene], None]] = {
    "row-altered": lambda s: _sql(
        s, "update record_event set comment = 'x' where record_id = :r and seq = 2", r=s.rid
    ),
    "row-rewritten-before-checkpoint": lambda s: _forge(s, s.rid, 2),
    "row-rewritten-after-checkpoint": lambda s: _forge(s, s.later, 5),
    "row-deleted": lambda s: _sql(s, "delete from record_event where record_id = :r and seq = 3", r=s.rid),
    "rows-reordered": lambda s: _swap(s, 2, 3),
    "record-removed": _remove_whole,
    "tail-cut": _cut_tail,
    "record-row": lambda s: _sql(s, "update record set responsible_unit = 'other' where id = :r", r=s.rid),
    "record-state": lambda s: _sql(
        s, "delete from record_state where record_id = :r and track = 'objection'", r=s.rid
    ),
    "deadline-row": lambda s: _sql(
        s,
        "update deadline set due_at = :d where record_id = :r and name = 'written_explanation'",
        r=s.rid,
        d=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
    ),
    "reminder-log": lambda s: _sql(s, "delete from deadline_reminder where record_id = :r", r=s.rid),
    "subject-key": lambda s: _sql(s, "update record set subject_key = null where id = :r", r=s.person),
    "definition-body": lambda s: _definition(s, "national", rehash=False),
    "definition-rehashed-file-present": lambda s: _definition(s, "my_city", rehash=True),
    "definition-rehashed-file-absent": _absent_file,
    "malformed-value": _malformed,
    "macs-stripped": _strip_macs,
    "key-mark": _mark,
    "outbox": lambda s: _sql(s, "delete from outbox where record_id = :r", r=s.rid),
    "holiday-table": lambda s: _sql(
        s,
        "insert into holiday_table (year, provisional, source, body, loaded_at) values "
        "(2027, false, 'forged', 'year: 2027\nprovisional: false\nsource: forged\nholidays: []\n', :t)",
        t=dt.datetime(2026, 5, 1, tzinfo=dt.UTC),
    ),
}


def _table() -> dict[str, tuple[bool, bool, bool]]:
    """The tamper table of README.md: ``| `id` what | ✔/✘ | ✔/✘ | ✔/✘ |`` rows."""
    text = README.read_text(encoding="utf-8")
    block = text.split("<!-- tamper-table -->")[1]
    rows = {}
    for line in block.splitlines():
        found = re.match(r"\| `([a-z-]+)` .*?\|\s*(✔|✘)\s*\|\s*(✔|✘)\s*\|\s*(✔|✘)\s*\|", line)
        if found:
            rows[found.group(1)] = tuple(mark == "✔" for mark in found.group(2, 3, 4))
    return rows  # type: ignore[return-value]


def test_the_readme_table_has_a_row_for_every_edit_the_tests_make() -> None:
    assert sorted(_table()) == sorted(EDITS)


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_what_each_mode_detects_is_what_the_readme_says(scene: Scene, edit: str) -> None:
    assert _found(scene) == (False, False, False)  # the untouched database
    EDITS[edit](scene)
    assert _found(scene) == _table()[edit]
