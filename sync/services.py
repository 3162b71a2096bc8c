"""Writes at the integration boundary with the platform (省一体化平台).

Outbound, in three transactions per batch (docs/architecture.md, "The sync boundary"):
1. `enqueue_for_approval` runs inside the approval's transaction, so an approval and its outbox
   rows commit or roll back together (the transactional outbox).
2. `outbox_claim` takes a batch of due rows with `SELECT … FOR UPDATE SKIP LOCKED` and leases them
   (status "sending", `leased_until`, a claim token) in a short transaction of its own.
3. The worker POSTs the batch outside any transaction; `outbox_record_receipts` or
   `outbox_record_failure` then settles the rows it still holds (same claim token). The token is
   the whole proof of the lease: a row carries one only while it is "sending", and every write
   that settles, retires or re-queues a row clears it.
A worker killed between 2 and 3 leaves a lease that expires; the rows are claimed again and
re-sent, and the receiver's idempotency key (record_key:vN) makes the second delivery a no-op.

Ordering: a row is never claimed while an earlier undelivered row of the same record_key exists
(version 2 never overtakes version 1), nor a child record while an earlier undelivered
TBProjectInfo row of its project exists (the platform refuses children of a PrjNum it does not
know). Both may travel in the same batch, in id order, when the earlier row is claimed with it.
"""

from __future__ import annotations

import logging
import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, F, Max, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.module_loading import import_string

from projects import workflow
from projects.models import Origin, Project, ReviewableRecord
from sync import payloads, protocol
from sync.models import InboundItem, InboundRequest, Outbox, SyncConflict
from yunjian.core import audit
from yunjian.core.models import AuditEntry, Role

log = logging.getLogger("sync.worker")

Status = Outbox.Status


# --- 1. Enqueue (inside the approval's transaction) -------------------------------------------


def _next_version(record_key: str) -> int:
    current = Outbox.objects.filter(record_key=record_key).aggregate(v=Max("version"))["v"]
    return (current or 0) + 1


def _add(
    bundle: uuid.UUID,
    project: Project,
    table: str,
    record_key: str,
    payload: dict,
    version: int | None = None,
    op: str = protocol.UPSERT,
) -> Outbox:
    # Versions of a record_key only grow: after a revocation (the next version), a new submission's
    # approval goes out as the version after it, whatever its round number.
    version = max(version or 0, _next_version(record_key))
    return Outbox.objects.create(
        bundle=bundle,
        project=project,
        table=table,
        record_key=record_key,
        version=version,
        idempotency_key=f"{record_key}:v{version}",
        payload=payload,
        op=op,
    )


def enqueue_for_approval(record: ReviewableRecord) -> list[Outbox]:
    """Write the outbox rows that the final approval of `record` makes due (docs/architecture.md).

    Which tables a kind feeds, and with what, is its builder (KINDS[kind].outbound, in
    sync.payloads): a permit completes the first bundle (the project's basic info, its approved
    drawing reviews, the permit; notice 一(一)3); later each tender+contract and each completion
    goes on its own. Records that came from the platform are never sent back to it.
    """
    if record.origin == Origin.PLATFORM:
        return []
    build = import_string(workflow.kind_of(record).outbound)
    # Lock the project row: versions of its records are numbered under this lock.
    project = Project.objects.select_for_update().get(pk=record.project_id) if record.project_id else None
    items = build(record, project) if project is not None else []
    bundle = uuid.uuid4()
    rows: list[Outbox] = []
    for item in items:
        if item.once and Outbox.objects.filter(record_key=item.record_key, version=item.version).exists():
            continue
        rows.append(_add(bundle, project, item.table, item.record_key, item.payload, item.version))
    return rows


def enqueue_on_approval(sender, *, record: ReviewableRecord, **kwargs) -> None:
    """Receiver of review.hooks.record_approved (connected in sync.apps)."""
    enqueue_for_approval(record)


def enqueue_revocation(record: ReviewableRecord, revocation) -> list[Outbox]:
    """Queue the platform's revocation (撤销认定) of what it holds of `record`, inside the revocation's
    transaction: one "revoke" row per record_key of the record that was queued before, as that key's
    next version — so it goes after every version of the record and is idempotent like any row.
    A record never sent (e.g. a drawing review still waiting for its permit's bundle) needs none."""
    if record.origin == Origin.PLATFORM or not record.project_id:
        return []
    project = Project.objects.select_for_update().get(pk=record.project_id)
    keys = payloads.own_keys(record, project)
    sent = set(
        Outbox.objects.filter(record_key__in=[k for _, k in keys]).values_list("record_key", flat=True)
    )
    data = payloads.revocation(revocation)
    bundle = uuid.uuid4()
    return [_add(bundle, project, table, key, data, op=protocol.REVOKE) for table, key in keys if key in sent]


