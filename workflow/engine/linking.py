"""Linked cases: an event of one case that opens a case of another definition (``opens:``).

A founded complaint confirmed as a breach opens a dishonesty record; a broken public commitment
may do the same. What the new case carries over, which of its roles the person registers it in
and which of its events follow at once are data of the opening event (``definitions.model.
OpensSpec``). ``workflow.engine.commands`` writes both cases in one transaction; this module only
builds the commands: the link each side keeps (``workflow.core.values.Link``), the new case's
fields. It reads nothing and writes nothing.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from definitions.model import Definition, OpensSpec
from workflow.core.values import Actor, Command, Decision, Link
from workflow.engine.registry import Registry
from workflow.engine.writeset import as_date


def target_of(
    registry: Registry, opens: OpensSpec, data: Mapping[str, Any], payload: Mapping[str, Any]
) -> Definition:
    """The version of the definition to open that is in force on the date the new case will
    carry (its ``index.case_date`` field, from the case's fields or the event's payload); the
    newest when it carries none.

    Raises:
        DefinitionNotFound: no definition of that name is loaded.
    """
    newest = registry.select(opens.definition)
    source = opens.fields.get(newest.index.case_date or "")
    value = payload.get(source, data.get(source)) if source is not None else None
    return registry.select(opens.definition, as_date(value))


def with_opened(command: Command, target: Definition, case_id: str) -> Command:
    """The opening command, carrying the link to the case it opens."""
    link = Link(relation="opened", case=case_id, definition=target.key, event=command.event)
    return dataclasses.replace(command, links=(link,))


def opening_command(
    opens: OpensSpec,
    target: Definition,
    source: Definition,
    source_id: str,
    command: Command,
    decision: Decision,
) -> Command:
    """The command that creates the opened case: the carried fields (the opening case's fields as
    the event leaves them, the event's payload fields over them) and the fixed values, registered
    by the same person in ``opens.role``, linked back to the opening case."""
    values: dict[str, Any] = {**decision.data, **decision.payload}
    fields = {
        target_field: values[source_field]
        for target_field, source_field in opens.fields.items()
        if values.get(source_field) not in (None, "", [])
    }
    fields.update(opens.values)
    actor = Actor(id=command.actor.id, role=opens.role, unit=command.actor.unit)
    back = Link(relation="opened_by", case=source_id, definition=source.key, event=command.event)
    return Command(
        event=target.creation_event().name,
        actor=actor,
        payload=fields,
        comment=command.comment,
        links=(back,),
    )


def then(opens: OpensSpec, opening: Command) -> list[Command]:
    """The events fired on the opened case at once, by the person who opened it."""
    return [Command(event=event, actor=opening.actor) for event in opens.then]
