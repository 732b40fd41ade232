"""Dependencies: the service context, the caller (bearer token or session cookie)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from greenlink.service.accounts import authenticate
from greenlink.service.context import Principal, ServiceContext
from greenlink.service.errors import NotAuthenticated

COOKIE_NAME = "greenlink_session"
_bearer = HTTPBearer(auto_error=False, description="API token (`glk_...`) from /api/v1/auth/login")


def get_ctx(request: Request) -> ServiceContext:
    ctx: ServiceContext = request.app.state.ctx
    return ctx


Ctx = Annotated[ServiceContext, Depends(get_ctx)]


def token_of(request: Request, creds: HTTPAuthorizationCredentials | None) -> str | None:
    if creds is not None and creds.scheme.lower() == "bearer":
        return creds.credentials
    return request.cookies.get(COOKIE_NAME)


def current_principal(request: Request, ctx: Ctx,
                      creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
                      ) -> Principal:
    token = token_of(request, creds)
    if not token:
        raise NotAuthenticated("log in first (Authorization: Bearer <token>)")
    return authenticate(ctx, token)


Caller = Annotated[Principal, Depends(current_principal)]
