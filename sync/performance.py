"""What the platform has acknowledged, record by record: the sync layer's part of the 业绩 list.

`projects.performance` decides which records each role owes and what makes a project verified
performance; whether the platform holds a record is known only here, from the outbox receipts.
A record is acknowledged by the platform when

- it came from the platform (Origin.PLATFORM): the platform holds it already; or
- an outbox row of it (the record key its kind's builder in sync.payloads writes) was delivered,
  i.e. the platform answered "accepted", "duplicate" or "stale" (sync.services.outbox_record_receipts);
- it sends nothing of its own and the platform acknowledged its project: a direct specialty
  project's basic info (TBProjectInfo, which marks the project synced), and a subcontracted
  specialty completion without filing (notice 二(一): 竣工验收信息 only; sync.payloads.completion_items).
"""

from __future__ import annotations

from django.db.models import CharField, Exists, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat

from projects import performance, workflow
from projects.models import Origin, RecordKind
from sync.models import Outbox

# The record key prefix each kind's outbound builder (sync.payloads) gives the rows it writes.
RECORD_KEY_PREFIX = {
    RecordKind.DRAWING_REVIEW: "drawing_review:",
    RecordKind.PERMIT: "permit:",
    RecordKind.TENDER_CONTRACT: "contract:",
    RecordKind.COMPLETION: "completion:",
}


def _delivered(prefix: str) -> Exists:
    key = Concat(Value(prefix), Cast(OuterRef("pk"), CharField()), output_field=CharField())
    return Exists(Outbox.objects.filter(record_key=key, status=Outbox.Status.DELIVERED))


def acknowledged(kind: str) -> Q:
    """Records of `kind` the platform holds (an SQL condition on that kind's model)."""
    synced = Q(project__platform_synced_at__isnull=False)
    if kind == RecordKind.SPECIALTY_INFO:
        return synced
    condition = Q(origin=Origin.PLATFORM) | Q(_delivered(RECORD_KEY_PREFIX[kind]))
    if kind == RecordKind.TENDER_CONTRACT:
        # The tender and the contract travel together; the platform must hold both.
        condition = Q(origin=Origin.PLATFORM) | (Q(_delivered("tender:")) & Q(_delivered("contract:")))
    if kind == RecordKind.COMPLETION:
        condition |= Q(specialty_contract__isnull=False, filing_num="") & synced
    return condition


# The record kinds behind each record key prefix (a tender and its contract: one TenderContract).
KEY_TABLES = {
    **{prefix: workflow.KINDS[kind].model._meta.db_table for kind, prefix in RECORD_KEY_PREFIX.items()},
    "tender:": workflow.KINDS[RecordKind.TENDER_CONTRACT].model._meta.db_table,
}


def _outbox_function() -> str:
    """An outbox row becoming delivered (or ceasing to be, or deleted delivered) changes what the
    platform acknowledged of its record: the verdicts of the record's project are stale
    (projects.performance: projects_perf_mark, installed by projects migration 0013)."""
    lookups = " UNION ".join(
        f"SELECT r.project_id FROM k JOIN {table} r ON k.prefix = '{prefix}' AND r.id = k.pk"  # noqa: S608
        for prefix, table in KEY_TABLES.items()
    )

    def mark(changed: str) -> str:
        keys = (
            "SELECT split_part(key, ':', 1) || ':' AS prefix, split_part(key, ':', 2)::bigint AS pk "  # noqa: S608
            f"FROM ({changed}) c (key) WHERE key ~ '^[a-z_]+:[0-9]{{1,18}}$'"
        )
        return f"PERFORM projects_perf_mark(ARRAY(WITH k AS ({keys}) {lookups}));"

    updated = (
        "SELECT n.record_key FROM new_rows n JOIN old_rows o ON o.id = n.id "
        "WHERE (n.status = 'delivered' OR o.status = 'delivered') "
        "AND (n.status <> o.status OR n.record_key <> o.record_key) "
        "UNION SELECT o.record_key FROM new_rows n JOIN old_rows o ON o.id = n.id "
        "WHERE o.status = 'delivered' AND (n.status <> o.status OR n.record_key <> o.record_key)"
    )
    inserted = mark("SELECT record_key FROM new_rows WHERE status = 'delivered'")
    deleted = mark("SELECT record_key FROM old_rows WHERE status = 'delivered'")
    return (
        "CREATE OR REPLACE FUNCTION sync_perf_outbox() RETURNS trigger LANGUAGE plpgsql AS $$\n"
        "BEGIN\n"
        "  IF TG_OP = 'INSERT' THEN\n"
        f"    {inserted}\n"
        "  ELSIF TG_OP = 'DELETE' THEN\n"
        f"    {deleted}\n"
        "  ELSE\n"
        f"    {mark(updated)}\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $$;"
    )


def triggers_sql() -> list[str]:
    """The outbox's triggers (frozen in sync migration 0006)."""
    statements = [_outbox_function()]
    events = {
        "INSERT": "NEW TABLE AS new_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
    }
    for event, refs in events.items():
        statements.append(
            f"CREATE TRIGGER sync_perf_{event.lower()} AFTER {event} ON {Outbox._meta.db_table} "
            f"REFERENCING {refs} FOR EACH STATEMENT EXECUTE FUNCTION sync_perf_outbox();"
        )
    return statements


def drop_triggers_sql() -> list[str]:
    return [
        *(
            f"DROP TRIGGER IF EXISTS sync_perf_{e} ON {Outbox._meta.db_table};"
            for e in ("insert", "update", "delete")
        ),
        "DROP FUNCTION IF EXISTS sync_perf_outbox();",
    ]


def performance_rows(org_id: int, *, show: str = "", blocked: str = "", known=None):
    return performance.rows(org_id, acknowledged, show=show, blocked=blocked, known=known)


def performance_verdicts(org_id: int) -> performance.Verdicts:
    return performance.verdicts(org_id, acknowledged)


def performance_states(page: list, org_id: int) -> list:
    return performance.with_states(page, org_id, acknowledged)


def performance_summary(org_id: int) -> performance.Summary:
    return performance.summary(org_id, acknowledged)


def refresh_verdicts(*, org_id: int | None = None, limit: int | None = None) -> int:
    """Recompute the stale stored verdicts (projects.performance.refresh, with the platform's
    acknowledgement as known here)."""
    return performance.refresh(acknowledged, org_id=org_id, limit=limit)


def computed_verdicts(queryset) -> performance.Verdicts:
    return performance.computed_verdicts(queryset, acknowledged)
