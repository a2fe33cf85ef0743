"""Read workflow definition files: YAML with line numbers, ``extends``, validation, structure checks.

Every problem is reported as ``file:line: message`` and all problems of a load are reported
together. The loader turns valid files into the frozen values of ``definitions.model``; it does
not know the engine, the database or the mail templates (the engine checks template names
against the notification catalogue when it registers definitions).
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from definitions import effects, schema
from definitions.loaded import (
    BUNDLED_DIR,
    DefinitionError,
    LoadedDefinition,
    TemplateCheck,
    bundled_files,
    canonical_json,
    resolved_sha256,
)
from definitions.loaded import files_under as _files
from definitions.model import (
    SYSTEM_ROLE,
    DeadlineSpec,
    Definition,
    EnumSet,
    EnumValue,
    EventSpec,
    FieldSpec,
    Grade,
    Guard,
    IndexSpec,
    Ladder,
    LedgerCheck,
    LedgerSpec,
    Limits,
    Notice,
    OpensSpec,
    Period,
    PublicationPeriod,
    PublicationRegime,
    ReportItem,
    Role,
    Rung,
    Schedule,
    StateSpec,
    TrackSpec,
    TransitionSpec,
    templates_folder,
)

UNINHERITED = ("name", "version", "effective_from", "extends")
# Values that replace the inherited one whole: a period changes its unit, a cron rule its fields.
ATOMIC = frozenset({"period", "extendable_to", "answer_within", "cron", "opens_before"})

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class _Raw:
    data: dict[str, Any]
    lines: dict[Path_, str]
    origin: str

    def where(self, path: Path_) -> str:
        for cut in range(len(path), -1, -1):
            found = self.lines.get(path[:cut])
            if found:
                return found
        return f"{self.origin}:1"


# ---------------------------------------------------------------------------------------- YAML


class _ScalarBuilder(yaml.constructor.SafeConstructor):
    pass


_UNREADABLE = object()  # a YAML value the safe loader could not build (reported as a problem)


def _parse_yaml(text: str, origin: str) -> _Raw:
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DefinitionError([f"{origin}:{line}: YAML syntax: {problem}"]) from exc
    if root is None:
        raise DefinitionError([f"{origin}:1: the file is empty"])
    lines: dict[Path_, str] = {}
    problems: list[str] = []
    builder = _ScalarBuilder()

    def scalar(node: yaml.Node) -> Any:
        """The value of a plain node; a value the safe loader cannot build is a problem, not a crash."""
        try:
            return builder.construct_object(node, deep=True)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
            reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            shown = node.value if isinstance(node, yaml.ScalarNode) else node.tag
            allowed = (
                "only plain YAML values are allowed: text, numbers, dates, lists, mappings"
                if isinstance(exc, yaml.YAMLError)
                else "a date is YYYY-MM-DD with a real month and day"
            )
            problems.append(
                f"{origin}:{node.start_mark.line + 1}: YAML value {shown!r:.80} cannot be read ({allowed}): {reason}"
            )
            return _UNREADABLE

    def build(node: yaml.Node, path: Path_) -> Any:
        lines[path] = f"{origin}:{node.start_mark.line + 1}"
        if isinstance(node, yaml.MappingNode):
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                where = f"{origin}:{key_node.start_mark.line + 1}"
                if not isinstance(key_node, yaml.ScalarNode):
                    problems.append(f"{where}: a key must be a plain value, not a list or a mapping")
                    continue
                key = scalar(key_node)
                if key == "<<":
                    problems.append(f"{where}: YAML merge keys are not supported")
                    continue
                key = key.isoformat() if isinstance(key, dt.date) else key
                if key is _UNREADABLE:  # reported by scalar()
                    continue
                if not isinstance(key, str):
                    problems.append(f"{where}: key {key!r:.40} must be text (quote it)")
                    continue
                if key in result:
                    problems.append(f"{where}: duplicate key {key!r}")
                result[key] = build(value_node, (*path, key))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [build(item, (*path, index)) for index, item in enumerate(node.value)]
        value = scalar(node)
        return None if value is _UNREADABLE else value

    try:
        data = build(root, ())
    except RecursionError:  # an alias that contains itself, or absurd nesting
        raise DefinitionError(
            [f"{origin}:1: the YAML nests too deeply (or an alias contains itself)"]
        ) from None
    if problems:
        raise DefinitionError(problems)
    if not isinstance(data, dict):
        raise DefinitionError([f"{origin}:1: a definition file must be a mapping at the top level"])
    return _Raw(data=data, lines=lines, origin=origin)


# --------------------------------------------------------------------------------------- merge


def _merge(parent: _Raw, child: _Raw) -> _Raw:
    """Child keys override the parent's; mappings merge recursively and ``null`` deletes a key."""
    lines = dict(parent.lines)

    def merge(base: Any, over: Any, path: Path_) -> Any:
        if isinstance(base, dict) and isinstance(over, dict) and not (path and path[-1] in ATOMIC):
            result = dict(base)
            for key, value in over.items():
                if value is None:
                    result.pop(key, None)
                elif key in result:
                    result[key] = merge(result[key], value, (*path, key))
                else:
                    result[key] = value
            return result
        if isinstance(base, dict | list):  # the lines of everything under ``path`` are stale
            for stale in [p for p in lines if p[: len(path)] == path]:
                del lines[stale]
        else:  # a plain value has no lines under it: only its own
            lines.pop(path, None)
        return over

    data = {key: value for key, value in parent.data.items() if key not in UNINHERITED}
    merged = merge(data, child.data, ())
    lines.update(child.lines)
    return _Raw(data=merged, lines=lines, origin=child.origin)


