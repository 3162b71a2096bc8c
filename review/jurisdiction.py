"""Who performs a review step: one rule, in a Python form and a query form.

A step of a record is filed under a *post*: who performs it (the drawing-review institution, the
provincial design division, or roster reviewers), the roster stage, the county it is filed under
and, for an institution, which one. A user performs a post when
- institution: the user has the institution role in exactly that organization;
- design division: the user has the design-division role;
- roster: the user has the reviewer role and a roster assignment of that stage whose division
  covers the county (the county itself, its prefecture, the province). A post of 滇中新区 (a
  project in the new area, or a permit its bureau issues) carries the zone: then the new area's
  roster (assignments with that zone) performs it, and the province's, but not the host counties'
  or their prefecture's. A zone assignment performs nothing else.
Nobody performs a step of a record their own organization entered.

`performs` answers for one record (permission checks, record access); `performed_by_q` is the same
rule over the inbox rows (review.models.Task), which store each open step's post.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from projects import workflow
from projects.models import DataLevel, Origin, ReviewableRecord, State
from projects.workflow import Performer, Step
from review.models import ReviewerAssignment, Task
from yunjian.core.models import (
    NEW_AREA_ZONE,
    Division,
    Role,
    covering_codes,
    prefecture_code,
    province_code,
)


@dataclass(frozen=True)
class Post:
    performer: str
    stage: str
    division_code: str
    assignee_org_id: int | None
    zone: str = ""  # the Zone's slug for a post of a functional zone (滇中新区), else ""


def steps_of(record: ReviewableRecord) -> tuple[Step, ...]:
    return workflow.chain_for(record)


def _record_county(record: ReviewableRecord) -> str:
    """The project's county; an addition request before its project exists has a county of its own
    (the only kind of record without a project)."""
    return record.project.county_id if record.project_id else record.county_id


def _record_zone(record: ReviewableRecord, step: Step) -> str:
    if step.performer != Performer.ROSTER:
        return ""
    if step.where == "issuing":
        issuing = record.issuing_org
        return issuing.zone.slug if issuing.zone_id else ""
    return NEW_AREA_ZONE if record.project_id and record.project.in_new_area else ""


def post_of(record: ReviewableRecord, step: Step) -> Post:
    """Where `step` of `record` is filed: a permit's under its issuing authority's division (and its
    zone, for the new area's bureau), the rest under the project's county (and 滇中新区 for a project
    there), so every inbox can filter by division and zone."""
    code = (record.issuing_division_id or "") if step.where == "issuing" else _record_county(record)
    org = record.censor_org_id if step.performer == Performer.INSTITUTION else None
    return Post(step.performer, step.stage, code, org, _record_zone(record, step))


def _acts(user) -> bool:
    return user.is_authenticated and user.is_active and user.organization_id is not None


def assignments_covering_q(code: str, zone: str = "") -> Q:
    """Over ReviewerAssignment: the assignments that cover a post filed under county `code` (and
    `zone`): the zone's roster and the province for a zone's post, else the covering divisions."""
    if zone:
        return Q(zone__slug=zone) | Q(division_id=province_code(code))
    return Q(division_id__in=covering_codes(code))


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
        assignments_covering_q(post.division_code, post.zone), user=user, stage=post.stage
    ).exists()


def performs(user, record: ReviewableRecord, step: Step) -> bool:
    """Whether `user` performs `step` of `record`."""
    return performs_post(user, post_of(record, step), record.owner_org_id)


LEVEL_OF_DIVISION = {
    Division.Level.PROVINCE: DataLevel.A,
    Division.Level.PREFECTURE: DataLevel.B,
    Division.Level.COUNTY: DataLevel.C,
}


def approval_level(user, record: ReviewableRecord, step: Step) -> str:
    """数据等级 that `user`'s approval of `step` (the chain's last) gives `record` (docs/data-standard.md
    §2.11): the provincial department's design division confirms at A; a roster reviewer at the level
    of the roster line through which they perform the post — the province A, a prefecture B, a county
    C; the new area's bureau (滇中新区, a zone under the province) B. When several of the reviewer's
    lines cover the post, the highest authority among them is the one that confirmed it."""
    if step.performer == Performer.DESIGN_DIVISION:
        return DataLevel.A
    if step.performer != Performer.ROSTER:
        return DataLevel.D  # an institution only confirms before the division's review
    post = post_of(record, step)
    lines = ReviewerAssignment.objects.filter(
        assignments_covering_q(post.division_code, post.zone), user=user, stage=post.stage
    ).select_related("division")
    levels = [DataLevel.B if a.zone_id else LEVEL_OF_DIVISION[a.division.level] for a in lines]
    return min(levels, default=DataLevel.D)  # "A" < "B" < "C" < "D"


def can_decide(user, record: ReviewableRecord) -> bool:
    """Whether `user` may approve or return the record now: it is in review at a step they perform."""
    if record.state != State.IN_REVIEW or not performs(user, record, workflow.current_step(record)):
        return False
    return pinned_to(record) in (None, user.pk)


def pinned_to(record: ReviewableRecord) -> int | None:
    """The reviewer the record's open step is pinned to (review.routing), else None."""
    return (
        Task.objects.filter(kind=record.KIND, record_id=record.pk, status=Task.Status.OPEN)
        .values_list("assignee_id", flat=True)
        .first()
    )


