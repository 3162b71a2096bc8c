"""How the boards' tables are kept: triggers for the counts, jobs for the figures, a daily snapshot.

The counts (`StateCount`, `OrgCount`) change in the same transaction as the records: one PostgreSQL
statement-level trigger per record table and event (`TRIGGERS_SQL`), reading the statement's
transition tables, adds and subtracts per county, stage and state. It is the one point every state
change goes through — a service's django-fsm transition, a bulk entry's single INSERT or UPDATE, a
load, a record stored from the platform, a delete — so no service knows the boards exist. An update
that changes neither the state nor the project (an edit of a draft) writes nothing. A record is
counted in its project's county (drafts have no review step yet, so not the step's filing county).

The rest comes from jobs (boards.tasks): `refresh_tasks` (every five minutes: overdue, backlog age in
working days, 无人审核 — open review tasks only), `refresh_slow` (hourly: throughput over four weeks,
acknowledged by the platform, enterprises by progress — these read the decided tasks and the
records, so they run off the request path) and `take_snapshot` (daily history). `rebuild_counts`
recomputes the counts from the records (`manage.py boards_rebuild`).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Extract
from django.utils import timezone

from boards.models import Figures, OrgCount, ReviewerFigures, Snapshot, StateCount
from projects.models import (
    Completion,
    ConstructionPermit,
    DrawingReview,
    RecordKind,
    SpecialtyProjectInfo,
    State,
    TenderContract,
)
from projects.stages import REVIEW_STAGES, Stage
from review.models import Task
from review.workdays import Calendar
from sync.performance import acknowledged

# The board's stages and the record model whose rows each one counts (an addition request is a
# request for a drawing review, not a record of the campaign: not counted).
STAGE_MODELS = {
    Stage.DRAWING_REVIEW: DrawingReview,
    Stage.PERMIT: ConstructionPermit,
    Stage.TENDER_CONTRACT: TenderContract,
    Stage.COMPLETION: Completion,
    Stage.SPECIALTY_BASIC: SpecialtyProjectInfo,
}
KIND_STAGE = {
    RecordKind.DRAWING_REVIEW: Stage.DRAWING_REVIEW,
    RecordKind.PERMIT: Stage.PERMIT,
    RecordKind.TENDER_CONTRACT: Stage.TENDER_CONTRACT,
    RecordKind.COMPLETION: Stage.COMPLETION,
    RecordKind.SPECIALTY_INFO: Stage.SPECIALTY_BASIC,
}
STAGE_KIND = {stage: kind for kind, stage in KIND_STAGE.items()}
STATES = (State.DRAFT, State.IN_REVIEW, State.RETURNED, State.APPROVED, State.REVOKED)
assert tuple(STAGE_MODELS) == tuple(REVIEW_STAGES)

_UPSERT_STATE = (
    "INSERT INTO boards_statecount (division_code, stage, state, n) {select} "
    "ON CONFLICT ON CONSTRAINT statecount_key DO UPDATE SET n = boards_statecount.n + EXCLUDED.n;"
)
_UPSERT_ORG = (
    "INSERT INTO boards_orgcount (org_id, role, state, n) {select} "
    "ON CONFLICT ON CONSTRAINT orgcount_key DO UPDATE SET n = boards_orgcount.n + EXCLUDED.n;"
)
# Rows of an UPDATE whose count moves: the state or the project changed.
_MOVED = (
    "FROM old_rows o JOIN new_rows r ON r.id = o.id WHERE o.state <> r.state OR o.project_id <> r.project_id"
)
_ORG_MOVED = (
    "FROM old_rows o JOIN new_rows r ON r.id = o.id "
    "WHERE o.state <> r.state OR o.owner_org_id <> r.owner_org_id OR o.censor_org_id <> r.censor_org_id"
)

STATE_FUNCTION = f"""
CREATE OR REPLACE FUNCTION boards_count_states() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {
    _UPSERT_STATE.format(
        select="SELECT p.county_id, TG_ARGV[0], r.state, count(*) FROM new_rows r JOIN projects_project p ON p.id = r.project_id GROUP BY 1, 3 ORDER BY 1, 3"
    )
}
  ELSIF TG_OP = 'DELETE' THEN
    {
    _UPSERT_STATE.format(
        select="SELECT p.county_id, TG_ARGV[0], o.state, -count(*) FROM old_rows o JOIN projects_project p ON p.id = o.project_id GROUP BY 1, 3 ORDER BY 1, 3"
    )
}
  ELSE
    {
    _UPSERT_STATE.format(
        select="SELECT x.c, TG_ARGV[0], x.s, sum(x.d) FROM ("
        f"SELECT p.county_id AS c, o.state AS s, -1 AS d {_MOVED.replace('WHERE', 'JOIN projects_project p ON p.id = o.project_id WHERE')} "
        "UNION ALL "
        f"SELECT p.county_id, r.state, 1 {_MOVED.replace('WHERE', 'JOIN projects_project p ON p.id = r.project_id WHERE')}"
        ") x GROUP BY x.c, x.s HAVING sum(x.d) <> 0 ORDER BY 1, 3"
    )
}
  END IF;
  RETURN NULL;