# ---------------------------------------------------------------------------------- validation


def _pydantic_problems(raw: _Raw, exc: ValidationError) -> list[str]:
    problems = []
    for error in exc.errors():
        loc = tuple(part for part in error["loc"] if not (isinstance(part, str) and part.endswith("Guard")))
        where = raw.where(loc)
        dotted = ".".join(str(part) for part in loc) or "(top level)"
        message = error["msg"].removeprefix("Value error, ")
        problems.append(f"{where}: {dotted}: {message}")
    return problems


def _reachable(start: str, edges: Mapping[str, set[str]]) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in edges.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


class _Checker:
    """Structural checks that pydantic cannot express: references and reachability."""

    def __init__(
        self, model: schema.DefinitionModel, raw: _Raw, templates: TemplateCheck | None = None
    ) -> None:
        self.model = model
        self.raw = raw
        self.templates = templates
        self.problems: list[str] = []

    def templates_dir(self) -> Path | None:
        return templates_folder(self.model.templates_dir, _source_dir(self.raw.origin))

    def fail(self, path: Path_, message: str) -> None:
        self.problems.append(f"{self.raw.where(path)}: {message}")

    def states_exist(self, path: Path_, mapping: Mapping[str, Iterable[str]]) -> None:
        for track, states in mapping.items():
            spec = self.model.tracks.get(track)
            if spec is None:
                self.fail((*path, track), f"unknown track {track!r}; tracks: {', '.join(self.model.tracks)}")
                continue
            for state in states:
                if state not in spec.states:
                    self.fail(
                        (*path, track),
                        f"unknown state {state!r} of track {track!r}; states: {', '.join(spec.states)}",
                    )

    def field_exists(self, path: Path_, name: str, types: tuple[str, ...] = ()) -> None:
        spec = self.model.fields.get(name)
        if spec is None:
            self.fail(
                path, f"unknown record field {name!r}; fields: {', '.join(self.model.fields) or 'none'}"
            )
        elif types and spec.type not in types:
            self.fail(path, f"record field {name!r} is a {spec.type}, expected {' or '.join(types)}")

    def notices(self, path: Path_, notices: Iterable[schema.NoticeModel]) -> None:
        for index, notice in enumerate(notices):
            if self.templates is not None and not self.templates(notice.template, self.templates_dir()):
                self.fail((*path, index, "template"), f"no mail template {notice.template!r}")
            if notice.deadline is not None and notice.deadline not in self.model.deadlines:
                self.fail((*path, index, "deadline"), f"unknown deadline {notice.deadline!r}")
            for recipient in notice.to:
                if recipient.startswith("unit_of:"):
                    event = recipient.removeprefix("unit_of:")
                    if event not in self.model.events:
                        self.fail((*path, index, "to"), f"unknown event {event!r} in recipient {recipient!r}")
                else:
                    self.field_exists((*path, index, "to"), recipient, ("unit",))

    def period(self, path: Path_, period: schema.PeriodModel) -> None:
        if period.field_days:
            self.field_exists((*path, "field_days"), period.field_days, ("int",))
        if period.field_working_days:
            self.field_exists((*path, "field_working_days"), period.field_working_days, ("int",))
        if period.publication and not self.model.publication_periods:
            self.fail(path, "a publication period needs 'publication_periods' in the definition")
        if period.by_field and period.by_value is not None:
            self.field_exists((*path, "by_field"), period.by_field, ("enum",))
            spec = self.model.fields.get(period.by_field)
            enum = self.model.enums.get(spec.enum or "") if spec else None
            for value in period.by_value:
                if spec is not None and enum is not None and value not in enum.values:
                    self.fail((*path, "by_value", value), f"{value!r} is not a value of enum {spec.enum!r}")

    def payload_fields(self, path: Path_, fields: Mapping[str, schema.FieldModel]) -> None:
        for name, spec in fields.items():
            if spec.enum and spec.enum not in self.model.enums:
                self.fail(
                    (*path, name, "enum"), f"unknown enum {spec.enum!r}; enums: {', '.join(self.model.enums)}"
                )
            if spec.sets and spec.sets not in self.model.fields:
                self.fail((*path, name, "sets"), f"unknown record field {spec.sets!r}")
            for other in spec.required_when:
                self.field_exists((*path, name, "required_when"), other)

    def track_of(self, transition: schema.TransitionModel) -> str:
        return transition.track or self.model.main_track

    def run(self) -> list[str]:
        m = self.model
        if m.main_track not in m.tracks:
            self.fail(
                ("main_track",),
                f"main_track {m.main_track!r} is not a track; tracks: {', '.join(m.tracks)}",
            )
            return self.problems
        self._index()
        self._tracks()
        self.payload_fields(("fields",), m.fields)
        creators = [name for name, event in m.events.items() if event.creates]
        if len(creators) != 1:
            self.fail(
                ("events",),
                f"exactly one event must have 'creates: true' (it makes the record in the initial state); found {len(creators)}",
            )
        self._events()
        self._deadlines()
        self._reachability()
        self._publication()
        for name, ladder in m.ladders.items():
            for index, rung in enumerate(ladder.rungs):
                self.notices(("ladders", name, "rungs", index, "notify"), rung.notify)
        for name, sched in m.schedules.items():
            if sched.units != "all":
                self.field_exists(("schedules", name, "units"), sched.units, ("unit",))
        self._ledger()
        for path, message in effects.problems(m):
            self.fail(path, message)
        for name, event in m.events.items():  # payload_requires guards (the rest in _guard)
            for index, guard in enumerate(event.guards):
                if isinstance(guard, schema.PayloadRequiresGuard):
                    for where, message in effects.guard_problems(m, guard, event):
                        self.fail(("events", name, "guards", index, *where), message)
        for name, effect in m.sanction_effects.items():
            if effect.period is not None:
                self.period(("sanction_effects", name, "period"), effect.period)
        return self.problems

    LEDGER_FIELDS: Mapping[str, tuple[str, ...]] = {
        "check_due": ("date",),
        "check_schedule": ("string", "text"),
        "check_from_year": ("int",),
        "check_to_year": ("int",),
    }

    def _ledger(self) -> None:
        """A ledger block belongs to a ledger task: a known source, years in order, a plain
        window, and the fields the scheduler reads."""
        ledger = self.model.ledger
        if ledger is None:
            return
        from definitions.ledgers import LEDGER_SOURCES  # the parsers of the work ledgers: only here

        path: Path_ = ("ledger",)
        if self.model.kind != "ledger_task":
            self.fail(path, f"'ledger' is for definitions of kind ledger_task, not {self.model.kind}")
        if ledger.source is not None and ledger.source not in LEDGER_SOURCES:
            self.fail(
                (*path, "source"),
                f"unknown ledger {ledger.source!r}; ledgers: {', '.join(LEDGER_SOURCES)}",
            )
        first, _, last = ledger.years.partition("-")
        if int(first) > int(last):
            self.fail((*path, "years"), f"the years {ledger.years} are out of order")
        window = ledger.opens_before
        if not (window.working_days or window.days or window.months):
            self.fail((*path, "opens_before"), "a check window is counted in working_days, days or months")
        for name, types in self.LEDGER_FIELDS.items():
            self.field_exists(path, name, types)

    INDEX_TYPES: Mapping[str, tuple[str, ...]] = {
        "subject_name": ("string", "text"),
        "subject_code": ("uscc", "string"),
        "subject_id_number": ("id_number",),
        "responsible_unit": ("unit",),
        "originating_unit": ("unit",),
        "case_date": ("date",),
        "severity": ("enum", "string"),
    }

    # The widths of the record table's indexed text columns (storage.tables.Record; a test keeps
    # the two in step): a field that fills one must fit it, or PostgreSQL refuses the row.
    INDEX_WIDTHS: Mapping[str, int] = {"subject_name": 200, "subject_code": 18, "severity": 32}

    def _index(self) -> None:
        """Every indexed column is filled from a record field of a fitting type and size."""
        for column, types in self.INDEX_TYPES.items():
            name = getattr(self.model.index, column)
            if name is not None:
                self.field_exists(("index", column), name, types)
                self._fits(column, name)

    def _fits(self, column: str, name: str) -> None:
        width = self.INDEX_WIDTHS.get(column)
        spec = self.model.fields.get(name)
        if width is None or spec is None:
            return
        limits = self.model.limits
        if spec.type in {"string", "text"}:
            longest = spec.max_length or (limits.string if spec.type == "string" else limits.text)
        elif spec.type == "enum" and spec.enum in self.model.enums:
            longest = max(len(code) for code in self.model.enums[spec.enum].values)
        else:
            return
        if longest > width:
            self.fail(
                ("index", column),
                f"record field {name!r} holds up to {longest} characters; the indexed column {column} "
                f"holds {width}: give the field 'max_length: {width}' or less",
            )

    def _tracks(self) -> None:
        for name, track in self.model.tracks.items():
            path: Path_ = ("tracks", name)
            if track.initial not in track.states:
                self.fail((*path, "initial"), f"initial state {track.initial!r} is not a state of {name!r}")
            if name == self.model.main_track:
                if track.active_while:
                    self.fail((*path, "active_while"), "the main track is always active")
                continue
            main = self.model.main_track
            if set(track.active_while) != {main}:
                self.fail(
                    (*path, "active_while"),
                    f"a parallel track is active while the main track is in given states: use 'active_while: {{{main}: [...]}}'",
                )
            self.states_exist((*path, "active_while"), track.active_while)

    def _publication(self) -> None:
        severity = self.model.enums.get("severity")
        undated = 0
        seen_dates: set[dt.date] = set()
        for index, regime in enumerate(self.model.publication_periods):
            if regime.effective_from is None:
                undated += 1
            elif regime.effective_from in seen_dates:
                self.fail(
                    ("publication_periods", index, "effective_from"),
                    "two publication regimes start on the same day",
                )
            else:
                seen_dates.add(regime.effective_from)
            for code, periods in regime.by_severity.items():
                where: Path_ = ("publication_periods", index, "by_severity", code)
                if severity is not None and code not in severity.values:
                    self.fail(where, f"{code!r} is not a value of enum 'severity'")
                plain = all(
                    not (
                        b.publication or b.field_days or b.field_working_days or b.by_field or b.working_days
                    )
                    for b in (periods.min, periods.max)
                    if b is not None
                )
                if not plain:
                    self.fail(where, "publication periods are counted in days, months or years")
        if undated > 1:
            self.fail(("publication_periods",), "only one publication regime may omit 'effective_from'")

    def _events(self) -> None:
        m = self.model
        for name, event in m.events.items():
            path: Path_ = ("events", name)
            for role in event.roles:
                if role not in m.roles:
                    self.fail((*path, "roles"), f"unknown role {role!r}; roles: {', '.join(m.roles)}")
            if event.creates and event.transitions:
                self.fail(
                    (*path, "transitions"),
                    "the creating event has no transitions: it puts the record in the initial state",
                )
            if not event.creates and not any(not t.optional for t in event.transitions):
                self.fail(
                    (*path, "transitions"), "an event needs at least one transition that is not optional"
                )
            for index, transition in enumerate(event.transitions):
                tpath: Path_ = (*path, "transitions", index)
                track_name = self.track_of(transition)
                track = m.tracks.get(track_name)
                if track is None:
                    self.fail((*tpath, "track"), f"unknown track {track_name!r}")
                    continue
                self.states_exist((*tpath, "from"), {track_name: transition.from_})
                self.states_exist((*tpath, "to"), {track_name: [transition.to]})
                for source in transition.from_:
                    state = track.states.get(source)
                    if state is not None and state.final:
                        self.fail((*tpath, "from"), f"no transition may leave the final state {source!r}")
                for key in transition.when:
                    if key not in event.payload:
                        self.fail(
                            (*tpath, "when"),
                            f"'when' names {key!r}, which is not a payload field of {name!r}",
                        )
            self.payload_fields((*path, "payload"), event.payload)
            self.notices((*path, "notify"), event.notify)
            if event.extends_deadline is not None:
                self._extends_deadline(path, event, event.extends_deadline)
            for index, guard in enumerate(event.guards):
                self._guard((*path, "guards", index), guard, event)
            if event.opens is not None:
                self._opens((*path, "opens"), event.opens, event)
        self._within()

    def _within(self) -> None:
        """A date field's ``within`` names two date fields of the definition."""
        for name, field in self.model.fields.items():
            for bound in field.within or ():
                self.field_exists(("fields", name, "within"), bound, ("date",))

    def _extends_deadline(self, path: Path_, event: schema.EventModel, name: str) -> None:
        deadline = self.model.deadlines.get(name)
        if deadline is None:
            self.fail((*path, "extends_deadline"), f"unknown deadline {name!r}")
        elif deadline.extendable_to is None:
            self.fail((*path, "extends_deadline"), f"deadline {name!r} has no 'extendable_to'")
        if "working_days" not in event.payload:
            self.fail((*path, "payload"), "an extending event needs an int payload field 'working_days'")

    def _opens(self, path: Path_, opens: schema.OpensModel, event: schema.EventModel) -> None:
        """What an event carries over must exist here; the other definition is checked when the
        engine opens the case (it may live in another file) and by the walk of every definition."""
        m = self.model
        for target, source in opens.fields.items():
            if source not in m.fields and source not in event.payload:
                self.fail(
                    (*path, "fields", target),
                    f"{source!r} is neither a field of this definition nor a payload field of the event",
                )
        if opens.link_field is not None:
            self.field_exists((*path, "link_field"), opens.link_field, ("string",))

    def _guard(self, path: Path_, guard: schema.GuardModel, event: schema.EventModel) -> None:
        m = self.model
        if isinstance(guard, schema.FourEyesGuard):
            for other in guard.events:
                if other not in m.events:
                    self.fail((*path, "events"), f"unknown event {other!r}")
        elif isinstance(guard, schema.RequiresStateGuard | schema.ForbidsStateGuard):
            self.states_exist((*path, "states"), guard.states)
        elif isinstance(guard, schema.ActorUnitGuard):
            self.field_exists((*path, "field"), guard.field, ("unit",))
        elif isinstance(guard, schema.PublicationMinimumGuard):
            if not m.publication_periods:
                self.fail(path, "publication_minimum_elapsed needs 'publication_periods'")
            for needed in ("severity", "finding_date"):
                self.field_exists(path, needed)
        elif isinstance(guard, schema.FieldNotInGuard):
            for name in guard.values:
                self.field_exists((*path, "values"), name)
            if guard.waived_by and guard.waived_by not in event.payload:
                self.fail((*path, "waived_by"), f"{guard.waived_by!r} is not a payload field of this event")
        elif isinstance(guard, schema.ChangesFieldsGuard) and not any(f.sets for f in event.payload.values()):
            self.fail(path, "changes_fields needs payload fields with 'sets'")
        elif isinstance(guard, schema.ConfirmsGuard):
            for name in guard.fields:
                spec = event.payload.get(name)
                if spec is None or spec.type != "bool":
                    self.fail((*path, "fields"), f"{name!r} must be a bool payload field of this event")

    def _deadlines(self) -> None:
        m = self.model
        for name, deadline in m.deadlines.items():
            path: Path_ = ("deadlines", name)
            self.states_exist((*path, "while"), deadline.while_)
            self.states_exist((*path, "paused_while"), deadline.paused_while)
            self.period((*path, "period"), deadline.period)
            if deadline.extendable_to is not None:
                self.period((*path, "extendable_to"), deadline.extendable_to)
            for anchor in deadline.anchor:
                self.field_exists((*path, "anchor"), anchor, ("date",))
            if deadline.ladder is not None and deadline.ladder not in m.ladders:
                self.fail(
                    (*path, "ladder"),
                    f"unknown ladder {deadline.ladder!r}; ladders: {', '.join(m.ladders) or 'none'}",
                )
            self.notices((*path, "on_expiry", "notify"), deadline.on_expiry.notify)
            self.notices((*path, "on_start", "notify"), deadline.on_start.notify)
            expiry = deadline.on_expiry.event
            if expiry is None:
                continue
            event = m.events.get(expiry)
            if event is None:
                self.fail((*path, "on_expiry", "event"), f"unknown event {expiry!r}")
                continue
            system_roles = {r for r, spec in m.roles.items() if spec.system}
            if not system_roles & set(event.roles):
                self.fail(
                    (*path, "on_expiry", "event"),
                    f"event {expiry!r} fires at expiry, so a system role ({SYSTEM_ROLE}) must be allowed to fire it",
                )
            sources = {(self.track_of(t), s) for t in event.transitions for s in t.from_}
            if not any((track, s) in sources for track, states in deadline.while_.items() for s in states):
                self.fail(
                    (*path, "on_expiry", "event"),
                    f"event {expiry!r} has no transition from a state in which the deadline runs",
                )

    def _reachability(self) -> None:
        m = self.model
        edges: dict[str, dict[str, set[str]]] = {track: {} for track in m.tracks}
        for event in m.events.values():
            for transition in event.transitions:
                if self.track_of(transition) in edges:
                    for source in transition.from_:
                        edges[self.track_of(transition)].setdefault(source, set()).add(transition.to)
        for name, track in m.tracks.items():
            if track.initial not in track.states:
                continue
            reachable = _reachable(track.initial, edges[name])
            unreachable = [state for state in track.states if state not in reachable]
            if unreachable:
                self.fail(
                    ("tracks", name, "states"),
                    f"unreachable states in track {name!r}: {', '.join(unreachable)}",
                )
        main = m.tracks[m.main_track]
        finals = {state for state, spec in main.states.items() if spec.final}
        if not finals:
            self.fail(("tracks", m.main_track, "states"), "the main track needs at least one final state")
            return
        reverse: dict[str, set[str]] = {}
        for source, targets in edges[m.main_track].items():
            for target in targets:
                reverse.setdefault(target, set()).add(source)
        can_finish: set[str] = set()
        for final in finals:
            can_finish |= _reachable(final, reverse)
        stuck = [state for state, spec in main.states.items() if not spec.final and state not in can_finish]
        if stuck:
            self.fail(
                ("tracks", m.main_track, "states"),
                f"states that cannot reach a final state: {', '.join(stuck)}",
            )


