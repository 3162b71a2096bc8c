"""Writing the audit trail. Every write service calls `record` inside its transaction."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from django.conf import settings

from yunjian.core.models import AuditEntry

# The request being served, so that audit entries written by signal receivers (a change of roles or
# flags) name the person who made the change. Bound by yunjian.core.middleware.SignInPolicyMiddleware.
current_request: ContextVar = ContextVar("yunjian_audit_request", default=None)


def client_ip(request) -> str | None:
    """The client's address. Behind TRUSTED_PROXY_COUNT proxies, the address the outermost trusted
    proxy saw: counted from the right of X-Forwarded-For, since a client can write anything on the left."""
    if request is None:
        return None
    ip = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops > 0:
        forwarded = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
        if len(forwarded) >= hops:
            ip = forwarded[-hops]
    return ip or None


def request_actor():
    """The signed-in user of the request being served, if any."""
    request = current_request.get()
    user = getattr(request, "user", None) if request is not None else None
    return user if user is not None and user.is_authenticated else None


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
    entry = entry_for(
        action=action,
        actor=actor,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        from_state=from_state,
        to_state=to_state,
        step=step,
        reason=reason,
        data=data,
        ip=ip,
    )
    entry.save()
    return entry


def record_many(entries: list[AuditEntry]) -> None:
    """Append many entries (built by `entry_for`) in one statement: a bulk write audits each record."""
    AuditEntry.objects.bulk_create(entries, batch_size=1000)


def entry_for(
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
    """The unsaved entry `record` appends."""
    if obj is not None:
        object_type = object_type or getattr(obj, "AUDIT_TYPE", obj._meta.model_name)
        object_id = object_id or obj.pk
    actor_id = actor.pk if actor is not None and actor.is_authenticated else None
    return AuditEntry(
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
