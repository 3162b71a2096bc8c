"""Who is who: divisions, organizations, accounts, and the append-only audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from yunjian.core import crypto
from yunjian.core.validators import CleanInputMixin, validate_credit_code


def prefecture_code(code: str) -> str:
    """The prefecture (州、市) of a county or prefecture code: 530302 → 530300."""
    return code[:4] + "00"


def province_code(code: str) -> str:
    return code[:2] + "0000"


def covering_codes(code: str) -> list[str]:
    """The division codes whose responsibility includes county `code`: itself, its prefecture, the province."""
    return list(dict.fromkeys([code, prefecture_code(code), province_code(code)]))


class Division(models.Model):
    """A Yunnan administrative division (GB/T 2260): the province, a prefecture or a county."""

    class Level(models.TextChoices):
        PROVINCE = "province", _("省")
        PREFECTURE = "prefecture", _("州（市）")
        COUNTY = "county", _("县（市、区）")

    code = models.CharField(_("行政区划代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=40)
    level = models.CharField(_("级别"), max_length=12, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def code_range(self) -> tuple[str, str]:
        """Return [low, high) bounds of the county codes inside this division.

        A range, not `startswith`, so that a b-tree index serves it on any collation.
        """
        if self.level == self.Level.PROVINCE:
            prefix = self.code[:2]
        elif self.level == self.Level.PREFECTURE:
            prefix = self.code[:4]
        else:
            return self.code, self.code + "\uffff"
        return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)

    @property
    def prefecture_code(self) -> str:
        return prefecture_code(self.code)


# The slug of 滇中新区 (the Zone created by migration core 0002): Project.in_new_area points here.
NEW_AREA_ZONE = "dianzhong"


class Zone(models.Model):
    """A functional zone such as 滇中新区: no administrative code of its own, mapped to host counties."""

    slug = models.SlugField(_("标识"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=40, unique=True)
    counties = models.ManyToManyField(Division, verbose_name=_("涉及县（市、区）"), related_name="zones")

    class Meta:
        verbose_name = _("功能区")
        verbose_name_plural = _("功能区")

    def __str__(self) -> str:
        return self.name


class Organization(CleanInputMixin, models.Model):
    """An enterprise or an authority, identified by its 统一社会信用代码."""

    class Kind(models.TextChoices):
        DESIGN = "design", _("设计单位")
        SURVEY = "survey", _("勘察单位")
        GENERAL_CONTRACTOR = "general_contractor", _("施工总承包单位")
        SPECIALTY_CONTRACTOR = "specialty_contractor", _("专业承包单位")
        SUPERVISION = "supervision", _("监理单位")
        OWNER = "owner", _("建设单位")
        REVIEW_INSTITUTION = "review_institution", _("施工图审查机构")
        HOUSING_BUREAU = "housing_bureau", _("住房城乡建设部门")
        PROVINCE_DEPT = "province_dept", _("省住房城乡建设厅")
        DESIGN_DIVISION = "design_division", _("省厅勘察设计处")

    ENTERPRISE_KINDS = frozenset(
        {
            Kind.DESIGN,
            Kind.SURVEY,
            Kind.GENERAL_CONTRACTOR,
            Kind.SPECIALTY_CONTRACTOR,
            Kind.SUPERVISION,
            Kind.OWNER,
        }
    )

    credit_code = models.CharField(
        _("统一社会信用代码"), max_length=18, unique=True, validators=[validate_credit_code]
    )
    name = models.CharField(_("单位名称"), max_length=200, db_index=True)
    # Kinds are stored as "|design|survey|" so one LIKE finds them and a row needs no join.
    kinds = models.CharField(_("单位类型"), max_length=200, default="")
    division = models.ForeignKey(Division, verbose_name=_("所在行政区划"), on_delete=models.PROTECT)
    zone = models.ForeignKey(
        Zone, verbose_name=_("所属功能区"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="organization", editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    # False for a unit known only by the code and name someone else gave: one an enterer named that was
    # not registered yet (historical projects' 建设单位), or one created from a loaded export. Usable at
    # once, shown as 待核实 until the system administrator confirms it in the admin; never merged with a
    # similar name.
    is_verified = models.BooleanField(_("已核实"), default=True)

    class Meta:
        verbose_name = _("单位")
        verbose_name_plural = _("单位")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if not self.group_id:
            self.group = Group.objects.create(name=f"org:{self.credit_code}")
        super().save(*args, **kwargs)

    @property
    def kind_list(self) -> list[str]:
        return [k for k in self.kinds.split("|") if k]

    def has_kind(self, kind: str) -> bool:
        return f"|{kind}|" in self.kinds

    def get_kinds_display(self) -> str:
        labels = dict(self.Kind.choices)
        return "、".join(str(labels.get(k, k)) for k in self.kind_list)

    @staticmethod
    def encode_kinds(kinds: list[str] | set[str] | tuple[str, ...]) -> str:
        ordered = [k for k in Organization.Kind.values if k in set(kinds)]
        return "|" + "|".join(ordered) + "|" if ordered else ""


class Role(models.TextChoices):
    ENTERPRISE = "enterprise", _("企业填报人员")
    # The enterprise's own account administrator (issue 17, the enterprises app): holds ENTERPRISE too.
    ENTERPRISE_ADMIN = "enterprise_admin", _("企业管理员")
    INSTITUTION = "institution", _("审图机构人员")
    REVIEWER = "reviewer", _("审核人员")
    DESIGN_DIVISION = "design_division", _("省厅勘察设计处")
    PROVINCE_ADMIN = "province_admin", _("系统管理员")
    SECURITY_ADMIN = "security_admin", _("安全管理员")
    AUDIT_ADMIN = "audit_admin", _("审计管理员")
    # 省厅业务处室 (建筑市场监管处、勘察设计处 staff following the campaign): the province's progress
    # boards, read-only; nothing else (boards.scope).
    BOARD_VIEWER = "board_viewer", _("省厅业务处室（只读）")


# 三员分立: each of these roles excludes the others and every business role.
ADMIN_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})


def role_conflict(roles) -> str:
    """Return why a set of roles breaks 三员分立 ("" when it does not)."""
    roles = set(roles)
    unknown = roles - set(Role.values)
    if unknown:
        return "未知的角色：" + "、".join(sorted(unknown))
    admin = roles & ADMIN_ROLES
    if admin and len(roles) > 1:
        return "系统管理员、安全管理员、审计管理员须三员分立：这些角色不能与其他任何角色同时授予同一账号。"
    return ""


def access_conflict(user) -> str:
    """Why an account's roles and flags break 三员分立 ("" when they do not).

    No account is a superuser in normal operation (a superuser would hold every duty at once); the
    staff flag is the system administrator's alone (the admin site is their data-maintenance console).
    """
    problem = role_conflict(user.role_list)
    if problem:
        return problem
    if user.is_superuser:
        return "三员分立：任何账号都不能设为超级用户。"
    if user.is_staff and not user.has_role(Role.PROVINCE_ADMIN):
        return "三员分立：只有系统管理员可以进入管理后台。"
    return ""


# Every reviewing role, the business offices that read the whole province's boards and the three
# administrators sign in with two factors (GB/T 22239 level 3).
OTP_ROLES = frozenset(
    {
        Role.INSTITUTION,
        Role.REVIEWER,
        Role.DESIGN_DIVISION,
        Role.BOARD_VIEWER,
        Role.PROVINCE_ADMIN,
        Role.SECURITY_ADMIN,
        Role.AUDIT_ADMIN,
    }
)


ACCESS_FIELDS = frozenset({"roles", "organization_id", "is_active", "is_staff", "is_superuser"})


class User(CleanInputMixin, AbstractUser):
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
    )
    # Stored as "|reviewer|" like Organization.kinds: no join to know a user's roles.
    roles = models.CharField(_("角色"), max_length=200, default="", blank=True)
    full_name = models.CharField(_("姓名"), max_length=50, blank=True)
    department = models.CharField(_("部门"), max_length=100, blank=True)
    title = models.CharField(_("职务"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    id_number_encrypted = models.TextField(_("身份证号码（加密）"), blank=True, default="", editable=False)
    id_number_digest = models.CharField(max_length=64, blank=True, default="", db_index=True, editable=False)
    has_ca_certificate = models.BooleanField(_("已办理CA数字证书"), default=False)
    must_change_password = models.BooleanField(_("首次登录须修改密码"), default=False)
    password_changed_at = models.DateTimeField(_("密码修改时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")

    def __str__(self) -> str:
        return self.full_name or self.username

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        # Remembered so that a change of roles or organization can be audited (yunjian.core.signals);
        # not for a partial load (.only()/.defer()), where reading a deferred field would query again.
        if ACCESS_FIELDS.issubset(field_names):
            instance._loaded_access = instance.access_fingerprint()
        return instance

    def clean(self) -> None:
        super().clean()
        problem = access_conflict(self)
        if problem:
            raise ValidationError({"roles": problem})

    def save(self, *args, **kwargs):
        # Not only forms: no code path (admin, shell, import, command) may store a conflicting account.
        problem = access_conflict(self)
        if problem:
            raise ValidationError(problem)
        super().save(*args, **kwargs)

    @property
    def otp_required_by_role(self) -> bool:
        return any(self.has_role(role) for role in OTP_ROLES)

    def access_fingerprint(self) -> tuple:
        return (self.roles, self.organization_id, self.is_active, self.is_staff, self.is_superuser)

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def role_list(self) -> list[str]:
        return [r for r in self.roles.split("|") if r]

    def has_role(self, role: str) -> bool:
        return f"|{role}|" in self.roles

    def get_roles_display(self) -> str:
        labels = dict(Role.choices)
        return "、".join(str(labels.get(r, r)) for r in self.role_list)

    @staticmethod
    def encode_roles(roles) -> str:
        ordered = [r for r in Role.values if r in set(roles)]
        return "|" + "|".join(ordered) + "|" if ordered else ""

    @cached_property
    def primary_role(self) -> str:
        roles = self.role_list
        return roles[0] if roles else ""

    # 身份证号码: stored encrypted, matched by an HMAC digest, shown masked.
    @property
    def id_number(self) -> str:
        return crypto.decrypt(self.id_number_encrypted) if self.id_number_encrypted else ""

    @id_number.setter
    def id_number(self, value: str) -> None:
        value = (value or "").strip().upper()
        self.id_number_encrypted = crypto.encrypt(value) if value else ""
        self.id_number_digest = crypto.digest(value) if value else ""

    @property
    def id_number_masked(self) -> str:
        return crypto.mask_id_number(self.id_number)


class BoundCertificate(models.Model):
    """A CA digital certificate bound to an account (yunjian.core.certificates): its holder signs in
    with it through the TLS proxy. Bound by the holder (password plus the certificate) or by the
    security administrator (serial and subject; the fingerprint is then filled in at first use)."""

    user = models.ForeignKey(
        User, verbose_name=_("账号"), on_delete=models.CASCADE, related_name="certificates"
    )
    serial = models.CharField(_("证书序列号"), max_length=64)  # upper-case hex, no leading zeros
    subject_dn = models.CharField(_("证书主题"), max_length=500)
    issuer_dn = models.CharField(_("颁发者"), max_length=500, blank=True)
    fingerprint = models.CharField(_("SHA-256指纹"), max_length=64, blank=True)
    not_after = models.DateTimeField(_("有效期至"), null=True, blank=True)
    bound_at = models.DateTimeField(_("绑定时间"), default=timezone.now)
    bound_by = models.ForeignKey(
        User, verbose_name=_("绑定人"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(_("最近使用"), null=True, blank=True)

    class Meta:
        verbose_name = _("CA数字证书")
        verbose_name_plural = _("CA数字证书")
        ordering = ["-bound_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"],
                condition=~models.Q(fingerprint=""),
                name="bound_cert_fingerprint_uniq",
            ),
            models.UniqueConstraint(fields=["serial", "subject_dn"], name="bound_cert_serial_subject_uniq"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_dn} ({self.serial})"


class PasswordHistory(models.Model):
    """The hashes of an account's recent passwords: the last PASSWORD_HISTORY_COUNT cannot be reused."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")
        indexes = [models.Index(fields=["user", "-created_at"], name="password_history_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"


class AuditEntry(models.Model):
    """One append-only line of the audit trail (等保 2.0): logins, data changes, transitions, imports.

    On PostgreSQL a trigger (migration 0002) refuses UPDATE and DELETE on this table.
    """

    class Action(models.TextChoices):
        LOGIN = "login", _("登录")
        LOGIN_FAILED = "login_failed", _("登录失败")
        LOGOUT = "logout", _("退出")
        LOCKOUT = "lockout", _("账号锁定")
        TIMEOUT = "timeout", _("会话超时")
        PASSWORD = "password", _("修改密码")
        PERMISSION = "permission", _("权限变更")
        CREATE = "create", _("新增")
        UPDATE = "update", _("修改")
        SUBMIT = "submit", _("提交")
        APPROVE = "approve", _("审核通过")
        RETURN = "return", _("退回")
        REVOKE = "revoke", _("撤销认定")
        WITHDRAW = "withdraw", _("撤回")
        REASSIGN = "reassign", _("转交待审核任务")
        DELETE = "delete", _("删除")
        IMPORT = "import", _("导入")
        EXPORT = "export", _("导出")
        SYNC = "sync", _("同步")

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    actor_org = models.ForeignKey(
        Organization,
        verbose_name=_("操作单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    ip = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    action = models.CharField(_("操作"), max_length=20, choices=Action.choices)
    object_type = models.CharField(_("对象类型"), max_length=40, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=40, blank=True)
    from_state = models.CharField(_("原状态"), max_length=20, blank=True)
    to_state = models.CharField(_("新状态"), max_length=20, blank=True)
    step = models.CharField(_("审核步骤"), max_length=40, blank=True)  # a step key (projects.workflow)
    reason = models.TextField(_("原因/说明"), blank=True)
    data = models.JSONField(_("数据快照"), default=dict, blank=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "at"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_action_display()} {self.object_type}#{self.object_id}"


class Campaign(models.Model):
    """The province's campaign (专项治理), its deadline and target, edited in the admin: the deadline
    reminders (notices.tasks.deadline_reminders) and the progress boards' trend (the projected date
    each division reaches the target) read the current one (`current()`)."""

    name = models.CharField(_("专项治理名称"), max_length=100)
    deadline = models.DateField(_("截止日期"))
    remind_days = models.PositiveSmallIntegerField(
        _("提前提醒天数"), default=14, help_text=_("截止日期前多少天起，每天提醒企业和联络员。")
    )
    target_percent = models.PositiveSmallIntegerField(
        _("目标（已认定占比，%）"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("进度看板按各地当前进度推算达到此占比的日期。"),
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("专项治理")
        verbose_name_plural = _("专项治理")

    def __str__(self) -> str:
        return f"{self.name}（截止 {self.deadline:%Y-%m-%d}）"

    @classmethod
    def current(cls) -> Campaign | None:
        """The campaign whose deadline is nearest from today on (else the latest one)."""
        today = timezone.localdate()
        return (
            cls.objects.filter(deadline__gte=today).order_by("deadline", "id").first()
            or cls.objects.order_by("-deadline", "-id").first()
        )