# ----------------------------------------------------------------------------------- building


def _period(model: schema.PeriodModel) -> Period:
    return Period(
        working_days=model.working_days or 0,
        days=model.days or 0,
        months=model.months or 0,
        years=model.years or 0,
        field_days=model.field_days,
        field_working_days=model.field_working_days,
        publication=model.publication,
        by_field=model.by_field,
        by_value={key: _period(value) for key, value in (model.by_value or {}).items()},
    )


def _field(name: str, model: schema.FieldModel, limits: schema.LimitsModel) -> FieldSpec:
    """The field with its limits resolved: its own ``max_length``/``max_items``, else the
    definition's default for its type (``limits:``), so every text and every list is bounded."""
    length = {
        "string": limits.string,
        "text": limits.text,
        "string_list": limits.string,
        "documents": limits.document_value,
    }.get(model.type)
    items = {
        "string_list": limits.list_items,
        "enum_list": limits.list_items,
        "documents": limits.documents,
    }.get(model.type)
    return FieldSpec(
        name=name,
        type=model.type,
        label=model.label,
        required=model.required,
        required_when={key: tuple(values) for key, values in model.required_when.items()},
        enum=model.enum,
        default=model.default,
        min=model.min,
        max=model.max,
        max_length=model.max_length or length,
        max_items=model.max_items or items,
        sets=model.sets,
        personal=model.type == "id_number",
        confidential=model.confidential,
        known_unit=model.known_unit,
        within=(model.within[0], model.within[1]) if model.within is not None else None,
    )


