"""业绩: which of an organization's projects count as verified performance, and what is missing.

Why enterprises enter this data at all: only projects whose records are approved and acknowledged
by the provincial platform count as performance (业绩) in qualification and tender applications.

For each of its roles on a project (`ProjectParty`), an organization owes the records the notice
asks of that role — derived from `projects.workflow.KINDS[...].enterers` and the two exceptions
the notice makes (二(一): a subcontracted specialty contractor adds only its scope's tender and
contract and its completion; 二(二): in a project the owner contracted directly, the specialty
contractor enters everything and its basic info comes first). A project is verified (已认定业绩)
for that role when every such record is approved and acknowledged by the platform.

Every per-project state is an SQL expression (annotations on `ProjectParty`), computed for the rows
whose inputs changed and stored on the row (`s_<kind>`, `missing`, `blocking`): triggers mark the
rows stale in the same transaction as the change (`triggers_sql`), `refresh` recomputes them — before
an organization's pages and in a periodic job — and the figures and filtered lists read the stored
columns, one query whatever the number of projects (docs/architecture.md, 业绩). What the
platform has acknowledged is the sync layer's knowledge: it passes `acknowledged(kind)` in
(sync.performance); this module does not import the sync layer (docs/architecture.md, layers).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import format_html

from projects import codes, workflow
from projects.models import (
    Completion,
    ConstructionPermit,
    DrawingReview,
    Origin,
    Project,
    ProjectParty,
    RecordKind,
    State,
    TenderContract,
)
from yunjian.core import spreadsheets

Role = ProjectParty.Role
ROLE_LABELS = {value: str(label) for value, label in Role.choices}

# The steps of the chain in the notice's order: (basic info of a direct specialty project →)
# drawing review → permit → tender and contract → completion and filing.
STEPS: tuple[str, ...] = (
    RecordKind.SPECIALTY_INFO,
    RecordKind.DRAWING_REVIEW,
    RecordKind.PERMIT,
    RecordKind.TENDER_CONTRACT,
    RecordKind.COMPLETION,
)

# The state of a step, worst record first. A step's state is that of the organization's record
# of that kind furthest behind (every record counts); "missing" when it has none.
MISSING, DRAFT, RETURNED, IN_REVIEW, APPROVED, ACKNOWLEDGED = range(6)
STATUS_LABELS = {
    MISSING: "未录入",
    DRAFT: "草稿",
    RETURNED: "已退回",
    IN_REVIEW: "审核中",
    APPROVED: "已审核通过",
    ACKNOWLEDGED: "平台已接收",
}
STATUS_CSS = {
    MISSING: "",
    DRAFT: "state-draft",
    RETURNED: "state-returned",
    IN_REVIEW: "state-in_review",
    APPROVED: "state-approved",
    ACKNOWLEDGED: "state-synced",
}

# The roles that enter records: an organization kind named among some kind's enterers.
# (ProjectParty.Role and Organization.Kind share their values for these.)
PERFORMANCE_ROLES: tuple[str, ...] = tuple(
    role for role in Role.values if any(role in workflow.KINDS[kind].enterers for kind in STEPS)
)

# Notice 二(一): a subcontracted specialty contractor adds these in the general project.
SUBCONTRACT_KINDS = (RecordKind.TENDER_CONTRACT, RecordKind.COMPLETION)
# Notice 二(二): only a directly contracted specialty project has its own basic info record, and
# there the specialty contractor enters the drawing review, permit and completion.
DIRECT_ONLY_KINDS = (RecordKind.SPECIALTY_INFO,)
DIRECT_SPECIALTY_KINDS = (RecordKind.DRAWING_REVIEW, RecordKind.PERMIT, RecordKind.COMPLETION)

# The scope of the tender and contract each role enters (notice 一(二)1): codes.SCOPE_ORG_KIND, inverted.
ROLE_SCOPE = {org_kind: scope for scope, org_kind in codes.SCOPE_ORG_KIND.items()}


def step_label(kind: str) -> str:
    return workflow.KINDS[kind].short_label


def required_kinds(role: str, *, direct: bool) -> tuple[str, ...]:
    """The records the notice asks of `role` on a project, in chain order (`direct`: a project
    the owner contracted directly to a specialty contractor, notice 二(二))."""
    kinds = [k for k in STEPS if role in workflow.KINDS[k].enterers]
    if not direct:
        kinds = [k for k in kinds if k not in DIRECT_ONLY_KINDS]
        if role == Role.SPECIALTY_CONTRACTOR:
            kinds = [k for k in kinds if k in SUBCONTRACT_KINDS]
    elif role != Role.SPECIALTY_CONTRACTOR:
        kinds = [k for k in kinds if k not in DIRECT_SPECIALTY_KINDS]
    return tuple(kinds)


def _required_q(kind: str) -> Q:
    """Party rows (role × project kind) for which the notice asks a record of `kind`."""
    condition = Q(pk__in=[])
    for role in PERFORMANCE_ROLES:
        for direct in (False, True):
            if kind in required_kinds(role, direct=direct):
                project_kind = Project.Kind.DIRECT_SPECIALTY if direct else Project.Kind.GENERAL
                condition |= Q(role=role, project__kind=project_kind)
    return condition


Acknowledged = Callable[[str], Q]


def _record_code(acknowledged: Acknowledged, kind: str) -> Case:
    return Case(
        When(Q(state=State.APPROVED) & acknowledged(kind), then=Value(ACKNOWLEDGED)),
        When(state=State.APPROVED, then=Value(APPROVED)),
        When(state=State.IN_REVIEW, then=Value(IN_REVIEW)),
        When(state=State.RETURNED, then=Value(RETURNED)),
        default=Value(DRAFT),
        output_field=IntegerField(),
    )


def _own(kind: str, org, acknowledged: Acknowledged, **extra) -> QuerySet:
    """The organization's records of `kind` in the party row's project, worst first."""
    model = workflow.KINDS[kind].model
    return (
        model.objects.filter(project_id=OuterRef("project_id"), owner_org_id=org, **extra)
        .annotate(code=_record_code(acknowledged, kind))
        .order_by("code", "id")
    )


def _step(queryset: QuerySet, field: str) -> Subquery:
    return Subquery(queryset.values(field)[:1])


def annotate_steps(
    queryset: QuerySet, org_id: int | None, acknowledged: Acknowledged, *, ids: bool = False
) -> QuerySet:
    """Annotate party rows with `st_<kind>`: the state of each step the row's role owes, or
    ACKNOWLEDGED for a step it does not owe. With `ids`, also `r_<kind>`: the id of the record
    behind each step's state (the next thing to open). The organization is `org_id`, or with None
    each row's own (`organization_id`: the stored verdicts' refresh, over many organizations).

    Each is one correlated subquery, evaluated once per row only inside `verdict_sql` (Django
    repeats an annotation's whole expression wherever another one or a filter refers to it).
    """
    subcontract = Q(role=Role.SPECIALTY_CONTRACTOR, project__kind=Project.Kind.GENERAL)
    scope = Case(
        *(When(role=role, then=Value(scope)) for role, scope in ROLE_SCOPE.items()),
        default=Value(""),
    )
    queryset = queryset.annotate(scope=scope)
    org = OuterRef("organization_id") if org_id is None else org_id
    inner_org = OuterRef(OuterRef("organization_id")) if org_id is None else org_id
    # A subcontractor's completions are those of its own specialty contracts, one for each
    # (notice 二(一)); the general contractor's (or a direct project's) completion is the project's.
    specialty_contracts = TenderContract.objects.filter(
        project_id=OuterRef("project_id"), owner_org_id=org, scope=codes.Scope.SPECIALTY
    )
    uncompleted = specialty_contracts.exclude(
        Exists(Completion.objects.filter(specialty_contract_id=OuterRef("pk"), owner_org_id=inner_org))
    )
    sources = {
        RecordKind.SPECIALTY_INFO: _own(RecordKind.SPECIALTY_INFO, org, acknowledged),
        RecordKind.DRAWING_REVIEW: _own(RecordKind.DRAWING_REVIEW, org, acknowledged),
        RecordKind.PERMIT: _own(RecordKind.PERMIT, org, acknowledged),
        RecordKind.TENDER_CONTRACT: _own(RecordKind.TENDER_CONTRACT, org, acknowledged).filter(
            scope=OuterRef("scope")
        ),
    }
    main_completion = _own(RecordKind.COMPLETION, org, acknowledged, specialty_contract__isnull=True)
    sub_completion = _own(RecordKind.COMPLETION, org, acknowledged, specialty_contract__isnull=False)
    annotations = {}
    for kind in STEPS:
        required = _required_q(kind)
        if kind == RecordKind.COMPLETION:
            code = Case(
                When(subcontract & Q(Exists(uncompleted)), then=Value(MISSING)),
                When(subcontract, then=Coalesce(_step(sub_completion, "code"), Value(MISSING))),
                default=Coalesce(_step(main_completion, "code"), Value(MISSING)),
                output_field=IntegerField(),
            )
            record_id = Case(
                When(subcontract, then=_step(sub_completion, "id")),
                default=_step(main_completion, "id"),
            )
        else:
            code = Coalesce(_step(sources[kind], "code"), Value(MISSING))
            record_id = _step(sources[kind], "id")
        annotations[f"st_{kind}"] = Case(
            When(required, then=code), default=Value(ACKNOWLEDGED), output_field=IntegerField()
        )
        if ids:
            annotations[f"r_{kind}"] = Case(When(required, then=record_id), default=Value(None))
    if ids:
        # For the steps other units enter (shown in the chain for context): the project's record
        # furthest along, any unit's. Only "approved" and "acknowledged" are shown of them.
        for kind in CONTEXT_KINDS:
            extra = {"specialty_contract__isnull": True} if kind == RecordKind.COMPLETION else {}
            best = (
                workflow.KINDS[kind]
                .model.objects.filter(project_id=OuterRef("project_id"), **extra)
                .annotate(code=_record_code(acknowledged, kind))
                .order_by("-code", "id")
            )
            annotations[f"c_{kind}"] = Coalesce(_step(best, "code"), Value(MISSING))
    return queryset.annotate(**annotations)


# The steps whose state a role that does not enter them still sees in its chain.
CONTEXT_KINDS = (RecordKind.DRAWING_REVIEW, RecordKind.PERMIT, RecordKind.COMPLETION)


def verdict_sql(
    queryset: QuerySet,
    org_id: int | None,
    acknowledged: Acknowledged,
    *,
    ids: bool = False,
    extra: tuple[str, ...] = (),
):
    """(sql, params) of the party rows of `queryset` with their step states `s_<kind>` and the
    verdict: `missing` (how many owed steps are not yet acknowledged: 0 = verified, 1 = one step
    away) and `blocking` (the first such step in chain order, "" when verified). `org_id` None: each
    row's own organization. `extra`: party columns passed through.

    The steps are computed once per row in a MATERIALIZED common table expression; the verdict
    reads its columns, so no subquery runs twice."""
    columns = [f"st_{k}" for k in STEPS]
    if ids:
        columns += [f"r_{k}" for k in STEPS] + [f"c_{k}" for k in CONTEXT_KINDS]
    inner = annotate_steps(queryset, org_id, acknowledged, ids=ids).values("id", *extra, *columns)
    sql, params = inner.query.sql_with_params()
    missing = " + ".join(f"(t.st_{k} < {ACKNOWLEDGED})::int" for k in STEPS)
    blocking = " ".join(f"WHEN t.st_{k} < {ACKNOWLEDGED} THEN '{k}'" for k in STEPS)
    out = ", ".join(
        [
            "t.id",
            *(f"t.{c}" for c in extra),
            *(f"t.st_{k} AS s_{k}" for k in STEPS),
            *(f"t.{c}" for c in columns[5:]),
        ]
    )
    # Interpolated: Django's compiled SQL (values in `params`) and the STEPS keys, constants.
    verdict = f"SELECT {out}, ({missing}) AS missing, (CASE {blocking} ELSE '' END) AS blocking FROM t"  # noqa: S608
    return f"WITH t AS MATERIALIZED ({sql}) {verdict}", params  # noqa: S608


@contextmanager
def without_jit():
    """Run the 业绩 queries with PostgreSQL's JIT compiler off. Their estimated cost (a correlated
    subquery per step and row) passes `jit_above_cost`, and compiling them costs far more than
    running them (measured at 5,000 projects: about 5 s of JIT for 0.3 s of execution;
    bench/README.md). SET LOCAL lasts until the end of this transaction only (inside another
    `without_jit`, no savepoint: the setting is already the transaction's)."""
    with transaction.atomic(savepoint=False):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")
        yield


def parties(org_id: int) -> QuerySet[ProjectParty]:
    """The organization's roles on projects that enter records: the rows of the 业绩 list."""
    return ProjectParty.objects.filter(organization_id=org_id, role__in=PERFORMANCE_ROLES)


# The list's filters: (label, the test of a row's `missing`).
FILTERS: dict[str, tuple[str, Callable[[int], bool]]] = {
    "verified": ("已认定业绩", lambda missing: missing == 0),
    "near": ("差一步", lambda missing: missing == 1),
    "open": ("未认定", lambda missing: missing > 0),
}


def with_states(page: list[ProjectParty], org_id: int, acknowledged: Acknowledged) -> list[ProjectParty]:
    """Set `s_<kind>`, `r_<kind>`, `missing` and `blocking` on the party rows of one page (one query)."""
    if not page:
        return page
    sql, params = verdict_sql(
        ProjectParty.objects.filter(pk__in=[p.pk for p in page]), org_id, acknowledged, ids=True
    )
    with without_jit(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c.name for c in cursor.description]
        found = {values[0]: dict(zip(names, values, strict=True)) for values in cursor.fetchall()}
    kept = [party for party in page if party.pk in found]  # a row deleted meanwhile is left out
    for party in kept:
        for name, value in found[party.pk].items():
            if name != "id":
                setattr(party, name, value)
    return kept


@dataclass(frozen=True)
class Summary:
    total: int
    verified: int
    near: int
    blocked: list[tuple[str, str, int]]  # (step kind, label, projects blocked there)

    @property
    def open(self) -> int:
        return self.total - self.verified


def summary(org_id: int, acknowledged: Acknowledged) -> Summary:
    """The home page's figures, in one aggregate query over the organization's stored verdicts
    (refreshed first): verified, one step away, and how many are blocked at each step (their first
    step not yet acknowledged)."""
    refresh(acknowledged, org_id=org_id)
    per_step = {f"b_{k}": Count("id", filter=Q(blocking=k)) for k in STEPS}
    figures = parties(org_id).aggregate(
        total=Count("id"),
        verified=Count("id", filter=Q(missing=0)),
        near=Count("id", filter=Q(missing=1)),
        **per_step,
    )
    return Summary(
        figures["total"],
        figures["verified"],
        figures["near"],
        [(str(k), step_label(k), figures[f"b_{k}"]) for k in STEPS if figures[f"b_{k}"]],
    )


@dataclass(frozen=True)
class Verdicts:
    """Every party row's verdict, `{id: (missing, blocking)}`."""

    by_id: dict[int, tuple[int, str]]

    def ids(self, *, show: str = "", blocked: str = "") -> list[int]:
        test = FILTERS[show][1] if show in FILTERS else None
        return [
            pk
            for pk, (missing, blocking) in self.by_id.items()
            if (test is None or test(missing)) and (blocked not in STEPS or blocking == blocked)
        ]

    def summary(self) -> Summary:
        verdicts = self.by_id.values()
        per_step = dict.fromkeys(STEPS, 0)
        for _missing, blocking in verdicts:
            if blocking in per_step:
                per_step[blocking] += 1
        return Summary(
            len(self.by_id),
            sum(1 for missing, _b in verdicts if missing == 0),
            sum(1 for missing, _b in verdicts if missing == 1),
            [(str(k), step_label(k), n) for k, n in per_step.items() if n],
        )


def computed_verdicts(queryset: QuerySet, acknowledged: Acknowledged) -> Verdicts:
    """The verdicts of the party rows of `queryset` computed from the records now, each with its
    own organization (one query; the reference the stored ones are checked against)."""
    sql, params = verdict_sql(queryset, None, acknowledged)
    with without_jit(), connection.cursor() as cursor:
        cursor.execute(f"SELECT v.id, v.missing, v.blocking FROM ({sql}) v", params)  # noqa: S608
        return Verdicts({pk: (missing, blocking) for pk, missing, blocking in cursor.fetchall()})


def verdicts(org_id: int, acknowledged: Acknowledged) -> Verdicts:
    """The stored verdict of each of the organization's party rows (refreshed first)."""
    refresh(acknowledged, org_id=org_id)
    return Verdicts({pk: (m, b) for pk, m, b in parties(org_id).values_list("id", "missing", "blocking")})


# The list's filters over the stored verdict (FILTERS' tests, as conditions on the columns).
FILTER_Q = {"verified": Q(missing=0), "near": Q(missing=1), "open": Q(missing__gt=0)}


def rows(
    org_id: int,
    acknowledged: Acknowledged,
    *,
    show: str = "",
    blocked: str = "",
    known: Verdicts | None = None,
) -> QuerySet:
    """The 业绩 list of an organization (party rows with their stored verdict; `with_states` adds
    each step's record to a page), filtered: `show` one of FILTERS, `blocked` a step kind (the rows
    blocked there): conditions on the stored columns (indexes party_org_missing_idx and
    party_org_blocking_idx). The organization's stale verdicts are refreshed first. `known` is
    accepted for the callers of the time the verdicts were computed per request; unused."""
    refresh(acknowledged, org_id=org_id)
    queryset = parties(org_id)
    if show in FILTERS:
        queryset = queryset.filter(FILTER_Q[show])
    if blocked in STEPS:
        queryset = queryset.filter(blocking=blocked)
    return queryset.select_related("project", "project__county", "project__county__parent")


# --- the stored verdicts: marked stale by triggers, refreshed on read and by a job ---------------

STORED_COLUMNS = (*(f"s_{k}" for k in STEPS), "missing", "blocking")

# Every change of a verdict's inputs marks the verdicts of its project's parties stale and bumps
# their version, in the same transaction (the triggers below and sync's on the outbox). Rows are
# locked in id order, as the refresh locks them, so the two never deadlock each other.
_ROLES_SQL = ", ".join(f"'{r}'" for r in PERFORMANCE_ROLES)
MARK_FUNCTION = f"""
CREATE OR REPLACE FUNCTION projects_perf_mark(ids bigint[]) RETURNS void LANGUAGE sql AS $$
  UPDATE projects_projectparty p SET perf_stale = true, perf_version = p.perf_version + 1
  FROM (SELECT id FROM projects_projectparty WHERE project_id = ANY(ids) AND role IN ({_ROLES_SQL})
        ORDER BY id FOR UPDATE) l
  WHERE p.id = l.id;
$$;
"""  # noqa: S608 (constants)

# The columns of each record table the verdict reads (projects.performance, sync.performance).
_RECORD_INPUTS = ("state", "owner_org_id", "project_id", "origin")
_EXTRA_INPUTS = {
    RecordKind.TENDER_CONTRACT: ("scope",),
    RecordKind.COMPLETION: ("specialty_contract_id", "filing_num"),
}


def _record_function(kind: str) -> str:
    table = workflow.KINDS[kind].model._meta.db_table
    columns = (*_RECORD_INPUTS, *_EXTRA_INPUTS.get(kind, ()))
    old = ", ".join(f"o.{c}" for c in columns)
    new = ", ".join(f"n.{c}" for c in columns)
    changed = f"FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE ({old}) IS DISTINCT FROM ({new})"
    return (
        f"CREATE OR REPLACE FUNCTION projects_perf_{table}() RETURNS trigger LANGUAGE plpgsql AS $$\n"  # noqa: S608
        "BEGIN\n"
        "  IF TG_OP = 'INSERT' THEN\n"
        "    PERFORM projects_perf_mark(ARRAY(SELECT DISTINCT project_id FROM new_rows));\n"
        "  ELSIF TG_OP = 'DELETE' THEN\n"
        "    PERFORM projects_perf_mark(ARRAY(SELECT DISTINCT project_id FROM old_rows));\n"
        "  ELSE\n"
        f"    PERFORM projects_perf_mark(ARRAY(SELECT o.project_id {changed} UNION SELECT n.project_id {changed}));\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$;"
    )


PROJECT_FUNCTION = """
CREATE OR REPLACE FUNCTION projects_perf_project() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM projects_perf_mark(ARRAY(SELECT n.id FROM old_rows o JOIN new_rows n ON n.id = o.id
    WHERE (o.kind, o.platform_synced_at) IS DISTINCT FROM (n.kind, n.platform_synced_at)));
  RETURN NULL;
END $$;
"""

# A party moved to another organization, role or project: its own verdict is stale (a new party
# starts stale: the columns' default).
PARTY_FUNCTION = """
CREATE OR REPLACE FUNCTION projects_perf_party() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (NEW.role, NEW.organization_id, NEW.project_id) IS DISTINCT FROM
     (OLD.role, OLD.organization_id, OLD.project_id) THEN
    NEW.perf_stale := true;
    NEW.perf_version := OLD.perf_version + 1;
  END IF;
  RETURN NEW;
END $$;
"""

_EVENTS = {
    "INSERT": "NEW TABLE AS new_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
}


def triggers_sql() -> list[str]:
    """The functions and triggers that mark verdicts stale (frozen in projects migration 0013)."""
    statements = [MARK_FUNCTION]
    for kind in STEPS:
        table = workflow.KINDS[kind].model._meta.db_table
        statements.append(_record_function(kind))
        statements += [
            f"CREATE TRIGGER projects_perf_{event.lower()} AFTER {event} ON {table} REFERENCING {refs} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION projects_perf_{table}();"
            for event, refs in _EVENTS.items()
        ]
    statements += [
        PROJECT_FUNCTION,
        "CREATE TRIGGER projects_perf_update AFTER UPDATE ON projects_project REFERENCING OLD TABLE AS "
        "old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION projects_perf_project();",
        PARTY_FUNCTION,
        "CREATE TRIGGER projects_perf_party BEFORE UPDATE ON projects_projectparty "
        "FOR EACH ROW EXECUTE FUNCTION projects_perf_party();",
    ]
    return statements


def drop_triggers_sql() -> list[str]:
    statements = []
    for kind in STEPS:
        table = workflow.KINDS[kind].model._meta.db_table
        statements += [f"DROP TRIGGER IF EXISTS projects_perf_{e.lower()} ON {table};" for e in _EVENTS]
        statements.append(f"DROP FUNCTION IF EXISTS projects_perf_{table}();")
    return [
        *statements,
        "DROP TRIGGER IF EXISTS projects_perf_update ON projects_project;",
        "DROP FUNCTION IF EXISTS projects_perf_project();",
        "DROP TRIGGER IF EXISTS projects_perf_party ON projects_projectparty;",
        "DROP FUNCTION IF EXISTS projects_perf_party();",
        "DROP FUNCTION IF EXISTS projects_perf_mark(bigint[]);",
    ]


Computed = list[tuple]  # (id, version, *STORED_COLUMNS) of each party row


def compute_stale(
    acknowledged: Acknowledged, *, org_id: int | None = None, limit: int | None = None
) -> Computed:
    """The verdicts of the stale party rows (of one organization, or the first `limit` of all)
    computed from the records now, with the version each was read at (two queries)."""
    stale = ProjectParty.objects.filter(perf_stale=True, role__in=PERFORMANCE_ROLES)
    if org_id is not None:
        stale = stale.filter(organization_id=org_id)
    ids = list(stale.order_by("id").values_list("id", flat=True)[:limit])
    if not ids:
        return []
    sql, params = verdict_sql(
        ProjectParty.objects.filter(pk__in=ids), None, acknowledged, extra=("perf_version",)
    )
    names = ", ".join(f"v.{c}" for c in STORED_COLUMNS)
    with without_jit(), connection.cursor() as cursor:
        cursor.execute(f"SELECT v.id, v.perf_version, {names} FROM ({sql}) v", params)  # noqa: S608
        return cursor.fetchall()


def store(computed: Computed) -> int:
    """Write computed verdicts; a row's stale flag is cleared only if its version is still the one
    they were computed at (a change since — a trigger bumped it — leaves it stale for the next
    refresh, the values written being no older than before). Returns the rows cleared."""
    if not computed:
        return 0
    columns = list(zip(*computed, strict=True))
    types = ["bigint", "int", *(["smallint"] * len(STEPS)), "smallint", "text"]
    unnest = ", ".join(f"%s::{t}[]" for t in types)
    names = ", ".join(["id", "ver", *STORED_COLUMNS])
    sets = ", ".join(f"{c} = v.{c}" for c in STORED_COLUMNS)
    sql = (
        f"WITH v ({names}) AS (SELECT * FROM unnest({unnest})), "  # noqa: S608 (constants)
        "l AS (SELECT p.id FROM projects_projectparty p WHERE p.id IN (SELECT id FROM v) ORDER BY p.id FOR UPDATE) "
        f"UPDATE projects_projectparty p SET {sets}, perf_stale = (p.perf_version <> v.ver) "
        "FROM v WHERE p.id = v.id AND p.id IN (SELECT id FROM l) AND p.perf_version = v.ver"
    )
    # A row whose version moved keeps its flag and its values: the next refresh computes it again.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [list(c) for c in columns])
        return cursor.rowcount


def refresh(acknowledged: Acknowledged, *, org_id: int | None = None, limit: int | None = None) -> int:
    """Recompute and store the stale verdicts (one organization's before its pages, or a batch of
    all: the periodic job). Costs one query when nothing is stale."""
    return store(compute_stale(acknowledged, org_id=org_id, limit=limit))


def mark_all_stale() -> int:
    """Every verdict stale (`manage.py performance_rebuild` then refreshes them all)."""
    return ProjectParty.objects.filter(role__in=PERFORMANCE_ROLES).update(
        perf_stale=True, perf_version=F("perf_version") + 1
    )


# --- what a row shows: the chain, each step's state and the next thing to do ---------------------


@dataclass(frozen=True)
class StepCell:
    kind: str
    label: str
    owed: bool
    code: int
    record_id: int | None
    context: int = MISSING  # a step other units enter: the project's record furthest along

    @property
    def status(self) -> str:
        if self.owed:
            return STATUS_LABELS[self.code]
        if self.context >= APPROVED:
            return f"非本单位录入 · {STATUS_LABELS[self.context]}"
        return "非本单位录入 · 尚未审核认定"

    @property
    def css(self) -> str:
        return STATUS_CSS[self.code] if self.owed else ""


@dataclass(frozen=True)
class Action:
    text: str
    url: str = ""
    label: str = ""


@dataclass
class Row:
    party: ProjectParty
    steps: list[StepCell]
    missing: int
    blocking: str
    action: Action | None

    @property
    def project(self) -> Project:
        return self.party.project

    @property
    def role_label(self) -> str:
        return self.party.get_role_display()

    @property
    def verified(self) -> bool:
        return self.missing == 0

    @property
    def blocking_label(self) -> str:
        return step_label(self.blocking) if self.blocking else ""


def next_action(party: ProjectParty, kind: str, code: int, record_id: int | None) -> Action:
    """The next thing to do on the blocking step, with the page where it is done."""
    from urllib.parse import urlencode

    from django.urls import reverse

    from projects import workspace  # its URL helpers; workspace imports nothing of this module

    project = party.project
    label = step_label(kind)
    if code in (DRAFT, RETURNED) and record_id:
        verb = "修改后重新提交" if code == RETURNED else "补全后提交审核"
        return Action(
            f"{label}{STATUS_LABELS[code]}，请{verb}", _record_url(kind, record_id, edit=True), "继续填写"
        )
    if code == IN_REVIEW and record_id:
        return Action(f"{label}审核中，等待住房城乡建设部门审核认定", _record_url(kind, record_id), "查看")
    if code == APPROVED and record_id:
        return Action(f"{label}已审核通过，等待省一体化平台接收", _record_url(kind, record_id), "查看")
    if kind == RecordKind.TENDER_CONTRACT:
        scope = ROLE_SCOPE.get(party.role, codes.Scope.CONSTRUCTION)
        return Action(f"待录入{label}", workspace.tender_url(project, scope), "录入")
    if kind == RecordKind.COMPLETION:
        if party.role == Role.SPECIALTY_CONTRACTOR and project.kind == Project.Kind.GENERAL:
            # One completion per specialty contract (notice 二(一)): the workspace links each.
            url = f"{reverse('projects:workspace')}?{urlencode({'q': project.prj_num})}"
            return Action(f"待录入本单位专业承包范围的{label}", url, "去录入")
        return Action(f"待录入{label}", workspace.completion_url(project), "录入")
    if kind == RecordKind.PERMIT:
        return Action(f"待录入{label}", workspace.permit_url(project), "录入")
    if kind == RecordKind.DRAWING_REVIEW:
        if project.origin != Origin.PLATFORM and project.kind != Project.Kind.DIRECT_SPECIALTY:
            # Notice 一(一)1: a design unit does not add a drawing review itself; it applies (附件1).
            return Action(f"系统中没有本单位的{label}，请申请新增", _addition_url(), "申请新增")
        return Action(f"待录入{label}", workspace.review_new_url(project), "录入")
    return Action(f"待录入{label}", _project_url(project), "打开项目")


def _record_url(kind: str, pk: int, *, edit: bool = False) -> str:
    from django.urls import reverse

    return reverse("projects:record-edit" if edit else "projects:record", args=[kind, pk])


def _addition_url() -> str:
    from django.urls import reverse

    return reverse("projects:addition-new")


def _project_url(project: Project) -> str:
    from django.urls import reverse

    return reverse("projects:project", args=[project.pk])


def build_rows(parties_page: list[ProjectParty]) -> list[Row]:
    """Rows of a page from party rows given their states by `with_states`: no queries here."""
    built = []
    for party in parties_page:
        direct = party.project.kind == Project.Kind.DIRECT_SPECIALTY
        owed = required_kinds(party.role, direct=direct)
        cells = [
            StepCell(
                k,
                step_label(k),
                k in owed,
                getattr(party, f"s_{k}"),
                getattr(party, f"r_{k}", None),
                getattr(party, f"c_{k}", None) or MISSING,
            )
            for k in STEPS
            if k in owed or (k != RecordKind.SPECIALTY_INFO or direct)
        ]
        action = None
        if party.blocking:
            cell = next(c for c in cells if c.kind == party.blocking)
            action = next_action(party, cell.kind, cell.code, cell.record_id)
        built.append(Row(party, cells, party.missing, party.blocking, action))
    return built


# --- the verified-performance list (已认定业绩清单): export and print ------------------------------

LIST_COLUMNS = (
    "序号",
    "项目编号",
    "项目名称",
    "项目所在地",
    "具体地点",
    "建设单位",
    "本单位角色",
    "承包范围",
    "中标通知书编号",
    "中标日期",
    "中标金额（万元）",
    "合同编号",
    "合同备案编号",
    "合同金额（万元）",
    "合同签订日期",
    "施工图审查合格书编号",
    "审查完成日期",
    "施工许可证编号",
    "发证日期",
    "竣工验收编号",
    "竣工验收日期",
    "竣工验收备案编号",
    "备案日期",
    "实际开工日期",
    "实际竣工日期",
    "平台接收时间",
)


@dataclass
class ListLine:
    """One line of the verified list: a project, the organization's role there, its records' numbers."""

    party: ProjectParty
    scope: str = ""
    tender_nums: list[str] = field(default_factory=list)
    tender_dates: list = field(default_factory=list)
    tender_amounts: list = field(default_factory=list)
    contract_nums: list[str] = field(default_factory=list)
    record_nums: list[str] = field(default_factory=list)
    contract_amounts: list = field(default_factory=list)
    contract_dates: list = field(default_factory=list)
    censor_nums: list[str] = field(default_factory=list)
    censor_dates: list = field(default_factory=list)
    permit_nums: list[str] = field(default_factory=list)
    issue_dates: list = field(default_factory=list)
    acceptance_nums: list[str] = field(default_factory=list)
    acceptance_dates: list = field(default_factory=list)
    filing_nums: list[str] = field(default_factory=list)
    filing_dates: list = field(default_factory=list)

    @property
    def project(self) -> Project:
        return self.party.project

    @property
    def role_label(self) -> str:
        # Not get_role_display(): Django hashes the field's choices at every call (a third of the
        # export's time at 2,000 lines; bench/README.md).
        return ROLE_LABELS[self.party.role]

    @property
    def location(self) -> str:
        county = self.project.county
        parent = county.parent.name if county.parent_id else ""
        return f"{parent}{county.name}" if parent != county.name else county.name

    @property
    def contract_amount(self):
        """The sum of the contracts' amounts (several when the unit won several sections)."""
        amounts = [a for a in self.contract_amounts if a is not None]
        return sum(amounts) if amounts else None

    def values(self, index: int) -> list:
        p = self.project
        return [
            index,
            p.prj_num,
            p.name,
            self.location,
            p.address,
            p.owner_org.name if p.owner_org_id else "",
            self.role_label,
            self.scope,
            _join(self.tender_nums),
            _first(self.tender_dates),
            _first(self.tender_amounts),
            _join(self.contract_nums),
            _join(self.record_nums),
            self.contract_amount,
            _first(self.contract_dates),
            _join(self.censor_nums),
            _last(self.censor_dates),
            _join(self.permit_nums),
            _first(self.issue_dates),
            _join(self.acceptance_nums),
            _last(self.acceptance_dates),
            _join(self.filing_nums),
            _last(self.filing_dates),
            p.actual_start,
            p.actual_end,
            timezone.localtime(p.platform_synced_at).replace(tzinfo=None) if p.platform_synced_at else None,
        ]


# The print page's row (the same cells as its header, templates/projects/performance_print.html).
# Formatted here, escaped by format_html: Django's template language took 3 s for 2,000 lines under
# load, this ~0.1 s (bench/README.md).
PRINT_ROW = (
    '<tr data-project="{}"><td>{}</td><td class="mono">{}</td><td>{}</td><td>{}</td><td>{}</td>'
    '<td class="mono">{}</td><td class="num">{}</td><td>{}</td>'
    '<td class="mono">{}</td><td class="mono">{}</td><td class="mono">{}</td><td>{}</td></tr>'
)


def print_rows(lines: list[ListLine]) -> list[str]:
    """The print page's table rows (safe HTML, every value escaped)."""
    return [
        format_html(
            PRINT_ROW,
            line.project.prj_num,
            index,
            line.project.prj_num,
            line.project.name,
            line.location,
            line.role_label,
            _join(line.contract_nums),
            "" if line.contract_amount is None else line.contract_amount,
            _day(line.tender_dates[0] if line.tender_dates else None),
            _join(line.censor_nums),
            _join(line.permit_nums),
            _join(line.filing_nums),
            _day(line.acceptance_dates[0] if line.acceptance_dates else None),
        )
        for index, line in enumerate(lines, start=1)
    ]


def _day(value) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


def _join(values: list[str]) -> str:
    return "、".join(v for v in values if v)


def _first(values: list):
    present = [v for v in values if v is not None]
    return min(present) if present else None


def _last(values: list):
    present = [v for v in values if v is not None]
    return max(present) if present else None


def list_lines(verified: QuerySet[ProjectParty], org_id: int) -> list[ListLine]:
    """The lines of the verified list from its party rows, with the numbers of every record.

    The organization's own records for the steps it owes; for the drawing review, permit and
    completion of a role that does not enter them, the project's approved ones (they identify the
    project in an application). One query for the rows and one per record kind, whatever the number.
    """
    parties_list = list(
        verified.select_related(
            "project", "project__county", "project__county__parent", "project__owner_org"
        ).order_by("project__prj_num", "role")
    )
    lines = [ListLine(p, scope=str(codes.Scope(ROLE_SCOPE[p.role]).label)) for p in parties_list]
    by_project: dict[int, list[ListLine]] = {}
    for line in lines:
        by_project.setdefault(line.party.project_id, []).append(line)
    project_ids = list(by_project)  # the rows' query is not run again for each kind

    def owned(line: ListLine, kind: str, owner_id: int) -> bool:
        direct = line.project.kind == Project.Kind.DIRECT_SPECIALTY
        if kind in required_kinds(line.party.role, direct=direct):
            return owner_id == org_id
        return True

    approved = {"project_id__in": project_ids, "state": State.APPROVED}
    for review in (
        DrawingReview.objects.filter(**approved)
        .order_by("id")
        .values("project_id", "owner_org_id", "censor_num", "censor_date")
    ):
        for line in by_project.get(review["project_id"], []):
            if owned(line, RecordKind.DRAWING_REVIEW, review["owner_org_id"]):
                line.censor_nums.append(review["censor_num"])
                line.censor_dates.append(review["censor_date"])
    for permit in (
        ConstructionPermit.objects.filter(**approved)
        .order_by("id")
        .values("project_id", "owner_org_id", "permit_num", "issue_date")
    ):
        for line in by_project.get(permit["project_id"], []):
            if owned(line, RecordKind.PERMIT, permit["owner_org_id"]):
                line.permit_nums.append(permit["permit_num"])
                line.issue_dates.append(permit["issue_date"])
    for tc in (
        TenderContract.objects.filter(**approved, owner_org_id=org_id)
        .order_by("id")
        .values(
            "project_id",
            "scope",
            "tender_num",
            "tender_date",
            "tender_amount",
            "contract_num",
            "record_num",
            "contract_amount",
            "contract_date",
        )
    ):
        for line in by_project.get(tc["project_id"], []):
            if ROLE_SCOPE.get(line.party.role) == tc["scope"]:
                line.tender_nums.append(tc["tender_num"])
                line.tender_dates.append(tc["tender_date"])
                line.tender_amounts.append(tc["tender_amount"])
                line.contract_nums.append(tc["contract_num"])
                line.record_nums.append(tc["record_num"])
                line.contract_amounts.append(tc["contract_amount"])
                line.contract_dates.append(tc["contract_date"])
    for done in (
        Completion.objects.filter(**approved)
        .order_by("id")
        .values(
            "project_id",
            "owner_org_id",
            "specialty_contract_id",
            "acceptance_num",
            "acceptance_date",
            "filing_num",
            "filing_date",
        )
    ):
        for line in by_project.get(done["project_id"], []):
            subcontract = (
                line.party.role == Role.SPECIALTY_CONTRACTOR and line.project.kind == Project.Kind.GENERAL
            )
            mine = done["owner_org_id"] == org_id
            # A subcontractor's line: its own scope's completions; everyone else's: the project's.
            if (subcontract and mine and done["specialty_contract_id"]) or (
                not subcontract
                and not done["specialty_contract_id"]
                and owned(line, RecordKind.COMPLETION, done["owner_org_id"])
            ):
                line.acceptance_nums.append(done["acceptance_num"])
                line.acceptance_dates.append(done["acceptance_date"])
                line.filing_nums.append(done["filing_num"])
                line.filing_dates.append(done["filing_date"])
    return lines


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


EXPORT_WIDTHS = (
    6,
    18,
    36,
    18,
    24,
    24,
    16,
    10,
    20,
    12,
    12,
    20,
    24,
    12,
    12,
    22,
    12,
    22,
    12,
    18,
    12,
    22,
    12,
    12,
    12,
    18,
)


def export_xlsx(lines: list[ListLine], org_name: str) -> bytes:
    """The verified list as .xlsx, streamed row by row (every text cell formula-safe:
    yunjian.core.spreadsheets.write_xlsx; openpyxl's objects per cell took 4 s for 2,000 lines)."""
    title = [f"{org_name} 已认定业绩清单（共 {len(lines)} 项）"]
    body = (line.values(index) for index, line in enumerate(lines, start=1))
    return spreadsheets.write_xlsx(
        "已认定业绩",
        itertools.chain([title, LIST_COLUMNS], body),
        widths=EXPORT_WIDTHS,
        bold_rows=(2,),
        frozen_rows=2,
    )


__all__ = [
    "ACKNOWLEDGED",
    "FILTERS",
    "PERFORMANCE_ROLES",
    "STEPS",
    "Verdicts",
    "annotate_steps",
    "build_rows",
    "required_kinds",
    "rows",
    "summary",
    "verdicts",
]
