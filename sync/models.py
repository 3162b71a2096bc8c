"""The integration boundary with the provincial integrated platform (省一体化平台).

Outbound: `Outbox` rows, written in the approval's transaction and delivered by `sync_worker`.
Inbound: `InboundRequest` (replay protection, shared by every process through the database),
`InboundItem` (one row per idempotency key received), `InboundRecord` (which local row a platform
record became, at which version) and `SyncConflict` (a platform record that contradicts one
entered here, kept for the province admin instead of overwriting).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.models import Project
from sync import protocol


class Outbox(models.Model):
    """One record version to deliver to the platform, written in the same transaction as the approval."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待推送")
        SENDING = "sending", _("推送中")
        DELIVERED = "delivered", _("已同步")
        FAILED = "failed", _("推送失败，等待重试")
        DEAD = "dead", _("多次失败，需人工处理")

    # Statuses a worker may claim (SENDING only once its lease has expired).
    CLAIMABLE = (Status.PENDING, Status.FAILED, Status.SENDING)
    OPEN = (Status.PENDING, Status.SENDING, Status.FAILED, Status.DEAD)
    # Statuses that can hold back later rows of the same record or project (see outbox_claim).
    HELD = (Status.SENDING, Status.FAILED, Status.DEAD)

    bundle = models.UUIDField(_("批次"), default=uuid.uuid4, db_index=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="outbox_items")
    table = models.CharField(_("数据表"), max_length=40)
    record_key = models.CharField(_("记录标识"), max_length=60)
    version = models.PositiveIntegerField(_("版本"))
    schema_version = models.CharField(_("报文版本"), max_length=8, default=protocol.SCHEMA_VERSION)
    idempotency_key = models.CharField(_("幂等键"), max_length=80, unique=True)
    payload = models.JSONField(_("数据"))
    # What the platform does with the row: store this version (upsert) or withdraw the record (revoke,
    # 撤销认定); a revocation is the next version of the same record_key, so it never overtakes it.
    op = models.CharField(_("操作"), max_length=10, choices=protocol.Op.choices(), default=protocol.UPSERT)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), default=timezone.now)
    last_attempt_at = models.DateTimeField(_("最近尝试时间"), null=True, blank=True)
    # A worker's claim: until `leased_until` the row is its own; a killed worker's lease expires
    # and another worker re-sends the row (the receiver's idempotency makes that safe).
    leased_until = models.DateTimeField(_("租约到期时间"), null=True, blank=True)
    claim_token = models.CharField(_("领取标识"), max_length=32, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    receipt_status = models.CharField(_("平台回执"), max_length=10, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    delivered_at = models.DateTimeField(_("同步时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("同步发件箱")
        verbose_name_plural = _("同步发件箱")
        constraints = [models.UniqueConstraint(fields=["record_key", "version"], name="outbox_key_version")]
        indexes = [
            # The worker's claim: claimable rows in id order (delivered and dead rows are not in it).
            models.Index(
                fields=["id"],
                condition=Q(status__in=["pending", "failed", "sending"]),
                name="outbox_claim_idx",
            ),
            # The operations page: every undelivered row, newest first.
            models.Index(fields=["-id"], condition=~Q(status="delivered"), name="outbox_open_idx"),
            models.Index(fields=["record_key", "id"], name="outbox_record_idx"),
            models.Index(fields=["status", "-id"], name="outbox_status_idx"),
            # The operators' list of one status sorted by attempts (sync.selectors.OUTBOX_SORTING).
            models.Index(fields=["status", "attempts", "id"], name="outbox_status_attempts_idx"),
            models.Index(fields=["project", "table", "id"], name="outbox_project_idx"),
            # Rows in flight, failed or dead: few, and all the claim needs to keep the order.
            models.Index(
                fields=["record_key", "id"],
                condition=Q(status__in=["sending", "failed", "dead"]),
                name="outbox_held_key_idx",
            ),
            models.Index(
                fields=["project", "id"],
                condition=Q(status__in=["sending", "failed", "dead"], table="TBProjectInfo"),
                name="outbox_held_project_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.idempotency_key

    @property
    def table_label(self) -> str:
        return protocol.TABLE_LABELS.get(self.table, self.table)

    @property
    def css(self) -> str:
        """The state colour of the shared stylesheet."""
        return STATUS_CSS.get(self.status, "state-draft")

    @property
    def receipt_label(self) -> str:
        return RECEIPT_LABELS.get(self.receipt_status, self.receipt_status)


STATUS_CSS = {
    Outbox.Status.PENDING: "state-pending",
    Outbox.Status.SENDING: "state-in_review",
    Outbox.Status.DELIVERED: "state-synced",
    Outbox.Status.FAILED: "state-failed",
    Outbox.Status.DEAD: "state-dead",
}
RECEIPT_LABELS = {
    protocol.ACCEPTED: "平台已接收",
    protocol.DUPLICATE: "平台此前已接收",
    protocol.STALE: "平台已有更新版本",
}


class InboundRequest(models.Model):
    """A signed inbound request already seen: its signature (and request id) cannot be used again.

    In the database, not in memory, so that the guard survives a restart and holds across every
    app server and worker process. Rows expire with the signature's timestamp window.
    """

    signature = models.CharField(_("签名"), max_length=100, unique=True)
    request_id = models.CharField(_("请求编号"), max_length=64, null=True, blank=True, unique=True)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("到期时间"), db_index=True)

    class Meta:
        verbose_name = _("已接收的平台请求")
        verbose_name_plural = _("已接收的平台请求")

    def __str__(self) -> str:
        return self.request_id or self.signature[:20]


class InboundItem(models.Model):
    """The outcome of one platform record version (idempotency key) received at the inbound endpoint."""

    class Status(models.TextChoices):
        ACCEPTED = "accepted", _("已接收")
        STALE = "stale", _("旧版本，未采用")
        REJECTED = "rejected", _("校验未通过")
        CONFLICT = "conflict", _("与本系统记录冲突，待处理")

    idempotency_key = models.CharField(_("幂等键"), max_length=200, unique=True)
    table = models.CharField(_("数据表"), max_length=40)
    record_key = models.CharField(_("记录标识"), max_length=200)
    version = models.PositiveIntegerField(_("版本"))
    status = models.CharField(_("结果"), max_length=10, choices=Status.choices)
    errors = models.JSONField(_("错误"), default=list, blank=True)
    data = models.JSONField(_("数据"))
    request_id = models.CharField(_("请求编号"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("接收时间"), default=timezone.now)

    class Meta:
        verbose_name = _("平台推送记录")
        verbose_name_plural = _("平台推送记录")
        indexes = [models.Index(fields=["table", "record_key"], name="inbound_item_record_idx")]

    def __str__(self) -> str:
        return self.idempotency_key


class InboundRecord(models.Model):
    """Which local row a platform record (table, record_key) became, and at which version."""

    table = models.CharField(_("数据表"), max_length=40)
    record_key = models.CharField(_("记录标识"), max_length=200)
    version = models.PositiveIntegerField(_("版本"))
    idempotency_key = models.CharField(_("幂等键"), max_length=200)
    local_kind = models.CharField(_("本系统记录类型"), max_length=20)
    local_id = models.BigIntegerField(_("本系统记录编号"))
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="inbound_records")
    updated_at = models.DateTimeField(_("更新时间"), default=timezone.now)

    class Meta:
        verbose_name = _("平台记录对应关系")
        verbose_name_plural = _("平台记录对应关系")
        constraints = [models.UniqueConstraint(fields=["table", "record_key"], name="inbound_record_key")]
        indexes = [models.Index(fields=["project", "table"], name="inbound_record_project_idx")]

    def __str__(self) -> str:
        return f"{self.table}:{self.record_key} v{self.version}"

    @property
    def table_label(self) -> str:
        return protocol.TABLE_LABELS.get(self.table, self.table)


class SyncConflict(models.Model):
    """A platform record whose number matches one entered here but whose facts differ.

    Nothing is overwritten: the province admin compares both versions and keeps ours or
    accepts theirs (sync.services.conflict_resolve).
    """

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        KEPT_OURS = "kept_ours", _("保留本系统数据")
        ACCEPTED_THEIRS = "accepted_theirs", _("采用平台数据")

    table = models.CharField(_("数据表"), max_length=40)
    record_key = models.CharField(_("平台记录标识"), max_length=200)
    idempotency_key = models.CharField(_("幂等键"), max_length=200)
    version = models.PositiveIntegerField(_("平台版本"))
    project = models.ForeignKey(
        Project, verbose_name=_("工程项目"), on_delete=models.PROTECT, related_name="sync_conflicts"
    )
    number = models.CharField(_("编号"), max_length=200)
    local_kind = models.CharField(_("本系统记录类型"), max_length=20)
    local_id = models.BigIntegerField(_("本系统记录编号"))
    fields = models.JSONField(_("不一致的字段"), default=list)
    ours = models.JSONField(_("本系统数据"))
    theirs = models.JSONField(_("平台数据"))
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("发现时间"), default=timezone.now)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    note = models.TextField(_("处理说明"), blank=True)

    class Meta:
        verbose_name = _("同步冲突")
        verbose_name_plural = _("同步冲突")
        indexes = [
            models.Index(fields=["-id"], condition=Q(status="open"), name="conflict_open_idx"),
            models.Index(fields=["status", "-id"], name="conflict_status_idx"),
            models.Index(fields=["project", "-id"], name="conflict_project_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.table} {self.number}"

    @property
    def table_label(self) -> str:
        return protocol.TABLE_LABELS.get(self.table, self.table)

    @property
    def fields_display(self) -> str:
        from sync.payloads import field_label

        return "、".join(field_label(name) for name in self.fields)