def is_province_reviewer(user) -> bool:
    """A reviewer of the provincial department: a roster line of the province (any stage)."""
    return (
        _acts(user)
        and user.has_role(Role.REVIEWER)
        and ReviewerAssignment.objects.filter(user=user, division__level=Division.Level.PROVINCE).exists()
    )


def can_revoke(user, record: ReviewableRecord) -> bool:
    """Whether `user` may revoke (撤销认定) the approval of `record`: an approved record entered here
    (the platform's own are the platform's to withdraw), by a reviewer who performs a step of its chain:
    a roster reviewer of that stage whose line covers it — the county's, the prefecture's or the
    province's — or the design division for drawing reviews (an institution only confirms); never by
    its own organization. An
    addition request is no performance record: its approval created a drawing review, which is what
    would be revoked."""
    if record.state != State.APPROVED or record.origin == Origin.PLATFORM or not record.project_id:
        return False
    if not _acts(user) or user.organization_id == record.owner_org_id:
        return False
    reviewing = (Performer.ROSTER, Performer.DESIGN_DIVISION)
    return any(s.performer in reviewing and performs(user, record, s) for s in workflow.chain_for(record))


# --- 提级 (CHAINS["level_raise"]) --------------------------------------------------------------------


@dataclass(frozen=True)
class LevelTarget:
    to_level: str
    stage: str
    division_code: str  # the authority one level up: a prefecture's code for B, the province's for A


def level_target(record: ReviewableRecord) -> LevelTarget | None:
    """Where a request to raise `record`'s level goes, or None when it cannot be raised: approved,
    entered here, at C or B, by a roster step (a drawing review confirmed by the design division is A)."""
    to_level = workflow.RAISE_TO.get(record.data_level)
    if record.state != State.APPROVED or record.origin == Origin.PLATFORM or not to_level:
        return None
    step = workflow.chain_for(record)[-1]
    if step.performer != Performer.ROSTER:
        return None
    county = post_of(record, step).division_code
    if not county:
        return None
    code = province_code(county) if to_level == DataLevel.A else prefecture_code(county)
    return LevelTarget(to_level, step.stage, code)


def performs_level(user, request) -> bool:
    """Whether `user` verifies a level request: a reviewer of the records' stage with a roster line of
    exactly the authority it is filed with (not a lower one, and not the applicant's own organization)."""
    if not _acts(user) or user.organization_id == request.owner_org_id or not user.has_role(Role.REVIEWER):
        return False
    return ReviewerAssignment.objects.filter(
        user=user, stage=request.stage, division_id=request.division_code
    ).exists()


def level_requests_q(assignments: list[ReviewerAssignment]) -> Q:
    """Over LevelRequest rows: those filed with the user's roster lines (performs_level as a query)."""
    q = Q(pk__in=[])
    for a in assignments:
        if a.division_id:
            q |= Q(stage=a.stage, division_code=a.division_id)
    return q


# --- the same rule over inbox rows ------------------------------------------------------------


def assignments_of(user) -> list[ReviewerAssignment]:
    # The zone's host counties: the inbox's division filter lists them (review.selectors).
    return list(
        ReviewerAssignment.objects.filter(user=user)
        .select_related("division", "zone")
        .prefetch_related("zone__counties")
    )


def covered_q(assignment: ReviewerAssignment, field: str = "division_code") -> Q:
    """Over Task rows (county code in `field`, zone slug in `zone`): the posts `assignment` covers.

    A prefecture or the province is the code range [5303, 5304), not `startswith`, so the partial
    index on the inbox serves it on any collation. The province covers zone posts too; a county or
    prefecture does not (滇中新区's records go to its own roster); a zone covers only its posts.
    """
    if assignment.zone_id:
        return Q(zone=assignment.zone.slug)
    if assignment.division.level == Division.Level.COUNTY:
        return Q(**{field: assignment.division_id}, zone="")
    low, high = assignment.division.code_range
    within = Q(**{f"{field}__gte": low, f"{field}__lt": high})
    return within if assignment.division.level == Division.Level.PROVINCE else within & Q(zone="")


def performed_by_q(user, assignments: list[ReviewerAssignment] | None = None) -> Q:
    """Over Task rows: the posts `user` performs (the caller excludes their own organization's rows).

    `assignments` are the user's roster lines (`assignments_of`), read once per request by the caller
    (read here when not given).
    A roster step is the only kind with a stage, so the stage alone tells it apart."""
    q = Q(pk__in=[])
    if not _acts(user):
        return q
    if user.has_role(Role.INSTITUTION):
        q |= Q(performer=Performer.INSTITUTION, assignee_org_id=user.organization_id)
    if user.has_role(Role.DESIGN_DIVISION):
        q |= Q(performer=Performer.DESIGN_DIVISION)
    if user.has_role(Role.REVIEWER):
        for a in assignments if assignments is not None else assignments_of(user):
            q |= Q(performer=Performer.ROSTER, stage=a.stage) & covered_q(a)
    # A step pinned to one reviewer (review.routing.reassign_tasks) is theirs alone.
    return q & (Q(assignee__isnull=True) | Q(assignee_id=user.pk))
