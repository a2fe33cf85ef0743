"""An auditor's dossier over HTTP (审计卷宗): one case's complete export as JSON, and as the
printable page, exactly as ``chengxin audit export`` writes them.

``GET /records/{id}/dossier`` answers the JSON document that ``chengxin audit verify --export``
checks offline; ``GET /records/{id}/dossier.html`` the page, which carries the same JSON and so
verifies the same way. Whoever may read the case may read its dossier (``records:read``, scoped
by units as every case route is; an auditor reads everything), and a read of a natural person's
case is written to the query log like any other read.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from workflow.api.access import Caller, allowed
from workflow.api.records import RecordId, engine_of, logged, visible
from workflow.audit import export as exporting
from workflow.runtime.dispatch import MailSettings

router = APIRouter(tags=["audit 审计"])

Reader = Annotated[Caller, Depends(allowed("records:read"))]
Purpose = Annotated[
    str | None,
    Query(
        max_length=200,
        description="查阅目的，记入查询日志 why the caller reads (kept in the query log for a person's case)",
    ),
]
DOSSIER_SCHEMA = {
    "type": "object",
    "description": "chengxin-dossier/1 (see `chengxin audit verify --export`)",
}


def _document(
    request: Request, who: Caller, record_id: str, purpose: str | None, route: str
) -> dict[str, Any]:
    engine = engine_of(request)
    logged(engine, who, [visible(engine, who, record_id)], purpose, route)
    return exporting.dossier(engine, record_id, mail_domain=MailSettings.from_env().domain)


def _filename(record_id: str, suffix: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in record_id)
    return f'inline; filename="dossier-{safe}.{suffix}"'


@router.get(
    "/records/{record_id}/dossier",
    summary="审计卷宗（JSON，可离线校验） a case's dossier as JSON, verifiable offline",
    response_class=Response,
    responses={200: {"content": {"application/json": {"schema": DOSSIER_SCHEMA}}}},
)
def get_dossier(request: Request, who: Reader, record_id: RecordId, purpose: Purpose = None) -> Response:
    document = _document(request, who, record_id, purpose, "GET /records/{id}/dossier")
    return Response(
        exporting.dossier_json(document).encode("utf-8"),
        media_type="application/json",
        headers={"Content-Disposition": _filename(record_id, "json")},
    )


@router.get(
    "/records/{record_id}/dossier.html",
    summary="审计卷宗（可打印网页） a case's dossier as a printable page",
    response_class=HTMLResponse,
)
def get_dossier_page(
    request: Request, who: Reader, record_id: RecordId, purpose: Purpose = None
) -> HTMLResponse:
    document = _document(request, who, record_id, purpose, "GET /records/{id}/dossier.html")
    return HTMLResponse(
        exporting.dossier_html(document), headers={"Content-Disposition": _filename(record_id, "html")}
    )
