"""Login and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request

from greenlink.api.deps import Caller, Ctx, Token, client_address
from greenlink.api.ids import Id
from greenlink.api.routes import ERRORS
from greenlink.api.schemas import LoginIn, MePublic, TokenCreate, TokenIssued, TokenPublic
from greenlink.service import accounts

router = APIRouter(prefix="/auth", tags=["auth"], responses=ERRORS)


@router.post("/login", response_model=TokenIssued)
def login(body: LoginIn, request: Request, ctx: Ctx) -> TokenIssued:
    """Exchange email and password for a session token.

    Failed logins are limited per email address and per client address (429 with
    ``Retry-After`` once over the limit); unknown addresses and wrong passwords get the same
    answer."""
    t = accounts.login(ctx, body.email, body.password, client_address(request))
    return TokenIssued(id=t.id, name=t.name, token=t.secret, expires_at=t.expires_at)


@router.get("/me", response_model=MePublic)
def me(caller: Caller) -> MePublic:
    return MePublic(user_id=caller.user_id, email=caller.email, role=caller.role,
                    organisation_id=caller.organisation_id)


@router.post("/tokens", response_model=TokenIssued, status_code=201)
def create_token(body: TokenCreate, caller: Caller, token: Token, ctx: Ctx) -> TokenIssued:
    """A named API token; the secret is shown only in this response. It expires after
    ``ttl_hours`` or with the token this request is made with, whichever comes first."""
    t = accounts.create_token(ctx, caller, body.name, body.ttl_hours, parent=token)
    return TokenIssued(id=t.id, name=t.name, token=t.secret, expires_at=t.expires_at)


@router.get("/tokens", response_model=list[TokenPublic])
def list_tokens(caller: Caller, ctx: Ctx) -> list[TokenPublic]:
    return [TokenPublic.model_validate(t) for t in accounts.list_tokens(ctx, caller)]


@router.delete("/tokens/{token_id}", response_model=TokenPublic)
def revoke_token(token_id: Id, caller: Caller, ctx: Ctx) -> TokenPublic:
    return TokenPublic.model_validate(accounts.revoke_token(ctx, caller, token_id))
