"""Who sees what in review: each rule named once."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import CharField, F, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.expressions import Case
from django.db.models.functions import Cast
from django.utils import timezone

from projects import workflow
from projects.models import RecordKind, State
from review.jurisdiction import assignments_of, performed_by_q
from review.models import ReviewerAssignment, Task
from yunjian.core.models import Division, Organization, Role
from yunjian.core.pagination import Column, Sorting

CREDIT_CODE_RE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{18}")


def inbox_for(user, assignments: list[ReviewerAssignment] | None = None) -> QuerySet[Task]:
    """Open review steps that `user` performs, never their own organization's records."""
    return (
        Task.objects.filter(status=Task.Status.OPEN)
        .filter(performed_by_q(user, assignments))
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
    # Bounded like the inbox tabs: a province-wide scope never makes the home page count everything.
    per_kind, waiting, waiting_capped = kind_counts(inbox)
    _, overdue, overdue_capped = kind_counts(inbox.filter(due_at__lt=now))
    week_start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    week_start -= timedelta(days=week_start.weekday())
    decided = done_by(user).filter(decided_at__gte=week_start).count()
    return {
        "waiting": waiting,
        "waiting_capped": waiting_capped,
        "overdue": overdue,
        "overdue_capped": overdue_capped,
        "per_kind": per_kind,
        "decided_this_week": decided,
        "week_start": week_start.date(),
        "assignments": assignments,
    }


# --- the inbox and done pages ----------------------------------------------------------------

# Bounded counts: a tab shows "10000+" rather than make the database count a whole jurisdiction.
COUNT_CAP = 10_000


@dataclass(frozen=True)
class InboxFilters:
    """What the reviewer narrowed the list to; every field optional. Built by review.forms."""

    kind: str = ""
    division: Division | None = None
    org: str = ""  # credit code (exact) or part of the enterprise's name
    submitted_from: date | None = None
    submitted_to: date | None = None
    overdue: bool = False
    q: str = ""
    outcome: str = ""  # done list only
    decided_from: date | None = None  # done list only
    decided_to: date | None = None  # done list only
    data_level: str = ""  # done list only: the level a final approval gave


def prefix_q(field: str, prefix: str) -> Q:
    """`field` starts with `prefix`, as a range a b-tree index serves on any collation ('5303' ≤ x < '5304')."""
    high = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": high})


def division_q(division: Division, field: str = "division_code") -> Q:
    if division.level == Division.Level.COUNTY:
        return Q(**{field: division.code})
    low, high = division.code_range
    return Q(**{f"{field}__gte": low, f"{field}__lt": high})


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def search_q(text: str) -> Q:
    """Project number, certificate / permit / contract number by prefix; project name by substring."""
    text = text.strip()[:100]
    if not text:
        return Q()
    return prefix_q("prj_num", text) | prefix_q("number", text) | Q(title__icontains=text)


def org_q(text: str) -> Q:
    text = text.strip()[:100]
    if not text:
        return Q()
    if CREDIT_CODE_RE.fullmatch(text.upper()):
        # Resolved through the unique index on credit_code, then the FK index on owner_org.
        return Q(owner_org_id__in=Organization.objects.filter(credit_code=text.upper()).values("id"))
    return Q(owner_org__name__icontains=text)


def filter_tasks(qs: QuerySet[Task], filters: InboxFilters, *, with_kind: bool = True) -> QuerySet[Task]:
    """Apply the list filters; `with_kind=False` leaves the record type open (for the per-type tabs)."""
    if with_kind and filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.division is not None:
        qs = qs.filter(division_q(filters.division))
    if filters.org:
        qs = qs.filter(org_q(filters.org))
    if filters.submitted_from:
        qs = qs.filter(submitted_at__gte=_day_start(filters.submitted_from))
    if filters.submitted_to:
        qs = qs.filter(submitted_at__lt=_day_start(filters.submitted_to + timedelta(days=1)))
    if filters.overdue:
        qs = qs.filter(due_at__lt=timezone.now())
    if filters.outcome:
        qs = qs.filter(outcome=filters.outcome)
    if filters.data_level:
        qs = qs.filter(data_level=filters.data_level)
    if filters.decided_from:
        qs = qs.filter(decided_at__gte=_day_start(filters.decided_from))
    if filters.decided_to:
        qs = qs.filter(decided_at__lt=_day_start(filters.decided_to + timedelta(days=1)))
    if filters.q:
        qs = qs.filter(search_q(filters.q))
    return qs


def with_lock_version(qs: QuerySet[Task]) -> QuerySet[Task]:
    """Annotate each task with its record's current lock_version, in the same query.

    One CASE over correlated primary-key lookups: PostgreSQL evaluates only the branch of the
    row's kind, and (being costly) only for the rows that survive ORDER BY … LIMIT.
    """
    whens = [
        When(
            kind=kind,
            then=Subquery(model.objects.filter(pk=OuterRef("record_id")).values("lock_version")[:1]),
        )
        for kind, model in ((k, spec.model) for k, spec in workflow.KINDS.items())
    ]
    return qs.annotate(record_lock_version=Case(*whens, default=Value(None), output_field=IntegerField()))


def inbox_rows(user, filters: InboxFilters, assignments: list[ReviewerAssignment] | None = None):
    """The inbox as the page lists it: filtered, with what each row renders (keyset-ready).

    The enterprise's name and code come as correlated lookups, not a join: PostgreSQL then sorts the
    pending rows of the jurisdiction alone and looks up only the 51 it returns.
    """
    owner = Organization.objects.filter(pk=OuterRef("owner_org_id")).order_by()
    qs = filter_tasks(inbox_for(user, assignments), filters).annotate(
        owner_name=Subquery(owner.values("name")[:1]),
        owner_credit_code=Subquery(owner.values("credit_code")[:1]),
    )
    return with_lock_version(qs)


# The columns a reviewer may sort the inbox and the done list by, across pages (keyset on the column
# and id). Each open-inbox order has partial indexes leading with the inbox's scope (roster stage and
# county; performer and institution) on the two date columns; the others sort the jurisdiction's
# rows by a top-N sort, which stays small because the scope is one jurisdiction's open rows.
_TASK_COLUMNS = (
    Column("prj_num", ("prj_num",)),
    Column("title", ("title",)),
    Column("number", ("number",)),
    Column("step", ("step_label",)),
    Column("revision", ("revision",), first_descending=True),
)
INBOX_SORTING = Sorting(
    columns=(*_TASK_COLUMNS, Column("submitted_at", ("submitted_at",)), Column("due_at", ("due_at",))),
    default="submitted_at",  # oldest first: the work that has waited longest
)
DONE_SORTING = Sorting(
    columns=(
        *_TASK_COLUMNS,
        # Decided steps always carry decided_at: its order is the one task_done_idx holds.
        Column("decided_at", ("decided_at",), first_descending=True, not_null=("decided_at",)),
        Column("outcome", ("outcome",)),
    ),
    default="-decided_at",  # newest first
)


def kind_counts(qs: QuerySet[Task], cap: int | None = None) -> tuple[dict[str, int], int, bool]:
    """Return ({kind: n}, total, capped) over at most `cap` + 1 rows of `qs`, in one query.

    The LIMIT sits inside the GROUP BY (`SELECT kind, count(*) FROM (… LIMIT cap+1) GROUP BY kind`),
    so the cost is bounded by the cap whatever the size of the jurisdiction; at the cap the page
    says "10000+" instead of an exact number.
    """
    cap = COUNT_CAP if cap is None else cap
    try:
        sql, params = qs.order_by().values_list("kind")[: cap + 1].query.sql_with_params()
    except EmptyResultSet:  # e.g. a reviewer with no roster line: nothing to count, no query
        return {}, 0, False
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT t.kind, count(*) FROM ({sql}) AS t GROUP BY t.kind", params)  # noqa: S608
        counts = dict(cursor.fetchall())
    total = sum(counts.values())
    return {kind: min(n, cap) for kind, n in counts.items()}, min(total, cap), total > cap


def done_rows(user, filters: InboxFilters) -> QuerySet[Task]:
    """What `user` decided, filtered; newest first by (decided_at, id) for keyset pages."""
    return filter_tasks(done_by(user), filters).select_related("owner_org")


def filter_divisions(user, assignments: list[ReviewerAssignment]) -> list[Division]:
    """The divisions a user may filter the inbox by: those their roster lines cover, or the whole
    province for the institution and the design division (whose records come from anywhere)."""
    if user.has_role(Role.INSTITUTION) or user.has_role(Role.DESIGN_DIVISION) or not assignments:
        q = Q(level__in=[Division.Level.PREFECTURE, Division.Level.COUNTY])
    else:
        q = Q(pk__in=[])
        for a in assignments:
            if a.division_id:
                q |= Q(code=a.division_id) | division_q(a.division, field="code")
            else:
                q |= Q(code__in=[c.code for c in a.zone.counties.all()])
    return list(Division.objects.filter(q).exclude(level=Division.Level.PROVINCE).order_by("code"))


def linked_records(record) -> list[dict]:
    """The project's other records (any kind), one UNION query: kind, id, number, state, dates."""
    project_id = getattr(record, "project_id", None)
    if not project_id:
        return []
    parts = []
    for kind, spec in workflow.KINDS.items():
        qs = spec.model.objects.filter(project_id=project_id)
        if kind == record.KIND:
            qs = qs.exclude(pk=record.pk)
        parts.append(
            qs.annotate(
                r_kind=Value(str(kind), output_field=CharField()),
                r_id=F("id"),
                r_number=Cast(spec.number(), CharField()),
                r_state=F("state"),
                r_owner=F("owner_org__name"),
                r_submitted=F("submitted_at"),
                r_approved=F("approved_at"),
            ).values_list("r_kind", "r_id", "r_number", "r_state", "r_owner", "r_submitted", "r_approved")
        )
    query = parts[0].union(*parts[1:], all=True)
    labels = dict(RecordKind.choices)
    states = dict(State.choices)
    rows = [
        {
            "kind": kind,
            "kind_label": labels.get(kind, kind),
            "id": pk,
            "number": number or "",
            "state": state,
            "state_label": states.get(state, state),
            "owner": owner,
            "submitted_at": submitted,
            "approved_at": approved,
        }
        for kind, pk, number, state, owner, submitted, approved in query
    ]
    order = list(workflow.KINDS)
    rows.sort(key=lambda r: (order.index(r["kind"]), r["id"]))
    return rows
