"""Users (admin)."""

from __future__ import annotations

from fastapi import APIRouter

from greenlink.api.deps import Caller, Ctx
from greenlink.api.routes import ERRORS
from greenlink.api.schemas import UserCreate, UserPublic
from greenlink.service import accounts

router = APIRouter(prefix="/users", tags=["users"], responses=ERRORS)


@router.get("", response_model=list[UserPublic])
def list_users(caller: Caller, ctx: Ctx) -> list[UserPublic]:
    return [UserPublic.model_validate(u) for u in accounts.list_users(ctx, caller)]


@router.post("", response_model=UserPublic, status_code=201)
def create_user(body: UserCreate, caller: Caller, ctx: Ctx) -> UserPublic:
    user = accounts.create_user(ctx, caller, body.email, body.password, body.role,
                                body.organisation_id)
    return UserPublic.model_validate(user)
