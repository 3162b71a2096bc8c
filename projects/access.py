"""Fetch-and-check: one helper per object. "Absent" and "invisible" both answer 404."""

from __future__ import annotations

from django.http import Http404

from projects.models import RECORD_MODELS, Project, ProjectParty, ReviewableRecord
from review import workflow
from review.models import Performer, ReviewerAssignment, Task
from yunjian.core.models import Role

RELATED = {
    "drawing_review": ("project", "project__county", "owner_org", "censor_org", "survey_org", "entered_by"),
    "addition_request": ("project", "county", "owner_org", "censor_org", "entered_by", "created_review"),
    "permit": ("project", "project__county", "owner_org", "issuing_org", "supervision_org", "entered_by"),
    "tender_contract": ("project", "project__county", "owner_org", "entered_by"),
    "completion": (
        "project",
        "project__county",
        "owner_org",
        "filing_org",
        "specialty_contract",
        "entered_by",
    ),
    "specialty_info": ("project", "project__county", "project__owner_org", "owner_org", "entered_by"),
}


def is_party(user, project_id: int | None) -> bool:
    if project_id is None or user.organization_id is None:
        return False
    return ProjectParty.objects.filter(project_id=project_id, organization_id=user.organization_id).exists()


def reviews_record(user, record: ReviewableRecord) -> bool:
    """Whether `user` performs (or performed) any step of the record's chain."""
    if user.organization_id is not None and user.organization_id == record.owner_org_id:
        return False
    for step in workflow.chain_for(record):
        if step.performer == Performer.INSTITUTION:
            if user.has_role(Role.INSTITUTION) and user.organization_id == workflow.step_assignee_org_id(
                record, step
            ):
                return True
        elif step.performer == Performer.DESIGN_DIVISION:
            if user.has_role(Role.DESIGN_DIVISION):
                return True
        elif user.has_role(Role.REVIEWER):
            code = workflow.jurisdiction_code(record, step)
            if (
                code
                and ReviewerAssignment.objects.filter(
                    workflow.covering_q(code), user=user, stage=step.stage
                ).exists()
            ):
                return True
    return Task.objects.filter(kind=record.KIND, record_id=record.pk, decided_by=user).exists()


def can_view_record(user, record: ReviewableRecord) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    if user.has_role(Role.PROVINCE_ADMIN):
        return True
    if user.has_role(Role.ENTERPRISE):
        if record.owner_org_id == user.organization_id:
            return True
        if getattr(record, "project_id", None) and is_party(user, record.project_id):
            return True
    return reviews_record(user, record)


def get_record_for_user(user, kind: str, pk: int) -> ReviewableRecord:
    """Return the record if `user` may view it; raise Http404 otherwise (don't reveal that it exists)."""
    model = RECORD_MODELS.get(kind)
    if model is None:
        raise Http404
    record = model.objects.select_related(*RELATED[kind]).filter(pk=pk).first()
    if record is None or not can_view_record(user, record):
        raise Http404
    return record


def get_project_for_user(user, pk: int) -> Project:
    """Return the project if `user`'s organization is a party of it (or the user is a province admin)."""
    project = Project.objects.select_related("county", "county__parent", "owner_org").filter(pk=pk).first()
    if project is None:
        raise Http404
    if user.has_role(Role.PROVINCE_ADMIN) or (user.has_role(Role.ENTERPRISE) and is_party(user, project.pk)):
        return project
    raise Http404
