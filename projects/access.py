"""Fetch-and-check on the enterprise side: one helper per object. "Absent" and "invisible" both
answer 404. A reviewer's view of a record is decided by review.access, which builds on this.
"""

from __future__ import annotations

from django.http import Http404

from projects import workflow
from projects.models import Project, ProjectParty, ReviewableRecord
from yunjian.core.models import Role


def is_party(user, project_id: int | None) -> bool:
    if project_id is None or user.organization_id is None:
        return False
    return ProjectParty.objects.filter(project_id=project_id, organization_id=user.organization_id).exists()


def can_view_as_party(user, record: ReviewableRecord) -> bool:
    """The province administrator, the organization that entered the record, and the project's parties."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.has_role(Role.PROVINCE_ADMIN):
        return True
    if user.has_role(Role.ENTERPRISE):
        if record.owner_org_id == user.organization_id:
            return True
        if record.project_id and is_party(user, record.project_id):
            return True
    return False


def load_record(kind: str, pk: int) -> ReviewableRecord | None:
    """The record with what its page shows (KINDS[kind].related), or None."""
    spec = workflow.KINDS.get(kind)
    if spec is None:
        return None
    return spec.model.objects.select_related(*spec.related).filter(pk=pk).first()


def get_project_for_user(user, pk: int) -> Project:
    """Return the project if `user`'s organization is a party of it (or the user is a province admin)."""
    project = Project.objects.select_related("county__parent", "owner_org").filter(pk=pk).first()
    if project is None:
        raise Http404
    if user.has_role(Role.PROVINCE_ADMIN) or (user.has_role(Role.ENTERPRISE) and is_party(user, project.pk)):
        return project
    raise Http404
