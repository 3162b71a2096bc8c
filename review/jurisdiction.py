"""Who performs a review step: one rule, in a Python form and a query form.

A step of a record is filed under a *post*: who performs it (the drawing-review institution, the
provincial design division, or roster reviewers), the roster stage, the county it is filed under
and, for an institution, which one. A user performs a post when
- institution: the user has the institution role in exactly that organization;
- design division: the user has the design-division role;
- roster: the user has the reviewer role and a roster assignment of that stage whose division
  covers the county (the county itself, its prefecture, the province) or whose zone contains it.
Nobody performs a step of a record their own organization entered.

`performs` answers for one record (permission checks, record access); `performed_by_q` is the same
rule over the inbox rows (review.models.Task), which store each open step's post.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from projects import workflow
from projects.models import ReviewableRecord, State
from projects.workflow import Performer, Step
from review.models import ReviewerAssignment
from yunjian.core.models import Division, Role, covering_codes


@dataclass(frozen=True)
class Post:
    performer: str
    stage: str
    division_code: str
    assignee_org_id: int | None


def steps_of(record: ReviewableRecord) -> tuple[Step, ...]:
    return workflow.chain_for(record)


def _record_county(record: ReviewableRecord) -> str:
    """The project's county; an addition request before its project exists has a county of its own
    (the only kind of record without a project)."""
    return record.project.county_id if record.project_id else record.county_id


def post_of(record: ReviewableRecord, step: Step) -> Post:
    """Where `step` of `record` is filed: a permit's under its issuing authority's division, the
    rest under the project's county (so every inbox can filter by division)."""
    code = record.issuing_division_id if step.where == "issuing" else _record_county(record)
    org = record.censor_org_id if step.performer == Performer.INSTITUTION else None
    return Post(step.performer, step.stage, code, org)


def _acts(user) -> bool:
    return user.is_authenticated and user.is_active and user.organization_id is not None


def assignments_covering_q(code: str) -> Q:
    """Over ReviewerAssignment: the assignments whose division or zone covers county `code`."""
    return Q(division_id__in=covering_codes(code)) | Q(zone__counties=code)


def performs_post(user, post: Post, owner_org_id: int | None) -> bool:
    if not _acts(user) or user.organization_id == owner_org_id:
        return False
    if post.performer == Performer.INSTITUTION:
        return user.has_role(Role.INSTITUTION) and user.organization_id == post.assignee_org_id
    if post.performer == Performer.DESIGN_DIVISION:
        return user.has_role(Role.DESIGN_DIVISION)
    if not (user.has_role(Role.REVIEWER) and post.division_code):
        return False
    return ReviewerAssignment.objects.filter(
        assignments_covering_q(post.division_code), user=user, stage=post.stage
    ).exists()


def performs(user, record: ReviewableRecord, step: Step) -> bool:
    """Whether `user` performs `step` of `record`."""
    return performs_post(user, post_of(record, step), record.owner_org_id)


def can_decide(user, record: ReviewableRecord) -> bool:
    """Whether `user` may approve or return the record now: it is in review at a step they perform."""
    return record.state == State.IN_REVIEW and performs(user, record, workflow.current_step(record))


# --- the same rule over inbox rows ------------------------------------------------------------


def assignments_of(user) -> list[ReviewerAssignment]:
    return list(
        ReviewerAssignment.objects.filter(user=user)
        .select_related("division", "zone")
        .prefetch_related("zone__counties")
    )


def covered_codes_q(assignment: ReviewerAssignment, field: str = "division_code") -> Q:
    """Over rows with a county code in `field`: the counties `assignment` covers.

    A prefecture or the province is the code range [5303, 5304), not `startswith`, so the partial
    index on the inbox serves it on any collation.
    """
    if assignment.division_id:
        if assignment.division.level == Division.Level.COUNTY:
            return Q(**{field: assignment.division_id})
        low, high = assignment.division.code_range
        return Q(**{f"{field}__gte": low, f"{field}__lt": high})
    return Q(**{f"{field}__in": [c.code for c in assignment.zone.counties.all()]})


def performed_by_q(user, assignments: list[ReviewerAssignment]) -> Q:
    """Over Task rows: the posts `user` performs (the caller excludes their own organization's rows).

    `assignments` are the user's roster lines (`assignments_of`), read once per request by the caller.
    A roster step is the only kind with a stage, so the stage alone tells it apart."""
    q = Q(pk__in=[])
    if not _acts(user):
        return q
    if user.has_role(Role.INSTITUTION):
        q |= Q(performer=Performer.INSTITUTION, assignee_org_id=user.organization_id)
    if user.has_role(Role.DESIGN_DIVISION):
        q |= Q(performer=Performer.DESIGN_DIVISION)
    if user.has_role(Role.REVIEWER):
        for a in assignments:
            q |= Q(stage=a.stage) & covered_codes_q(a)
    return q
