"""Credit checks (信用核查) and the civil-servant integrity archive (公务员诚信档案): reads that log.

An embedding service — an appraisal office, an honours committee, a funding office, a
procurement platform — asks whether a subject may be rated 优秀, honoured, funded or awarded a
contract. The answer comes from the indexed ``subject_code`` / ``subject_key`` columns and the
record definitions' ``sanction_effects`` (``workflow.core.eligibility``). Every check and every
archive read is written to the query log (who, when, why, which subject — a person only by masked
ID number) and committed before the answer is returned. Nothing else is written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from definitions.model import Definition
from notifications.privacy import mask_id_number
from storage.store import Store
from storage.values import StoredRecord
from workflow.core.eligibility import Answer, Bar, CaseFacts, answer, bars_of, known_purposes
from workflow.core.values import Actor
from workflow.engine import inputs
from workflow.engine.clock import Clock
from workflow.engine.registry import Registry
from workflow.errors import ArgumentInvalid

BATCH = 1000  # subjects in one batch credit check
PER_SUBJECT = 1000  # records of one subject a check reads
REASON = 500  # characters of a stated reason
ACTIVE_SANCTIONS = ("in_force", "mitigated")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """A subject as asked: an organisation by its code, a person by the keyed digest of the ID."""

    shown: str  # the code, or the masked ID number
    person: bool
    code: str | None = None
    key: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubjectStatus:
    """The credit-check answer for one subject on one date."""

    subject: str  # the code, or the masked ID number
    person: bool
    as_of: dt.date
    active_records: tuple[dict[str, Any], ...]
    sanctions: tuple[dict[str, Any], ...]
    pending_objections: tuple[str, ...]
    answers: tuple[Answer, ...]

    def answer(self, purpose: str) -> Answer:
        return next(a for a in self.answers if a.purpose == purpose)

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "person": self.person,
            "as_of": self.as_of.isoformat(),
            "active_records": list(self.active_records),
            "sanctions": list(self.sanctions),
            "pending_objections": list(self.pending_objections),
            "purposes": [a.as_dict() for a in self.answers],
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class IntegrityArchive:
    """A civil servant's integrity archive (公务员诚信档案): what the engine holds about one person."""

    person: str  # masked ID number
    names: tuple[str, ...]
    employers: tuple[str, ...]
    as_of: dt.date
    records: tuple[dict[str, Any], ...]
    sanctions: tuple[dict[str, Any], ...]
    impact_periods: tuple[dict[str, Any], ...]
    commitments: tuple[dict[str, Any], ...]
    appraisal: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "person": self.person,
            "names": list(self.names),
            "employers": list(self.employers),
            "as_of": self.as_of.isoformat(),
            "records": list(self.records),
            "sanctions": list(self.sanctions),
            "impact_periods": list(self.impact_periods),
            "commitments": list(self.commitments),
            "appraisal": self.appraisal,
        }


