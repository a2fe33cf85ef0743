"""Audit: verify hash chains, replay histories, state as of a date, and checkpoints.

``verify`` reads every record with its history in one streamed pass (memory stays flat) and
reports every record whose history was altered, deleted or reordered, whose projection no
longer matches its history, or whose history contains a transition its definition does not
allow. ``replay`` goes further for one record: it runs each stored command through the pure
decision function again and reports any outcome that differs from what was stored.

A chain cannot reveal a record removed whole, or a tail cut off together with the
projection: a checkpoint (``write_checkpoint``) records every chain's head and one digest
over them all, and ``verify_checkpoint`` reports every record missing or shortened since.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from definitions.model import MAIN_TRACK, Definition
from storage.values import RawEvent, StoredEvent, StoredRecord
from workflow.core.decide import INTERNAL_EVENTS, Actor, Command, OpenDeadline, Snapshot, decide, holds
from workflow.core.history import GENESIS, event_hash, raw_event_hash
from workflow.core.machines import machines_for
from workflow.engine.registry import Registry
from workflow.errors import CheckpointError, WorkflowError

CHECKPOINT_FORMAT = "chengxin-checkpoint/1"


@dataclass(frozen=True, slots=True)
class Problem:
    record_id: str
    kind: (
        str  # altered | deleted | reordered | projection | illegal | missing | shortened | unknown_definition
    )
    detail: str

    def __str__(self) -> str:
        return f"{self.record_id}: {self.kind}: {self.detail}"


@dataclass(slots=True)
class Projection:
    tracks: dict[str, str] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    actors: dict[str, Any] = field(default_factory=dict)
    deadlines: dict[str, OpenDeadline] = field(default_factory=dict)
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class Report:
    records: int
    events: int
    problems: Sequence[Problem]

    @property
    def intact(self) -> bool:
        return not self.problems


# ------------------------------------------------------------------------------ fold


def _apply_deadlines(projection: Projection, event: EventRow) -> None:
    for effect in event.effects.get("deadlines", ()):
        name = effect["name"]
        current = projection.deadlines.get(name)
        action = effect["action"]
        due = dt.datetime.fromisoformat(effect["due_at"]) if "due_at" in effect else None
        if action == "start" and due is not None:
            projection.deadlines[name] = OpenDeadline(
                name=name,
                status="active",
                started_at=event.occurred_at,
                due_at=due,
                unit=effect.get("unit", "days"),
                amount=effect.get("amount", 0),
            )
        elif current is None:
            continue
        elif action == "close":
            del projection.deadlines[name]
        elif action == "pause":
            projection.deadlines[name] = _replace(
                current, status="paused", paused_at=event.occurred_at, remaining=effect.get("remaining")
            )
        elif action in {"resume", "recompute"} and due is not None:
            projection.deadlines[name] = _replace(
                current, status="active", due_at=due, paused_at=None, remaining=None
            )
        elif action == "extend":
            if due is not None:
                projection.deadlines[name] = _replace(
                    current, status="active", due_at=due, extended=effect["extended"]
                )
            else:
                projection.deadlines[name] = _replace(
                    current, extended=effect["extended"], remaining=effect.get("remaining")
                )
        elif action == "expire":
            projection.deadlines[name] = _replace(current, status="expired")


def _replace(deadline: OpenDeadline, **values: Any) -> OpenDeadline:
    fields = {name: getattr(deadline, name) for name in OpenDeadline.__dataclass_fields__}
    fields.update(values)
    return OpenDeadline(**fields)


EventRow = StoredEvent | RawEvent


def _data_changes(event: EventRow) -> Sequence[Any]:
    if isinstance(event, RawEvent) and not event.mentions('"data":'):
        return ()  # most rows change no field: their effects need not be parsed at all
    changes: Sequence[Any] = event.effects.get("data", ())
    return changes


def fold(
    definition: Definition,
    events: Iterable[EventRow],
    problems: list[Problem] | None = None,
    *,
    deadlines: bool = True,
) -> Projection:
    """Rebuild a record's projection from its stored history (structural replay).

    With ``problems`` every stored state change is also checked against the definition:
    an event may only move a track along one of its transitions, and a parallel track may
    only start or stop when the main state switches it on or off.
    """
    projection = Projection()
    legal = machines_for(definition).legal
    for event in events:
        spec = definition.events.get(event.event)
        if spec is not None and spec.creates:
            projection.data = dict(event.payload)
        for name, old, new in _data_changes(event):
            if problems is not None and projection.data.get(name) != old:
                problems.append(
                    Problem(
                        event.record_id,
                        "illegal",
                        f"seq {event.seq}: field {name} changed from a value it did not have",
                    )
                )
            projection.data[name] = new
        tracks = projection.tracks
        for track, before, after in event.changes:
            assert isinstance(track, str)
            if problems is not None and tracks.get(track) != before:
                problems.append(
                    Problem(
                        event.record_id,
                        "illegal",
                        f"seq {event.seq}: track {track} was {tracks.get(track)}, not {before}",
                    )
                )
            if after is None:
                tracks.pop(track, None)
            else:
                tracks[track] = after
            if problems is None or before is None or after is None:
                continue
            if (event.event, track, before, after) not in legal and not _indirect(
                definition, event.event, track, before, after
            ):
                problems.append(
                    Problem(
                        event.record_id,
                        "illegal",
                        f"seq {event.seq}: {event.event} cannot move {track} from {before} to {after}",
                    )
                )
        moved = bool(event.changes) and MAIN_TRACK in tracks
        if problems is not None and moved and tracks.keys() != _active_tracks(definition, tracks[MAIN_TRACK]):
            problems.append(
                Problem(
                    event.record_id,
                    "illegal",
                    f"seq {event.seq}: active tracks {sorted(tracks)} do not match state {tracks[MAIN_TRACK]}",
                )
            )
        role = definition.roles.get(event.role)
        if spec is not None and role is not None and not role.system:
            projection.actors.setdefault(event.event, []).append([event.actor, event.unit])
        if problems is not None and spec is None and event.event not in INTERNAL_EVENTS:
            problems.append(
                Problem(event.record_id, "illegal", f"seq {event.seq}: unknown event {event.event}")
            )
        if problems is not None and spec is not None and event.role not in spec.roles:
            problems.append(
                Problem(
                    event.record_id,
                    "illegal",
                    f"seq {event.seq}: role {event.role} may not fire {event.event}",
                )
            )
        if deadlines:
            _apply_deadlines(projection, event)
    projection.overdue = any(
        definition.tracks[t].states[s].overdue
        for t, s in projection.tracks.items()
        if t in definition.tracks and s in definition.tracks[t].states
    )
    return projection


_ACTIVE: dict[tuple[str, int, str, str], frozenset[str]] = {}


def _active_tracks(definition: Definition, main: str) -> frozenset[str]:
    """The tracks that run while the main track is in ``main`` (remembered per definition version:
    verify asks once per event)."""
    key = (definition.name, definition.version, definition.sha256, main)
    found = _ACTIVE.get(key)
    if found is None:
        found = _ACTIVE[key] = frozenset(
            name
            for name, spec in definition.tracks.items()
            if name == MAIN_TRACK or main in spec.active_while.get(MAIN_TRACK, ())
        )
    return found


def _indirect(definition: Definition, event: str, track: str, before: str, after: str) -> bool:
    """A track that an event stopped and another transition of it restarted (start → target)."""
    spec = definition.events.get(event)
    if spec is None:
        return False
    initial = definition.tracks[track].initial
    return after == initial or any(
        t.track == track and initial in t.sources and t.dest == after for t in spec.transitions
    )


# ------------------------------------------------------------------------------ verify


def _stored_hash(event: EventRow) -> str:
    return event_hash(
        record_id=event.record_id,
        seq=event.seq,
        event=event.event,
        changes=event.changes,
        actor=event.actor,
        role=event.role,
        unit=event.unit,
        payload=event.payload,
        comment=event.comment,
        effects=event.effects,
        definition_name=event.definition_name,
        definition_version=event.definition_version,
        occurred_at=event.occurred_at,
        idempotency_key=event.idempotency_key,
        prev_hash=event.prev_hash,
    )


def _hash_holds(event: EventRow) -> bool:
    """Whether the row still has the hash it was written with.

    A row read as stored text is checked on its text first (canonical, so no parsing is
    needed); only when that differs is it parsed, in case the text was stored non-canonically.
    """
    if isinstance(event, RawEvent) and raw_event_hash(event) == event.hash:
        return True
    return _stored_hash(event) == event.hash


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
        "state": projection.tracks.get(MAIN_TRACK),
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


# ------------------------------------------------------------------------------ replay


def replay(registry: Registry, events: Sequence[EventRow]) -> list[Problem]:
    """Run every stored command through ``decide`` again; report any outcome that differs.

    Due dates are recorded facts (they depend on the holiday tables known at the time) and
    are not recomputed; everything else — state changes, field changes, deadline actions and
    outcomes, notices — must come out the same.
    """
    if not events:
        return []
    record_id = events[0].record_id
    definition = registry.get(events[0].definition_name, events[0].definition_version)
    calendar = registry.calendar(definition)
    problems: list[Problem] = []
    projection = Projection()
    for index, event in enumerate(events):
        snapshot = (
            None
            if index == 0
            else Snapshot(
                record_id=record_id,
                tracks=dict(projection.tracks),
                data=dict(projection.data),
                actors={k: list(v) for k, v in projection.actors.items()},
                deadlines=dict(projection.deadlines),
            )
        )
        command = Command(
            event=event.event,
            actor=Actor(id=event.actor, role=event.role, unit=event.unit),
            payload=event.payload,
            comment=event.comment,
            deadline=event.effects.get("expired"),
        )
        try:
            decision = decide(
                definition,
                calendar,
                snapshot,
                command,
                event.occurred_at,
                record_id=record_id,
                replaying=True,
            )
        except WorkflowError as exc:
            problems.append(
                Problem(record_id, "replay", f"seq {event.seq} {event.event}: refused on replay: {exc}")
            )
            break
        stored_changes = [list(c) for c in event.changes]
        if [list(c) for c in decision.changes] != stored_changes:
            problems.append(
                Problem(record_id, "replay", f"seq {event.seq} {event.event}: state changes differ on replay")
            )
        if _shape(decision.effects_json()) != _shape(event.effects):
            problems.append(
                Problem(record_id, "replay", f"seq {event.seq} {event.event}: effects differ on replay")
            )
        projection = fold(definition, events[: index + 1])
    return problems


def _shape(effects: Mapping[str, Any]) -> dict[str, Any]:
    """Effects without the recorded calendar facts (due dates and their explanations)."""
    return {
        "data": effects.get("data", []),
        "deadlines": [
            [d["name"], d["action"], d.get("outcome"), d.get("extended")]
            for d in effects.get("deadlines", [])
        ],
        "notices": [[n["template"], n["to"], n.get("deadline")] for n in effects.get("notices", [])],
        "purge": effects.get("purge_personal_data", False),
    }


def state_holds(
    definition: Definition, condition: Mapping[str, Sequence[str]], tracks: Mapping[str, str]
) -> bool:
    return holds(condition, tracks)


# --------------------------------------------------------------------------- checkpoints


def _digest(heads: Iterable[tuple[str, int, str]]) -> str:
    digest = hashlib.sha256()
    for record_id, seq, head in heads:
        digest.update(f"{record_id} {seq} {head}\n".encode())
    return digest.hexdigest()


def write_checkpoint(
    heads: Iterator[tuple[str, int, str]], path: Path, *, at: dt.datetime, database: str
) -> tuple[int, str]:
    """Write every chain head and one digest over them all; returns (records, digest)."""
    rows = list(heads)
    digest = _digest(rows)
    body = {
        "format": CHECKPOINT_FORMAT,
        "created_at": at.isoformat(),
        "database": database,
        "records": len(rows),
        "digest": digest,
        "heads": [[r, s, h] for r, s, h in rows],
    }
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(body, ensure_ascii=False, indent=0), encoding="utf-8")
    tmp.replace(path)
    return len(rows), digest


def read_checkpoint(path: Path) -> list[tuple[str, int, str]]:
    """Read a checkpoint and check its own digest.

    Raises:
        CheckpointError: unreadable, not a checkpoint, or altered since it was written.
    """
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"无法读取检查点文件 {path} (cannot read the checkpoint): {exc}") from exc
    if not isinstance(body, dict) or body.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} 不是 chengxin 检查点文件 (not a chengxin checkpoint)")
    heads = [(str(r), int(s), str(h)) for r, s, h in body.get("heads", [])]
    if _digest(heads) != body.get("digest") or len(heads) != body.get("records"):
        raise CheckpointError(f"检查点文件 {path} 已被改动 (the checkpoint file itself was altered)")
    return heads


def verify_checkpoint(
    checkpoint: Sequence[tuple[str, int, str]], hashes: Iterator[tuple[str, int, str]]
) -> list[Problem]:
    """Compare a checkpoint with the database's (record, seq, hash) rows, streamed in record order."""
    wanted = {record_id: (seq, head) for record_id, seq, head in checkpoint}
    seen_len: dict[str, int] = {}
    matched: set[str] = set()
    problems: list[Problem] = []
    for record_id, seq, digest in hashes:
        if record_id not in wanted:
            continue
        seen_len[record_id] = max(seen_len.get(record_id, 0), seq)
        want_seq, want_hash = wanted[record_id]
        if seq == want_seq:
            if digest == want_hash:
                matched.add(record_id)
            else:
                problems.append(Problem(record_id, "altered", f"row {seq} differs from the checkpoint"))
    for record_id, (seq, _head) in wanted.items():
        if record_id in matched or any(p.record_id == record_id for p in problems):
            continue
        if record_id not in seen_len:
            problems.append(
                Problem(
                    record_id, "missing", f"the record (with {seq} history rows at the checkpoint) is gone"
                )
            )
        else:
            problems.append(
                Problem(
                    record_id,
                    "shortened",
                    f"history has {seen_len[record_id]} rows, the checkpoint saw {seq}",
                )
            )
    return sorted(problems, key=lambda p: p.record_id)


# ------------------------------------------------------------------------- in parallel


def _verify_part(
    url: str, definitions: Sequence[str], real_time: bool, after: str | None, upto: str | None
) -> Report:
    from storage.store import Store

    store = Store.open(url)
    try:
        registry = Registry.load([Path(p) for p in definitions])
        registry.merge_stored(store.stored_definitions())
        return verify(registry, store.iter_raw_histories(after=after, upto=upto), real_time=real_time)
    finally:
        store.close()


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
