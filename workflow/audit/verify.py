"""Verification: every case's hash chain, the legality of its history, and every table that
drives its behaviour against what its history implies.

``verify`` reads every case with everything stored about it in one streamed pass (memory stays
flat) and reports every case whose history was altered, deleted or reordered, whose history
contains a transition its definition does not allow, or whose row, parallel tracks, deadlines,
reminder log or keyed subject digest no longer match its history; and every stored definition
that no longer holds what was stored. With the history key it also checks each row's MAC, so a
row rewritten with its hashes recomputed shows. A row that cannot be read is itself a finding:
verification never stops at one, and never raises for what it reads. ``verify_parallel`` does
the same in several processes, one run of case ids each.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path

from storage.values import CaseRows, RawEvent, StoredRecord
from workflow.audit import behaviour, shapes
from workflow.audit.links import links_of, unmatched_links
from workflow.audit.rows import (
    READ_ERRORS,
    EventRow,
    malformed,
    seq_of,
    shown,
    stored_non_canonically,
    unreadable_problems,
)
from workflow.core.fold import Problem
from workflow.core.history import GENESIS, hash_of, raw_event_hash
from workflow.engine.keys import HistoryKey, KeyMark
from workflow.engine.registry import Registry
from workflow.errors import WorkflowError

__all__ = [
    "EventRow",
    "Report",
    "database_problems",
    "verify",
    "verify_case",
    "verify_chain",
    "verify_parallel",
    "verify_record",
]


_NO_LINKS: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True, slots=True)
class Report:
    records: int
    events: int
    problems: Sequence[Problem]
    sealed: int = 0  # history rows whose MAC was checked (with the history key)
    unkeyed: int = 0  # history rows written before the key was in use (with the history key)

    @property
    def intact(self) -> bool:
        return not self.problems


@dataclass(slots=True)
class _Seals:
    """The MAC check of one verification: the key, since when it seals every row, the counts."""

    key: HistoryKey
    since: KeyMark | None
    sealed: int = 0
    unkeyed: int = 0

    def check(self, record_id: str, event: EventRow, after_sealed: bool) -> Problem | None:
        mac = event.mac
        seq = event.seq
        if mac is None:
            if self.since is not None and event.occurred_at > self.since.since:
                return Problem(
                    record_id,
                    "altered",
                    f"row {seq} has no MAC but was written after the history key was in use "
                    f"(since {self.since.since.isoformat()}): rewritten",
                    seq,
                )
            if after_sealed:
                return Problem(record_id, "altered", f"row {seq} has no MAC but follows a sealed row", seq)
            self.unkeyed += 1
            return None
        self.sealed += 1
        if not isinstance(mac, str) or not self.key.holds(event.hash, mac):
            return Problem(
                record_id,
                "altered",
                f"row {seq}: its MAC does not match (rewritten with its hashes recomputed, or sealed "
                "with another key)",
                seq,
            )
        return None


def _hash_holds(event: EventRow) -> bool | None:
    """Whether the row still has the hash it was written with: True when its stored text is the
    text that was hashed, None when only its parsed values are (it was stored in another form),
    False when it was altered.

    A row read as stored text is checked on its text first (canonical, so no parsing is
    needed); only when that differs is it parsed, in case the text was stored non-canonically.

    Raises:
        ValueError, TypeError, …: the row cannot be read (``rows.malformed`` says why).
    """
    if isinstance(event, RawEvent) and raw_event_hash(event) == event.hash:
        return True
    return None if hash_of(event) == event.hash else False


def _chain(record_id: str, events: Sequence[EventRow], seals: _Seals | None) -> tuple[list[Problem], bool]:
    """The chain's problems, and whether every row of it could be read."""
    problems: list[Problem] = []
    prev = GENESIS
    sealed_before = False
    for expected_seq, event in enumerate(events, start=1):
        if event.seq != expected_seq:
            kind = "reordered" if seq_of(event) is not None and event.seq < expected_seq else "deleted"
            problems.append(
                Problem(record_id, kind, f"history row {expected_seq} expected, found row {shown(event.seq)}")
            )
            break
        if event.prev_hash != prev:
            problems.append(
                Problem(
                    record_id,
                    "reordered",
                    f"row {event.seq} does not follow row {event.seq - 1} (chain broken)",
                    event.seq,
                )
            )
            break
        try:
            # the stored text is what was hashed (every row the engine wrote), else ``_hash_holds``
            holds = (type(event) is RawEvent and raw_event_hash(event) == event.hash) or _hash_holds(event)
        except READ_ERRORS as exc:
            return [*problems, *unreadable_problems(record_id, [event], exc)], False
        if holds is not True:  # the stored text is not what was hashed: is it readable at all?
            if malformed(event):
                return [*problems, *unreadable_problems(record_id, [event])], False
            if stored_non_canonically(event):
                assert isinstance(event, RawEvent)
                problems.append(
                    Problem(
                        record_id,
                        "malformed",
                        f"row {event.seq}: occurred_at is stored as {shown(event.at_iso)}, which the engine "
                        "never writes (edited by hand)",
                        event.seq,
                    )
                )
        if holds is False:
            problems.append(
                Problem(
                    record_id,
                    "altered",
                    f"row {event.seq} ({event.event}) was altered after it was written",
                    event.seq,
                )
            )
            break
        if seals is not None:
            found = seals.check(record_id, event, sealed_before)
            if found is not None:
                problems.append(found)
                break
            sealed_before = sealed_before or event.mac is not None
        prev = event.hash
    return problems, True


