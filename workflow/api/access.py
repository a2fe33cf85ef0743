"""Who may do what over HTTP: a token's role opens route groups, its unit scopes the cases.

A request carries ``Authorization: Bearer cx_…``; the engine checks the token
(``Engine.tokens.authenticate``) and the caller becomes a ``Caller``: a person, a role, a unit,
and the units it sees — its own and every unit below it in the unit directory. The rules:

- route groups: each route belongs to one group (``records:read``, ``records:write``,
  ``catalog:read``, ``outbox:read``, ``credit:read``); ``GROUPS`` says which roles open which.
  A ``service`` token (an embedding service asking credit checks) opens ``credit:read`` only;
  an ``auditor`` reads everything and changes nothing. Adding a group of routes is one entry
  here and one ``Depends(allowed("…"))`` on its router.
- visibility: a case is seen when its responsible or its originating unit is in the caller's
  scope; an auditor sees every case. The credit lead department (``verifier``) works for the
  government above it: its scope is the subtree of its superior unit.
- ownership of an event: the responsible unit (``subject``) files explanations, objections
  and repair applications on its own cases only; a ``reviewer`` decides only what its own unit
  found (谁认定、谁修复); a ``recorder`` acts on cases its unit (or one below it) found; a
  ``verifier`` and a ``superior`` act on cases in their scope. Whether the role may fire the
  event at all is the definition's rule, checked by the engine.

Nothing here decides a case: it only refuses a caller before the engine is asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request

from workflow import Actor, Engine, PermissionDenied, RecordView, Unauthenticated
from workflow.engine.tokens import ROLES, TokenInfo

GROUPS: Mapping[str, frozenset[str]] = {
    "records:read": frozenset({"recorder", "verifier", "subject", "reviewer", "superior", "auditor"}),
    "records:write": frozenset({"recorder", "verifier", "subject", "reviewer", "superior"}),
    "catalog:read": frozenset({"recorder", "verifier", "subject", "reviewer", "superior", "auditor"}),
    "outbox:read": frozenset({"verifier", "auditor"}),
    "credit:read": frozenset({"service", "verifier", "auditor"}),
}
"""Route group → the token roles that may call its routes."""

SEES_ALL = frozenset({"auditor"})
_UNKNOWN = object()  # a caller's scope not worked out yet


class Caller:
    """The holder of a checked token, and the units it sees (None: every unit).

    The scope is worked out from the unit directory when a route first asks for it (``load``):
    a credit check, which sees no case, does not read the directory on every request.
    """

    __slots__ = ("_load", "_scope", "token")

    def __init__(
        self,
        *,
        token: TokenInfo,
        scope: frozenset[str] | object | None = _UNKNOWN,
        load: Callable[[], frozenset[str] | None] | None = None,
    ) -> None:
        if scope is _UNKNOWN and load is None:
            raise TypeError("Caller needs its scope or a way to load it")
        self.token = token
        self._scope = scope
        self._load = load

    @property
    def scope(self) -> frozenset[str] | None:
        if self._scope is _UNKNOWN:
            assert self._load is not None
            self._scope = self._load()
        return self._scope  # type: ignore[return-value]

    @property
    def actor(self) -> Actor:
        return Actor(id=self.token.person, role=self.token.role, unit=self.token.unit)

    @property
    def role(self) -> str:
        return self.token.role

    @property
    def unit(self) -> str:
        return self.token.unit

    def sees_unit(self, unit: str | None) -> bool:
        return self.scope is None or (unit is not None and unit in self.scope)


def below(units: Iterable[Any], root: str) -> frozenset[str]:
    """``root`` and every unit under it in the directory (``units``: rows with code, superior)."""
    children: dict[str, list[str]] = {}
    for unit in units:
        if unit.superior:
            children.setdefault(unit.superior, []).append(unit.code)
    seen = {root}
    stack = [root]
    while stack:
        for child in children.get(stack.pop(), ()):
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return frozenset(seen)


def scope_of(engine: Engine, token: TokenInfo) -> frozenset[str] | None:
    """The units a token sees (see the module's text)."""
    if token.role in SEES_ALL:
        return None
    units = engine.units.list()
    root = token.unit
    if token.role == "verifier":
        own = next((u for u in units if u.code == token.unit), None)
        if own is not None and own.superior:
            root = own.superior
    return below(units, root)


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthenticated("需要 Authorization: Bearer <令牌 token>")
    return value.strip()


def caller(request: Request) -> Caller:
    """The caller of this request (cached on it), or 401."""
    found = getattr(request.state, "caller", None)
    if isinstance(found, Caller):
        return found
    engine: Engine = request.app.state.engine
    token = engine.tokens.authenticate(bearer(request))
    found = Caller(token=token, load=lambda: scope_of(engine, token))
    request.state.caller = found
    return found


def allowed(group: str) -> Callable[[Request], Caller]:
    """A dependency: the caller, if its role opens ``group``; else 403."""
    if group not in GROUPS:
        raise ValueError(f"unknown route group {group!r}")
    roles = GROUPS[group]

    def check(request: Request) -> Caller:
        who = caller(request)
        if who.role not in roles:
            raise PermissionDenied(
                who.role,
                group,
                sorted(roles),
                why=f"角色 {who.role} 不能调用 {group} (roles that may: {', '.join(sorted(roles))})",
            )
        return who

    check.__name__ = f"allowed_{group.replace(':', '_')}"
    return check


def requires(group: str) -> Any:
    """``Depends(allowed(group))`` for a router's or a route's dependencies."""
    return Depends(allowed(group))


# --------------------------------------------------------------- cases and events


@dataclass(frozen=True, slots=True)
class CaseUnits:
    responsible: str | None
    originating: str | None


def case_units(engine: Engine, view: RecordView) -> CaseUnits:
    """The responsible and originating units of a case, by the fields its definition indexes."""
    name, _, version = view.definition.rpartition("@")
    index = engine.registry.get(name, int(version)).index
    data = view.data

    def pick(field: str | None) -> str | None:
        value = data.get(field) if field else None
        return value if isinstance(value, str) and value else None

    return CaseUnits(pick(index.responsible_unit), pick(index.originating_unit))


def sees(engine: Engine, who: Caller, view: RecordView) -> bool:
    if who.scope is None:
        return True
    units = case_units(engine, view)
    return who.sees_unit(units.responsible) or who.sees_unit(units.originating)


def owns(engine: Engine, who: Caller, view: RecordView) -> str:
    """Why ``who`` may not act on the case (empty when it may), by its role."""
    units = case_units(engine, view)
    role = who.role
    if role == "subject":
        if units.responsible != who.unit:
            return "责任单位只能就本单位的记录提交 (a responsible unit acts on its own records only)"
    elif role == "reviewer":
        if units.originating != who.unit:
            return (
                "谁认定、谁修复：复核人只能决定本单位认定的记录 (a reviewer decides only what its unit found)"
            )
    elif role == "recorder":
        if not who.sees_unit(units.originating):
            return "记录产生部门只能处理本单位（及下级）认定的记录 (a recorder acts on what its unit found)"
    elif role in {"verifier", "superior"}:
        if not sees(engine, who, view):
            return "该记录不在本单位辖区 (the record is outside the caller's units)"
    else:
        return f"角色 {role} 不能办理 (role {role} changes nothing)"
    return ""


def check_owns(engine: Engine, who: Caller, view: RecordView, event: str) -> None:
    why = owns(engine, who, view)
    if why:
        raise PermissionDenied(who.role, event, (), why=why)


__all__ = [
    "GROUPS",
    "ROLES",
    "Caller",
    "allowed",
    "caller",
    "case_units",
    "check_owns",
    "owns",
    "requires",
    "sees",
]
