"""The engine's reference data: the unit directory mail is addressed from, and the holiday
tables deadlines are counted on (loading a year recomputes the deadlines it affects)."""

from __future__ import annotations

import builtins
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from email.headerregistry import Address
from pathlib import Path
from typing import Any

from definitions.holidays import HolidayTable, load_holiday_table
from definitions.jurisdictions import load_jurisdictions
from definitions.model import Definition
from storage.store import Store
from storage.values import StoredHolidayTable, UnitRow
from workflow.core.calendar import WorkingCalendar
from workflow.core.deadline_plan import recomputed
from workflow.core.fields import UNIT_CODE
from workflow.core.values import RECOMPUTED_EVENT, Command
from workflow.engine import inputs
from workflow.engine.clock import Clock
from workflow.engine.commands import SYSTEM, Commands
from workflow.engine.registry import Registry
from workflow.engine.wrapping import public
from workflow.engine.writeset import open_deadline
from workflow.errors import PayloadInvalid

SUPERIOR_FIELD = "superior_unit"  # the field an overdue case escalates to
NAME, CONTACT, EMAIL = 200, 100, 254  # the widths of a unit's name and contact, an address's length


def _unit(unit: Mapping[str, Any]) -> UnitRow:
    """A unit as given (code, name, superior, emails as a list or comma-separated, contact,
    jurisdiction and level), checked.

    Raises:
        PayloadInvalid: a code, a superior's code, an address, a name, a contact, a jurisdiction
            or a level is not valid.
    """
    code = str(unit.get("code", "")).strip()
    if not UNIT_CODE.match(code):
        raise PayloadInvalid(
            "unit", "code", f"{code!r} is not a unit code (1–64 letters, digits, '.', '-', '_')"
        )
    raw = unit.get("emails") or []
    emails = [e.strip() for e in (raw.split(",") if isinstance(raw, str) else raw) if str(e).strip()]
    for email in emails:
        try:
            Address(addr_spec=email)
        except (ValueError, IndexError):
            raise PayloadInvalid("unit", "emails", f"{email!r} is not an email address") from None
        if "@" not in email or len(email) > EMAIL:
            raise PayloadInvalid("unit", "emails", f"{email!r} is not an email address")
    superior = str(unit["superior"]).strip() if unit.get("superior") else None
    if superior is not None and not UNIT_CODE.match(superior):
        raise PayloadInvalid(
            "unit", "superior", f"{superior!r} is not a unit code (1–64 letters, digits, '.', '-', '_')"
        )
    places = load_jurisdictions()
    jurisdiction = str(unit["jurisdiction"]).strip() if unit.get("jurisdiction") else None
    if jurisdiction is not None and jurisdiction not in places.by_key:
        raise PayloadInvalid(
            "unit",
            "jurisdiction",
            f"{jurisdiction!r} 不是辖区 (no such jurisdiction); allowed: {places.allowed()}",
        )
    level = str(unit["level"]).strip() if unit.get("level") else None
    if level is not None and level not in places.levels:
        raise PayloadInvalid(
            "unit", "level", f"{level!r} 不是单位层级 (no such level); allowed: {', '.join(places.levels)}"
        )
    row = UnitRow(
        code=code,
        jurisdiction=jurisdiction,
        level=level,
        name=str(unit.get("name") or code).strip(),
        superior=superior,
        emails=emails,
        contact=str(unit["contact"]).strip() if unit.get("contact") else None,
    )
    for name, value, limit in (("name", row.name, NAME), ("contact", row.contact or "", CONTACT)):
        if len(value) > limit:
            raise PayloadInvalid("unit", name, f"at most {limit} characters, got {len(value)}")
    return row


