"""The project records of the notice: a project, its buildings, and the reviewable records.

Each reviewable record has a protected django-fsm state. The only way its state
changes is a transition, and the only callers of transitions are the services in
`projects.services` (submit) and `review.services` (approve, return), which check who may
act first. What differs between record kinds is declared once, in `projects.workflow`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, ConcurrentTransitionMixin, FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from projects import codes
from yunjian.core.fields import EncryptedIDNumberField
from yunjian.core.models import Division, Organization
from yunjian.core.validators import (
    CleanInputMixin,
    validate_id_number,
    validate_not_negative,
    validate_positive,
    validate_prj_num,
)


class RecordKind(models.TextChoices):
    """The kinds of reviewable record; each is one model below."""

    DRAWING_REVIEW = "drawing_review", _("施工图审查信息")
    ADDITION_REQUEST = "addition_request", _("图审信息新增申请")
    PERMIT = "permit", _("施工许可信息")
    TENDER_CONTRACT = "tender_contract", _("招投标信息及合同登记信息")
    COMPLETION = "completion", _("竣工验收信息及竣工验收备案信息")
    SPECIALTY_INFO = "specialty_info", _("专业承包项目基本信息")


class Origin(models.TextChoices):
    PMS = "pms", _("省工程项目管理系统已有")
    ENTERED = "entered", _("企业录入")
    PLATFORM = "platform", _("省一体化平台办理")


class DataLevel(models.TextChoices):
    """数据等级 (docs/data-standard.md §2.11): who confirmed the record. Set by the approval
    (review.jurisdiction.approval_level), never typed in."""

    A = "A", _("A级（省住房城乡建设厅审核认定）")
    B = "B", _("B级（州（市）住房城乡建设部门审核认定）")
    C = "C", _("C级（县（市、区）住房城乡建设部门审核认定）")
    D = "D", _("D级（企业填报，未经审核）")


# 数据来源 (§2.11) follows from where a record came from: everything entered or loaded in this
# campaign is 历史业绩补录; a record handled on the platform is 业务办理.
DATA_SOURCE_CAMPAIGN = "历史业绩补录"
DATA_SOURCE_BUSINESS = "业务办理"
DATA_SOURCES = {"campaign": DATA_SOURCE_CAMPAIGN, "business": DATA_SOURCE_BUSINESS}


def data_source_of(origin: str) -> str:
    return DATA_SOURCE_BUSINESS if origin == Origin.PLATFORM else DATA_SOURCE_CAMPAIGN


def data_source_q(source: str, prefix: str = "") -> Q:
    """Records of a data source key ("campaign" or "business"), over their origin."""
    field = f"{prefix}origin"
    if source == "business":
        return Q(**{field: Origin.PLATFORM})
    if source == "campaign":
        return ~Q(**{field: Origin.PLATFORM})
    return Q()


class Project(CleanInputMixin, models.Model):
    """工程项目基本信息 (TBProjectInfo). Entered through the drawing-review and permit forms."""

    class Kind(models.TextChoices):
        GENERAL = "general", _("总承包项目")
        DIRECT_SPECIALTY = "direct_specialty", _("建设单位直接发包的专业承包项目")

    prj_num = models.CharField(_("项目编号"), max_length=16, unique=True, validators=[validate_prj_num])
    # A historical project without a national number gets one by the numbering rule
    # (docs/data-standard.md §3.4), assigned by yunjian and marked provisional here.
    prj_num_provisional = models.BooleanField(_("系统临时项目编号"), default=False)
    name = models.CharField(_("项目名称"), max_length=200)
    kind = models.CharField(_("项目类型"), max_length=20, choices=Kind.choices, default=Kind.GENERAL)
    origin = models.CharField(_("数据来源"), max_length=10, choices=Origin.choices, default=Origin.PMS)
    prj_type = models.CharField(_("项目分类"), max_length=2, choices=codes.PrjType.choices, blank=True)
    prj_property = models.CharField(
        _("建设性质"), max_length=3, choices=codes.PrjProperty.choices, blank=True
    )
    prj_function = models.CharField(
        _("工程用途"), max_length=3, choices=codes.PrjFunction.choices, blank=True
    )
    approval_level = models.CharField(
        _("立项级别"), max_length=3, choices=codes.ApprovalLevel.choices, blank=True
    )
    approval_num = models.CharField(_("立项文号"), max_length=200, blank=True)
    county = models.ForeignKey(Division, verbose_name=_("项目所在县（市、区）"), on_delete=models.PROTECT)
    # 滇中新区 has no administrative code (docs/data-standard.md §4.2): a project says whether it
    # lies there; its records then go to the new area's bureau and roster (review.jurisdiction).
    in_new_area = models.BooleanField(_("位于滇中新区"), default=False)
    address = models.CharField(_("具体地点"), max_length=200, blank=True)
    owner_org = models.ForeignKey(
        Organization,
        verbose_name=_("建设单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_projects",
    )
    land_plan_num = models.CharField(_("建设用地规划许可证编号"), max_length=100, blank=True)
    project_plan_num = models.CharField(_("建设工程规划许可证编号"), max_length=100, blank=True)
    total_investment = models.DecimalField(
        _("总投资（万元）"),
        max_digits=15,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[validate_positive],
    )
    total_area = models.DecimalField(
        _("总面积（平方米）"),
        max_digits=15,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[validate_positive],
    )
    scale = models.CharField(_("建设规模"), max_length=500, blank=True)
    planned_start = models.DateField(_("计划开工日期"), null=True, blank=True)
    planned_end = models.DateField(_("计划竣工日期"), null=True, blank=True)
    actual_start = models.DateField(_("实际开工日期"), null=True, blank=True)
    actual_end = models.DateField(_("实际竣工日期"), null=True, blank=True)
    # Set when the project's drawing reviews and a permit are approved (notice 一(一)3),
    # and when the platform acknowledges the sync (一(二) opens from then on).
    permit_approved_at = models.DateTimeField(_("施工许可认定时间"), null=True, blank=True)
    platform_synced_at = models.DateTimeField(_("同步至省一体化平台时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # Fields of the project that the drawing-review and permit forms carry (notice 一(一)3).
    BASIC_INFO_FIELDS = (
        "name",
        "prj_type",
        "prj_property",
        "prj_function",
        "approval_level",
        "approval_num",
        "county",
        "in_new_area",
        "address",
        "owner_org",
        "land_plan_num",
        "project_plan_num",
        "total_investment",
        "total_area",
        "scale",
        "planned_start",
        "planned_end",
        "actual_start",
        "actual_end",
    )

    class Meta:
        verbose_name = _("工程项目")
        verbose_name_plural = _("工程项目")
        indexes = [
            models.Index(fields=["county", "id"], name="project_county_idx"),
            # The permit picker finds projects by the start of their name (projects.selectors).
            models.Index(fields=["name"], name="project_name_prefix_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.prj_num}）"


class ProjectNumberSequence(models.Model):
    """The last sequence number given out for one county and day (the first 12 digits of a
    provisional 项目编号): its row lock makes two assignments at the same moment take turns."""

    prefix = models.CharField(_("区县代码及日期"), max_length=12, primary_key=True)
    last = models.PositiveIntegerField(_("已用顺序号"), default=0)

    class Meta:
        verbose_name = _("临时项目编号顺序号")
        verbose_name_plural = _("临时项目编号顺序号")

    def __str__(self) -> str:
        return f"{self.prefix}:{self.last:04d}"


class ProjectParty(models.Model):
    """An organization's role on a project: who sees the project in their workspace."""

    class Role(models.TextChoices):
        OWNER = "owner", _("建设单位")
        DESIGN = "design", _("设计单位")
        SURVEY = "survey", _("勘察单位")
        GENERAL_CONTRACTOR = "general_contractor", _("施工总承包单位")
        SPECIALTY_CONTRACTOR = "specialty_contractor", _("专业承包单位")
        SUPERVISION = "supervision", _("监理单位")
        REVIEW_INSTITUTION = "review_institution", _("施工图审查机构")

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="parties")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="project_roles")
    role = models.CharField(_("角色"), max_length=24, choices=Role.choices)
    # 业绩: the stored verdict of this role on this project (projects.performance: the rule; kept by
    # the triggers of migration 0013 marking it stale and by projects.performance.refresh). The states
    # are performance's codes (0 missing … 5 acknowledged); `missing` the owed steps not yet
    # acknowledged (0 = verified), `blocking` the first of them. A new row starts stale; `perf_version`
    # grows at every change of its inputs, so a refresh computed before a change never clears `perf_stale`.
    s_specialty_info = models.SmallIntegerField(db_default=0, editable=False)
    s_drawing_review = models.SmallIntegerField(db_default=0, editable=False)
    s_permit = models.SmallIntegerField(db_default=0, editable=False)
    s_tender_contract = models.SmallIntegerField(db_default=0, editable=False)
    s_completion = models.SmallIntegerField(db_default=0, editable=False)
    missing = models.SmallIntegerField(db_default=5, editable=False)
    blocking = models.CharField(max_length=24, db_default="", editable=False)
    perf_stale = models.BooleanField(db_default=True, editable=False)
    perf_version = models.IntegerField(db_default=0, editable=False)

    class Meta:
        verbose_name = _("项目参建单位")
        verbose_name_plural = _("项目参建单位")
        constraints = [
            models.UniqueConstraint(fields=["project", "organization", "role"], name="party_unique"),
        ]
        indexes = [
            models.Index(fields=["organization", "-project"], name="party_org_project_idx"),
            models.Index(fields=["organization", "missing"], name="party_org_missing_idx"),
            models.Index(fields=["organization", "blocking"], name="party_org_blocking_idx"),
            models.Index(
                fields=["organization"], condition=models.Q(perf_stale=True), name="party_perf_stale_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} / {self.get_role_display()}"


class Building(CleanInputMixin, models.Model):
    """单体: one building of a project with its technical indicators (业绩技术指标)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="buildings")
    name = models.CharField(_("单体名称"), max_length=100)
    structure_type = models.CharField(
        _("结构体系"), max_length=20, choices=codes.StructureType.choices, blank=True
    )
    floors_above = models.PositiveSmallIntegerField(
        _("地上层数"), null=True, blank=True, validators=[MaxValueValidator(200)]
    )
    floors_below = models.PositiveSmallIntegerField(
        _("地下层数"), null=True, blank=True, validators=[MaxValueValidator(20)]
    )
    height = models.DecimalField(
        _("高度（米）"), max_digits=8, decimal_places=2, null=True, blank=True, validators=[validate_positive]
    )
    span = models.DecimalField(
        _("跨度（米）"), max_digits=8, decimal_places=2, null=True, blank=True, validators=[validate_positive]
    )
    length = models.DecimalField(
        _("长度（米）"),
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[validate_positive],
    )
    area_above = models.DecimalField(
        _("地上建筑面积（平方米）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[validate_not_negative],
    )
    area_below = models.DecimalField(
        _("地下建筑面积（平方米）"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[validate_not_negative],
    )
    seismic_intensity = models.CharField(
        _("抗震设防烈度"), max_length=4, choices=codes.SeismicIntensity.choices, blank=True
    )
    prefabricated = models.BooleanField(_("装配式建筑"), default=False)
    green_building = models.BooleanField(_("绿色建筑"), default=False)
    over_limit = models.BooleanField(_("超限高层"), default=False)

    SNAPSHOT_FIELDS = (
        "name",
        "structure_type",
        "floors_above",
        "floors_below",
        "height",
        "span",
        "length",
        "area_above",
        "area_below",
        "seismic_intensity",
        "prefabricated",
        "green_building",
        "over_limit",
    )

    class Meta:
        verbose_name = _("单体")
        verbose_name_plural = _("单体")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class State(models.TextChoices):
    DRAFT = "draft", _("草稿")
    IN_REVIEW = "in_review", _("待审核")
    RETURNED = "returned", _("已退回")
    APPROVED = "approved", _("已审核认定")
    # 撤销认定: found false after approval (review.services.record_revoke). Never approved again
    # without a new submission: the enterer may correct it and submit it as a new round.
    REVOKED = "revoked", _("已撤销认定")


# States in which the enterer edits and submits a record.
EDITABLE_STATES = (State.DRAFT, State.RETURNED, State.REVOKED)


class ReviewableRecord(CleanInputMixin, ConcurrentTransitionMixin, models.Model):
    """What every reviewable record carries: state, step, revision, who entered it, rounds.

    `lock_version` grows on every save, so a reviewer's decision made on a page
    showing an older version is refused (see review.services).
    """

    KIND: str = ""

    state = FSMField(_("状态"), default=State.DRAFT, choices=State.choices, protected=True, db_index=False)
    # The key of the current review step (projects.workflow.CHAINS) while in review, else "".
    step = models.CharField(_("当前审核步骤"), max_length=40, blank=True, default="")
    revision = models.PositiveIntegerField(_("提交轮次"), default=0)
    lock_version = models.PositiveIntegerField(default=0, editable=False)
    origin = models.CharField(_("数据来源"), max_length=10, choices=Origin.choices, default=Origin.ENTERED)
    # Who confirmed it (§2.11): D until the final approval sets it from the approving authority.
    data_level = models.CharField(_("数据等级"), max_length=1, choices=DataLevel.choices, default=DataLevel.D)
    # The approved version in force: 1 from the first approval, one more per approved correction (更正).
    version = models.PositiveIntegerField(_("版本"), default=1)
    owner_org = models.ForeignKey(
        Organization, verbose_name=_("录入单位"), on_delete=models.PROTECT, related_name="+"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("录入人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    approved_at = models.DateTimeField(_("认定时间"), null=True, blank=True)
    return_reason = models.TextField(_("退回原因"), blank=True)
    return_fields = models.JSONField(_("退回涉及字段"), default=list, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    # Fields copied into each round's snapshot (besides the project's basic info).
    SNAPSHOT_FIELDS: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.lock_version += 1
        super().save(*args, **kwargs)

    @property
    def chain_key(self) -> str:
        return self.KIND

    @property
    def is_editable(self) -> bool:
        return self.state in EDITABLE_STATES

    @property
    def data_source(self) -> str:
        """数据来源 (docs/data-standard.md §2.11), from the record's origin."""
        return data_source_of(self.origin)

    @transition(field=state, source=list(EDITABLE_STATES), target=State.IN_REVIEW)
    def submit(self, *, first_step: str) -> None:
        """Submit this round: the first step of the chain takes it."""
        self.revision += 1
        self.step = first_step
        self.submitted_at = timezone.now()
        self.return_reason = ""
        self.return_fields = []

    @transition(field=state, source=State.IN_REVIEW, target=RETURN_VALUE(State.IN_REVIEW, State.APPROVED))
    def approve(self, *, next_step: str) -> str:
        """Approve the current step: `next_step` takes it, or ("" for none) the record is approved."""
        if next_step:
            self.step = next_step
            return State.IN_REVIEW
        self.step = ""
        self.approved_at = timezone.now()
        return State.APPROVED

    @transition(field=state, source=State.IN_REVIEW, target=State.RETURNED)
    def send_back(self, *, reason: str, fields: list[str]) -> None:
        """Return the record to its enterer with a reason (required) and the fields at fault."""
        self.return_reason = reason
        self.return_fields = fields
        self.step = ""

    @transition(field=state, source=State.IN_REVIEW, target=State.DRAFT)
    def withdraw(self) -> None:
        """撤回: the enterer takes back a submission nobody has decided yet; the round stays in history
        and the next submission is a new round (review.services.record_withdraw)."""
        self.step = ""

    @transition(field=state, source=State.APPROVED, target=State.REVOKED)
    def revoke(self) -> None:
        """撤销认定: the approval is withdrawn; the Revocation row says by whom, why and on what evidence."""
        self.step = ""

    def required_fields(self, declared: tuple[str, ...]) -> tuple[str, ...]:
        """The fields this record needs to be submitted: its kind's (projects.workflow.KINDS[...]
        .required, passed in as `declared`), as they apply to this record. Read through
        `workflow.required_for`, by the submission check and by the forms' required markers."""
        return declared

    def submit_problems(self) -> dict[str, str]:
        """Cross-field problems that keep this record from being submitted ({field: message}).

        Required fields are declared per kind in projects.workflow.KINDS; this is for the rest
        (dates in order, linked records in the right state).
        """
        return {}

    def approval_problems(self) -> dict[str, str]:
        """What keeps a reviewer from approving the record now, although it is complete ({field: message})."""
        return {}

    def related_records(self) -> dict[str, list]:
        """Records linked to this one that its pages show beside it ({"reviews": [...], "permits": [...]})."""
        return {}

    def snapshot_links(self) -> dict[str, list[str]]:
        """The numbers of linked records, kept in each round's snapshot so a change shows in the diff."""
        return {}

    def review_aids(self) -> dict | None:
        """What a reviewer should know besides the record's own fields (None: nothing)."""
        return None

    def label_detail(self) -> str:
        """What tells this record apart from others of its kind in a list, e.g. "（设计）"."""
        return ""


class DrawingReview(ReviewableRecord):
    """施工图审查信息 (TBProjectCensorInfo). Pre-exists in PMS; the design unit completes it."""

    class Path(models.TextChoices):
        PMS = "pms", _("省工程项目管理系统（审图机构确认、省厅复核）")
        PLATFORM = "platform", _("省一体化平台（项目所在地住房城乡建设部门审核）")

    KIND = RecordKind.DRAWING_REVIEW
    AUDIT_TYPE = "drawing_review"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="drawing_reviews")
    path = models.CharField(_("审核路径"), max_length=10, choices=Path.choices, default=Path.PMS)
    censor_num = models.CharField(_("施工图审查合格书编号"), max_length=50, unique=True)
    censor_org = models.ForeignKey(
        Organization, verbose_name=_("施工图审查机构"), on_delete=models.PROTECT, related_name="+"
    )
    survey_org = models.ForeignKey(
        Organization,
        verbose_name=_("勘察单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    censor_date = models.DateField(_("审查完成日期"), null=True, blank=True)
    one_pass = models.BooleanField(_("一次审查是否通过"), null=True, blank=True)
    violations_count = models.PositiveSmallIntegerField(_("一次审查时违反强条数"), null=True, blank=True)
    violations_content = models.CharField(_("一次审查时违反的强条条目"), max_length=500, blank=True)
    scale = models.CharField(_("建设规模"), max_length=500, blank=True)
    fire_censor_num = models.CharField(_("消防审查合格书编号"), max_length=50, blank=True)
    civil_defense_censor_num = models.CharField(_("人防审查合格书编号"), max_length=50, blank=True)
    # 勘察设计人员 (TBProjectDesignEconUserInfo): the design lead, sent when given.
    design_lead = models.CharField(_("设计项目负责人"), max_length=50, blank=True)
    design_lead_id = EncryptedIDNumberField(
        _("设计项目负责人身份证号码"), blank=True, default="", validators=[validate_id_number]
    )
    design_lead_cert = models.CharField(_("设计项目负责人注册类型及等级"), max_length=50, blank=True)

    SNAPSHOT_FIELDS = (
        "censor_num",
        "censor_org",
        "survey_org",
        "censor_date",
        "one_pass",
        "violations_count",
        "violations_content",
        "scale",
        "fire_censor_num",
        "civil_defense_censor_num",
        "design_lead",
        "design_lead_id",
        "design_lead_cert",
    )

    class Meta:
        verbose_name = _("施工图审查信息")
        verbose_name_plural = _("施工图审查信息")
        indexes = [
            models.Index(fields=["owner_org", "-id"], name="dr_owner_idx"),
            models.Index(fields=["project", "state"], name="dr_project_state_idx"),
        ]

    def __str__(self) -> str:
        return self.censor_num

    @property
    def chain_key(self) -> str:
        return f"{self.KIND}:{self.path}"

    @property
    def number(self) -> str:
        return self.censor_num

    def related_records(self) -> dict[str, list]:
        return {"permits": list(self.permits.select_related("issuing_org").order_by("id"))}

    def censor_num_locked(self) -> bool:
        """Whether the certificate number is settled: it came from PMS, or the design division
        approved it in an addition request (附件1) that created this review."""
        if self.origin == Origin.PMS:
            return True
        return DrawingReviewAdditionRequest.objects.filter(created_review_id=self.pk).exists()


class DrawingReviewAdditionRequest(ReviewableRecord):
    """图审信息新增申请 (附件1): a design unit asks the design division to create a missing record."""

    KIND = RecordKind.ADDITION_REQUEST
    AUDIT_TYPE = "addition_request"

    project = models.ForeignKey(
        Project,
        verbose_name=_("工程项目"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="addition_requests",
    )
    # Blank: the project has no national number; one is assigned on approval (provisional).
    prj_num = models.CharField(_("项目编号"), max_length=16, blank=True, validators=[validate_prj_num])
    project_name = models.CharField(_("项目名称"), max_length=200)
    county = models.ForeignKey(Division, verbose_name=_("项目所在县（市、区）"), on_delete=models.PROTECT)
    owner_name = models.CharField(_("建设单位名称"), max_length=200)
    censor_num = models.CharField(_("施工图审查合格书编号"), max_length=50)
    censor_org = models.ForeignKey(
        Organization, verbose_name=_("施工图审查机构"), on_delete=models.PROTECT, related_name="+"
    )
    censor_date = models.DateField(_("审查完成日期"))
    reason = models.TextField(_("申请原因（系统中无图审信息的历史原因）"))
    contact_name = models.CharField(_("经办人"), max_length=50)
    contact_phone = models.CharField(_("联系电话"), max_length=30)
    created_review = models.OneToOneField(
        DrawingReview,
        verbose_name=_("已生成的图审信息"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="addition_request",
    )

    SNAPSHOT_FIELDS = (
        "prj_num",
        "project_name",
        "county",
        "owner_name",
        "censor_num",
        "censor_org",
        "censor_date",
        "reason",
        "contact_name",
        "contact_phone",
    )

    class Meta:
        verbose_name = _("图审信息新增申请")
        verbose_name_plural = _("图审信息新增申请")
        indexes = [models.Index(fields=["owner_org", "-id"], name="addreq_owner_idx")]

    def __str__(self) -> str:
        return f"{self.project_name} {self.censor_num}"

    @property
    def number(self) -> str:
        return self.censor_num

    def review_aids(self) -> dict:
        """Does the drawing review exist already, is the project in the system?"""
        return {
            "existing_review": DrawingReview.objects.filter(censor_num=self.censor_num)
            .select_related("owner_org")
            .first(),
            "project": self.project or Project.objects.filter(prj_num=self.prj_num).first(),
        }

    def approval_problems(self) -> dict[str, str]:
        # Approving creates the drawing review: say so in Chinese, rather than fail on the unique
        # number, when one with that certificate number has appeared since the request was filed.
        if DrawingReview.objects.filter(censor_num=self.censor_num).exists():
            return {
                "__all__": f"系统中已有合格书编号为“{self.censor_num}”的施工图审查信息，不能重复新增，"
                "请退回该申请并说明原因。"
            }
        return {}


class ConstructionPermit(ReviewableRecord):
    """施工许可信息 (TBBuilderLicenceManage), entered by the general contractor."""

    KIND = RecordKind.PERMIT
    AUDIT_TYPE = "permit"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="permits")
    drawing_reviews = models.ManyToManyField(
        DrawingReview, verbose_name=_("施工图审查信息"), related_name="permits", blank=True
    )
    permit_num = models.CharField(_("施工许可证编号"), max_length=50, blank=True)
    section_name = models.CharField(_("标段名称"), max_length=200, blank=True)
    issuing_org = models.ForeignKey(
        Organization, verbose_name=_("发证机关"), on_delete=models.PROTECT, related_name="+"
    )
    issuing_division = models.ForeignKey(
        Division, verbose_name=_("发证机关所在行政区划"), on_delete=models.PROTECT, related_name="+"
    )
    issue_date = models.DateField(_("发证日期"), null=True, blank=True)
    contract_amount = models.DecimalField(
        _("合同金额（万元）"),
        max_digits=15,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[validate_positive],
    )
    area = models.DecimalField(
        _("面积（平方米）"),
        max_digits=15,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[validate_positive],
    )
    length = models.DecimalField(
        _("长度（米）"),
        max_digits=15,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[validate_positive],
    )
    span = models.DecimalField(
        _("跨度（米）"),
        max_digits=15,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[validate_positive],
    )
    supervision_org = models.ForeignKey(
        Organization,
        verbose_name=_("监理单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    safety_cert_num = models.CharField(_("施工单位安全生产许可证编号"), max_length=30, blank=True)
    # The construction contract the permit rests on: the platform links the permit to its contract
    # record by it (RecordInnerNum).
    contract_num = models.CharField(_("施工合同编号"), max_length=50, blank=True)
    project_manager = models.CharField(_("项目经理"), max_length=50, blank=True)
    project_manager_id = EncryptedIDNumberField(
        _("项目经理身份证号码"), blank=True, default="", validators=[validate_id_number]
    )
    project_manager_cert = models.CharField(_("项目经理注册证书编号"), max_length=50, blank=True)
    chief_supervisor = models.CharField(_("总监理工程师"), max_length=50, blank=True)
    chief_supervisor_id = EncryptedIDNumberField(
        _("总监理工程师身份证号码"), blank=True, default="", validators=[validate_id_number]
    )
    chief_supervisor_cert = models.CharField(_("总监理工程师注册证书编号"), max_length=50, blank=True)

    SNAPSHOT_FIELDS = (
        "permit_num",
        "section_name",
        "issuing_org",
        "issue_date",
        "contract_amount",
        "area",
        "length",
        "span",
        "supervision_org",
        "safety_cert_num",
        "contract_num",
        "project_manager",
        "project_manager_id",
        "project_manager_cert",
        "chief_supervisor",
        "chief_supervisor_id",
        "chief_supervisor_cert",
    )

    class Meta:
        verbose_name = _("施工许可信息")
        verbose_name_plural = _("施工许可信息")
        indexes = [
            models.Index(fields=["owner_org", "-id"], name="permit_owner_idx"),
            models.Index(fields=["permit_num"], name="permit_num_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["permit_num"],
                condition=~Q(permit_num=""),
                name="permit_num_unique_when_set",
                violation_error_message="系统中已有该施工许可证编号，请核对；如为同一许可证，请在原记录上完善。",
            )
        ]

    def __str__(self) -> str:
        return self.permit_num or f"施工许可（草稿）#{self.pk}"

    @property
    def number(self) -> str:
        return self.permit_num

    def snapshot_links(self) -> dict[str, list[str]]:
        return {"drawing_reviews": sorted(self.drawing_reviews.values_list("censor_num", flat=True))}

    def related_records(self) -> dict[str, list]:
        return {
            "reviews": list(self.drawing_reviews.select_related("censor_org", "owner_org").order_by("id"))
        }

    def submit_problems(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        reviews = list(self.drawing_reviews.all())
        if not reviews:
            errors["drawing_reviews"] = "请至少选择一条已审核认定的施工图审查信息。"
        elif any(r.state != State.APPROVED or r.project_id != self.project_id for r in reviews):
            errors["drawing_reviews"] = "所选施工图审查信息须均已审核认定，且属于同一项目。"
        else:
            latest = max((r.censor_date for r in reviews if r.censor_date), default=None)
            if latest and self.issue_date and self.issue_date < latest:
                errors["issue_date"] = f"发证日期不能早于施工图审查完成日期（{latest:%Y-%m-%d}）。"
        return errors


class TenderContract(ReviewableRecord):
    """招投标信息及合同登记信息 (TBTenderInfo + TBContractRecordManage) of one contracted scope."""

    KIND = RecordKind.TENDER_CONTRACT
    AUDIT_TYPE = "tender_contract"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="tender_contracts")
    scope = models.CharField(_("招标类型（承包范围）"), max_length=20, choices=codes.Scope.choices)
    tender_method = models.CharField(_("招标方式"), max_length=3, choices=codes.TenderMethod.choices)
    tender_num = models.CharField(_("中标通知书编号"), max_length=50, blank=True)
    tender_date = models.DateField(_("中标日期"), null=True, blank=True)
    tender_amount = models.DecimalField(
        _("中标金额（万元）"),
        max_digits=15,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[validate_positive],
    )
    area = models.DecimalField(
        _("面积（平方米）"),
        max_digits=15,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[validate_positive],
    )
    agency_name = models.CharField(_("招标代理单位名称"), max_length=200, blank=True)
    agency_code = models.CharField(_("招标代理单位统一社会信用代码"), max_length=18, blank=True)
    project_leader = models.CharField(_("项目负责人（项目经理/总监理工程师）"), max_length=50, blank=True)
    leader_id = EncryptedIDNumberField(
        _("项目负责人身份证号码"), blank=True, default="", validators=[validate_id_number]
    )
    contract_num = models.CharField(_("合同编号"), max_length=50, blank=True)
    contract_type = models.CharField(_("合同类别"), max_length=3, choices=codes.ContractType.choices)
    contract_amount = models.DecimalField(
        _("合同金额（万元）"),
        max_digits=15,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[validate_positive],
    )
    contract_date = models.DateField(_("合同签订日期"), null=True, blank=True)
    client_name = models.CharField(_("发包单位名称"), max_length=200, blank=True)
    client_code = models.CharField(_("发包单位统一社会信用代码"), max_length=18, blank=True)
    union_name = models.CharField(_("联合体承包单位名称"), max_length=200, blank=True)
    union_code = models.CharField(_("联合体承包单位统一社会信用代码"), max_length=18, blank=True)
    scale = models.CharField(_("建设规模"), max_length=500, blank=True)
    # 合同备案编号 PrjNum-XX-nnn (docs/data-standard.md §3.6), given on approval.
    record_num = models.CharField(_("合同备案编号"), max_length=50, blank=True, editable=False)

    SNAPSHOT_FIELDS = (
        "scope",
        "tender_method",
        "tender_num",
        "tender_date",
        "tender_amount",
        "area",
        "agency_name",
        "agency_code",
        "project_leader",
        "leader_id",
        "contract_num",
        "contract_type",
        "contract_amount",
        "contract_date",
        "client_name",
        "client_code",
        "union_name",
        "union_code",
        "scale",
    )

    class Meta:
        verbose_name = _("招投标信息及合同登记信息")
        verbose_name_plural = _("招投标信息及合同登记信息")
        indexes = [
            models.Index(fields=["owner_org", "-id"], name="tc_owner_idx"),
            models.Index(fields=["project", "scope"], name="tc_project_scope_idx"),
            models.Index(fields=["contract_num"], name="tc_contract_num_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} {self.contract_num or self.tender_num}"

    @property
    def number(self) -> str:
        return self.contract_num or self.tender_num

    def label_detail(self) -> str:
        return f"（{self.get_scope_display()}）"

    def submit_problems(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.tender_method != codes.TenderMethod.DIRECT:
            if not self.agency_name:
                errors["agency_name"] = "非直接发包的项目须填写招标代理单位名称。"
            if not self.agency_code:
                errors["agency_code"] = "非直接发包的项目须填写招标代理单位统一社会信用代码。"
        direct = self.project.kind == Project.Kind.DIRECT_SPECIALTY
        if direct and self.contract_type == codes.ContractType.SUBCONTRACT:
            errors["contract_type"] = (
                "建设单位直接发包的专业承包项目，合同是施工合同（施工总包），不是分包合同。"
            )
        if self.tender_date and self.contract_date and self.contract_date < self.tender_date:
            errors["contract_date"] = "合同签订日期不能早于中标日期。"
        return errors


class Completion(ReviewableRecord):
    """竣工验收信息及竣工验收备案信息 (TBProjectFinishManage), entered by the general contractor.

    A specialty contractor enters the completion of its own subcontracted scope, linked to
    that scope's tender+contract (notice 二(一)).
    """

    KIND = RecordKind.COMPLETION
    AUDIT_TYPE = "completion"

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="completions")
    specialty_contract = models.ForeignKey(
        TenderContract,
        verbose_name=_("专业承包合同"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="completions",
    )
    # The permit this completion belongs to (BuilderLicenceNum): a project may have several.
    permit = models.ForeignKey(
        ConstructionPermit,
        verbose_name=_("所属施工许可"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="completions",
    )
    acceptance_num = models.CharField(_("竣工验收编号"), max_length=50, blank=True)
    acceptance_date = models.DateField(_("竣工验收日期"), null=True, blank=True)
    actual_start = models.DateField(_("实际开工日期"), null=True, blank=True)
    filing_num = models.CharField(_("竣工验收备案编号"), max_length=50, blank=True)
    filing_date = models.DateField(_("备案日期"), null=True, blank=True)
    filing_org = models.ForeignKey(
        Organization,
        verbose_name=_("备案机关"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actual_cost = models.DecimalField(
        _("实际造价（万元）"),
        max_digits=15,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[validate_positive],
    )
    actual_area = models.DecimalField(
        _("实际面积（平方米）"),
        max_digits=15,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[validate_positive],
    )
    actual_scale = models.CharField(_("实际建设规模"), max_length=500, blank=True)
    structure_type = models.CharField(
        _("结构体系"), max_length=20, choices=codes.StructureType.choices, blank=True
    )
    qc_org_name = models.CharField(_("质量检测机构名称"), max_length=200, blank=True)
    remark = models.CharField(_("备注"), max_length=500, blank=True)

    SNAPSHOT_FIELDS = (
        "specialty_contract",
        "permit",
        "acceptance_num",
        "acceptance_date",
        "actual_start",
        "filing_num",
        "filing_date",
        "filing_org",
        "actual_cost",
        "actual_area",
        "actual_scale",
        "structure_type",
        "qc_org_name",
        "remark",
    )

    class Meta:
        verbose_name = _("竣工验收信息及竣工验收备案信息")
        verbose_name_plural = _("竣工验收信息及竣工验收备案信息")
        indexes = [models.Index(fields=["owner_org", "-id"], name="completion_owner_idx")]

    def __str__(self) -> str:
        return self.filing_num or self.acceptance_num or f"竣工验收（草稿）#{self.pk}"

    @property
    def number(self) -> str:
        return self.filing_num or self.acceptance_num

    def label_detail(self) -> str:
        return "（专业承包）" if self.specialty_contract_id else ""

    # Notice 二(一): a subcontractor adds the 竣工验收信息 of its own scope; the completion filing
    # (竣工验收备案) is the whole project's, entered by the general contractor.
    FILING_FIELDS = ("filing_num", "filing_date")

    @classmethod
    def required_for(cls, declared: tuple[str, ...], *, specialty: bool) -> tuple[str, ...]:
        return tuple(f for f in declared if f not in cls.FILING_FIELDS) if specialty else declared

    def required_fields(self, declared: tuple[str, ...]) -> tuple[str, ...]:
        return self.required_for(declared, specialty=bool(self.specialty_contract_id))

    def submit_problems(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.actual_start and self.acceptance_date and self.acceptance_date < self.actual_start:
            errors["acceptance_date"] = "竣工验收日期不能早于实际开工日期。"
        if self.filing_date and self.acceptance_date and self.filing_date < self.acceptance_date:
            errors["filing_date"] = "备案日期不能早于竣工验收日期。"
        permit = self.permit if self.permit_id else None
        if permit is not None and (permit.project_id != self.project_id or permit.state != State.APPROVED):
            errors["permit"] = "所属施工许可须为本项目已审核认定的施工许可。"
        elif (
            permit is not None
            and permit.issue_date
            and self.acceptance_date
            and self.acceptance_date < permit.issue_date
        ):
            errors["acceptance_date"] = (
                f"竣工验收日期不能早于施工许可发证日期（{permit.issue_date:%Y-%m-%d}）。"
            )
        return errors


class SpecialtyProjectInfo(ReviewableRecord):
    """工程项目基本信息 of a specialty project the owner contracted directly (notice 二(二)).

    It must be approved before anything else is entered for the project.
    """

    KIND = RecordKind.SPECIALTY_INFO
    AUDIT_TYPE = "specialty_info"

    project = models.OneToOneField(Project, on_delete=models.PROTECT, related_name="specialty_info")
    specialty_scope = models.CharField(_("专业承包内容"), max_length=200)

    SNAPSHOT_FIELDS = ("specialty_scope",)

    class Meta:
        verbose_name = _("专业承包项目基本信息")
        verbose_name_plural = _("专业承包项目基本信息")
        indexes = [models.Index(fields=["owner_org", "-id"], name="specinfo_owner_idx")]

    def __str__(self) -> str:
        return str(self.project)

    @property
    def number(self) -> str:
        return self.project.prj_num


class Round(models.Model):
    """What was submitted at one round of one record: the snapshot a reviewer compares."""

    kind = models.CharField(_("记录类型"), max_length=20, choices=RecordKind.choices)
    record_id = models.BigIntegerField(_("记录编号"))
    revision = models.PositiveIntegerField(_("轮次"))
    data = models.JSONField(_("提交内容"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        verbose_name = _("提交轮次")
        verbose_name_plural = _("提交轮次")
        constraints = [
            models.UniqueConstraint(fields=["kind", "record_id", "revision"], name="round_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}#{self.record_id} r{self.revision}"


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"attachments/{instance.kind}/{instance.record_id}/{instance.revision}/{instance.sha256[:16]}"


class Attachment(models.Model):
    """A scan attached to one round of a record; served only through an access-checked view."""

    kind = models.CharField(_("记录类型"), max_length=20, choices=RecordKind.choices)
    record_id = models.BigIntegerField(_("记录编号"))
    revision = models.PositiveIntegerField(_("所属轮次"))
    file = models.FileField(_("文件"), upload_to=attachment_path, max_length=300)
    original_name = models.CharField(_("文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=50)
    size = models.PositiveIntegerField(_("大小（字节）"), validators=[MinValueValidator(1)])
    sha256 = models.CharField(max_length=64)
    description = models.CharField(_("说明"), max_length=100, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        indexes = [models.Index(fields=["kind", "record_id", "revision"], name="attachment_record_idx")]

    def __str__(self) -> str:
        return self.original_name


# django-guardian direct-foreign-key permission tables (docs: userguide/performance):
# explicit grants such as "this design unit owns this pre-existing drawing review".
class DrawingReviewUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(DrawingReview, on_delete=models.CASCADE)


class DrawingReviewGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(DrawingReview, on_delete=models.CASCADE)


class ConstructionPermitUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(ConstructionPermit, on_delete=models.CASCADE)


class ConstructionPermitGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(ConstructionPermit, on_delete=models.CASCADE)


class EntrySubmission(models.Model):
    """One posted entry form: its one-time token and the record it saved.

    The entry page carries a fresh token; saving the form stores it here in the same transaction as
    the record. Posting the same form again (Back, then 提交 once more; a double click) finds the
    token and opens the record already saved instead of creating a second one.
    """

    token = models.UUIDField(_("表单令牌"), unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("记录类型"), max_length=20, choices=RecordKind.choices)
    record_id = models.BigIntegerField(_("记录编号"))
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        verbose_name = _("已提交的录入表单")
        verbose_name_plural = _("已提交的录入表单")

    def __str__(self) -> str:
        return f"{self.kind}#{self.record_id}"


class Revocation(models.Model):
    """撤销认定 of an approved record found false (issue 18): who revoked it, why, on what evidence.

    Append-only; the province lists them per enterprise (the basis of credit penalties, which are
    outside this system). The record itself is State.REVOKED until a new submission is approved.
    """

    kind = models.CharField(_("记录类型"), max_length=20, choices=RecordKind.choices)
    record_id = models.BigIntegerField(_("记录编号"))
    revision = models.PositiveIntegerField(_("撤销的轮次"))
    number = models.CharField(_("证书/许可/合同编号"), max_length=60, blank=True)
    project = models.ForeignKey(Project, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    owner_org = models.ForeignKey(
        Organization, verbose_name=_("录入单位"), on_delete=models.PROTECT, related_name="+"
    )
    data_level = models.CharField(_("撤销前数据等级"), max_length=1, choices=DataLevel.choices)
    reason = models.TextField(_("撤销原因"))
    evidence = models.ForeignKey(
        "Attachment", verbose_name=_("证据材料"), on_delete=models.PROTECT, related_name="+"
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("撤销人"), on_delete=models.PROTECT, related_name="+"
    )
    revoked_org = models.ForeignKey(
        Organization, verbose_name=_("撤销单位"), on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField(_("撤销时间"), default=timezone.now)

    class Meta:
        verbose_name = _("撤销认定")
        verbose_name_plural = _("撤销认定")
        indexes = [
            models.Index(fields=["owner_org", "-id"], name="revocation_org_idx"),
            models.Index(fields=["kind", "record_id"], name="revocation_record_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class Correction(models.Model):
    """更正 (issue 18): the enterer's request to correct an approved record, kept as a draft version.

    The approved record stays in force (pages, lists, exports, 业绩, the platform) until the correction
    is approved: only then are `changes` applied to the record, as its next `version`. Reviewed by the
    record's own chain (projects.workflow.correction_chain), step by step like a round of the record.
    One open correction per record (`correction_one_open_per_record`). `before` keeps the values the
    correction replaced, so the record's history shows both versions.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", _("更正草稿")
        IN_REVIEW = "in_review", _("更正审核中")
        RETURNED = "returned", _("更正已退回")
        APPROVED = "approved", _("更正已生效")
        WITHDRAWN = "withdrawn", _("更正已撤回")

    OPEN = (Status.DRAFT, Status.IN_REVIEW, Status.RETURNED)

    status = FSMField(_("状态"), default=Status.DRAFT, choices=Status.choices, protected=True)
    kind = models.CharField(_("记录类型"), max_length=20, choices=RecordKind.choices)
    record_id = models.BigIntegerField(_("记录编号"))
    owner_org = models.ForeignKey(
        Organization, verbose_name=_("录入单位"), on_delete=models.PROTECT, related_name="+"
    )
    # The version it would make: the record's version when it was asked for, plus one.
    version = models.PositiveIntegerField(_("更正后版本"))
    reason = models.TextField(_("更正事项及原因"))
    # {field name: new value, JSON-safe (a related record by its id)}; only the fields that change.
    changes = models.JSONField(_("更正内容"), default=dict)
    # {field name: the approved value it replaces}, in the same form, kept when it is approved.
    before = models.JSONField(_("更正前内容"), default=dict, blank=True)
    step = models.CharField(_("当前审核步骤"), max_length=40, blank=True, default="")
    revision = models.PositiveIntegerField(_("提交轮次"), default=0)
    return_reason = models.TextField(_("退回原因"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    data_level = models.CharField(_("认定数据等级"), max_length=1, blank=True, default="")
    lock_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("更正申请")
        verbose_name_plural = _("更正申请")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "record_id"],
                condition=Q(status__in=["draft", "in_review", "returned"]),
                name="correction_one_open_per_record",
            )
        ]
        indexes = [models.Index(fields=["kind", "record_id", "-id"], name="correction_record_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.record_id} v{self.version}"

    def save(self, *args, **kwargs):
        self.lock_version += 1
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def is_editable(self) -> bool:
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    @transition(field=status, source=[Status.DRAFT, Status.RETURNED], target=Status.IN_REVIEW)
    def submit(self, *, first_step: str) -> None:
        self.revision += 1
        self.step = first_step
        self.submitted_at = timezone.now()
        self.return_reason = ""

    @transition(field=status, source=Status.IN_REVIEW, target=RETURN_VALUE(Status.IN_REVIEW, Status.APPROVED))
    def approve(self, *, next_step: str) -> str:
        if next_step:
            self.step = next_step
            return self.Status.IN_REVIEW
        self.step = ""
        return self.Status.APPROVED

    @transition(field=status, source=Status.IN_REVIEW, target=Status.RETURNED)
    def send_back(self, *, reason: str) -> None:
        self.return_reason = reason
        self.step = ""

    @transition(
        field=status, source=[Status.DRAFT, Status.RETURNED, Status.IN_REVIEW], target=Status.WITHDRAWN
    )
    def withdraw(self) -> None:
        """The enterer withdraws a draft or returned one; a revocation of the record ends one in review."""
        self.step = ""