def _opens(model: schema.OpensModel | None) -> OpensSpec | None:
    if model is None:
        return None
    return OpensSpec(
        definition=model.definition,
        role=model.role,
        fields=dict(model.fields),
        values=dict(model.values),
        then=tuple(model.then),
        link_field=model.link_field,
        legal_basis=model.legal_basis,
    )


def _notices(models: Iterable[schema.NoticeModel]) -> tuple[Notice, ...]:
    return tuple(Notice(template=n.template, to=tuple(n.to), deadline=n.deadline) for n in models)


def _guard(model: schema.GuardModel) -> Guard:
    params = model.model_dump(exclude={"guard", "message", "legal_basis"})
    return Guard(kind=model.guard, params=params, message=model.message, legal_basis=model.legal_basis)


def _states(mapping: Mapping[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {key: tuple(values) for key, values in mapping.items()}


def _source_dir(origin: str) -> str | None:
    """The folder of the file a definition came from; None for one rebuilt from the database."""
    return None if origin.startswith("database:") else str(Path(origin).resolve().parent)


def _build(model: schema.DefinitionModel, digest: str, source: str) -> Definition:
    purposes, sanction_effects = effects.build(model, _period)
    tracks = {
        name: TrackSpec(
            name=name,
            label=track.label,
            initial=track.initial,
            active_while=_states(track.active_while),
            states={
                state: StateSpec(
                    name=state,
                    track=name,
                    label=spec.label,
                    label_en=spec.label_en,
                    final=spec.final,
                    active=spec.active,
                    overdue=spec.overdue,
                    mark=spec.mark,
                )
                for state, spec in track.states.items()
            },
        )
        for name, track in model.tracks.items()
    }
    events = {
        name: EventSpec(
            name=name,
            label=event.label,
            roles=tuple(event.roles),
            transitions=tuple(
                TransitionSpec(
                    track=t.track or model.main_track,
                    sources=tuple(t.from_),
                    dest=t.to,
                    optional=t.optional,
                    when=dict(t.when),
                )
                for t in event.transitions
            ),
            payload={field: _field(field, spec, model.limits) for field, spec in event.payload.items()},
            guards=tuple(_guard(g) for g in event.guards),
            comment_required=event.comment == "required",
            creates=event.creates,
            notices=_notices(event.notify),
            purge_personal_data=event.purge_personal_data,
            extends_deadline=event.extends_deadline,
            opens=_opens(event.opens),
            legal_basis=event.legal_basis,
        )
        for name, event in model.events.items()
    }
    deadlines = {
        name: DeadlineSpec(
            name=name,
            label=d.label,
            while_=_states(d.while_),
            period=_period(d.period),
            anchor=tuple(d.anchor),
            paused_while=_states(d.paused_while),
            extendable_to=_period(d.extendable_to) if d.extendable_to else None,
            ladder=d.ladder,
            on_expiry_event=d.on_expiry.event,
            on_expiry_notices=_notices(d.on_expiry.notify),
            on_start_notices=_notices(d.on_start.notify),
            legal_basis=d.legal_basis,
        )
        for name, d in model.deadlines.items()
    }
    regimes = sorted(
        (
            PublicationRegime(
                effective_from=regime.effective_from,
                legal_basis=regime.legal_basis,
                periods={
                    severity: PublicationPeriod(
                        severity=severity,
                        min=_period(p.min) if p.min else None,
                        max=_period(p.max) if p.max else None,
                    )
                    for severity, p in regime.by_severity.items()
                },
            )
            for regime in model.publication_periods
        ),
        key=lambda regime: regime.effective_from or dt.date.min,
        reverse=True,
    )
    return Definition(
        name=model.name,
        version=model.version,
        kind=model.kind,
        id_prefix=model.id_prefix,
        main_track=model.main_track,
        index=IndexSpec(**model.index.model_dump()),
        title=model.title,
        jurisdiction=model.jurisdiction,
        legal_basis=model.legal_basis,
        effective_from=model.effective_from,
        timezone=model.timezone,
        deadline_time=dt.time.fromisoformat(model.deadline_time),
        reminder_time=dt.time.fromisoformat(model.reminder_time),
        roles={name: Role(name=name, label=r.label, system=r.system) for name, r in model.roles.items()},
        enums={
            name: EnumSet(
                name=name,
                values=tuple(EnumValue(code=c, label=lbl) for c, lbl in e.values.items()),
                legal_basis=e.legal_basis,
            )
            for name, e in model.enums.items()
        },
        fields={name: _field(name, spec, model.limits) for name, spec in model.fields.items()},
        tracks=tracks,
        events=events,
        deadlines=deadlines,
        ladders={
            name: Ladder(
                name=name,
                legal_basis=ladder.legal_basis,
                rungs=tuple(
                    Rung(
                        name=r.name,
                        label=r.label,
                        kind=r.kind,
                        working_days=r.working_days,
                        notices=_notices(r.notify),
                    )
                    for r in ladder.rungs
                ),
            )
            for name, ladder in model.ladders.items()
        },
        publication_regimes=tuple(regimes),
        schedules={
            name: Schedule(
                name=name,
                label=s.label,
                round=s.round,
                cron={str(k): v for k, v in s.cron.items()},
                answer_within=_period(s.answer_within),
                units=s.units,
                report=tuple(
                    ReportItem(
                        name=key,
                        label=item.label,
                        active=item.active,
                        track=item.state.split(":")[0] if item.state else None,
                        state=item.state.split(":")[1] if item.state else None,
                        definition=item.definition,
                    )
                    for key, item in s.report.items()
                ),
                grades=tuple(
                    Grade(
                        name=key,
                        label=g.label,
                        min_open_records=g.min_open_records,
                        min_overdue_records=g.min_overdue_records,
                        months=tuple(g.months),
                        legal_basis=g.legal_basis,
                    )
                    for key, g in s.grades.items()
                ),
                legal_basis=s.legal_basis,
            )
            for name, s in model.schedules.items()
        },
        ledger=_ledger(model.ledger),
        purposes=purposes,
        sanction_effects=sanction_effects,
        templates_dir=model.templates_dir,
        local_days_off=dict(model.local_days_off),
        limits=Limits(payload_bytes=model.limits.payload_bytes, comment=model.limits.comment),
        sha256=digest,
        source=source,
        source_dir=_source_dir(source),
    )


def _ledger(model: schema.LedgerModel | None) -> LedgerSpec | None:
    if model is None:
        return None
    first, _, last = model.years.partition("-")
    return LedgerSpec(
        source=model.source,
        first_year=int(first),
        last_year=int(last),
        opens_before=_period(model.opens_before),
        checks={
            name: LedgerCheck(
                name=name,
                label=check.label,
                kind=check.kind,
                cron={str(k): v for k, v in check.cron.items()},
                legal_basis=check.legal_basis,
            )
            for name, check in model.checks.items()
        },
        legal_basis=model.legal_basis,
    )


# Where a definition names its items: removing one of these (because its schema is wrong) makes
# every reference to it look unknown, so those follow-on problems are not reported.
NAMED = frozenset(
    {"roles", "enums", "fields", "tracks", "states", "events", "deadlines", "ladders", "schedules", "payload"}
)


def _existing(data: Any, loc: Sequence[str | int]) -> Path_:
    """The deepest path into ``data`` along a pydantic error location (the union tags pydantic
    puts in a location, and a missing key at its end, are not in the data)."""
    path: list[str | int] = []
    node = data
    for part in loc:
        inside_mapping = isinstance(node, dict) and isinstance(part, str) and part in node
        inside_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if inside_mapping or inside_list:
            node = node[part]
            path.append(part)
    return tuple(path)


def _without_invalid(
    data: dict[str, Any], first: ValidationError
) -> tuple[schema.DefinitionModel, set[str]] | None:
    """The definition with every part that breaks its schema removed, and the names of the items
    removed, so its other problems can be checked too; None when what is left is no definition."""
    pruned = copy.deepcopy(data)
    names: set[str] = set()
    error = first
    for _round in range(12):
        paths = {_existing(pruned, [p for p in e["loc"] if isinstance(p, str | int)]) for e in error.errors()}
        if () in paths:
            return None
        for path in sorted(paths, key=lambda p: [str(part).zfill(9) for part in p], reverse=True):
            parent: Any = pruned
            for part in path[:-1]:
                parent = parent[part]
            del parent[path[-1]]
            if len(path) >= 2 and path[-2] in NAMED and isinstance(path[-1], str):
                names.add(path[-1])
        try:
            return schema.DefinitionModel.model_validate(pruned), names
        except ValidationError as again:
            error = again
    return None


def _follows_from(problem: str, names: set[str]) -> bool:
    """Whether a structural problem only names an item removed for its schema problems."""
    return any(
        re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", problem.split(": ", 1)[-1]) for name in names
    )


def _finish(raw: _Raw, source: str, templates: TemplateCheck | None = None) -> Definition:
    try:
        model = schema.DefinitionModel.model_validate(raw.data)
    except ValidationError as exc:
        problems = _pydantic_problems(raw, exc)
        rest = _without_invalid(raw.data, exc)
        if rest is not None:  # report the structural problems of the rest as well (all at once)
            pruned, names = rest
            problems += [p for p in _Checker(pruned, raw, templates).run() if not _follows_from(p, names)]
        raise DefinitionError(problems) from exc
    if model.templates_dir is not None and templates is not None:
        folder = _Checker(model, raw).templates_dir()
        if folder is not None and not folder.is_dir():
            raise DefinitionError(
                [f"{raw.where(('templates_dir',))}: templates_dir {folder} is not a folder"]
            )
    problems = _Checker(model, raw, templates).run()
    if problems:
        raise DefinitionError(problems)
    resolved = {key: value for key, value in raw.data.items() if key != "extends"}
    text = canonical_json(resolved)
    return _build(model, hashlib.sha256(text.encode()).hexdigest(), source)


def resolved_json(definition_source: Mapping[str, Any]) -> str:
    """The resolved document as JSON in its written order (states, events and enum values keep their order)."""

    def default(value: object) -> str:
        if isinstance(value, dt.date | dt.time):
            return value.isoformat()
        raise TypeError(f"cannot serialise {type(value).__name__} in a definition")

    body = {key: value for key, value in definition_source.items() if key != "extends"}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), default=default)


