"""Who sees which projects and records, each rule named once.

Every selector here answers in a fixed number of queries, whatever the number of rows: lists
load one page of projects, then the records of that page in one query per record kind.
"""

from __future__ import annotations

import re
from collections import defaultdict

from django.db.models import Case, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When

from projects import workflow
from projects.models import (
    DATA_SOURCES,
    Completion,
    ConstructionPermit,
    DataLevel,
    DrawingReview,
    DrawingReviewAdditionRequest,
    Origin,
    Project,
    ProjectParty,
    RecordKind,
    ReviewableRecord,
    Revocation,
    SpecialtyProjectInfo,
    State,
    TenderContract,
    data_source_q,
)
from yunjian.core.models import NEW_AREA_ZONE, Organization, covering_codes
from yunjian.core.pagination import Column, Sorting
from yunjian.core.validators import normalize_text

# The record kinds that belong to a project (an addition request may come before its project exists).
PROJECT_RECORD_KINDS = workflow.PROJECT_KINDS
# A search term made of letters, digits and hyphens is a number (项目编号、合格书编号、许可证编号).
CODE_QUERY_RE = re.compile(r"^[0-9A-Za-z\-]+$")
SEARCH_LIMIT = 30


# --- Orders of the enterprise's lists (yunjian.core.pagination: sorted by column across pages) ---

