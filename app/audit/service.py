from typing import Any

from sqlmodel import Session, col, select

from app.audit.models import AuditEvent


def record(
    session: Session,
    *,
    action: str,
    actor_id: int | None,
    target_type: str = "",
    target_id: object = "",
    **details: Any,
) -> AuditEvent:
    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        target_type=target_type,
        target_id=str(target_id),
        details=details,
    )
    session.add(event)
    session.flush()
    return event


def recent(session: Session, *, limit: int = 200) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(col(AuditEvent.id).desc()).limit(limit)
    return list(session.exec(query))
