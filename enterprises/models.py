"""An enterprise's registration: what it applied with, and the province's decision."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from yunjian.core.models import Division, Organization


class Registration(models.Model):
    """A public application of an enterprise: approved, it becomes (or claims) an Organization and its
    first account the enterprise administrator. One pending or approved application per credit code
    (a partial unique constraint), so two at once cannot both pass."""

    AUDIT_TYPE = "enterprise_registration"

    class State(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已通过")
        REFUSED = "refused", _("未通过")

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18)
    name = models.CharField(_("单位名称"), max_length=200)
    kinds = models.CharField(_("单位类型"), max_length=200)
    division = models.ForeignKey(Division, verbose_name=_("所在行政区划"), on_delete=models.PROTECT)
    contact_name = models.CharField(_("联系人"), max_length=50)
    contact_mobile = models.CharField(_("联系人手机"), max_length=11)
    contact_email = models.EmailField(_("联系人邮箱"), max_length=200)
    username = models.CharField(_("管理员用户名"), max_length=150)
    # The first administrator's password, hashed at once; emptied when the application is decided.
    password_hash = models.CharField(max_length=128, blank=True, editable=False)
    licence = models.FileField(_("营业执照扫描件"), upload_to="registrations/%Y/%m/", max_length=300)
    licence_name = models.CharField(_("文件名"), max_length=200)
    # SHA-256 of the status link's token: the applicant's page, without an account.
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    state = FSMField(_("状态"), default=State.PENDING, choices=State.choices, protected=True)
    reason = models.TextField(_("不予通过的原因"), blank=True)
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    ip = models.GenericIPAddressField(_("提交地址"), null=True, blank=True)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="registrations"
    )
    claimed = models.BooleanField(_("认领已有单位"), default=False)
    admin_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("企业注册申请")
        verbose_name_plural = _("企业注册申请")
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code"],
                condition=Q(state__in=["pending", "approved"]),
                name="registration_one_open_per_code",
            ),
            models.UniqueConstraint(
                fields=["username"], condition=Q(state="pending"), name="registration_pending_username"
            ),
        ]
        indexes = [models.Index(fields=["state", "submitted_at"], name="registration_queue_idx")]

    def __str__(self) -> str:
        return f"{self.name}（{self.credit_code}）"

    @property
    def kind_list(self) -> list[str]:
        return [k for k in self.kinds.split("|") if k]

    def get_kinds_display(self) -> str:
        labels = dict(Organization.Kind.choices)
        return "、".join(str(labels.get(k, k)) for k in self.kind_list)

    @transition(field=state, source=State.PENDING, target=State.APPROVED)
    def approve(self, *, by, organization, admin_user, claimed: bool) -> None:
        self.decided_at = timezone.now()
        self.decided_by = by
        self.organization = organization
        self.admin_user = admin_user
        self.claimed = claimed
        self.password_hash = ""

    @transition(field=state, source=State.PENDING, target=State.REFUSED)
    def refuse(self, *, by, reason: str) -> None:
        self.decided_at = timezone.now()
        self.decided_by = by
        self.reason = reason
        self.password_hash = ""