def enqueue_new_version(sender, *, record: ReviewableRecord, **kwargs) -> list[Outbox]:
    """Receiver of review.hooks.level_raised: the record's own rows the platform already has, built
    again (with the new 数据等级) as each key's next version. A record not sent yet goes out with its
    bundle later, carrying the level it has then."""
    if record.origin == Origin.PLATFORM or not record.project_id:
        return []
    project = Project.objects.select_for_update().get(pk=record.project_id)
    items = payloads.own_items(record, project)
    sent = set(
        Outbox.objects.filter(record_key__in=[i.record_key for i in items]).values_list(
            "record_key", flat=True
        )
    )
    bundle = uuid.uuid4()
    return [_add(bundle, project, i.table, i.record_key, i.payload) for i in items if i.record_key in sent]


def enqueue_on_revocation(sender, *, record: ReviewableRecord, revocation, **kwargs) -> None:
    """Receiver of review.hooks.record_revoked (connected in sync.apps)."""
    enqueue_revocation(record, revocation)


# --- 2. Claim a batch -------------------------------------------------------------------------


@dataclass
class Claim:
    """A leased batch: the rows, in delivery order, and the token that proves the lease."""

    token: str
    rows: list[Outbox] = field(default_factory=list)
    leased_until: datetime | None = None


@dataclass
class BatchResult:
    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    error: str = ""
    by_receipt: dict[str, int] = field(default_factory=dict)

    def add(self, other: BatchResult) -> None:
        self.claimed += other.claimed
        self.delivered += other.delivered
        self.failed += other.failed
        self.dead += other.dead
        for status, n in other.by_receipt.items():
            self.by_receipt[status] = self.by_receipt.get(status, 0) + n
        self.error = other.error or self.error


def _claimable(now: datetime) -> Q:
    """Due for delivery now: waiting (pending, or failed and due for its retry) or lease expired."""
    return Q(status__in=[Status.PENDING, Status.FAILED], next_attempt_at__lte=now) | Q(
        status=Status.SENDING, leased_until__lt=now
    )


