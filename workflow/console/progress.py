"""Verifying every case of a large database, with progress shown as it goes.

The page is streamed: its head first, then a line every second saying how many cases are
checked so far, then the result — a browser shows each line as it arrives, without any script.
The verification itself runs in a worker thread over the engine's streamed cases (memory stays
flat); the answer's lines are escaped like every page.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from markupsafe import escape

from workflow import Engine, WorkflowError, audit
from workflow.api.access import SEES_ALL
from workflow.console.identity import engine_of, who
from workflow.console.render import ENV, page

router = APIRouter(include_in_schema=False)
MARK = "<!--progress-->"
EVERY = 1.0  # seconds between progress lines


class _Counted:
    """The cases handed to the verifier, counted as they pass."""

    def __init__(self, cases: Iterable[Any]) -> None:
        self.cases = cases
        self.count = 0

    def __iter__(self) -> Iterator[Any]:
        for case in self.cases:
            self.count += 1
            yield case


def _run(engine: Engine) -> Iterator[str]:
    counted = _Counted(engine.cases())
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["report"] = audit.verify(
                engine.registry,
                counted,
                real_time=not engine.simulated,
                subject_key=engine.subject_key,
                key=engine.history_key,
                key_mark=engine.key_mark,
            )
        except WorkflowError as exc:  # e.g. the database went away: said on the page
            outcome["error"] = exc

    worker = threading.Thread(target=work, name="console-verify", daemon=True)
    worker.start()
    while worker.is_alive():
        worker.join(EVERY)
        if worker.is_alive():
            yield f'<p class="progress">已校验 checked {counted.count} 条记录 cases…</p>\n'
    if "error" in outcome:
        yield f'<p class="error" role="alert">校验未完成 (verification stopped): {escape(str(outcome["error"]))}</p>\n'
        return
    report = outcome["report"]
    status = (
        f'<strong class="late">{len(report.problems)} 个问题 problems</strong>'
        if report.problems
        else '<strong class="ok">完好 intact</strong>'
    )
    yield (
        f'<section class="card" id="verify-result" role="status"><p>已校验 checked {report.records} 条记录 '
        f"records, {report.events} 条历史 events: {status}</p><ul>"
    )
    for problem in report.problems:
        yield f"<li>{escape(problem.record_id)} · {escape(problem.kind)} · {escape(problem.detail)}</li>"
    yield "</ul></section>\n"


@router.get("/audit/verify-all")
def verify_all(request: Request) -> Response:
    person = who(request)
    if person.role not in SEES_ALL:
        return page(
            "message.html",
            403,
            title="审计 audit",
            session=person.session,
            message=f"角色 {person.role} 不能查看此页 (this page is not open to the role {person.role})",
        )
    engine = engine_of(request)
    head, _, tail = (
        ENV.get_template("progress.html")
        .render(title="校验全部 verify all", session=person.session)
        .partition(MARK)
    )

    def body() -> Iterator[str]:
        yield head
        yield from _run(engine)
        yield tail

    response = StreamingResponse(body(), media_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'none'; frame-ancestors 'none'"
    )
    return response
