"""The audit log (read-only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from greenlink.api.deps import Caller, Ctx
from greenlink.api.ids import MAX_ID
from greenlink.api.routes import ERRORS
from greenlink.api.schemas import AuditEventPublic
from greenlink.service import audit

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERRORS)


@router.get("", response_model=list[AuditEventPublic])
def list_events(caller: Caller, ctx: Ctx,
                limit: Annotated[int, Query(ge=1, le=1000)] = 200,
                after_id: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> list[AuditEventPublic]:
    return [AuditEventPublic.model_validate(e)
            for e in audit.list_events(ctx, caller, limit, after_id)]