class Credit:
    """Credit checks and archives over one store; the facade ``Engine`` hands them out."""

    def __init__(self, store: Store, registry: Registry, clock: Clock, subject_key: Any) -> None:
        self.store, self.registry, self.clock, self._key = store, registry, clock, subject_key
        self._known: tuple[tuple[int, ...], dict[str, str]] | None = None

    # ------------------------------------------------------------------ arguments

    def subject(self, value: object) -> Subject:
        """An organisation's unified social credit code or a person's resident ID number.

        Raises:
            ArgumentInvalid: neither.
        """
        text = inputs.text("subject", value, limit=inputs.CODE, empty=False).strip().upper()
        try:
            code = str(uscc.validate(text))
        except StdnumError:
            pass
        else:
            return Subject(shown=code, person=False, code=code)
        try:
            number = str(ric.validate(text))
        except StdnumError:
            raise ArgumentInvalid(
                "subject",
                "不是有效的统一社会信用代码或身份证号码 (not a valid unified social credit code or resident ID number)",
            ) from None
        return Subject(shown=mask_id_number(number), person=True, key=self._key(number))

    def as_of(self, value: object) -> dt.date:
        """The date asked about (a local date in Asia/Shanghai); today when None."""
        if value is None:
            return self.clock.now().astimezone(SHANGHAI).date()
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise ArgumentInvalid("as_of", "需要带时区的时间或日期 (a naive datetime)")
            return value.astimezone(SHANGHAI).date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise ArgumentInvalid("as_of", f"需要日期 YYYY-MM-DD (expected a date), got {str(value)[:40]!r}")

    def known(self) -> dict[str, str]:
        """Every purpose the record definitions declare, worked out again only when the loaded
        definitions change (a credit check asks for them every time)."""
        key = tuple(map(id, self.registry.loaded.values()))
        if self._known is None or self._known[0] != key:
            self._known = (key, known_purposes(self.registry.of_kind("record")))
        return self._known[1]

    def purposes(self, value: object) -> dict[str, str]:
        known = self.known()
        if value is None:
            return dict(known)
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not items:
            raise ArgumentInvalid("purposes", "需要用途列表 (expected a list of purposes)")
        chosen: dict[str, str] = {}
        for item in items:
            name = inputs.text("purposes", item, limit=inputs.CODE, empty=False).strip()
            if name not in known:
                raise ArgumentInvalid(
                    "purposes", f"未知用途 unknown purpose {name!r}; purposes: {', '.join(known)}"
                )
            chosen[name] = known[name]
        return chosen

    # ---------------------------------------------------------------------- check

    def status(
        self, subjects: Sequence[object], *, as_of: object, purposes: object, actor: Actor, reason: object
    ) -> list[SubjectStatus]:
        answers, _logged = self.status_logged_later(
            subjects, as_of=as_of, purposes=purposes, actor=actor, reason=reason, later=False
        )
        return answers

    def status_logged_later(
        self,
        subjects: Sequence[object],
        *,
        as_of: object,
        purposes: object,
        actor: Actor,
        reason: object,
        later: bool = True,
    ) -> tuple[list[SubjectStatus], Future[None] | None]:
        """``status``; with ``later`` its query-log rows are queued, not awaited: the future
        completes when they are committed (the answers must not leave before)."""
        actor = inputs.actor(actor)
        why = inputs.text("reason", reason, limit=REASON, empty=False).strip()
        if not why:
            raise ArgumentInvalid("reason", "需要说明核查理由 (a reason is required)")
        if not isinstance(subjects, list | tuple) or not subjects:
            raise ArgumentInvalid("subjects", "需要至少一个主体 (expected at least one subject)")
        if len(subjects) > BATCH:
            raise ArgumentInvalid(
                "subjects", f"一次最多核查 {BATCH} 个主体 (at most {BATCH}), got {len(subjects)}"
            )
        asked = [self.subject(s) for s in subjects]
        day = self.as_of(as_of)
        wanted = self.purposes(purposes)
        rows = self.store.records.of_subjects(
            codes=[s.code for s in asked if s.code],
            keys=[s.key for s in asked if s.key],
            kind="record",
            limit=PER_SUBJECT * len(asked),
        )
        by_code: dict[str, list[StoredRecord]] = {}
        by_key: dict[str, list[StoredRecord]] = {}
        for row in rows:
            if row.subject_code:
                by_code.setdefault(row.subject_code, []).append(row)
            if row.subject_key:
                by_key.setdefault(row.subject_key, []).append(row)
        answers = []
        for s in asked:
            mine = by_key.get(s.key or "", []) if s.person else by_code.get(s.code or "", [])
            answers.append(self._status(s, mine, day, wanted))
        logged = self.store.directory.log_subject_queries(
            at=self.clock.now(),
            requester=_who(actor),
            purpose=",".join(wanted)[: inputs.NAME],
            reason=why,
            kind="check",
            subjects=[(a.subject, len(a.active_records)) for a in answers],
            later=later,
        )
        return answers, logged

    def _facts(self, row: StoredRecord) -> CaseFacts:
        definition = self.registry.get(row.definition_name, row.definition_version)
        return CaseFacts(
            record_id=row.id,
            definition=definition,
            tracks={**row.tracks, definition.main_track: row.state},
            data=row.data,
        )

    def _status(
        self, subject: Subject, rows: Sequence[StoredRecord], day: dt.date, wanted: Mapping[str, str]
    ) -> SubjectStatus:
        bars: list[Bar] = []
        active, sanctions, pending = [], [], []
        for row in rows:
            facts = self._facts(row)
            found = bars_of(facts, day)
            bars.extend(found)
            if row.active:
                active.append(_brief(facts))
            if row.tracks.get("objection") == "pending":
                pending.append(row.id)
            if row.active and row.tracks.get("sanctions") in ACTIVE_SANCTIONS:
                sanctions.append(_sanction(facts, found))
        return SubjectStatus(
            subject=subject.shown,
            person=subject.person,
            as_of=day,
            active_records=tuple(active),
            sanctions=tuple(sanctions),
            pending_objections=tuple(pending),
            answers=tuple(answer(wanted, bars)),
        )

    def log_read(self, row: StoredRecord, *, reader: Actor, reason: object) -> None:
        """Log a read of a natural person's record (kind ``read``), by the masked ID number."""
        reader = inputs.actor(reader, "reader")
        why = inputs.text("reason", reason, limit=REASON, empty=False).strip()
        if not why:
            raise ArgumentInvalid("reason", "需要说明查阅理由 (a reason is required)")
        shown = row.data.get("subject_id_number")
        self.store.directory.log_subject_query(
            at=self.clock.now(),
            requester=_who(reader),
            purpose=f"record {row.id}"[: inputs.NAME],
            subject=shown if isinstance(shown, str) and shown else "masked",
            matches=1,
            reason=why,
            kind="read",
        )

    # -------------------------------------------------------------------- archive

    def archive(self, id_number: object, *, as_of: object, actor: Actor, reason: object) -> IntegrityArchive:
        actor = inputs.actor(actor)
        why = inputs.text("reason", reason, limit=REASON, empty=False).strip()
        if not why:
            raise ArgumentInvalid("reason", "需要说明查阅理由 (a reason is required)")
        subject = self.subject(id_number)
        if not subject.person:
            raise ArgumentInvalid(
                "id_number", "诚信档案按身份证号码查阅 (an archive is looked up by ID number)"
            )
        day = self.as_of(as_of)
        rows = self.store.records.of_subjects(keys=[subject.key or ""], limit=PER_SUBJECT)
        records, sanctions, periods, commitments = [], [], [], []
        names: dict[str, None] = {}
        employers: dict[str, None] = {}
        appraisal_bars: list[Bar] = []
        for row in rows:
            facts = self._facts(row)
            if row.subject_name:
                names[row.subject_name] = None
            if isinstance(row.data.get("employer"), str):
                employers[row.data["employer"]] = None
            if row.kind != "record":
                commitments.append({**_brief(facts), "kind": row.kind})
                continue
            records.append(_brief(facts))
            every = bars_of(facts, day, include_ended=True)
            if row.data.get("sanction_measures") or row.tracks.get("sanctions") not in (None, "in_force"):
                sanctions.append(_sanction(facts, [b for b in every if b.until is None or b.until >= day]))
            for bar in every:
                if "disciplinary_sanction" in facts.definition.sanction_effects.get(bar.effect, _NO).record:
                    periods.append(
                        {
                            "record_id": row.id,
                            "sanction": row.data.get("disciplinary_sanction"),
                            "sanction_label": _label(facts.definition, "disciplinary_sanction", row.data),
                            "since": bar.since.isoformat() if bar.since else None,
                            "until": bar.until.isoformat() if bar.until else None,
                            "running": bar.since is not None
                            and bar.until is not None
                            and bar.since <= day <= bar.until,
                            "legal_basis": bar.legal_basis,
                        }
                    )
            appraisal_bars.extend(b for b in bars_of(facts, day) if b.purpose == "annual_appraisal")
        (excellent,) = answer({"annual_appraisal": "年度考核确定为优秀等次"}, appraisal_bars)
        self.store.directory.log_subject_query(
            at=self.clock.now(),
            requester=_who(actor),
            purpose="integrity_archive",
            subject=subject.shown,
            matches=len(rows),
            reason=why,
            kind="archive",
        )
        return IntegrityArchive(
            person=subject.shown,
            names=tuple(names),
            employers=tuple(employers),
            as_of=day,
            records=tuple(records),
            sanctions=tuple(sanctions),
            impact_periods=tuple(_unique(periods)),
            commitments=tuple(commitments),
            appraisal={"year": day.year, **excellent.as_dict()},
        )


