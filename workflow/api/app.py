"""The HTTP API's application factory: ``create_app(engine)`` → a FastAPI app over that engine.

The app holds no state of its own beyond the engine it is given (and, under ``chengxin serve``,
a probe of the scheduler running beside it). Routes live by concern in ``records``,
``catalog``, ``service``, ``credit`` and ``dossier``; identity and access in ``access``; error
bodies in ``problems``. The docs page (``/docs``) serves Swagger UI from the installed
``swagger-ui-py`` package, not from a CDN, so it works on a server without internet access. CORS is off unless origins are configured
(``CHENGXIN_API_CORS_ORIGINS``, comma-separated).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from workflow import Engine
from workflow.api import catalog, credit, dossier, problems, records, schemas, service
from workflow.api.service import SchedulerProbe

TITLE = "诚信 chengxin API"
DESCRIPTION = (
    "政务失信记录及相关案件的 HTTP 接口 (HTTP API over government dishonesty records and the cases "
    "around them). 认证 Authentication: `Authorization: Bearer cx_…` (tokens from `chengxin token create`). "
    "错误 Errors: application/problem+json."
)


def cors_origins() -> list[str]:
    """The origins allowed by CORS, from ``CHENGXIN_API_CORS_ORIGINS`` (none: CORS off)."""
    raw = os.environ.get("CHENGXIN_API_CORS_ORIGINS", "")
    return [o.strip() for o in raw.split(",") if o.strip()]


def _swagger_static() -> Path | None:
    try:
        import swagger_ui
    except ImportError:  # pragma: no cover - a dependency of chengxin
        return None
    folder = Path(swagger_ui.__file__).parent / "static"
    return folder if (folder / "swagger-ui-bundle.js").is_file() else None


def create_app(
    engine: Engine, *, scheduler: SchedulerProbe | None = None, cors: Sequence[str] | None = None
) -> FastAPI:
    """The API over ``engine``; ``scheduler`` tells ``/ready`` whether this process's scheduler
    is alive (None: the process runs none); ``cors``: allowed origins (default: the
    environment's; empty: CORS off)."""
    app = FastAPI(title=TITLE, description=DESCRIPTION, version="1", docs_url=None, redoc_url=None)
    app.state.engine = engine
    app.state.scheduler = scheduler
    problems.install(app)
    app.include_router(credit.router)  # first: the busiest routes are matched first
    app.include_router(records.router)
    app.include_router(catalog.router)
    app.include_router(service.router)
    app.include_router(dossier.router)
    origins = list(cors_origins() if cors is None else cors)
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key"],
            expose_headers=["ETag", "Location"],
        )
    _docs(app)
    app.openapi = lambda: _openapi(app, engine)  # type: ignore[method-assign]
    return app


def _docs(app: FastAPI) -> None:
    static = _swagger_static()
    if static is None:
        return
    app.mount("/docs-static", StaticFiles(directory=static), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=TITLE,
            swagger_js_url="/docs-static/swagger-ui-bundle.js",
            swagger_css_url="/docs-static/swagger-ui.css",
            swagger_favicon_url="/docs-static/favicon-32x32.png",
        )


PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
ANSWERS = {
    "401": "未认证 no or bad token",
    "403": "无权限 forbidden for this token",
    "404": "不存在 not found",
    "409": "冲突 stale version or idempotency key reused",
    "422": "输入无效或不允许 invalid input, or not allowed now",
    "503": "数据库不可用 database unavailable",
}


def _problems(operation: dict[str, Any], *, public: bool) -> None:
    """Every error answer of ``operation`` documented as problem+json."""
    answers = operation.setdefault("responses", {})
    if public:
        operation["security"] = []
    for status, said in ANSWERS.items():
        if public and (status in answers or status in {"401", "403", "404", "409", "422"}):
            continue
        answers[status] = {"description": said, "content": PROBLEM}


def _openapi(app: FastAPI, engine: Engine) -> dict[str, Any]:
    """The OpenAPI document, with the bearer scheme and each definition's payload models."""
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = document.setdefault("components", {})
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "description": "chengxin API token: cx_<id>_<secret>",
    }
    document["security"] = [{"bearer": []}]
    found = components.setdefault("schemas", {})
    for definition in engine.registry.all():
        for event in definition.events:
            model = schemas.payload_model(definition, event)
            shape = model.model_json_schema(ref_template="#/components/schemas/{model}")
            found.update(shape.pop("$defs", {}))
            found[model.__name__] = shape
    found["Problem"] = schemas.Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    found.pop("HTTPValidationError", None)
    found.pop("ValidationError", None)
    for path, operations in document["paths"].items():
        for operation in operations.values():
            _problems(operation, public=path in {"/health", "/ready", "/openapi.json"})
    app.openapi_schema = document
    return document
