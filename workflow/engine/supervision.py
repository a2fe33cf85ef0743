"""What the scheduler needs to open supervision rounds: which units have open cases, how many of
their cases are in a state, and how far each schedule got (kept in the database)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from storage.store import Store
from workflow.engine.registry import Registry
from workflow.engine.wrapping import public


class Supervision:
    """Counts and progress marks for supervision rounds, read through the engine."""

    def __init__(self, store: Store, registry: Registry) -> None:
        self._store = store
        self._registry = registry

    @public
    def definitions_in_use(self) -> dict[str, tuple[int, dt.datetime]]:
        """Per definition name: the newest version cases use, and when the name was first used."""
        return self._store.directory.definitions_in_use()

    @public
    def units_with_open_cases(
        self, definition: str, *, exclude_states: Sequence[str] = ()
    ) -> list[tuple[str, str | None]]:
        """(responsible unit, its superior) of every unit with a case of ``definition`` not in ``exclude_states``."""
        return self._store.records.units_with_open_cases(definition, exclude_states=exclude_states)

    @public
    def count_for_unit(
        self,
        *,
        definition: str,
        unit: str,
        active: bool | None = None,
        state: tuple[str, str] | None = None,
        exclude_states: Sequence[str] = (),
        sample: int = 50,
    ) -> tuple[int, list[str]]:
        """How many of a unit's cases of ``definition`` match (``state`` is a (track, state) of it),
        and up to ``sample`` of their ids."""
        main_state = track_state = None
        if state is not None:
            track, name = state
            if track == self._registry.select(definition).main_track:
                main_state = name
            else:
                track_state = state
        return self._store.records.count_for_unit(
            definition_name=definition,
            unit=unit,
            active=active,
            main_state=main_state,
            track_state=track_state,
            exclude_states=exclude_states,
            sample=sample,
        )

    @public
    def progress(self, key: str) -> str | None:
        """A mark of how far a recurring job got (a schedule's last period), kept in the database."""
        return self._store.meta().get(key)

    @public
    def advance_progress(self, key: str, value: str) -> str:
        """Move a progress mark forward (ISO times compare as text); returns the mark kept."""
        return self._store.advance_meta(key, value)
