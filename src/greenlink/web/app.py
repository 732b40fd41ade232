"""The application factory: ``create_app(settings)`` → FastAPI app (API + web pages)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import greenlink
from greenlink.api.limits import RequestSizeLimit
from greenlink.errors import GreenlinkError
from greenlink.service.context import ServiceContext
from greenlink.service.errors import NotAuthenticated, ServiceError
from greenlink.service.settings import Settings
from greenlink.service.startup import open_service

API_PREFIX = "/api/v1"


def _error(status: int, detail: str, problems: list[str] | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"detail": detail, "problems": problems or []}, status_code=status,
                        headers=headers)


def create_app(settings: Settings, ctx: ServiceContext | None = None) -> FastAPI:
    """Build the app. Without ``ctx`` the service is opened (migrations, worker) on start-up
    and closed on shutdown; with one, the caller owns it."""
    from greenlink.api.routes import (
        audit,
        auth,
        cbam,
        certificates,
        jobs,
        meters,
        organisations,
        parks,
        shipments,
        users,
    )
    from greenlink.web import pages

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if ctx is not None:
            yield
            return
        opened = open_service(settings)
        app.state.ctx = opened
        try:
            yield
        finally:
            opened.close()

    app = FastAPI(title="greenlink service", version=greenlink.__version__, lifespan=lifespan,
                  description="Parks, jobs, results and uploads of greenlink (绿电直连). "
                              "Log in at /api/v1/auth/login, then send "
                              "`Authorization: Bearer <token>`.")
    if ctx is not None:
        app.state.ctx = ctx
    for module in (auth, organisations, users, parks, jobs, meters, certificates, cbam, audit,
                   shipments):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(resources.files("greenlink.web") / "static")),
              name="static")

    @app.exception_handler(GreenlinkError)
    async def _greenlink_error(request: Request, exc: GreenlinkError) -> object:
        status = exc.status if isinstance(exc, ServiceError) else 422
        if isinstance(exc, NotAuthenticated) and not request.url.path.startswith(API_PREFIX):
            return RedirectResponse("/login", status_code=303)
        problems = [str(p) for p in exc.problems]
        if not request.url.path.startswith(API_PREFIX):
            return pages.error_page(request, status, problems)
        return _error(status, problems[0] if len(problems) == 1 else
                      f"{len(problems)} problems", problems)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}"
                    for e in exc.errors()]
        return _error(422, "invalid request", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail))

    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    return app
