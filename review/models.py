"""Who reviews (roster assignments) and what is waiting for them (tasks)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from projects.models import Project, RecordKind
from projects.stages import Performer, Stage
from yunjian.core.models import Division, Organization, Zone


class ReviewerAssignment(models.Model):
    """One line of a prefecture's roster: this person reviews this stage in this division or zone."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人员"),
        on_delete=models.CASCADE,
        related_name="assignments",
    )
    stage = models.CharField(_("审核环节"), max_length=20, choices=Stage.choices)
    division = models.ForeignKey(
        Division,
        verbose_name=_("行政区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    zone = models.ForeignKey(
        Zone, verbose_name=_("功能区"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The prefecture (or zone) whose roster named this person: an import replaces exactly these.
    roster_key = models.CharField(_("所属汇总表"), max_length=20, db_index=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("审核人员分工")
        verbose_name_plural = _("审核人员分工")
        constraints = [
            models.CheckConstraint(
                condition=Q(division__isnull=False, zone__isnull=True)
                | Q(division__isnull=True, zone__isnull=False),
                name="assignment_division_xor_zone",
            ),
            models.UniqueConstraint(
                fields=["user", "stage", "division"],
                condition=Q(zone__isnull=True),
                name="assignment_unique_div",
            ),
            models.UniqueConstraint(
                fields=["user", "stage", "zone"],
                condition=Q(division__isnull=True),
                name="assignment_unique_zone",
            ),
        ]

    def __str__(self) -> str:
        where = self.division or self.zone
        return f"{self.user} · {self.get_stage_display()} · {where}"


class Task(models.Model):
    """One review step of one round of one record: an inbox row while open (待办), history once done (已办).

    Denormalized on purpose: the inbox of every reviewer is one indexed query on this table,
    whatever the record type, so it stays constant in queries and fast at millions of records.
    """

    class Status(models.TextChoices):
        OPEN = "open", _("待审核")
        DONE = "done", _("已处理")
        CANCELLED = "cancelled", _("已撤销")

    class Outcome(models.TextChoices):
        APPROVED = "approved", _("通过")
        RETURNED = "returned", _("退回")
        WITHDRAWN = "withdrawn", _("企业撤回")

    kind = models.CharField(_("记录类型"), max_length=20, choices=RecordKind.choices)
    record_id = models.BigIntegerField(_("记录编号"))
    revision = models.PositiveIntegerField(_("轮次"))
    step = models.CharField(_("审核步骤"), max_length=40)  # the step's key (projects.workflow.CHAINS)
    step_label = models.CharField(_("审核环节"), max_length=40)
    performer = models.CharField(_("审核方"), max_length=20, choices=Performer.choices)
    stage = models.CharField(_("审核环节"), max_length=20, blank=True)
    # The county the step is filed under (a permit's: its issuing authority's division): roster
    # reviewers are scoped by it, and every inbox filters by it.
    division_code = models.CharField(_("行政区划代码"), max_length=6, blank=True)
    # The functional zone (Zone.slug) of a post of 滇中新区, else "": review.jurisdiction.
    zone = models.CharField(_("功能区"), max_length=40, blank=True, default="")
    # Institution steps: the drawing-review institution that confirms.
    assignee_org = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    project = models.ForeignKey(Project, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    owner_org = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("项目名称"), max_length=200)
    prj_num = models.CharField(_("项目编号"), max_length=16, blank=True)
    number = models.CharField(_("证书/合同编号"), max_length=50, blank=True)
    submitted_at = models.DateTimeField(_("提交时间"))
    due_at = models.DateTimeField(_("办理期限"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    outcome = models.CharField(_("处理结果"), max_length=10, choices=Outcome.choices, blank=True)
    reason = models.TextField(_("意见"), blank=True)
    # The 数据等级 a final approval gave the record (docs/data-standard.md §2.11), else "".
    data_level = models.CharField(_("认定数据等级"), max_length=1, blank=True, default="")
    # 更正 (issue 18): the projects.Correction this step reviews, else None (a round of the record).
    correction_id = models.BigIntegerField(_("更正申请"), null=True, blank=True)
    # What the reader should know about the deadline, e.g. "含国庆假期" (review.workdays).
    due_note = models.CharField(_("期限说明"), max_length=100, blank=True)
    # 无人审核: since when no active person performs this open step (review.routing); NULL while
    # someone does. Set in the transaction that opens the step, recomputed when the roster changes.
    unroutable_since = models.DateTimeField(_("无人审核起始时间"), null=True, blank=True)
    # 指派: a liaison or the province pinned this open step to one reviewer of its post
    # (review.routing.reassign_tasks); NULL: every reviewer of the post sees it (review.jurisdiction).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("指定审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("审核任务")
        verbose_name_plural = _("审核任务")
        indexes = [
            # Inbox of roster reviewers: stage + division range, oldest first; only open rows.
            # INCLUDE (here and below): the columns the per-kind tab counts and the home's overdue count
            # filter on, so that they count from the index alone (review.selectors.kind_counts; an
            # index-only scan where the heap pages are all-visible).
            models.Index(
                fields=["stage", "division_code", "submitted_at", "id"],
                include=["performer", "zone", "kind", "assignee", "owner_org"],
                condition=Q(status="open"),
                name="task_open_roster_idx",
            ),
            models.Index(
                fields=["performer", "assignee_org", "submitted_at", "id"],
                condition=Q(status="open"),
                name="task_open_performer_idx",
            ),
            # The inbox sorted by 办理期限 (review.selectors.INBOX_SORTING), in either direction.
            models.Index(
                fields=["stage", "division_code", "due_at", "id"],
                include=["performer", "zone", "kind", "assignee", "owner_org"],
                condition=Q(status="open"),
                name="task_open_roster_due_idx",
            ),
            models.Index(
                fields=["performer", "assignee_org", "due_at", "id"],
                condition=Q(status="open"),
                name="task_open_performer_due_idx",
            ),
            # A post's whole inbox in order (the design division: performer alone scopes it; issue 15):
            # an index-ordered scan that stops at the page instead of a top-N sort of every open row.
            models.Index(
                fields=["performer", "submitted_at", "id"],
                include=["kind", "assignee", "owner_org"],
                condition=Q(status="open"),
                name="task_open_post_idx",
            ),
            models.Index(
                fields=["performer", "due_at", "id"],
                include=["kind", "assignee", "owner_org"],
                condition=Q(status="open"),
                name="task_open_post_due_idx",
            ),
            models.Index(fields=["decided_by", "-decided_at", "-id"], name="task_done_idx"),
            models.Index(fields=["kind", "record_id", "status"], name="task_record_idx"),
            # 无人审核 lists and the boards' counts: open steps nobody performs, by division.
            models.Index(
                fields=["division_code", "id"],
                condition=Q(status="open", unroutable_since__isnull=False),
                name="task_open_unroutable_idx",
            ),
            models.Index(
                fields=["assignee", "id"],
                condition=Q(status="open", assignee__isnull=False),
                name="task_open_assignee_idx",
            ),
        ]
        constraints = [
            # At most one open step per record: the lock in review.services keeps it so.
            models.UniqueConstraint(
                fields=["kind", "record_id"], condition=Q(status="open"), name="task_one_open_per_record"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.title} ({self.step_label})"

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_at < timezone.now()


class StageDeadline(models.Model):
    """How many working days a step may take before it is overdue."""

    key = models.CharField(_("审核环节"), max_length=20, unique=True)
    working_days = models.PositiveSmallIntegerField(_("办理时限（工作日）"), default=5)

    class Meta:
        verbose_name = _("办理时限")
        verbose_name_plural = _("办理时限")

    def __str__(self) -> str:
        return f"{self.key}: {self.working_days}"


class WorkdayOverride(models.Model):
    """A day the administrators declare a working day or a day off, over the State Council's
    schedule that the chinese-calendar package carries: for a year the package does not know yet,
    or to correct a day. An override wins (review.workdays)."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(
        _("上班"), default=False, help_text=_("勾选：这一天上班（含调休上班的周末）；不勾选：这一天放假。")
    )
    name = models.CharField(
        _("节假日名称"),
        max_length=20,
        blank=True,
        help_text=_("放假的日子填写节日简称，如“国庆”；办理期限跨过这一天时，页面提示“含国庆假期”。"),
    )
    note = models.CharField(
        _("依据"), max_length=200, blank=True, help_text=_("如国务院办公厅放假通知的文号。")
    )

    class Meta:
        verbose_name = _("工作日调整")
        verbose_name_plural = _("工作日调整")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {'上班' if self.is_workday else '放假'} {self.name}".strip()


class LevelRequest(models.Model):
    """提级: an enterprise asks the authority one level up to verify approved records and raise their
    数据等级 (C → B by the prefecture, B → A by the province; docs/data-standard.md §2.11), e.g. before a
    qualification application. Its chain is CHAINS["level_raise"] (projects.workflow); who performs it
    is review.jurisdiction.performs_level. Several records of one kind and one authority per request."""

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("待核实")
        RAISED = "raised", _("已提级")
        REFUSED = "refused", _("不予提级")

    status = FSMField(_("状态"), default=Status.SUBMITTED, choices=Status.choices, protected=True)
    kind = models.CharField(_("记录类型"), max_length=20, choices=RecordKind.choices)
    owner_org = models.ForeignKey(
        Organization, verbose_name=_("申请单位"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), on_delete=models.PROTECT, related_name="+"
    )
    purpose = models.CharField(_("申请用途"), max_length=200)
    from_level = models.CharField(_("原数据等级"), max_length=1)
    to_level = models.CharField(_("申请数据等级"), max_length=1)
    # Where it is filed: the roster stage of the records' kind and the division of the authority one
    # level up (the prefecture for B, the province for A).
    stage = models.CharField(_("审核环节"), max_length=20, choices=Stage.choices)
    division_code = models.CharField(_("核实部门行政区划代码"), max_length=6)
    submitted_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("核实人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    checklist = models.JSONField(_("已核验的材料"), default=list, blank=True)
    onsite_date = models.DateField(_("现场核查日期"), null=True, blank=True)
    onsite_findings = models.TextField(_("现场核查情况"), blank=True)
    reason = models.TextField(_("核实意见"), blank=True)
    lock_version = models.PositiveIntegerField(default=0, editable=False)

    class Meta:
        verbose_name = _("提级申请")
        verbose_name_plural = _("提级申请")
        indexes = [
            models.Index(
                fields=["stage", "division_code", "id"],
                condition=Q(status="submitted"),
                name="level_open_idx",
            ),
            models.Index(fields=["owner_org", "-id"], name="level_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.from_level}→{self.to_level}"

    def save(self, *args, **kwargs):
        self.lock_version += 1
        super().save(*args, **kwargs)

    @transition(field=status, source=Status.SUBMITTED, target=Status.RAISED)
    def raise_level(self) -> None:
        """Verified: the records take `to_level`."""

    @transition(field=status, source=Status.SUBMITTED, target=Status.REFUSED)
    def refuse(self) -> None:
        """Not verified: the records keep their level; `reason` says why."""


class LevelRequestItem(models.Model):
    """One record of a level request."""

    request = models.ForeignKey(LevelRequest, on_delete=models.CASCADE, related_name="items")
    record_id = models.BigIntegerField(_("记录编号"))
    number = models.CharField(_("证书/许可/合同编号"), max_length=60, blank=True)
    title = models.CharField(_("项目名称"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("提级申请记录")
        verbose_name_plural = _("提级申请记录")
        constraints = [models.UniqueConstraint(fields=["request", "record_id"], name="level_item_unique")]
        indexes = [models.Index(fields=["record_id"], name="level_item_record_idx")]

    def __str__(self) -> str:
        return self.number
