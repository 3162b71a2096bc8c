"""The message centre: what each person is told, how they chose to be told, and each send."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    RETURNED = "returned", _("记录被退回")
    APPROVED = "approved", _("记录审核通过")
    DIGEST = "digest", _("每日待审核提醒")
    UNROUTABLE = "unroutable", _("无人审核的记录")
    ASSIGNED = "assigned", _("转交给我的审核任务")
    DEADLINE = "deadline", _("专项治理截止提醒")


class Message(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"))
    link = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("消息")
        verbose_name_plural = _("消息")
        indexes = [
            models.Index(fields=["recipient", "-id"], name="notices_msg_inbox"),
            models.Index(
                fields=["recipient"], condition=models.Q(read_at__isnull=True), name="notices_msg_unread"
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class Preference(models.Model):
    """A person's choice of email for one kind of message (no row: email on)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    email = models.BooleanField(_("发送电子邮件"), default=True)

    class Meta:
        verbose_name = _("通知设置")
        verbose_name_plural = _("通知设置")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notices_pref_unique")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{'发送邮件' if self.email else '不发送邮件'}"


class Delivery(models.Model):
    """One send of one message by one channel; the job on the queue updates it."""

    class Channel(models.TextChoices):
        EMAIL = "email", _("电子邮件")
        SMS = "sms", _("短信")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        RETRYING = "retrying", _("发送失败，等待重试")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(_("方式"), max_length=10, choices=Channel.choices)
    address = models.CharField(_("地址"), max_length=254)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("发送记录")
        verbose_name_plural = _("发送记录")
        indexes = [
            models.Index(
                fields=["-id"],
                condition=models.Q(status__in=["retrying", "failed"]),
                name="notices_delivery_problems",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.address}：{self.get_status_display()}"