def outbox_claim(
    *,
    batch_size: int | None = None,
    lease_seconds: float | None = None,
    project_ids: list[int] | None = None,
    now: datetime | None = None,
) -> Claim:
    """Lease up to `batch_size` due rows for one worker, keeping per-record and per-project order.

    Safe with any number of workers: rows another worker holds are skipped (SKIP LOCKED), and a
    row whose predecessor another worker holds is left for a later batch.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.SYNC_BATCH_SIZE
    lease = timedelta(seconds=lease_seconds or settings.SYNC_LEASE_SECONDS)
    claimable = _claimable(now)
    # An earlier row that cannot go now (in flight, waiting for its retry, or dead) holds back its
    # successors: they are not even candidates, so a long queue behind a dead row never fills the
    # batch. The status list matches the small partial indexes outbox_held_*; a pending row is due
    # from its creation, and one that is not (a clock ahead) is caught by _keep_order below.
    waiting = Outbox.objects.filter(id__lt=OuterRef("id"), status__in=Outbox.HELD).exclude(claimable)
    candidates = (
        # The status filter matches the partial index outbox_claim_idx, which gives id order.
        Outbox.objects.filter(status__in=Outbox.CLAIMABLE)
        .filter(claimable)
        .filter(~Exists(waiting.filter(record_key=OuterRef("record_key"))))
        .filter(
            Q(table=protocol.TB_PROJECT)
            | ~Exists(waiting.filter(project_id=OuterRef("project_id"), table=protocol.TB_PROJECT))
        )
    )
    if project_ids is not None:
        candidates = candidates.filter(project_id__in=project_ids)
    token = uuid.uuid4().hex
    with transaction.atomic():
        rows = list(candidates.order_by("id").select_for_update(skip_locked=True, of=("self",))[:batch_size])
        rows = _retire_abandoned(rows)
        chosen = _keep_order(rows)
        if not chosen:
            return Claim(token=token)
        leased_until = now + lease
        Outbox.objects.filter(id__in=[r.id for r in chosen]).update(
            status=Status.SENDING,
            leased_until=leased_until,
            claim_token=token,
            attempts=F("attempts") + 1,
            last_attempt_at=now,
        )
    for row in chosen:
        row.status, row.leased_until, row.claim_token = Status.SENDING, leased_until, token
        row.attempts += 1
        row.last_attempt_at = now
    return Claim(token=token, rows=chosen, leased_until=leased_until)


def _retire_abandoned(rows: list[Outbox]) -> list[Outbox]:
    """Dead-letter rows whose lease ran out once too often (a worker killed on every try, e.g. out
    of memory on them): without a receipt or a recorded failure they would otherwise cycle forever.
    Returns the other rows; the retired ones now hold back their successors like any dead row."""
    abandoned = [r for r in rows if r.status == Status.SENDING and r.attempts >= settings.SYNC_MAX_ATTEMPTS]
    if not abandoned:
        return rows
    Outbox.objects.filter(id__in=[r.id for r in abandoned]).update(
        status=Status.DEAD,
        leased_until=None,
        claim_token="",
        last_error=f"同步进程在推送过程中中断，已连续 {settings.SYNC_MAX_ATTEMPTS} 次未取得平台回执",
    )
    log.error("%d 条记录多次推送中断，已转人工处理", len(abandoned))
    return [r for r in rows if r not in abandoned]


def _keep_order(rows: list[Outbox]) -> list[Outbox]:
    """Drop the candidates that would overtake an earlier undelivered row not in this batch.

    The candidate query already left out rows held back by rows that cannot go now; what remains
    to check is an earlier row that is due but was skipped because another worker has it locked,
    and two versions of one record in the same batch (only the first goes).
    """
    if not rows:
        return []
    ids = [r.id for r in rows]
    keys = {r.record_key for r in rows}
    child_projects = {r.project_id for r in rows if r.table != protocol.TB_PROJECT}
    first_key: dict[str, int] = {}
    first_project: dict[int, int] = {}
    outside = (
        Outbox.objects.filter(id__lt=max(ids))
        .exclude(status=Status.DELIVERED)
        .exclude(id__in=ids)
        .filter(Q(record_key__in=keys) | Q(table=protocol.TB_PROJECT, project_id__in=child_projects))
        .values_list("id", "record_key", "project_id", "table")
    )
    for row_id, key, project_id, table in outside:
        if key in keys:
            first_key[key] = min(row_id, first_key.get(key, row_id))
        if table == protocol.TB_PROJECT and project_id in child_projects:
            first_project[project_id] = min(row_id, first_project.get(project_id, row_id))
    chosen: list[Outbox] = []
    taken_keys: set[str] = set()
    held_keys: set[str] = set()
    held_projects: set[int] = set()
    for row in rows:
        held = (
            row.record_key in taken_keys
            or row.record_key in held_keys
            or first_key.get(row.record_key, row.id) < row.id
        )
        if not held and row.table != protocol.TB_PROJECT:
            held = row.project_id in held_projects or first_project.get(row.project_id, row.id) < row.id
        if held:
            held_keys.add(row.record_key)
            if row.table == protocol.TB_PROJECT:
                held_projects.add(row.project_id)
            continue
        taken_keys.add(row.record_key)
        chosen.append(row)
    return chosen


# --- 3. Settle a batch ------------------------------------------------------------------------


def retry_delay(attempts: int) -> float:
    """Seconds before retry number `attempts` + 1: exponential backoff with "equal jitter".

    The delay lies in [d/2, d] with d = base × 2^(attempts−1), capped; so it never shrinks from one
    attempt to the next (until the cap), while workers that failed together do not retry together.
    """
    base = float(settings.SYNC_RETRY_BASE_SECONDS)
    cap = float(settings.SYNC_RETRY_MAX_SECONDS)
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    return delay / 2 + random.uniform(0, delay / 2)  # noqa: S311  (jitter, not cryptography)


def _settle_failures(
    token: str, failures: list[tuple[Outbox, str]], now: datetime, result: BatchResult
) -> None:
    """Failed rows wait for their retry; past SYNC_MAX_ATTEMPTS they go to the dead-letter list."""
    groups: dict[tuple[int, str], list[int]] = defaultdict(list)
    for row, error in failures:
        groups[(row.attempts, error)].append(row.id)
    for (attempts, error), ids in groups.items():
        held = Outbox.objects.filter(id__in=ids, claim_token=token)
        common = {"leased_until": None, "claim_token": "", "last_error": error[:4000], "receipt_status": ""}
        if attempts >= settings.SYNC_MAX_ATTEMPTS:
            result.dead += held.update(status=Status.DEAD, **common)
        else:
            next_at = now + timedelta(seconds=retry_delay(attempts))
            result.failed += held.update(status=Status.FAILED, next_attempt_at=next_at, **common)


def rejection_text(errors: list[dict]) -> str:
    parts = [
        f"{payloads.field_label(str(e.get('field', '')))}（{e.get('field', '')}）：{e.get('message', '')}"
        for e in errors
    ]
    return "平台拒收：" + ("；".join(parts) if parts else "未说明原因")


def outbox_record_failure(*, claim: Claim, error: str, now: datetime | None = None) -> BatchResult:
    """The whole batch failed in transport (timeout, refused, 5xx, refused envelope): retry or dead."""
    now = now or timezone.now()
    result = BatchResult(claimed=len(claim.rows), error=error)
    with transaction.atomic():
        _settle_failures(claim.token, [(row, error) for row in claim.rows], now, result)
    log.warning("批次 %d 条推送失败：%s", len(claim.rows), error)
    return result


def outbox_record_receipts(
    *, claim: Claim, receipts: list[protocol.Receipt], now: datetime | None = None
) -> BatchResult:
    """Apply the platform's receipts to the rows this claim still holds.

    accepted / duplicate / stale → delivered (the platform holds this version or a newer one);
    rejected → failed with the field errors, retried with backoff, dead after SYNC_MAX_ATTEMPTS.
    A rejection is usually permanent (a version's payload never changes), but some depend on the
    platform's own state (an unknown PrjNum, a code list or validator being fixed on its side);
    retrying one item costs little, and the row shows in the operators' list with its field
    errors from the first rejection on.
    """
    now = now or timezone.now()
    result = BatchResult(claimed=len(claim.rows))
    by_key = {r["idempotency_key"]: r for r in receipts}
    delivered: dict[str, list[int]] = defaultdict(list)
    failures: list[tuple[Outbox, str]] = []
    for row in claim.rows:
        receipt = by_key.get(row.idempotency_key)
        if receipt is None:
            failures.append((row, "平台回执中缺少该条记录"))
        elif receipt["status"] in protocol.FINAL_STATUSES:
            delivered[receipt["status"]].append(row.id)
        else:
            failures.append((row, rejection_text(receipt.get("errors") or [])))
    with transaction.atomic():
        for status, ids in delivered.items():
            n = Outbox.objects.filter(id__in=ids, claim_token=claim.token).update(
                status=Status.DELIVERED,
                delivered_at=now,
                receipt_status=status,
                leased_until=None,
                claim_token="",
                last_error="",
            )
            result.delivered += n
            result.by_receipt[status] = n
        _settle_failures(claim.token, failures, now, result)
        delivered_ids = {i for ids in delivered.values() for i in ids}
        _mark_projects_synced({r.project_id for r in claim.rows if r.id in delivered_ids}, now)
    return result


def _mark_projects_synced(project_ids: set[int], now: datetime) -> None:
    """Projects whose first bundle (basic info + drawing reviews + permit) is now wholly delivered."""
    if not project_ids:
        return
    first_bundle = (
        Outbox.objects.filter(project=OuterRef("pk"), table=protocol.TB_PROJECT)
        .order_by("id")
        .values("bundle")[:1]
    )
    ready = dict(
        Project.objects.filter(pk__in=project_ids, platform_synced_at__isnull=True)
        .annotate(first_bundle=Subquery(first_bundle))
        .filter(first_bundle__isnull=False)
        .annotate(
            open_rows=Exists(
                Outbox.objects.filter(bundle=OuterRef("first_bundle")).exclude(status=Status.DELIVERED)
            )
        )
        .filter(open_rows=False)
        .values_list("pk", "first_bundle")
    )
    if ready:
        projects_mark_synced(bundles=ready, at=now)


def projects_mark_synced(*, bundles: dict[int, uuid.UUID | None], at: datetime) -> list[int]:
    """Record that the platform acknowledged these projects (notice 一(一)3): entry of tender+contract
    and completion opens from now on (projects.rules.platform_entry_closed). A system action, audited
    per project; projects already marked are left alone. Returns the ids marked now."""
    with transaction.atomic():
        ids = list(
            Project.objects.select_for_update()
            .filter(pk__in=list(bundles), platform_synced_at__isnull=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            return []
        Project.objects.filter(pk__in=ids).update(platform_synced_at=at, updated_at=at)
        AuditEntry.objects.bulk_create(
            [
                AuditEntry(
                    at=at,
                    action=AuditEntry.Action.SYNC,
                    object_type="project",
                    object_id=str(pk),
                    to_state="synced",
                    reason="省一体化平台已确认接收工程项目基本信息、施工图审查信息和施工许可信息",
                    data={"direction": "outbound", "bundle": str(bundles[pk] or "")},
                )
                for pk in ids
            ]
        )
    return ids


# --- Operators --------------------------------------------------------------------------------


def _require_operator(actor) -> None:
    if not (actor.is_authenticated and actor.is_active and actor.has_role(Role.PROVINCE_ADMIN)):
        raise PermissionDenied("只有系统管理员可以处理数据同步。")


@transaction.atomic
def outbox_repush(*, actor, ids: list[int], ip: str | None = None) -> int:
    """Send failed or dead-lettered rows again from the start (attempts reset). Returns how many."""
    _require_operator(actor)
    rows = list(
        Outbox.objects.select_for_update()
        .filter(id__in=ids, status__in=[Status.FAILED, Status.DEAD])
        .order_by("id")
    )
    if not rows:
        return 0
    now = timezone.now()
    Outbox.objects.filter(id__in=[r.id for r in rows]).update(
        status=Status.PENDING, attempts=0, next_attempt_at=now, leased_until=None, claim_token=""
    )
    for row in rows:
        audit.record(
            action=AuditEntry.Action.SYNC,
            actor=actor,
            obj=row,
            from_state=row.status,
            to_state=Status.PENDING,
            reason="运维人员重新推送",
            data={
                "idempotency_key": row.idempotency_key,
                "attempts": row.attempts,
                "last_error": row.last_error,
            },
            ip=ip,
        )
    return len(rows)


@transaction.atomic
def conflict_resolve(
    *, actor, conflict_id: int, accept_theirs: bool, note: str = "", ip: str | None = None
) -> SyncConflict:
    """Settle a conflict: keep the record entered here, or write the platform's facts over it.

    Raises PermissionDenied (not an operator) or ValidationError (already settled, or the
    platform's version cannot be stored); changes nothing when it raises.
    """
    from sync import inbound

    _require_operator(actor)
    conflict = SyncConflict.objects.select_for_update().get(pk=conflict_id)
    if conflict.status != SyncConflict.Status.OPEN:
        raise ValidationError("该冲突已处理，请刷新页面查看处理结果。")
    before = conflict.status
    if accept_theirs:
        item = protocol.make_item(
            conflict.idempotency_key, conflict.table, conflict.record_key, conflict.version, conflict.theirs
        )
        try:
            inbound.apply_item(item, None, overwrite=True)
        except inbound.Rejected as exc:
            raise ValidationError("平台数据无法采用：" + "；".join(e["message"] for e in exc.errors)) from exc
        InboundItem.objects.filter(idempotency_key=conflict.idempotency_key).update(
            status=InboundItem.Status.ACCEPTED
        )
        conflict.status = SyncConflict.Status.ACCEPTED_THEIRS
    else:
        conflict.status = SyncConflict.Status.KEPT_OURS
    conflict.resolved_by = actor
    conflict.resolved_at = timezone.now()
    conflict.note = note.strip()
    conflict.save(update_fields=["status", "resolved_by", "resolved_at", "note"])
    audit.record(
        action=AuditEntry.Action.SYNC,
        actor=actor,
        obj=conflict,
        from_state=before,
        to_state=conflict.status,
        reason=conflict.note or str(conflict.get_status_display()),
        data={"table": conflict.table, "number": conflict.number, "fields": conflict.fields},
        ip=ip,
    )
    return conflict


def inbound_prune_replays(now: datetime | None = None) -> int:
    """Forget inbound signatures whose timestamp window has passed (verify() refuses them anyway)."""
    deleted, _ = InboundRequest.objects.filter(expires_at__lt=now or timezone.now()).delete()
    return deleted
