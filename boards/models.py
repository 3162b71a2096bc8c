"""The progress boards' tables: counts kept by the database, figures kept by jobs, daily history.

`StateCount` and `OrgCount` are maintained by PostgreSQL triggers on the five record tables
(boards.aggregates.TRIGGERS_SQL, installed by migration 0001) in the same transaction as every
insert, update and delete of a record — whatever wrote it: a service's transition, a bulk entry's one
INSERT, a load, a record arriving from the platform. `Figures` (what changes with the clock: overdue,
backlog age, throughput; and what the sync layer knows: acknowledged by the platform) is written by
the refresh jobs (boards.tasks); `Snapshot` is one row per day, county and stage, kept as history.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class StateCount(models.Model):
    """How many records of one stage, in one county, are in one state (草稿, 待审核, ...)."""

    division_code = models.CharField(_("行政区划代码"), max_length=6)
    stage = models.CharField(_("审核环节"), max_length=20)
    state = models.CharField(_("状态"), max_length=20)
    n = models.BigIntegerField(_("数量"), default=0)

    class Meta:
        verbose_name = _("状态计数")
        verbose_name_plural = _("状态计数")
        constraints = [
            models.UniqueConstraint(fields=["division_code", "stage", "state"], name="statecount_key"),
        ]

    def __str__(self) -> str:
        return f"{self.division_code} {self.stage} {self.state}: {self.n}"


class OrgCount(models.Model):
    """Drawing reviews (施工图审查信息) by design unit (role "design") or institution ("institution")
    and state: the design division's board."""

    org_id = models.BigIntegerField(_("单位"))
    role = models.CharField(_("角色"), max_length=12)
    state = models.CharField(_("状态"), max_length=20)
    n = models.BigIntegerField(_("数量"), default=0)

    class Meta:
        verbose_name = _("单位计数")
        verbose_name_plural = _("单位计数")
        constraints = [models.UniqueConstraint(fields=["org_id", "role", "state"], name="orgcount_key")]

    def __str__(self) -> str:
        return f"{self.role} {self.org_id} {self.state}: {self.n}"


class Figures(models.Model):
    """The figures of one county and stage that a count cannot keep: written by the refresh jobs."""

    division_code = models.CharField(_("行政区划代码"), max_length=6)
    stage = models.CharField(_("审核环节"), max_length=20)
    overdue = models.IntegerField(_("逾期"), default=0)
    age_0_5 = models.IntegerField(_("0–5个工作日"), default=0)
    age_6_10 = models.IntegerField(_("6–10个工作日"), default=0)
    age_11_20 = models.IntegerField(_("11–20个工作日"), default=0)
    age_over_20 = models.IntegerField(_("20个工作日以上"), default=0)
    unroutable = models.IntegerField(_("无人审核"), default=0)
    decided_4w = models.IntegerField(_("近四周办结"), default=0)
    returned_4w = models.IntegerField(_("近四周退回"), default=0)
    median_days = models.FloatField(_("办理天数中位数"), null=True, blank=True)
    days_4w = models.FloatField(_("近四周办理天数合计"), default=0)  # for the mean over several rows
    acknowledged = models.IntegerField(_("平台已接收"), default=0)
    entered_orgs = models.IntegerField(_("已录入企业"), default=0)
    verified_orgs = models.IntegerField(_("已全部认定企业"), default=0)
    blocked_orgs = models.IntegerField(_("有退回企业"), default=0)
    refreshed_at = models.DateTimeField(_("更新时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("看板指标")
        verbose_name_plural = _("看板指标")
        constraints = [models.UniqueConstraint(fields=["division_code", "stage"], name="figures_key")]

    def __str__(self) -> str:
        return f"{self.division_code} {self.stage}"


class ReviewerFigures(models.Model):
    """One reviewer's decisions of the last four weeks (the hourly job): the boards' throughput by person."""

    user_id = models.BigIntegerField(_("审核人员"), unique=True)
    decided_4w = models.IntegerField(_("近四周办结"), default=0)
    returned_4w = models.IntegerField(_("近四周退回"), default=0)
    median_days = models.FloatField(_("办理天数中位数"), null=True, blank=True)

    class Meta:
        verbose_name = _("审核人员指标")
        verbose_name_plural = _("审核人员指标")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.decided_4w}"


class Snapshot(models.Model):
    """One day's counts of one division and stage (the daily job), kept as history for the trend.

    Written for every county and, summed, for every prefecture and the province (`level`), and for
    each stage and all stages together (stage ""), so a trend reads its lines as they are stored."""

    day = models.DateField(_("日期"))
    level = models.CharField(_("级别"), max_length=12, default="county")
    division_code = models.CharField(_("行政区划代码"), max_length=6)
    stage = models.CharField(_("审核环节"), max_length=20)
    draft = models.IntegerField(_("草稿"), default=0)
    in_review = models.IntegerField(_("审核中"), default=0)
    returned = models.IntegerField(_("已退回"), default=0)
    approved = models.IntegerField(_("已认定"), default=0)
    revoked = models.IntegerField(_("已撤销认定"), default=0)
    acknowledged = models.IntegerField(_("平台已接收"), default=0)
    overdue = models.IntegerField(_("逾期"), default=0)

    class Meta:
        verbose_name = _("每日快照")
        verbose_name_plural = _("每日快照")
        constraints = [models.UniqueConstraint(fields=["day", "division_code", "stage"], name="snapshot_key")]
        indexes = [
            models.Index(fields=["day"], name="snapshot_day_idx"),
            models.Index(fields=["level", "stage", "division_code", "day"], name="snapshot_trend_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.division_code} {self.stage}"

    @property
    def total(self) -> int:
        return self.draft + self.in_review + self.returned + self.approved + self.revoked
