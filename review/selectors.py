"""Who sees what in review: each rule named once."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from review.models import Performer, ReviewerAssignment, Task
from yunjian.core.models import Division, Role


def assignments_of(user) -> list[ReviewerAssignment]:
    return list(
        ReviewerAssignment.objects.filter(user=user)
        .select_related("division", "zone")
        .prefetch_related("zone__counties")
    )


def jurisdiction_q(assignments: list[ReviewerAssignment]) -> Q:
    """Return the Q over Task rows that `assignments` cover: a stage in a division range or a zone's counties.

    A prefecture is the code range [5303, 5304), not `startswith`, so the partial index serves it.
    """
    q = Q(pk__in=[])
    for a in assignments:
        if a.division_id:
            if a.division.level == Division.Level.COUNTY:
                where = Q(division_code=a.division_id)
            else:
                low, high = a.division.code_range
                where = Q(division_code__gte=low, division_code__lt=high)
        else:
            where = Q(division_code__in=[c.code for c in a.zone.counties.all()])
        q |= Q(performer=Performer.ROSTER, stage=a.stage) & where
    return q


def tasks_performed_by_q(user, assignments: list[ReviewerAssignment] | None = None) -> Q:
    q = Q(pk__in=[])
    if user.has_role(Role.INSTITUTION) and user.organization_id:
        q |= Q(performer=Performer.INSTITUTION, assignee_org_id=user.organization_id)
    if user.has_role(Role.DESIGN_DIVISION):
        q |= Q(performer=Performer.DESIGN_DIVISION)
    if user.has_role(Role.REVIEWER):
        q |= jurisdiction_q(assignments if assignments is not None else assignments_of(user))
    return q


def inbox_for(user, assignments: list[ReviewerAssignment] | None = None) -> QuerySet[Task]:
    """Open review steps that `user` performs, never their own organization's records."""
    return (
        Task.objects.filter(status=Task.Status.OPEN)
        .filter(tasks_performed_by_q(user, assignments))
        .exclude(owner_org_id=user.organization_id)
    )


def done_by(user) -> QuerySet[Task]:
    """Review steps `user` decided (已办), newest first."""
    return Task.objects.filter(decided_by=user, status=Task.Status.DONE)


def reviewer_counts(user) -> dict:
    """Counts for a reviewer's home: waiting, overdue, per kind, decided this week."""
    assignments = assignments_of(user)
    inbox = inbox_for(user, assignments)
    now = timezone.now()
    totals = inbox.aggregate(waiting=Count("id"), overdue=Count("id", filter=Q(due_at__lt=now)))
    per_kind = dict(inbox.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))
    week_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    week_start -= timedelta(days=week_start.weekday())
    decided = done_by(user).filter(decided_at__gte=week_start).count()
    return {
        "waiting": totals["waiting"],
        "overdue": totals["overdue"],
        "per_kind": per_kind,
        "decided_this_week": decided,
        "assignments": assignments,
    }
