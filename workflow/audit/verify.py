"""Verification: every case's hash chain, the legality of its history, and its projection.

``verify`` reads every case with its history in one streamed pass (memory stays flat) and
reports every case whose history was altered, deleted or reordered, whose projection no
longer matches its history, or whose history contains a transition its definition does not
allow. ``verify_parallel`` does the same in several processes, one run of case ids each.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from storage.values import RawEvent, StoredEvent, StoredRecord
from workflow.core.fold import Problem, fold
from workflow.core.history import GENESIS, hash_of, raw_event_hash
from workflow.engine.registry import Registry
from workflow.errors import WorkflowError

EventRow = StoredEvent | RawEvent


@dataclass(frozen=True, slots=True)
class Report:
    records: int
    events: int
    problems: Sequence[Problem]

    @property
    def intact(self) -> bool:
        return not self.problems


def _hash_holds(event: EventRow) -> bool:
    """Whether the row still has the hash it was written with.

    A row read as stored text is checked on its text first (canonical, so no parsing is
    needed); only when that differs is it parsed, in case the text was stored non-canonically.
    """
    if isinstance(event, RawEvent) and raw_event_hash(event) == event.hash:
        return True
    return hash_of(event) == event.hash


def verify_chain(record_id: str, events: Sequence[EventRow]) -> list[Problem]:
    problems = []
    prev = GENESIS
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            kind = "reordered" if event.seq < expected_seq else "deleted"
            problems.append(
                Problem(record_id, kind, f"history row {expected_seq} expected, found row {event.seq}")
            )
            break
        if event.prev_hash != prev:
            problems.append(
                Problem(
                    record_id,
                    "reordered",
                    f"row {event.seq} does not follow row {event.seq - 1} (chain broken)",
                )
            )
            break
        if not _hash_holds(event):
            problems.append(
                Problem(
                    record_id, "altered", f"row {event.seq} ({event.event}) was altered after it was written"
                )
            )
            break
        prev = event.hash
    return problems


def verify_record(
    registry: Registry, record: StoredRecord | None, events: Sequence[EventRow], *, real_time: bool
) -> list[Problem]:
    """Every problem of one record: chain, legality of its transitions, projection equality."""
    record_id = record.id if record is not None else events[0].record_id
    if record is None:
        return [
            Problem(record_id, "deleted", f"the record row is gone but {len(events)} history rows remain")
        ]
    if not events:
        return [Problem(record_id, "deleted", "the record has no history rows")]
    problems = verify_chain(record_id, events)
    if real_time and any(_simulated(e) for e in events):
        problems.append(
            Problem(record_id, "altered", "history rows written on simulated time in a real-time database")
        )
    try:
        definition = registry.get(events[0].definition_name, events[0].definition_version)
    except WorkflowError as exc:
        return [*problems, Problem(record_id, "unknown_definition", str(exc))]
    illegal: list[Problem] = []
    projection = fold(definition, events, illegal, deadlines=False)
    problems.extend(illegal[:3])
    last = events[-1]
    expected = {
        "state": projection.tracks.get(definition.main_track),
        "tracks": projection.tracks,
        "data": projection.data,
        "actors": projection.actors,
        "version": len(events),
        "head_hash": last.hash,
        "overdue": projection.overdue,
    }
    for name, value in expected.items():
        stored = getattr(record, name)
        if isinstance(stored, Mapping):
            stored = dict(stored)
        if stored != value:
            shown = value if name not in {"data", "actors", "tracks"} else "(differs)"
            problems.append(
                Problem(record_id, "projection", f"stored {name} does not match its history: {shown}")
            )
    return problems


def _simulated(event: EventRow) -> bool:
    if isinstance(event, RawEvent):
        return event.mentions('"clock":"simulated"')
    return event.effects.get("clock") == "simulated"


def verify(
    registry: Registry,
    histories: Iterable[tuple[StoredRecord | None, Sequence[EventRow]]],
    *,
    real_time: bool,
) -> Report:
    problems: list[Problem] = []
    records = events = 0
    for record, history in histories:
        records += 1
        events += len(history)
        problems.extend(verify_record(registry, record, history, real_time=real_time))
    return Report(records=records, events=events, problems=problems)


def _verify_part(
    url: str, definitions: Sequence[str], real_time: bool, after: str | None, upto: str | None
) -> Report:
    from workflow.engine.facade import Engine

    with Engine.open(url, definitions=[Path(p) for p in definitions]) as engine:
        return verify(engine.registry, engine.histories(after=after, upto=upto), real_time=real_time)


def verify_parallel(
    url: str, *, definitions: Sequence[Path] = (), real_time: bool, jobs: int, split: Sequence[str]
) -> Report:
    """``verify`` in ``jobs`` processes, each over one run of record ids (``split`` are the cuts).

    The parts are read from separate snapshots; on a database that is being written to, a record
    changed between two parts' reads is still verified whole by the part it belongs to.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    bounds = list(zip([None, *split], [*split, None], strict=True))
    paths = [str(p) for p in definitions]
    context = multiprocessing.get_context("spawn")  # never fork a process holding database connections
    with ProcessPoolExecutor(max_workers=min(jobs, len(bounds)), mp_context=context) as pool:
        parts = list(
            pool.map(_verify_part, *zip(*[(url, paths, real_time, a, u) for a, u in bounds], strict=True))
        )
    return Report(
        records=sum(p.records for p in parts),
        events=sum(p.events for p in parts),
        problems=[problem for part in parts for problem in part.problems],
    )