def load_paths(
    paths: Iterable[Path], *, base: Iterable[LoadedDefinition] = (), templates: TemplateCheck | None = None
) -> list[LoadedDefinition]:
    """Load every definition file under ``paths``; ``extends`` may point to ``base`` or to each other.

    ``templates(name, templates_dir)`` says whether a mail template exists; the engine passes
    the notification catalogue's answer so that an unknown template is a load-time error.

    Raises:
        DefinitionError: with every problem found, each as ``file:line: message``.
    """
    raws: dict[tuple[str, int], _Raw] = {}
    problems: list[str] = []
    for file in _files(paths):
        try:
            raw = _parse_yaml(file.read_text(encoding="utf-8"), str(file))
        except OSError as exc:
            problems.append(f"{file}:1: cannot read the file: {exc.strerror}")
            continue
        except UnicodeDecodeError:
            problems.append(f"{file}:1: the file is not UTF-8 text")
            continue
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        name, version = raw.data.get("name"), raw.data.get("version")
        if not isinstance(name, str) or not isinstance(version, int):
            problems.append(
                f"{raw.where(())}: a definition needs 'name' (text) and 'version' (a whole number)"
            )
            continue
        if (name, version) in raws:
            problems.append(
                f"{raw.where(('version',))}: {name} version {version} is also defined in {raws[(name, version)].origin}"
            )
            continue
        raws[(name, version)] = raw
    base_raw = {
        (b.definition.name, b.definition.version): _Raw(
            data=json.loads(b.resolved), lines={}, origin=b.definition.source
        )
        for b in base
    }
    resolved: dict[tuple[str, int], _Raw] = {}
    cyclic: set[tuple[str, int]] = set()

    def resolve(key: tuple[str, int], chain: tuple[tuple[str, int], ...]) -> _Raw | None:
        if key in resolved:
            return resolved[key]
        raw = raws.get(key) or base_raw.get(key)
        if raw is None:
            return None
        parent_ref = raw.data.get("extends")
        if not isinstance(parent_ref, str) or key not in raws:
            resolved[key] = raw
            return raw
        parent_name, _, parent_version = parent_ref.partition("@")
        parent_key = (parent_name, int(parent_version)) if parent_version.isdigit() else (parent_name, -1)
        if parent_key in chain:
            cyclic.update(chain)
            problems.append(
                f"{raw.where(('extends',))}: 'extends' makes a cycle: {' → '.join(f'{n}@{v}' for n, v in (*chain, parent_key))}"
            )
            return None
        parent = resolve(parent_key, (*chain, parent_key))
        if parent is None and (parent_key in cyclic or parent_key in raws or parent_key in base_raw):
            return None  # the parent's own problem is reported already
        if parent is None:
            problems.append(
                f"{raw.where(('extends',))}: extends {parent_ref!r}, which is not a known definition"
            )
            return None
        merged = _merge(parent, raw)
        resolved[key] = merged
        return merged

    loaded: list[LoadedDefinition] = []
    for key, raw in raws.items():
        merged = resolve(key, (key,))
        if merged is None:
            continue
        try:
            definition = _finish(merged, raw.origin, templates)
        except DefinitionError as exc:
            problems.extend(exc.problems)
            continue
        loaded.append(LoadedDefinition(definition=definition, resolved=resolved_json(merged.data)))
    if problems:
        raise DefinitionError(dict.fromkeys(problems))
    return sorted(loaded, key=lambda item: (item.definition.name, item.definition.version))


