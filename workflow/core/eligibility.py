"""Whether a subject may be honoured, rated 优秀, funded or awarded a contract: sanctions that act.

A definition's ``sanction_effects`` say, as data, which sanction measure or record condition bars
which purpose (``purposes``), for how long and from what date. This module applies them to the
records of one subject on one date and answers each purpose: allowed, or barred until a date
(or for as long as the record stays as it is), with the rule and its legal basis. Pure: the
records, the definitions and the date are handed in; no I/O, no clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from definitions.model import Definition, SanctionEffect
from workflow.core.periods import period_end, resolve_period

MEASURES_FIELD = "sanction_measures"


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseFacts:
    """What the evaluation needs of one record: its tracks (the main one included) and fields."""

    record_id: str
    definition: Definition
    tracks: Mapping[str, str]  # track -> state, the main track under its own name
    data: Mapping[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Bar:
    """One rule of one record that bars a purpose on the date asked about."""

    record_id: str
    definition: str  # name@version
    effect: str
    label: str
    purpose: str
    since: dt.date | None  # the date the period is counted from, if it has one
    until: dt.date | None  # the last day barred; None: for as long as the record stays as it is
    legal_basis: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "record_id": self.record_id,
            "definition": self.definition,
            "rule": self.effect,
            "label": self.label,
            "purpose": self.purpose,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "legal_basis": self.legal_basis,
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer:
    """The answer for one purpose: allowed, or barred until ``until`` (None: open-ended)."""

    purpose: str
    label: str
    allowed: bool
    until: dt.date | None
    bars: tuple[Bar, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "label": self.label,
            "allowed": self.allowed,
            "barred_until": None if self.allowed or self.until is None else self.until.isoformat(),
            "reasons": [bar.as_dict() for bar in self.bars],
        }


def _holds(effect: SanctionEffect, case: CaseFacts) -> bool:
    for track, states in effect.while_.items():
        if case.tracks.get(track) not in states:
            return False
    for field, values in effect.record.items():
        if case.data.get(field) not in values:
            return False
    if effect.measure is not None:
        measures = case.data.get(MEASURES_FIELD)
        if not isinstance(measures, list) or effect.measure not in measures:
            return False
    return True


def _anchor(effect: SanctionEffect, data: Mapping[str, Any]) -> dt.date | None:
    for field in effect.anchor:
        value = data.get(field)
        if isinstance(value, str) and value:
            return dt.date.fromisoformat(value)
    return None


def bars_of(case: CaseFacts, as_of: dt.date, *, include_ended: bool = False) -> list[Bar]:
    """The bars the record's definition puts on its subject on ``as_of`` (with ``include_ended``
    also those whose period ran out before it: an archive shows every impact period)."""
    found = []
    definition = case.definition
    for effect in definition.sanction_effects.values():
        if not _holds(effect, case):
            continue
        since = _anchor(effect, case.data)
        until: dt.date | None = None
        if effect.period is not None:
            period = resolve_period(definition, effect.period, case.data)
            if period is None or since is None:
                continue  # the period cannot apply to this record (no value, no date)
            until = period_end(since, period)
            if until < as_of and not include_ended:
                continue  # the bar has run its course
        if effect.through_year_end:
            year_end = dt.date(as_of.year, 12, 31)
            until = year_end if until is None else max(until, year_end)
        for purpose in effect.bars:
            found.append(
                Bar(
                    record_id=case.record_id,
                    definition=definition.key,
                    effect=effect.name,
                    label=effect.label,
                    purpose=purpose,
                    since=since,
                    until=until,
                    legal_basis=effect.legal_basis,
                )
            )
    return found


def answer(purposes: Mapping[str, str], bars: Iterable[Bar]) -> list[Answer]:
    """One answer per purpose (code -> label), in the order given.

    A purpose barred by several rules is barred until the last of them ends; one open-ended bar
    (for as long as a record stays as it is) makes the answer open-ended.
    """
    by_purpose: dict[str, list[Bar]] = {}
    for bar in bars:
        by_purpose.setdefault(bar.purpose, []).append(bar)
    answers = []
    for purpose, label in purposes.items():
        found = tuple(by_purpose.get(purpose, ()))
        until = None
        if found and all(bar.until is not None for bar in found):
            until = max(bar.until for bar in found if bar.until is not None)
        answers.append(Answer(purpose=purpose, label=label, allowed=not found, until=until, bars=found))
    return answers


def known_purposes(definitions: Sequence[Definition]) -> dict[str, str]:
    """Every purpose the definitions declare (code -> label), first declaration first."""
    found: dict[str, str] = {}
    for definition in definitions:
        for name, purpose in definition.purposes.items():
            found.setdefault(name, purpose.label)
    return found
