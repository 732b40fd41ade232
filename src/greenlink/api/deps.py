"""Dependencies: the service context, the caller (bearer token or session cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from greenlink.service.accounts import authenticate
from greenlink.service.context import Principal, ServiceContext
from greenlink.service.errors import NotAuthenticated
from greenlink.service.settings import Settings

COOKIE_NAME = "greenlink_session"
_bearer = HTTPBearer(auto_error=False, description="API token (`glk_...`) from /api/v1/auth/login")


def session_cookie_name(settings: Settings) -> str:
    """The session cookie's name: with ``Secure`` cookies the ``__Host-`` prefix, which browsers
    accept only from HTTPS, for path ``/`` and without a domain (no sibling subdomain can set
    or overwrite it)."""
    return f"__Host-{COOKIE_NAME}" if settings.cookie_secure else COOKIE_NAME


def get_ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ServiceContext, Depends(get_ctx)]


def token_of(request: Request, creds: HTTPAuthorizationCredentials | None) -> str | None:
    """The bearer token; the session cookie only for requests without an Authorization
    header (a bad Authorization header never falls back to the cookie)."""
    if creds is not None and creds.scheme.lower() == "bearer":
        return creds.credentials
    if "authorization" in request.headers:
        return None
    ctx: ServiceContext = request.app.state.ctx
    return request.cookies.get(session_cookie_name(ctx.settings))


def client_address(request: Request) -> str | None:
    """The caller's network address (uvicorn puts the proxy's ``X-Forwarded-For`` here when the
    proxy is trusted, ``--forwarded-allow-ips``)."""
    return request.client.host if request.client else None


def current_principal(request: Request, ctx: Ctx,
                      creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                      ) -> Principal:
    token = token_of(request, creds)
    if not token:
        raise NotAuthenticated("log in first (Authorization: Bearer <token>)")
    principal = authenticate(ctx, token)
    request.state.token = token
    return principal


Caller = Annotated[Principal, Depends(current_principal)]


def current_token(request: Request, caller: Caller) -> str:
    """The token the (authenticated) request was made with."""
    token: str = request.state.token
    return token


Token = Annotated[str, Depends(current_token)]
