"""What each role's home page shows."""

from __future__ import annotations

from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.utils import timezone

from yunjian.core.models import Role, User


def enterprise_home(user) -> dict:
    from projects.selectors import owed_counts, revocations_of_org
    from sync.performance import performance_summary

    # 业绩 (projects.performance): one aggregate query over the organization's projects.
    context = {**owed_counts(user), "performance": performance_summary(user.organization_id)}
    context["revocations"] = revocations_of_org(user.organization_id) if user.organization_id else []
    return context


def reviewer_home(user) -> dict:
    from projects.models import RecordKind
    from review.selectors import reviewer_counts

    counts = reviewer_counts(user)
    labels = dict(RecordKind.choices)
    counts["is_liaison"] = any(a.stage == "liaison" for a in counts["assignments"])
    # The province's reviewers and the design division see the revocations of every enterprise.
    counts["sees_revocations"] = user.has_role(Role.DESIGN_DIVISION) or any(
        a.division_id and a.division.level == "province" for a in counts["assignments"]
    )
    counts["per_kind_rows"] = [
        (kind, labels.get(kind, kind), n) for kind, n in sorted(counts["per_kind"].items())
    ]
    return counts


def province_admin_home() -> dict:
    from review.models import ReviewerAssignment
    from sync.models import Outbox
    from sync.selectors import status_counts

    # Bounded per-status counts: the outbox grows without limit, its undelivered part stays small.
    counts = status_counts()
    failed, dead = counts.get(Outbox.Status.FAILED, "0"), counts.get(Outbox.Status.DEAD, "0")
    return {
        "reviewer_count": User.objects.filter(roles__contains=f"|{Role.REVIEWER}|").count(),
        "assignment_count": ReviewerAssignment.objects.count(),
        "sync_counts": counts,
        "sync_failed": failed,
        "sync_dead": dead,
        "sync_problems": failed != "0" or dead != "0",
    }


def _current_locks():
    """(username, address) pairs locked now: axes leaves expired attempts behind until the next one."""
    return AccessAttempt.objects.filter(
        failures_since_start__gte=settings.AXES_FAILURE_LIMIT,
        attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME,
    )


def locked_usernames(usernames: list[str]) -> set[str]:
    return set(_current_locks().filter(username__in=usernames).values_list("username", flat=True))


def security_admin_home() -> dict:
    locked = list(
        _current_locks()
        .order_by("-attempt_time")
        .values("username", "ip_address", "attempt_time", "failures_since_start")[:50]
    )
    # The failure log (axes), not the audit log: the audit log is the audit administrator's alone.
    failed = AccessFailureLog.objects.order_by("-attempt_time").values(
        "username", "ip_address", "attempt_time", "locked_out"
    )[:20]
    return {"locked": locked, "failed": list(failed)}
