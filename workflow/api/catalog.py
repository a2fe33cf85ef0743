"""Routes over reference data: the workflow definitions (list, one, its diagram as SVG) and the
unit directory. Read-only: definitions are published as files and units kept by the operator's
CLI (``chengxin unit``)."""

from __future__ import annotations

import json
import threading
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from definitions.model import Definition
from workflow import Engine, RecordNotFound
from workflow.api import schemas
from workflow.api.access import requires

router = APIRouter(tags=["catalog 目录"], dependencies=[requires("catalog:read")])

Name = Annotated[str, Path(min_length=1, max_length=64)]
Version = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="版本 version (default: the newest)")]
_SVG: dict[tuple[str, str], bytes] = {}
_DRAWING = threading.Lock()  # graphviz through pygraphviz is not known to be thread-safe


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _pick(engine: Engine, name: str, version: int | None) -> Definition:
    return engine.registry.get(name, version) if version else engine.registry.select(name)


@router.get("/definitions", response_model=list[schemas.DefinitionSummary], summary="流程定义 definitions")
def list_definitions(request: Request) -> list[schemas.DefinitionSummary]:
    return [
        schemas.DefinitionSummary(
            name=d.name,
            version=d.version,
            kind=d.kind,
            title=d.title,
            jurisdiction=d.jurisdiction,
            effective_from=d.effective_from,
            legal_basis=d.legal_basis,
            sha256=d.sha256,
        )
        for d in _engine(request).registry.all()
    ]


@router.get("/definitions/{name}", summary="一个流程定义（解析后） one definition, resolved")
def get_definition(request: Request, name: Name, version: Version = None) -> dict[str, Any]:
    engine = _engine(request)
    chosen = _pick(engine, name, version)
    resolved: dict[str, Any] = json.loads(engine.registry.resolved(chosen.name, chosen.version))
    return resolved


@router.get(
    "/definitions/{name}/diagram.svg",
    summary="状态图 state diagram (SVG)",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {"schema": {"type": "string"}}}}},
)
def get_diagram(request: Request, name: Name, version: Version = None) -> Response:
    from workflow.core.diagram import diagram

    chosen = _pick(_engine(request), name, version)
    key = (chosen.key, chosen.sha256)
    drawn = _SVG.get(key)
    if drawn is None:
        with _DRAWING:
            made = diagram(chosen, "svg")
        drawn = _SVG[key] = made if isinstance(made, bytes) else made.encode("utf-8")
    return Response(drawn, media_type="image/svg+xml")


@router.get("/units", response_model=list[schemas.Unit], summary="单位目录 the unit directory")
def list_units(request: Request) -> list[schemas.Unit]:
    return [_unit(u) for u in _engine(request).units.list()]


@router.get("/units/{code}", response_model=schemas.Unit, summary="一个单位 one unit")
def get_unit(request: Request, code: Name) -> schemas.Unit:
    found = _engine(request).units.get(code)
    if found is None:
        raise UnitNotFound(code)
    return _unit(found)


class UnitNotFound(RecordNotFound):
    def __init__(self, code: str) -> None:
        Exception.__init__(self, f"单位 {code} 不存在 (no such unit)")
        self.record_id = code


def _unit(row: Any) -> schemas.Unit:
    return schemas.Unit(
        code=row.code, name=row.name, superior=row.superior, emails=list(row.emails), contact=row.contact
    )