def superior_by_level(unit: UnitRow, units: Sequence[UnitRow]) -> str | None:
    """The unit of ``unit``'s jurisdiction at the nearest level above it that has exactly one
    unit: a department of a district with one district government goes to it; a department
    among several districts is a city department and goes to the city. None when no level
    above has exactly one unit (the directory must then name the superior)."""
    levels = load_jurisdictions().levels
    if unit.jurisdiction is None or unit.level is None or unit.level not in levels:
        return None
    rank = levels[unit.level].rank
    ranks = {
        u.code: levels[u.level].rank
        for u in units
        if u.jurisdiction == unit.jurisdiction and u.level is not None and u.level in levels
    }
    for wanted in sorted({r for r in ranks.values() if r < rank}, reverse=True):
        found = [code for code, r in ranks.items() if r == wanted]
        if len(found) == 1:
            return found[0]
    return None


class Units:
    """The unit directory: who a unit is, who is above it, where its mail goes."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    @public
    def save(self, units: Sequence[Mapping[str, Any]]) -> int:
        """Add or replace units, all or none. Each: ``code``, ``name``, optional ``superior``
        (a unit code), ``emails`` (a list or a comma-separated text), ``contact``,
        ``jurisdiction`` (a key of ``definitions/jurisdictions.yaml``) and ``level``.

        Raises:
            ArgumentInvalid: not a list of mappings of text.
            PayloadInvalid: a code, a name or an address is not valid.
        """
        checked = inputs.units(units)
        return self._store.directory.save_units([_unit(u) for u in checked], self._clock.now())

    def with_superior(self, definition: Definition, fields: Mapping[str, Any]) -> Mapping[str, Any]:
        """``fields`` with ``superior_unit`` filled in when the case names none and its responsible
        unit (the field the definition indexes as such) has a superior: the directory's, else the
        one at the level above (``superior_of``), so an overdue case escalates to it.

        The engine calls it before the decision, so the filled-in unit is in the creation event's
        payload: the stored history holds it and replay and verification see what was decided."""
        responsible = definition.index.responsible_unit
        if SUPERIOR_FIELD not in definition.fields or fields.get(SUPERIOR_FIELD) or responsible is None:
            return fields
        unit = fields.get(responsible)
        if not isinstance(unit, str) or not UNIT_CODE.match(unit) or self.get(unit) is None:
            return fields
        superior = self.superior_of(unit)
        return fields if superior is None else {**fields, SUPERIOR_FIELD: superior}

    def check_recipients(self, definition: Definition, fields: Mapping[str, Any]) -> None:
        """Refuse a case whose responsible unit the unit directory does not know.

        The rule: once the unit directory is in use (it holds at least one unit), the field the
        definition indexes as the responsible unit (the unit that owes the case answers and gets
        its deadline notices) must name a unit of the directory. With an empty directory — a
        first try, a drill — any code is accepted. Mail to a unit the directory does not know
        (or that has no address) is held with the reason (dead-lettered, so ``outbox retry`` sends
        it once the unit is added): it is never "sent" to a made-up address.

        Raises:
            PayloadInvalid: the responsible unit is not in the directory.
        """
        field = definition.index.responsible_unit
        value = fields.get(field) if field else None
        wanted = {field: value.strip()} if field and isinstance(value, str) and value.strip() else {}
        if not wanted or not self._store.directory.has_units():
            return
        known = self._store.directory.units_by_code(wanted.values())
        unknown = {name: code for name, code in wanted.items() if code not in known}
        if unknown:
            codes = list(dict.fromkeys(unknown.values()))
            raise PayloadInvalid(
                "register",
                ", ".join(unknown),
                f"单位 {', '.join(codes)} 不在单位目录中 (not in the unit directory): 查看 see 'chengxin unit list'，"
                f"或添加 or add: "
                + "; ".join(f"'chengxin unit add {code} --name … --email …'" for code in codes),
            )

    @public
    def check(self, unit: Mapping[str, Any]) -> None:
        """Check one unit as ``save`` would, without saving (an importer names the row at fault).

        Raises:
            ArgumentInvalid: not a mapping of text.
            PayloadInvalid: a code, a name or an address is not valid.
        """
        _unit(inputs.units([unit])[0])

    @public
    def get(self, code: str) -> UnitRow | None:
        """The unit of ``code``, or None.

        Raises:
            ArgumentInvalid: ``code`` is not a code's text.
        """
        return self._store.directory.unit(inputs.code("code", code))

    @public
    def list(self, jurisdiction: str | None = None) -> builtins.list[UnitRow]:
        """Every unit, or those of one jurisdiction.

        Raises:
            ArgumentInvalid: ``jurisdiction`` is not a code's text.
        """
        units = self._store.directory.units()
        if jurisdiction is None:
            return units
        wanted = inputs.code("jurisdiction", jurisdiction)
        return [u for u in units if u.jurisdiction == wanted]

    @public
    def superior_of(self, code: str, known: str | None = None) -> str | None:
        """Where a unit's escalation and aggregation go: ``known`` (a superior the case names),
        else the directory's superior, else the one unit of its jurisdiction at the level
        above (a department or township of a district goes to the district; a district, or a
        department of a city, to the city), else None.

        Raises:
            ArgumentInvalid: ``code`` is not a code's text.
        """
        if known:
            return known
        unit = self.get(code)
        if unit is None:
            return None
        if unit.superior:
            return unit.superior
        return superior_by_level(unit, self._store.directory.units())

    @public
    def by_code(self, codes: Iterable[str]) -> dict[str, UnitRow]:
        """The units of ``codes`` that exist, by code.

        Raises:
            ArgumentInvalid: ``codes`` is not a list of codes' text.
        """
        return self._store.directory.units_by_code(inputs.codes("codes", codes))


class Calendars:
    """The holiday tables in force, and what loading a new one changes."""

    def __init__(self, commands: Commands, registry: Registry) -> None:
        self._commands = commands
        self._registry = registry

    @public
    def load_holiday_table(
        self, path: Path
    ) -> tuple[HolidayTable, builtins.list[tuple[str, str, dt.datetime, dt.datetime]]]:
        """Load a year's holiday arrangement as data and recompute every provisional deadline it affects.

        Returns the table and (record id, deadline, old due, new due) for every deadline moved.

        Raises:
            HolidayTableInvalid: the file is not a valid holiday table.
            ArgumentInvalid: ``path`` is not a path.
        """
        path = Path(inputs.path("path", path))
        table = load_holiday_table(path)
        self._commands.store.directory.save_holiday_table(
            StoredHolidayTable(
                year=table.year,
                provisional=table.provisional,
                source=table.source,
                body=path.read_text(encoding="utf-8"),
            ),
            self._commands.clock.now(),
        )
        self._registry.add_tables([table])
        return table, self.recompute_provisional()

    @public
    def recompute_provisional(self) -> list[tuple[str, str, dt.datetime, dt.datetime]]:
        """Recompute deadlines computed on provisional calendar data — paused ones too, which stay
        paused with what is left counted again; each change is a history event."""
        store = self._commands.store
        moved = []
        for row in store.records.provisional_deadlines():
            record = store.records.get(row.record_id)
            if record is None:
                continue
            definition = self._registry.get(record.definition_name, record.definition_version)
            if row.name not in definition.deadlines or "count" not in row.basis:
                continue
            again = recomputed(definition, self._registry.calendar(definition), open_deadline(row))
            if (again.due_at, again.provisional, again.remaining) == (
                row.due_at,
                row.provisional,
                row.remaining if row.status == "paused" else None,
            ):
                continue
            self._commands.apply(
                row.record_id, Command(event=RECOMPUTED_EVENT, actor=SYSTEM, deadline=row.name)
            )
            moved.append((row.record_id, row.name, row.due_at, again.due_at or row.due_at))
        return moved

    def working_calendar(self, definition: str | None = None) -> WorkingCalendar:
        """The working days under the holiday tables in force: of one definition (its local days
        off included) when named, else the common calendar every definition starts from.

        Raises:
            DefinitionNotFound: no definition of that name.
            ArgumentInvalid: ``definition`` is not a name's text.
        """
        if definition is None:
            return self._registry.base_calendar()
        return self._registry.calendar(self._registry.select(inputs.code("definition", definition)))