_BUNDLED: dict[tuple[object, ...], list[LoadedDefinition]] = {}


def load_bundled(templates: TemplateCheck | None = None) -> list[LoadedDefinition]:
    """The definitions shipped with chengxin (``definitions/workflows``), read once per process
    for as long as the files stay unchanged."""
    key = (templates, *((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in _files([BUNDLED_DIR])))
    if key not in _BUNDLED:
        _BUNDLED[key] = load_paths([BUNDLED_DIR], templates=templates)
    return list(_BUNDLED[key])


def finish_resolved(resolved: str, source: str, templates: TemplateCheck | None = None) -> Definition:
    """The definition of a resolved text checked before (``LoadedDefinition.deferred``),
    validated and checked again in full.

    Raises:
        DefinitionError: it is no longer a valid definition.
    """
    return _finish(_Raw(data=json.loads(resolved), lines={}, origin=source), source, templates)


def from_resolved_json(text: str, source: str) -> LoadedDefinition:
    """Rebuild a definition from the resolved JSON stored with the records that use it.

    Raises:
        DefinitionError: the text is not a JSON object, or not a valid definition.
    """
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:  # not text, or not JSON
        raise DefinitionError([f"{source}:1: the stored text is not JSON: {exc}"]) from exc
    if not isinstance(data, dict):
        raise DefinitionError([f"{source}:1: the stored text is not a JSON object"])
    raw = _Raw(data=data, lines={}, origin=source)
    return LoadedDefinition(definition=_finish(raw, source), resolved=resolved_json(raw.data))


__all__ = [
    "BUNDLED_DIR",
    "DefinitionError",
    "LoadedDefinition",
    "TemplateCheck",
    "bundled_files",
    "canonical_json",
    "finish_resolved",
    "from_resolved_json",
    "load_bundled",
    "load_paths",
    "resolved_json",
    "resolved_sha256",
]