def verify_chain(record_id: str, events: Sequence[EventRow]) -> list[Problem]:
    """The problems of one record's hash chain (a row that cannot be read is one)."""
    return _chain(record_id, events, None)[0]


def _simulated(event: EventRow) -> bool:
    if isinstance(event, RawEvent):
        return event.mentions('"clock":"simulated"')
    return event.effects.get("clock") == "simulated"


def verify_case(
    registry: Registry,
    case: CaseRows,
    *,
    real_time: bool,
    subject_key: Callable[[str], str] | None = None,
    seals: _Seals | None = None,
) -> list[Problem]:
    """Every problem of one case: rows that cannot be read, its chain (and MACs), the legality of
    its transitions, and every table that drives its behaviour against its history."""
    record_id = case.id
    problems = [
        Problem(
            record_id, "unreadable", f"{u.table} {u.row}: {u.column} {u.value}: {u.reason}".replace("  ", " ")
        )
        for u in case.unreadable
    ]
    record = case.record
    record_unreadable = any(u.table == "record" for u in case.unreadable)
    events = case.events
    if record is None and not record_unreadable:
        if events:
            problems.append(
                Problem(record_id, "deleted", f"the record row is gone but {len(events)} history rows remain")
            )
        else:
            left = {
                "record_state": len(case.states),
                "deadline": len(case.deadlines),
                "deadline_reminder": len(case.reminders),
                "record_personal": len(case.personal),
            }
            rows = ", ".join(f"{n} {table}" for table, n in left.items() if n)
            problems.append(Problem(record_id, "deleted", f"the record row is gone but rows remain: {rows}"))
        return problems
    if not events:
        return [*problems, Problem(record_id, "deleted", "the record has no history rows")]
    chain, readable = _chain(record_id, events, seals)
    problems.extend(chain)
    if not readable:
        return problems
    try:
        problems.extend(_against_history(registry, case, real_time=real_time, subject_key=subject_key))
    except READ_ERRORS as exc:
        problems.extend(unreadable_problems(record_id, events, exc))
    return problems


def _against_history(
    registry: Registry, case: CaseRows, *, real_time: bool, subject_key: Callable[[str], str] | None
) -> list[Problem]:
    record_id, record, events = case.id, case.record, case.events
    problems: list[Problem] = []
    if real_time and any(_simulated(e) for e in events):
        problems.append(
            Problem(record_id, "altered", "history rows written on simulated time in a real-time database")
        )
    try:
        definition = registry.get(events[0].definition_name, events[0].definition_version)
    except WorkflowError as exc:
        return [*problems, Problem(record_id, "unknown_definition", str(exc))]
    illegal: list[Problem] = []
    projection = shapes.fold_rows(definition, events, illegal)
    problems.extend(illegal[:3])
    if record is not None:
        expected = behaviour.expected_record(definition, record, projection, events)
        if isinstance(expected, str):
            problems.append(Problem(record_id, "illegal", expected))
        else:
            problems.extend(behaviour.compare_record(record, expected))
    if not case.complete:
        return problems
    problems.extend(behaviour.compare_states(record_id, definition, projection, case.states))
    calendar = registry.calendar(definition)
    if not behaviour.confirmed(definition, calendar, events, case.deadlines, case.reminders):
        found = behaviour.implied(events)
        problems.extend(
            behaviour.compare_deadlines(
                definition, calendar, record_id, found, case.deadlines, case.reminders
            )
        )
    if record is not None:
        problems.extend(behaviour.compare_subject_key(definition, case, projection, subject_key))
    return problems


def verify_record(
    registry: Registry, record: StoredRecord | None, events: Sequence[EventRow], *, real_time: bool
) -> list[Problem]:
    """Every problem of one record found from its row and its history alone: chain, legality of
    its transitions, its row against its history (``verify_case`` compares the other tables too)."""
    return verify_case(registry, _as_case(record, events), real_time=real_time)


def _as_case(record: StoredRecord | None, events: Sequence[EventRow]) -> CaseRows:
    record_id = record.id if record is not None else str(events[0].record_id)
    return CaseRows(id=record_id, record=record, events=events, complete=False)  # type: ignore[arg-type]


