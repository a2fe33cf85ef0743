"""The web console: pages for caseworkers, responsible units and auditors, served by the API app.

A face like ``workflow.api`` and ``workflow.cli``, over the public engine API: people sign in
with a local account (``identity``), see what they must do (``work``), read and act on a case
(``case``), audit and watch (``audit``, ``dashboard``). What a person sees and may do is decided
by ``workflow.api.access``, the same rules as the HTTP API. Every asset is served by chengxin
itself (no CDN), and no page needs JavaScript. ``mount(app)`` adds it under ``/console``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from workflow.console import audit, case, dossier, identity, lead, progress, work
from workflow.console.render import page

PREFIX = identity.PREFIX


def mount(app: FastAPI) -> FastAPI:
    """Add the console to ``app`` (an app of ``workflow.api.create_app``) under ``/console``."""
    for router in (
        identity.router,
        work.router,
        case.router,
        dossier.router,
        audit.router,
        lead.router,
        progress.router,
    ):
        app.include_router(router, prefix=PREFIX)
    app.mount(
        f"{PREFIX}/static", StaticFiles(directory=Path(__file__).parent / "static"), name="console-static"
    )

    @app.exception_handler(identity.SignInNeeded)
    def _sign_in(request: Request, _exc: Exception) -> Response:
        return RedirectResponse(identity.sign_in_url(request), status_code=303)

    @app.exception_handler(identity.CsrfRefused)
    def _csrf(request: Request, _exc: Exception) -> Response:
        return page(
            "message.html",
            403,
            title="表单已失效 form expired",
            message="表单已失效或来源不明，未做任何更改；请刷新页面后重试 "
            "(the form's security token is missing or stale; nothing was changed — reload and retry)",
        )

    @app.exception_handler(case.CaseHidden)
    def _hidden(request: Request, _exc: Exception) -> Response:
        return page("message.html", 404, title="未找到 not found", message="案件不存在 (no such case)")

    @app.get("/", include_in_schema=False)
    def _home() -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=303)

    return app


__all__ = ["mount"]
