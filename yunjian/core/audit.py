"""Writing the audit trail. Every write service calls `record` inside its transaction."""

from __future__ import annotations

from typing import Any

from yunjian.core.models import AuditEntry


def client_ip(request) -> str | None:
    if request is None:
        return None
    # Behind the load balancer the first X-Forwarded-For hop is the client.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    ip = forwarded.split(",")[0].strip() if forwarded else request.META.get("REMOTE_ADDR")
    return ip or None


def record(
    *,
    action: str,
    actor=None,
    obj=None,
    object_type: str = "",
    object_id: str | int = "",
    from_state: str = "",
    to_state: str = "",
    step: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    ip: str | None = None,
) -> AuditEntry:
    """Append one audit entry; `obj` (a model instance) fills object_type and object_id."""
    if obj is not None:
        object_type = object_type or getattr(obj, "AUDIT_TYPE", obj._meta.model_name)
        object_id = object_id or obj.pk
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    return AuditEntry.objects.create(
        action=action,
        actor_id=actor_id,
        actor_org_id=getattr(actor, "organization_id", None) if actor_id else None,
        ip=ip,
        object_type=object_type,
        object_id=str(object_id),
        from_state=from_state,
        to_state=to_state,
        step=step,
        reason=reason,
        data=data or {},
    )