def database_problems(
    registry: Registry, *, key: HistoryKey | None = None, key_mark: str | None = None, sealed: int = 0
) -> list[Problem]:
    """What concerns the whole database rather than one case: every stored definition that does
    not hold what was stored, and (with the key) the database's mark of its history key."""
    problems = [Problem(f"definition {m.key}", "definition", m.detail) for m in registry.mismatches]
    if key is None:
        return problems
    mark = KeyMark.parse(key_mark)
    where = "chengxin_meta history_key"
    if key_mark is None:
        if sealed:
            problems.append(
                Problem(
                    where, "altered", f"{sealed} rows carry a MAC but the database's mark of its key is gone"
                )
            )
    elif mark is None or not mark.sealed_by(key):
        problems.append(
            Problem(
                where,
                "altered",
                "the database's mark of its history key was altered, or was made with another key",
            )
        )
    return problems


def verify(
    registry: Registry,
    cases: Iterable[CaseRows | tuple[StoredRecord | None, Sequence[EventRow]]],
    *,
    real_time: bool,
    subject_key: Callable[[str], str] | None = None,
    key: HistoryKey | None = None,
    key_mark: str | None = None,
    whole: bool = True,
) -> Report:
    """Verify every case (``Engine.cases()``; pairs of a record and its history, as
    ``Engine.histories()`` gives them, are checked on those alone).

    ``subject_key`` is the engine's keyed digest of an ID number (``Engine.subject_key``); ``key``
    the history key and ``key_mark`` the database's mark of it (``Engine.history_key``,
    ``Engine.key_mark``). ``whole=False`` leaves out what concerns the whole database (a part of
    ``verify_parallel``).
    """
    mark = KeyMark.parse(key_mark) if key is not None else None
    seals = _Seals(key, mark if mark is not None and mark.sealed_by(key) else None) if key else None
    problems: list[Problem] = []
    records = events = 0
    links: dict[str, AbstractSet[tuple[str, str]]] = {}
    for item in cases:
        case = item if isinstance(item, CaseRows) else _as_case(*item)
        records += 1
        events += len(case.events)
        problems.extend(
            verify_case(registry, case, real_time=real_time, subject_key=subject_key, seals=seals)
        )
        links[case.id] = links_of(case) or _NO_LINKS  # most cases: one shared empty set each
    problems.extend(unmatched_links(links))
    sealed = seals.sealed if seals else 0
    if whole:
        problems[:0] = database_problems(registry, key=key, key_mark=key_mark, sealed=sealed)
    return Report(
        records=records,
        events=events,
        problems=problems,
        sealed=sealed,
        unkeyed=seals.unkeyed if seals else 0,
    )


def _verify_part(
    url: str,
    definitions: Sequence[str],
    real_time: bool,
    after: str | None,
    upto: str | None,
    key_file: str | None,
) -> Report:
    from workflow.engine.facade import Engine

    paths = [Path(p) for p in definitions]
    with Engine.open(
        url, definitions=paths, key_file=Path(key_file) if key_file else None, audit=True
    ) as engine:
        return verify(
            engine.registry,
            engine.cases(after=after, upto=upto),
            real_time=real_time,
            subject_key=engine.subject_key,
            key=engine.history_key,
            key_mark=engine.key_mark,
            whole=False,
        )


def verify_parallel(
    url: str,
    *,
    definitions: Sequence[Path] = (),
    real_time: bool,
    jobs: int,
    split: Sequence[str],
    key_file: Path | None = None,
) -> Report:
    """``verify`` in ``jobs`` processes, each over one run of record ids (``split`` are the cuts).

    The parts are read from separate snapshots; on a database that is being written to, a record
    changed between two parts' reads is still verified whole by the part it belongs to.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from workflow.engine.facade import Engine

    bounds = list(zip([None, *split], [*split, None], strict=True))
    paths = [str(p) for p in definitions]
    key = str(key_file) if key_file else None
    context = multiprocessing.get_context("spawn")  # never fork a process holding database connections
    with ProcessPoolExecutor(max_workers=min(jobs, len(bounds)), mp_context=context) as pool:
        parts = list(
            pool.map(
                _verify_part, *zip(*[(url, paths, real_time, a, u, key) for a, u in bounds], strict=True)
            )
        )
    sealed = sum(p.sealed for p in parts)
    with Engine.open(url, definitions=definitions, key_file=key_file, audit=True) as engine:
        whole = database_problems(
            engine.registry, key=engine.history_key, key_mark=engine.key_mark, sealed=sealed
        )
    return Report(
        records=sum(p.records for p in parts),
        events=sum(p.events for p in parts),
        problems=[*whole, *(problem for part in parts for problem in part.problems)],
        sealed=sealed,
        unkeyed=sum(p.unkeyed for p in parts),
    )