class _NoEffect:
    record: Mapping[str, Any] = {}


_NO = _NoEffect()


def _who(actor: Actor) -> str:
    return f"{actor.id} ({actor.role}, {actor.unit})"[:128]


def _label(definition: Definition, name: str, data: Mapping[str, Any]) -> str:
    value = data.get(name)
    spec = definition.fields.get(name)
    if value is None or spec is None or spec.enum is None:
        return "" if value is None else str(value)
    return definition.enums[spec.enum].label_of(str(value))


def _brief(facts: CaseFacts) -> dict[str, Any]:
    d, data = facts.definition, facts.data
    return {
        "record_id": facts.record_id,
        "definition": d.key,
        "state": facts.tracks.get(d.main_track),
        "state_label": d.label_of(d.main_track, facts.tracks.get(d.main_track)),
        "subject_name": data.get("subject_name"),
        "source_type": data.get("source_type"),
        "source_type_label": _label(d, "source_type", data),
        "document_number": data.get("document_number"),
        "finding_date": data.get("finding_date"),
        "severity": data.get("severity"),
        "severity_label": _label(d, "severity", data),
        "objection_pending": facts.tracks.get("objection") == "pending",
        "legal_basis": d.legal_basis,
    }


def _sanction(facts: CaseFacts, bars: Sequence[Bar]) -> dict[str, Any]:
    d, data = facts.definition, facts.data
    enum = d.enums.get("sanction_measure")
    measures = data.get("sanction_measures") or []
    return {
        "record_id": facts.record_id,
        "state": facts.tracks.get("sanctions"),
        "state_label": d.label_of("sanctions", facts.tracks.get("sanctions")),
        "measures": [{"code": m, "label": enum.label_of(m) if enum else m} for m in measures],
        "decided_on": data.get("sanction_date"),
        "bars": [b.as_dict() for b in bars],
        "ends": _ends(bars),
    }


def _ends(bars: Sequence[Bar]) -> str | None:
    if not bars or any(b.until is None for b in bars):
        return None
    return max(b.until for b in bars if b.until is not None).isoformat()


def _unique(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen, out = set(), []
    for item in items:
        key = (item["record_id"], item["since"], item["until"])
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out
