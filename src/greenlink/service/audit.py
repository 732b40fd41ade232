"""The audit log: one row per state change, written in the same transaction as the change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenlink.service.context import Principal, ServiceContext
from greenlink.service.errors import NotAllowed
from greenlink.service.models import AuditEvent
from greenlink.service.roles import Action, allowed


def record(session: Session, actor: Principal | int | None, action: str, target: str,
           **detail: Any) -> None:
    """Add one audit event to ``session`` (committed with the change it describes)."""
    actor_id = actor.user_id if isinstance(actor, Principal) else actor
    session.add(AuditEvent(actor_user_id=actor_id, action=action, target=target, detail=detail))


def list_events(ctx: ServiceContext, actor: Principal, limit: int = 200,
                after_id: int = 0) -> list[AuditEvent]:
    """The newest ``limit`` events with id above ``after_id``, newest first."""
    if not allowed(actor.role, Action.AUDIT_READ):
        raise NotAllowed(f"role {actor.role} may not read the audit log")
    with ctx.sessions() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.id > after_id)
                               .order_by(AuditEvent.id.desc()).limit(limit))
        return list(rows)
