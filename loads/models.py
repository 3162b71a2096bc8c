"""Loads of the existing systems' exports (issue 13): the job, its files, its row issues, and which
records a load wrote (so that a newer export may update only what nobody has touched since)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class LoadJob(models.Model):
    """One load: one or more files of the national tables, checked (pass 1) then applied (pass 2).

    Applying writes in batches, each committed with the job's position (`next_row` of the current
    file), so a load stopped half-way is resumed where it stopped by the next worker that claims
    it (its lease expires) or by running the same command again; it never stays half-applied
    without being shown as such.
    """

    class Status(models.TextChoices):
        CHECK_QUEUED = "check_queued", _("等待检查")
        CHECKING = "checking", _("正在检查")
        CHECKED = "checked", _("已检查，待确认导入")
        REFUSED = "refused", _("文件无法导入")
        APPLY_QUEUED = "apply_queued", _("等待导入")
        APPLYING = "applying", _("正在导入")
        DONE = "done", _("已导入")

    class Source(models.TextChoices):
        COMMAND = "command", _("命令行")
        WEB = "web", _("网页上传")

    origin = models.CharField(_("数据来源"), max_length=10)  # projects.models.Origin: pms | platform
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.CHECK_QUEUED)
    source = models.CharField(_("导入方式"), max_length=10, choices=Source.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    # Progress of the running phase: rows done out of rows in all files (known after the check).
    total_rows = models.PositiveIntegerField(default=0)
    done_rows = models.PositiveIntegerField(default=0)
    file_errors = models.JSONField(default=list, blank=True)
    check_counts = models.JSONField(default=dict, blank=True)
    apply_counts = models.JSONField(default=dict, blank=True)
    samples = models.JSONField(default=dict, blank=True)  # first rows of each status (preview)
    new_orgs = models.JSONField(default=list, blank=True)  # organisations created unverified
    lease_until = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=80, blank=True)

    class Meta:
        verbose_name = _("存量数据导入")
        verbose_name_plural = _("存量数据导入")
        indexes = [models.Index(fields=["status", "id"], name="loadjob_status_idx")]

    def __str__(self) -> str:
        return f"导入#{self.pk}"

    @property
    def percent(self) -> int:
        if not self.total_rows:
            return 100 if self.status == self.Status.DONE else 0
        return min(100, self.done_rows * 100 // self.total_rows)

    @property
    def running(self) -> bool:
        return self.status in (
            self.Status.CHECK_QUEUED,
            self.Status.CHECKING,
            self.Status.APPLY_QUEUED,
            self.Status.APPLYING,
        )


class LoadFile(models.Model):
    """One file of a load, stored on the server (STORAGE_ROOT) with its SHA-256."""

    job = models.ForeignKey(LoadJob, on_delete=models.CASCADE, related_name="files")
    position = models.PositiveSmallIntegerField()  # the order files are applied in (projects first)
    name = models.CharField(_("文件名"), max_length=200)
    path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField()
    table = models.CharField(_("数据表"), max_length=40, blank=True)
    rows = models.PositiveIntegerField(default=0)
    next_row = models.PositiveIntegerField(default=0)  # apply: rows up to this source row are done
    applied = models.BooleanField(default=False)

    class Meta:
        ordering = ["job", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="loadfile_position_unique")]

    def __str__(self) -> str:
        return self.name


class LoadIssue(models.Model):
    """A row that was refused or is in conflict, with every error by column (check or apply phase)."""

    class Phase(models.TextChoices):
        CHECK = "check", _("检查")
        APPLY = "apply", _("导入")

    job = models.ForeignKey(LoadJob, on_delete=models.CASCADE, related_name="issues")
    file = models.ForeignKey(LoadFile, on_delete=models.CASCADE, related_name="issues")
    phase = models.CharField(max_length=5, choices=Phase.choices)
    row = models.PositiveIntegerField(_("行号"))
    table = models.CharField(max_length=40)
    number = models.CharField(_("编号"), max_length=60, blank=True)
    status = models.CharField(_("结果"), max_length=10)  # error | conflict
    errors = models.JSONField(default=list)  # [{"column": ..., "message": ...}]
    differences = models.JSONField(default=list)  # conflict: [{"column", "ours", "theirs"}]

    class Meta:
        ordering = ["file__position", "row"]
        indexes = [models.Index(fields=["job", "phase", "file", "row"], name="loadissue_job_idx")]

    def __str__(self) -> str:
        return f"{self.table} 第{self.row}行"


class LoadedRecord(models.Model):
    """A record a load wrote, as it was then: `stamp` is the record's lock_version (a project's
    updated_at). A later export may update it only while the stamp still matches: once an
    enterprise has edited or submitted the record, it is never overwritten (a conflict instead)."""

    table = models.CharField(max_length=40)
    number = models.CharField(max_length=60)
    record_id = models.BigIntegerField()
    stamp = models.CharField(max_length=40)
    job = models.ForeignKey(LoadJob, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["table", "number"], name="loadedrecord_unique")]

    def __str__(self) -> str:
        return f"{self.table}:{self.number}"
