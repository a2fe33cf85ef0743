"""A case's dossier in the console: the printable page and the JSON download of ``chengxin audit
export RECORD``, built by ``workflow.audit.export`` (the same document, digest and embedded JSON,
so a saved page verifies offline with ``chengxin audit verify --export``).

Open to whoever may read the case (an auditor reads every case); another unit's case is a 404,
as on the case page. The page has no script that runs: its JSON rides in a data block, and its
print styles are inline, the only inline thing the page's policy allows.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from workflow import WorkflowError
from workflow.audit import export as exporting
from workflow.console.case import visible
from workflow.console.identity import engine_of, who
from workflow.console.render import page
from workflow.runtime.dispatch import MailSettings

router = APIRouter(include_in_schema=False)

# The dossier page carries its own print styles inline; scripts stay off (its JSON is data).
DOSSIER_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'none'; img-src 'self' data:; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'"
)


def _document(request: Request, record_id: str) -> dict[str, object] | Response:
    person = who(request)
    engine = engine_of(request)
    case = visible(engine, person, record_id)
    try:
        domain = MailSettings.from_env().domain
        return exporting.dossier(engine, case.id, mail_domain=domain)
    except WorkflowError as exc:
        return page(
            "message.html",
            409,
            title="卷宗 dossier",
            session=person.session,
            message=f"无法生成卷宗 (the dossier cannot be made): {exc}",
        )


def _headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = DOSSIER_POLICY
    return response


@router.get("/cases/{record_id}/dossier")
def dossier_page(request: Request, record_id: str) -> Response:
    """The printable dossier of a case, Chinese first."""
    document = _document(request, record_id)
    if isinstance(document, Response):
        return document
    html = exporting.dossier_html(document)
    return _headers(Response(html, media_type="text/html; charset=utf-8"))


@router.get("/cases/{record_id}/dossier.json")
def dossier_json(request: Request, record_id: str) -> Response:
    """The dossier as a JSON download, the file ``chengxin audit export`` writes."""
    document = _document(request, record_id)
    if isinstance(document, Response):
        return document
    answer = Response(exporting.dossier_json(document), media_type="application/json; charset=utf-8")
    name = f"dossier-{document['record']['id']}.json"  # type: ignore[index]
    answer.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return _headers(answer)