END $$;
"""

ORG_FUNCTION = f"""
CREATE OR REPLACE FUNCTION boards_count_orgs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    {
    _UPSERT_ORG.format(
        select="SELECT x.org, x.role, x.state, count(*) FROM (SELECT owner_org_id AS org, 'design' AS role, state FROM new_rows UNION ALL SELECT censor_org_id, 'institution', state FROM new_rows) x GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
}
  ELSIF TG_OP = 'DELETE' THEN
    {
    _UPSERT_ORG.format(
        select="SELECT x.org, x.role, x.state, -count(*) FROM (SELECT owner_org_id AS org, 'design' AS role, state FROM old_rows UNION ALL SELECT censor_org_id, 'institution', state FROM old_rows) x GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
}
  ELSE
    {
    _UPSERT_ORG.format(
        select="SELECT x.org, x.role, x.state, sum(x.d) FROM ("
        f"SELECT o.owner_org_id AS org, 'design' AS role, o.state AS state, -1 AS d {_ORG_MOVED} "
        f"UNION ALL SELECT o.censor_org_id, 'institution', o.state, -1 {_ORG_MOVED} "
        f"UNION ALL SELECT r.owner_org_id, 'design', r.state, 1 {_ORG_MOVED} "
        f"UNION ALL SELECT r.censor_org_id, 'institution', r.state, 1 {_ORG_MOVED}"
        ") x GROUP BY 1, 2, 3 HAVING sum(x.d) <> 0 ORDER BY 1, 2, 3"
    )
}
  END IF;
  RETURN NULL;
END $$;
"""


def _project_function() -> str:
    """A project moved to another county (its county corrected) moves its records' counts with it."""
    parts = []
    for stage, model in STAGE_MODELS.items():
        table = model._meta.db_table
        moved = (
            f"FROM old_rows o JOIN new_rows n ON n.id = o.id AND n.county_id <> o.county_id "
            f"JOIN {table} r ON r.project_id = o.id"
        )
        parts.append(f"SELECT o.county_id AS c, '{stage}' AS s, r.state AS st, -1 AS d {moved}")
        parts.append(f"SELECT n.county_id, '{stage}', r.state, 1 {moved}")
    select = (
        "SELECT x.c, x.s, x.st, sum(x.d) FROM ("
        + " UNION ALL ".join(parts)
        + ") x GROUP BY 1, 2, 3 HAVING sum(x.d) <> 0 ORDER BY 1, 2, 3"
    )
    return (
        "CREATE OR REPLACE FUNCTION boards_move_project() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n  " + _UPSERT_STATE.format(select=select) + "\n  RETURN NULL;\nEND $$;"
    )


_EVENTS = {"INSERT": "NEW TABLE AS new_rows", "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}
_EVENTS["DELETE"] = "OLD TABLE AS old_rows"


def _triggers(table: str, function: str, tag: str, argument: str = "") -> list[str]:
    return [
        f"CREATE TRIGGER boards_{tag}_{event.lower()} AFTER {event} ON {table} REFERENCING {refs} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {function}({argument});"
        for event, refs in _EVENTS.items()
    ]


def triggers_sql() -> list[str]:
    statements = [STATE_FUNCTION, ORG_FUNCTION]
    for stage, model in STAGE_MODELS.items():
        statements += _triggers(model._meta.db_table, "boards_count_states", f"s_{stage}", f"'{stage}'")
    statements += _triggers(DrawingReview._meta.db_table, "boards_count_orgs", "orgs")
    statements += [
        _project_function(),
        "CREATE TRIGGER boards_project_update AFTER UPDATE ON projects_project REFERENCING OLD TABLE AS "
        "old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION boards_move_project();",
    ]
    return statements


def drop_triggers_sql() -> list[str]:
    statements = []
    for stage, model in STAGE_MODELS.items():
        statements += [
            f"DROP TRIGGER IF EXISTS boards_s_{stage}_{e.lower()} ON {model._meta.db_table};" for e in _EVENTS
        ]
    statements += [
        f"DROP TRIGGER IF EXISTS boards_orgs_{e.lower()} ON {DrawingReview._meta.db_table};" for e in _EVENTS
    ]
    return [
        *statements,
        "DROP FUNCTION IF EXISTS boards_count_states();",
        "DROP FUNCTION IF EXISTS boards_count_orgs();",
    ]


# --- counting over the records (the rebuild, and the tests' reference) ---------------------------------


def counts_from_records() -> dict[tuple[str, str, str], int]:
    """(county, stage, state) → number of records, counted over the record tables."""
    counts: dict[tuple[str, str, str], int] = {}
    for stage, model in STAGE_MODELS.items():
        for row in model.objects.values("project__county_id", "state").annotate(n=Count("id")):
            counts[(row["project__county_id"], stage, row["state"])] = row["n"]
    return counts


def org_counts_from_records() -> dict[tuple[int, str, str], int]:
    counts: dict[tuple[int, str, str], int] = {}
    for field, role in (("owner_org_id", "design"), ("censor_org_id", "institution")):
        for row in DrawingReview.objects.values(field, "state").annotate(n=Count("id")):
            key = (row[field], role, row["state"])
            counts[key] = counts.get(key, 0) + row["n"]
    return counts


def rebuild_counts() -> int:
    """Recompute both count tables from the records, in one transaction. The table lock waits for
    the transactions that already changed a count to commit and holds back the others until the
    rebuild commits, so no change is lost or counted twice."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE boards_statecount, boards_orgcount IN SHARE ROW EXCLUSIVE MODE")
        StateCount.objects.all().delete()
        OrgCount.objects.all().delete()
        rows = [
            StateCount(division_code=c, stage=s, state=st, n=n)
            for (c, s, st), n in counts_from_records().items()
        ]
        StateCount.objects.bulk_create(rows, batch_size=2000)
        OrgCount.objects.bulk_create(
            [
                OrgCount(org_id=o, role=r, state=st, n=n)
                for (o, r, st), n in org_counts_from_records().items()
            ],
            batch_size=2000,
        )
    return len(rows)


# --- the figures the jobs keep ---------------------------------------------------------------------------


def age_floors(today: date, limits=(5, 10, 20)) -> dict[int, datetime]:
    """For each limit k: the first moment whose submissions are at most k working days old today
    (age = the working days after the submission's day up to today, as review.workdays counts them)."""
    calendar = Calendar()
    floors: dict[int, datetime] = {}
    day, age = today, 0
    for limit in sorted(limits):
        while True:
            older = age + (1 if calendar.day(day).workday else 0)
            if older > limit:
                break
            day, age = day - timedelta(days=1), older
        floors[limit] = timezone.make_aware(datetime.combine(day, time.min))
    return floors


def _task_stage_rows(queryset):
    """Open or decided tasks of the five stages, with their project's county."""
    return queryset.filter(kind__in=list(KIND_STAGE), project__isnull=False).annotate(
        county=F("project__county_id")
    )


def unroutable_q() -> Q:
    """Open steps flagged 无人审核: nobody in the roster covers them. The review layer keeps the flag
    (`Task.unroutable_since`, set when a step opens and recomputed when the roster or an account
    changes: review.routing), so the board counts what the stalled-records list shows."""
    return Q(unroutable_since__isnull=False)


def refresh_tasks(now: datetime | None = None) -> int:
    """Overdue, backlog age and 无人审核 of every county and stage, from the open review steps."""
    now = now or timezone.now()
    floors = age_floors(timezone.localtime(now).date())
    open_tasks = _task_stage_rows(Task.objects.filter(status=Task.Status.OPEN))
    rows = open_tasks.values("county", "kind").annotate(
        overdue=Count("id", filter=Q(due_at__lt=now)),
        age_0_5=Count("id", filter=Q(submitted_at__gte=floors[5])),
        age_6_10=Count("id", filter=Q(submitted_at__lt=floors[5], submitted_at__gte=floors[10])),
        age_11_20=Count("id", filter=Q(submitted_at__lt=floors[10], submitted_at__gte=floors[20])),
        age_over_20=Count("id", filter=Q(submitted_at__lt=floors[20])),
        unroutable=Count("id", filter=unroutable_q()),
    )
    fields = ("overdue", "age_0_5", "age_6_10", "age_11_20", "age_over_20", "unroutable")
    return _store(rows, fields, now)


def refresh_slow(now: datetime | None = None) -> int:
    """Throughput over the last four weeks, acknowledged by the platform and enterprises by progress."""
    now = now or timezone.now()
    since = now - timedelta(days=28)
    decided = _task_stage_rows(Task.objects.filter(status=Task.Status.DONE, decided_at__gte=since))
    rows = list(
        decided.values("county", "kind").annotate(
            decided_4w=Count("id"),
            returned_4w=Count("id", filter=Q(outcome=Task.Outcome.RETURNED)),
            days_4w=Sum(Extract(F("decided_at") - F("submitted_at"), "epoch")) / 86400.0,
        )
    )
    medians = _median_days(since)
    for row in rows:
        row["median_days"] = medians.get((row["county"], row["kind"]))
    _store(rows, ("decided_4w", "returned_4w", "days_4w", "median_days"), now, reset=True)
    ack_rows = []
    org_rows = []
    for stage, model in STAGE_MODELS.items():
        kind = STAGE_KIND[stage]
        ack_rows += [
            {**row, "kind": kind}
            for row in model.objects.filter(state=State.APPROVED)
            .filter(acknowledged(kind))
            .values(county=F("project__county_id"))
            .annotate(acknowledged=Count("id"))
        ]
        org_rows += [{**row, "kind": kind} for row in _enterprise_rows(model)]
    _store(ack_rows, ("acknowledged",), now, reset=True)
    refresh_reviewers(since)
    return _store(org_rows, ("entered_orgs", "verified_orgs", "blocked_orgs"), now, reset=True)


def refresh_reviewers(since: datetime) -> int:
    """Each reviewer's decisions since `since`: how many, how many returned, the median days taken."""
    sql = (
        "SELECT decided_by_id, count(*), count(*) FILTER (WHERE outcome = 'returned'), percentile_cont(0.5) "
        "WITHIN GROUP (ORDER BY EXTRACT(EPOCH FROM decided_at - submitted_at) / 86400.0) "
        "FROM review_task WHERE status = 'done' AND decided_at >= %s AND decided_by_id IS NOT NULL GROUP BY 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [since])
        rows = [
            ReviewerFigures(user_id=u, decided_4w=n, returned_4w=r, median_days=round(float(m), 1))
            for u, n, r, m in cursor.fetchall()
        ]
    with transaction.atomic():
        ReviewerFigures.objects.all().delete()
        ReviewerFigures.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _median_days(since: datetime) -> dict[tuple[str, str], float]:
    sql = (
        "SELECT p.county_id, t.kind, percentile_cont(0.5) WITHIN GROUP "
        "(ORDER BY EXTRACT(EPOCH FROM t.decided_at - t.submitted_at) / 86400.0) "
        "FROM review_task t JOIN projects_project p ON p.id = t.project_id "
        "WHERE t.status = 'done' AND t.decided_at >= %s AND t.kind = ANY(%s) GROUP BY 1, 2"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [since, list(map(str, KIND_STAGE))])
        return {(c, k): round(float(m), 1) for c, k, m in cursor.fetchall()}


def _enterprise_rows(model) -> list[dict]:
    """Per county: the enterprises with records of this stage there, those all of whose records are
    approved (verified) and those with a record returned or revoked (blocked)."""
    table = model._meta.db_table
    sql = (
        "SELECT county, count(*), count(*) FILTER (WHERE all_approved), count(*) FILTER (WHERE blocked) "
        "FROM (SELECT p.county_id AS county, r.owner_org_id, bool_and(r.state = 'approved') AS all_approved, "
        f"bool_or(r.state IN ('returned', 'revoked')) AS blocked FROM {table} r "
        "JOIN projects_project p ON p.id = r.project_id GROUP BY 1, 2) x GROUP BY 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [
            {"county": c, "entered_orgs": e, "verified_orgs": v, "blocked_orgs": b}
            for c, e, v, b in cursor.fetchall()
        ]


def _store(rows, fields: tuple[str, ...], now: datetime, reset: bool = True) -> int:
    """Write `fields` of each (county, kind) row into Figures; with `reset`, zero them elsewhere first."""
    rows = list(rows)
    with transaction.atomic():
        if reset:
            Figures.objects.update(**{f: (None if f == "median_days" else 0) for f in fields})
        existing = {(x.division_code, x.stage): x for x in Figures.objects.select_for_update()}
        new, changed = [], []
        for row in rows:
            key = (row["county"], KIND_STAGE[row["kind"]])
            figures = existing.get(key)
            if figures is None:
                figures = Figures(division_code=key[0], stage=key[1])
                new.append(figures)
            else:
                changed.append(figures)
            for f in fields:
                setattr(figures, f, row[f])
            figures.refreshed_at = now
        Figures.objects.bulk_create(new, batch_size=2000)
        Figures.objects.bulk_update(changed, [*fields, "refreshed_at"], batch_size=2000)
    return len(rows)


SNAPSHOT_FIELDS = ("draft", "in_review", "returned", "approved", "revoked", "acknowledged", "overdue")


def take_snapshot(day: date | None = None) -> int:
    """Today's counts of every county and stage as history (run again the same day: replaced), with
    their sums per prefecture and for the province, per stage and for all stages (stage "")."""
    day = day or timezone.localdate()
    counties: dict[tuple[str, str], dict[str, int]] = {}
    for count in StateCount.objects.filter(n__gt=0):
        if count.state in STATES:
            values = counties.setdefault(
                (count.division_code, count.stage), dict.fromkeys(SNAPSHOT_FIELDS, 0)
            )
            values[str(count.state)] += count.n
    for figures in Figures.objects.all():
        values = counties.get((figures.division_code, figures.stage))
        if values is not None:
            values["acknowledged"] = figures.acknowledged
            values["overdue"] = figures.overdue
    rows: dict[tuple[str, str], Snapshot] = {}

    def add(code: str, level: str, stage: str, values: dict[str, int]) -> None:
        snap = rows.setdefault((code, stage), Snapshot(day=day, level=level, division_code=code, stage=stage))
        for name in SNAPSHOT_FIELDS:
            setattr(snap, name, getattr(snap, name) + values[name])

    for (code, stage), values in counties.items():
        for stage_key in (stage, ""):
            add(code, "county", stage_key, values)
            add(code[:4] + "00", "prefecture", stage_key, values)
            add(code[:2] + "0000", "province", stage_key, values)
    with transaction.atomic():
        Snapshot.objects.filter(day=day).delete()
        Snapshot.objects.bulk_create(rows.values(), batch_size=2000)
    return len(rows)
