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

from projects import performance
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


def performance_rows(org_id: int, *, show: str = "", blocked: str = "", known=None):
    return performance.rows(org_id, acknowledged, show=show, blocked=blocked, known=known)


def performance_verdicts(org_id: int) -> performance.Verdicts:
    return performance.verdicts(org_id, acknowledged)


def performance_states(page: list, org_id: int) -> list:
    return performance.with_states(page, org_id, acknowledged)


def performance_summary(org_id: int) -> performance.Summary:
    return performance.summary(org_id, acknowledged)