# The work first: returned records, then drafts, then those in review, then the approved ones.
WORK_RANK = Case(
    When(state=State.RETURNED, then=Value(0)),
    When(state=State.DRAFT, then=Value(1)),
    When(state=State.IN_REVIEW, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)
# "状态" sorts by that rank, newest first within a state; it is the default of the record lists.
_STATE_COLUMN = Column("state", ("work_rank", "-id"))
WORKSPACE_SORTING = Sorting(
    columns=(Column("recent", ("id",)), Column("name", ("name",)), Column("prj_num", ("prj_num",))),
    default="-recent",  # the newest projects first; what is owed is listed above them (待完成)
)
DRAWING_REVIEW_SORTING = Sorting(
    columns=(
        _STATE_COLUMN,
        Column("censor_num", ("censor_num",)),
        Column("project", ("project__name",)),
        Column("censor_org", ("censor_org__name",)),
        Column("censor_date", ("censor_date",), first_descending=True),
    ),
    default="state",
)
ADDITION_SORTING = Sorting(
    columns=(
        _STATE_COLUMN,
        Column("project", ("project_name",)),
        Column("censor_num", ("censor_num",)),
        Column("censor_org", ("censor_org__name",)),
    ),
    default="state",
)


def projects_of_org(org_id: int) -> QuerySet[Project]:
    """Projects where the organization has a role (建设、设计、施工总包、专业承包…)."""
    return Project.objects.filter(
        pk__in=ProjectParty.objects.filter(organization_id=org_id).values("project_id")
    )


def prefix_range(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, as the range [prefix, next prefix) a plain b-tree index serves
    (on the C-collation database `startswith` needs a varchar_pattern_ops index instead)."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})


def clean_query(raw: str) -> str:
    """Fold full-width characters and spaces out of a search term, and bound its length."""
    return normalize_text(raw)[:60]


def entered_in(org_id: int) -> Q:
    """Over Project: projects where the organization entered a record, party or not (its drafts,
    e.g. a first permit, whose approval makes it a party). One subquery per record kind."""
    condition = Q(pk__in=[])
    for name in PROJECT_RECORD_KINDS:
        model = workflow.KINDS[name].model
        condition |= Q(pk__in=model.objects.filter(owner_org_id=org_id).values("project_id"))
    return condition


def workspace_projects(org_id: int, *, q: str = "", state: str = "", kind: str = "") -> QuerySet[Project]:
    """The workspace list (我的项目): the organization's projects, and those where it entered a
    record without being a party yet (workspace.project_rows shows it only its own records there),
    newest first, filtered.

    `q` is a number prefix (project number and drawing-review certificate: their unique columns carry
    Django's varchar_pattern_ops "_like" indexes; permit number: a range on its b-tree index) or else
    part of the project's name (within the organization's own projects only). `state` and `kind` keep projects where the organization entered such a record.
    """
    parties = ProjectParty.objects.filter(organization_id=org_id).values("project_id")
    rows = Project.objects.filter(Q(pk__in=parties) | entered_in(org_id)).select_related(
        "county", "county__parent", "specialty_info"
    )
    if q:
        if CODE_QUERY_RE.match(q):
            rows = rows.filter(
                Q(prj_num__startswith=q)
                | Q(pk__in=DrawingReview.objects.filter(censor_num__startswith=q).values("project_id"))
                | Q(
                    pk__in=ConstructionPermit.objects.filter(prefix_range("permit_num", q)).values(
                        "project_id"
                    )
                )
            )
        else:
            rows = rows.filter(name__icontains=q)
    if state or kind:
        kinds = [kind] if kind in PROJECT_RECORD_KINDS else list(PROJECT_RECORD_KINDS)
        condition = Q(pk__in=[])
        for name in kinds:
            mine = workflow.KINDS[name].model.objects.filter(project_id=OuterRef("pk"), owner_org_id=org_id)
            if state in State.values:
                mine = mine.filter(state=state)
            condition |= Q(Exists(mine))
        rows = rows.filter(condition)
    return rows


def records_of_projects(projects: list[Project]) -> dict[int, list[ReviewableRecord]]:
    """Every record of the given projects, grouped by project, in workflow order.

    One query per record kind (five in all), whatever the number of projects or records. Each
    record gets its project object from `projects`, so reading `record.project` asks nothing more.
    """
    grouped: dict[int, list[ReviewableRecord]] = defaultdict(list)
    by_id = {p.pk: p for p in projects}
    if not by_id:
        return grouped
    for model in (SpecialtyProjectInfo, DrawingReview, ConstructionPermit, TenderContract, Completion):
        for record in (
            model.objects.filter(project_id__in=list(by_id)).select_related("owner_org").order_by("id")
        ):
            record.project = by_id[record.project_id]
            grouped[record.project_id].append(record)
    return grouped


def roles_of_org(org_id: int, project_ids: list[int]) -> dict[int, set[str]]:
    """The organization's roles (ProjectParty.Role) on each of the given projects, in one query."""
    roles: dict[int, set[str]] = defaultdict(set)
    for project_id, role in ProjectParty.objects.filter(
        organization_id=org_id, project_id__in=project_ids
    ).values_list("project_id", "role"):
        roles[project_id].add(role)
    return roles


def drawing_reviews_of_org(
    org_id: int, *, q: str = "", state: str = "", level: str = "", source: str = ""
) -> QuerySet[DrawingReview]:
    """The drawing reviews an organization owns (我的图审信息), for keyset pages (DRAWING_REVIEW_SORTING);
    filtered by state, 数据等级 and 数据来源 (docs/data-standard.md §2.11) when given."""
    rows = (
        DrawingReview.objects.filter(owner_org_id=org_id)
        .select_related("project", "project__county", "censor_org")
        .annotate(work_rank=WORK_RANK)
    )
    if state in State.values:
        rows = rows.filter(state=state)
    if level in DataLevel.values:
        rows = rows.filter(data_level=level)
    if source in DATA_SOURCES:
        rows = rows.filter(data_source_q(source))
    if q:
        if CODE_QUERY_RE.match(q):
            project_ids = list(
                Project.objects.filter(prj_num__startswith=q).values_list("pk", flat=True)[:SEARCH_LIMIT]
            )
            rows = rows.filter(Q(censor_num__startswith=q) | Q(project_id__in=project_ids))
        else:
            rows = rows.filter(project__name__icontains=q)
    return rows


def addition_requests_of_org(org_id: int, *, state: str = "") -> QuerySet[DrawingReviewAdditionRequest]:
    """The organization's addition requests, for keyset pages (ADDITION_SORTING)."""
    rows = (
        DrawingReviewAdditionRequest.objects.filter(owner_org_id=org_id)
        .select_related("county", "censor_org", "created_review")
        .annotate(work_rank=WORK_RANK)
    )
    if state in State.values:
        rows = rows.filter(state=state)
    return rows


def permit_project_kinds(org: Organization | None) -> list[str]:
    """The kinds of project whose permits the organization enters (notice 一(一)2, 二(二))."""
    if org is None:
        return []
    kinds = []
    if org.has_kind(Organization.Kind.GENERAL_CONTRACTOR):
        kinds.append(Project.Kind.GENERAL)
    if org.has_kind(Organization.Kind.SPECIALTY_CONTRACTOR):
        kinds.append(Project.Kind.DIRECT_SPECIALTY)
    return kinds


def _offered(org: Organization) -> QuerySet[DrawingReview]:
    return DrawingReview.objects.filter(
        state=State.APPROVED, project__kind__in=permit_project_kinds(org)
    ).exclude(project__origin=Origin.PLATFORM)


def drawing_review_search(
    q: str, *, org: Organization | None, limit: int = SEARCH_LIMIT
) -> list[DrawingReview]:
    """The permit picker (notice 一(一)2): approved drawing reviews a permit of `org` may be based on.

    Offered to general contractors (general projects) and specialty contractors (direct specialty
    projects): a review whose certificate number is exactly `q`, or, in projects the organization
    is already a party of, reviews whose certificate or project number starts with `q`, or whose
    project name contains it. Nothing else in the province is listed. Three queries at most.

    Numbers are prefix matches served by the varchar_pattern_ops indexes on censor_num and prj_num;
    names match anywhere ("标准厂房" finds 曲靖经开区标准厂房二期), served by the pg_trgm index on the
    project's name.
    """
    q = clean_query(q)
    if not q or org is None or not permit_project_kinds(org):
        return []
    offered = _offered(org)
    mine = offered.filter(
        project_id__in=ProjectParty.objects.filter(organization_id=org.pk).values("project_id")
    )
    if CODE_QUERY_RE.match(q):
        review_ids = list(offered.filter(censor_num=q).values_list("pk", flat=True)[:1])
        review_ids += list(
            mine.filter(Q(censor_num__startswith=q) | Q(project__prj_num__startswith=q))
            .order_by("censor_num")
            .values_list("pk", flat=True)[:limit]
        )
    else:
        review_ids = list(
            mine.filter(project__name__contains=q).order_by("censor_num").values_list("pk", flat=True)[:limit]
        )
    if not review_ids:
        return []
    return list(
        DrawingReview.objects.filter(pk__in=review_ids)
        .select_related("project", "project__county", "owner_org", "censor_org")
        .order_by("project_id", "censor_num")[:limit]
    )


def permit_project_offered(org: Organization, project_id: int, q: str) -> bool:
    """Whether the permit page of this project may open for `org`: it is a party of the project, or
    `q` is the exact certificate number of an approved review of it (drawing_review_search's rule)."""
    q = clean_query(q)
    parties = ProjectParty.objects.filter(organization_id=org.pk).values("project_id")
    return (
        _offered(org)
        .filter(project_id=project_id)
        .filter(Q(project_id__in=parties) | Q(censor_num=q, censor_num__gt=""))
        .exists()
    )


def offered_reviews(org: Organization, ids: list[int], q: str) -> list[DrawingReview]:
    """Those of `ids` the picker offers `org` (drawing_review_search's rule): approved, in a project
    of a kind it enters permits for, and either in a project it is a party of or found by its exact
    certificate number `q`. The permit page starts only from these."""
    q = clean_query(q)
    rows = list(
        _offered(org)
        .filter(pk__in=ids)
        .filter(
            Q(project_id__in=ProjectParty.objects.filter(organization_id=org.pk).values("project_id"))
            | Q(censor_num=q, censor_num__gt="")
        )
        .select_related("project", "project__county")
    )
    # Several reviews of one project: knowing one certificate number opens that project's reviews.
    found = {r.project_id for r in rows}
    if q and found:
        rows += list(
            _offered(org)
            .filter(pk__in=ids, project_id__in=found)
            .exclude(pk__in=[r.pk for r in rows])
            .select_related("project", "project__county")
        )
    return rows


def approved_reviews_of_project(project_id: int) -> list[DrawingReview]:
    """The drawing reviews a permit of this project may be based on (notice 一(一)2)."""
    return list(
        DrawingReview.objects.filter(project_id=project_id, state=State.APPROVED)
        .select_related("censor_org")
        .order_by("censor_num")
    )


def specialty_contracts_of(org_id: int, project_id: int) -> QuerySet[TenderContract]:
    """The organization's own specialty contracts on a project: what its completions link to (二(一))."""
    from projects.codes import Scope

    return TenderContract.objects.filter(project_id=project_id, owner_org_id=org_id, scope=Scope.SPECIALTY)


def competent_bureaus(project: Project) -> QuerySet[Organization]:
    """The housing bureaus that may issue (and so review) a permit of `project`: the county's, its
    prefecture's and the province's, and, for a project in 滇中新区 (`Project.in_new_area`), the new
    area's bureau (filed under the province code with the zone; docs/data-standard.md §4.2)."""
    where = Q(division_id__in=covering_codes(project.county_id), zone__isnull=True)
    if project.in_new_area:
        where |= Q(zone__slug=NEW_AREA_ZONE)
    return organizations_of_kind(Organization.Kind.HOUSING_BUREAU).filter(where)


def organizations_of_kind(kind: str) -> QuerySet[Organization]:
    return Organization.objects.filter(kinds__contains=f"|{kind}|").order_by("division_id", "name")


def owed_counts(user) -> dict:
    """Per kind of record the user's organization entered: drafts, in review, returned, approved.

    One aggregate query per record kind, whatever the number of records.
    """
    rows = []
    totals = {"draft": 0, "in_review": 0, "returned": 0, "approved": 0}
    org_id = user.organization_id
    for kind, model in ((k, spec.model) for k, spec in workflow.KINDS.items()):
        counts = model.objects.filter(owner_org_id=org_id).aggregate(
            **{state: Count("id", filter=Q(state=state)) for state in totals}
        )
        for state in totals:
            totals[state] += counts[state]
        if any(counts.values()):
            rows.append({"kind": kind, "label": RecordKind(kind).label, **counts})
    return {"kind_rows": rows, "totals": totals}


RECENT_LIMIT = 20


def recent_records_of_org(kind: str, org_id: int, *, limit: int = RECENT_LIMIT) -> list[ReviewableRecord]:
    """The organization's latest records of a kind, to copy from into a new one (one query)."""
    model = workflow.KINDS[kind].model
    qs = model.objects.filter(owner_org_id=org_id)
    if any(f.name == "project" for f in model._meta.get_fields()):
        qs = qs.select_related("project")
    return list(qs.order_by("-updated_at")[:limit])


OPEN_RECORDS_LIMIT = 50


def open_records_of_org(org_id: int, *, limit: int = OPEN_RECORDS_LIMIT) -> list[ReviewableRecord]:
    """The organization's records still to finish: returned ones first, then drafts, most recently
    touched first (the workspace's 待完成 list). One bounded query per record kind."""
    found: list[ReviewableRecord] = []
    for spec in workflow.KINDS.values():
        qs = spec.model.objects.filter(owner_org_id=org_id, state__in=(State.RETURNED, State.DRAFT))
        if any(f.name == "project" for f in spec.model._meta.get_fields()):
            qs = qs.select_related("project")
        found += list(qs.order_by("-updated_at")[:limit])
    found.sort(key=lambda r: (r.state != State.RETURNED, -r.updated_at.timestamp()))
    return found[:limit]


__all__ = [
    "open_records_of_org",
    "addition_requests_of_org",
    "approved_reviews_of_project",
    "drawing_review_search",
    "offered_reviews",
    "permit_project_offered",
    "permit_project_kinds",
    "drawing_reviews_of_org",
    "owed_counts",
    "projects_of_org",
    "records_of_projects",
    "roles_of_org",
    "workspace_projects",
    "State",
]


def owner_name_requested(record) -> str:
    """The 建设单位 name typed in the addition request that created this drawing review ("" if none)."""
    if record.KIND != RecordKind.DRAWING_REVIEW:
        return ""
    return (
        DrawingReviewAdditionRequest.objects.filter(created_review_id=record.pk)
        .values_list("owner_name", flat=True)
        .first()
        or ""
    )


# --- 撤销认定 (issue 18) -------------------------------------------------------------------------------

RECENT_REVOCATIONS = 10


def revocations_of_record(kind: str, record_id: int) -> list:
    """The revocations of one record, newest first (its page tells the enterprise why)."""
    return list(
        Revocation.objects.filter(kind=kind, record_id=record_id)
        .select_related("revoked_org", "evidence")
        .order_by("-id")
    )


def revocations_of_org(org_id: int, *, limit: int = RECENT_REVOCATIONS) -> list:
    """The enterprise's records revoked most recently (its home page tells it), in one query."""
    return list(
        Revocation.objects.filter(owner_org_id=org_id)
        .select_related("revoked_org", "project")
        .order_by("-id")[:limit]
    )
