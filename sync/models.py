"""The integration boundary with the provincial integrated platform (省一体化平台)."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from projects.models import Project


class Outbox(models.Model):
    """One record version to deliver to the platform, written in the same transaction as the approval."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待推送")
        DELIVERED = "delivered", _("已同步")
        FAILED = "failed", _("推送失败，等待重试")
        DEAD = "dead", _("多次失败，需人工处理")

    bundle = models.UUIDField(_("批次"), default=uuid.uuid4, db_index=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="outbox_items")
    table = models.CharField(_("数据表"), max_length=40)
    record_key = models.CharField(_("记录标识"), max_length=60)
    version = models.PositiveIntegerField(_("版本"))
    idempotency_key = models.CharField(_("幂等键"), max_length=80, unique=True)
    payload = models.JSONField(_("数据"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试时间"), default=timezone.now)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    delivered_at = models.DateTimeField(_("同步时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("同步发件箱")
        verbose_name_plural = _("同步发件箱")
        constraints = [models.UniqueConstraint(fields=["record_key", "version"], name="outbox_key_version")]
        indexes = [
            # The worker's pick: due, undelivered rows in id order.
            models.Index(
                fields=["next_attempt_at", "id"],
                condition=Q(status__in=["pending", "failed"]),
                name="outbox_due_idx",
            ),
            models.Index(fields=["record_key", "id"], name="outbox_record_idx"),
            models.Index(fields=["status", "-id"], name="outbox_status_idx"),
        ]

    def __str__(self) -> str:
        return self.idempotency_key
