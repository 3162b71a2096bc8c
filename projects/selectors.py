"""Who sees which projects and records, each rule named once."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from projects.models import RECORD_MODELS, Project, ProjectParty, RecordKind, State


def projects_of_org(org_id: int) -> QuerySet[Project]:
    """Projects where the organization has a role (建设、设计、施工总包、专业承包…)."""
    return Project.objects.filter(
        pk__in=ProjectParty.objects.filter(organization_id=org_id).values("project_id")
    )


def owed_counts(user) -> dict:
    """Per kind of record the user's organization entered: drafts, in review, returned, approved.

    One aggregate query per record kind, whatever the number of records.
    """
    rows = []
    totals = {"draft": 0, "in_review": 0, "returned": 0, "approved": 0}
    org_id = user.organization_id
    for kind, model in RECORD_MODELS.items():
        counts = model.objects.filter(owner_org_id=org_id).aggregate(
            **{state: Count("id", filter=Q(state=state)) for state in totals}
        )
        for state in totals:
            totals[state] += counts[state]
        if any(counts.values()):
            rows.append({"kind": kind, "label": RecordKind(kind).label, **counts})
    return {"kind_rows": rows, "totals": totals}


__all__ = ["owed_counts", "projects_of_org", "State"]
