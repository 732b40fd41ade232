"""The application factory: ``create_app(settings)`` → FastAPI app (API + web pages).

Every response passes :mod:`greenlink.web.security` (CSRF check, security headers); error
messages pass :func:`greenlink.service.errors.public_text` (no server paths). The interactive
API docs (Swagger UI, ReDoc) are off: they load scripts from a CDN and run inline script, which
the Content-Security-Policy forbids; ``/openapi.json`` stays.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

import greenlink
from greenlink.api.limits import RequestSizeLimit
from greenlink.errors import GreenlinkError
from greenlink.service.context import ServiceContext
from greenlink.service.errors import NotAuthenticated, ServiceError, TooManyRequests, public_text
from greenlink.service.settings import Settings
from greenlink.service.startup import open_service
from greenlink.web.security import CrossOriginGuard, SecurityHeaders, security_headers

API_PREFIX = "/api/v1"


def _error(status: int, detail: str, problems: list[str] | None = None,
           headers: dict[str, str] | None = None) -> JSONResponse:
    headers = dict(headers or {})
    if status == 401:
        headers["WWW-Authenticate"] = "Bearer"
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
                  docs_url=None, redoc_url=None,
                  description="Parks, jobs, results and uploads of greenlink (绿电直连). "
                              "Log in at /api/v1/auth/login, then send "
                              "`Authorization: Bearer <token>`.")
    if ctx is not None:
        app.state.ctx = ctx
    app.state.form_secret = (settings.secret_key.encode("utf-8") if settings.secret_key
                             else secrets.token_bytes(32))
    for module in (auth, organisations, users, parks, jobs, meters, certificates, cbam, audit,
                   shipments):
        app.include_router(module.router, prefix=API_PREFIX)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=str(resources.files("greenlink.web") / "static")),
              name="static")
    # the CJK font greenlink ships, for Chinese pages on machines without one (greenlink.css
    # names it for the CJK range only, so a browser fetches it when a page shows Chinese)
    app.mount("/fonts", StaticFiles(directory=str(resources.files("greenlink") / "fonts")),
              name="fonts")

    @app.exception_handler(GreenlinkError)
    async def _greenlink_error(request: Request, exc: GreenlinkError) -> object:
        status = exc.status if isinstance(exc, ServiceError) else 422
        if isinstance(exc, NotAuthenticated) and not request.url.path.startswith(API_PREFIX):
            return RedirectResponse("/login", status_code=303)
        problems = [public_text(str(p), settings.data_dir) for p in exc.problems]
        headers = {}
        if isinstance(exc, TooManyRequests) and exc.retry_after_s:
            headers["Retry-After"] = str(exc.retry_after_s)
        if not request.url.path.startswith(API_PREFIX):
            page = pages.error_page(request, status, problems)
            page.headers.update(headers)
            return page
        return _error(status, problems[0] if len(problems) == 1 else
                      f"{len(problems)} problems", problems, headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [public_text(f"{'.'.join(str(p) for p in e.get('loc', ()))}: "
                                f"{e.get('msg')}", settings.data_dir) for e in exc.errors()]
        return _error(422, "invalid request", problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, public_text(str(exc.detail), settings.data_dir))

    headers = security_headers(settings)

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> Response:
        """A bug: a generic answer (the traceback goes to the server log), with the security
        headers (this handler answers outside the middleware)."""
        response: Response = _error(500, "internal error; the server log has the details")
        if not request.url.path.startswith(API_PREFIX):
            response = pages.error_page(request, 500, ["internal error; the server log has "
                                                       "the details"])
        headers.set_headers(response)
        return response

    def cross_site_refused(scope: dict[str, object]) -> Response:
        return pages.error_page(Request(scope), 403, [
            "this form was sent from another site: open the page here and try again"])

    # outermost last: security headers → size limit → cross-site refusal → the app
    app.add_middleware(CrossOriginGuard, failure_page=cross_site_refused,
                       api_prefix=API_PREFIX + "/")
    app.add_middleware(RequestSizeLimit, max_bytes=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders, secure=headers)
    return app
