"""One uploaded workbook of bulk entry, kept between its preview and its application.

The rows are stored as the cell texts read from the file (never the file itself), so the preview,
the error report and the application all work on what was checked; the plan (each row's status and
messages) is stored with them and refreshed when the workbook is applied.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from projects.models import RecordKind
from yunjian.core.models import Organization


class BulkUpload(models.Model):
    AUDIT_TYPE = "bulk_upload"

    class Status(models.TextChoices):
        CHECKED = "checked", _("已检查，待导入")
        APPLIED = "applied", _("已导入为草稿")
        SUBMITTED = "submitted", _("已提交审核")

    kind = models.CharField(_("记录类型"), max_length=30, choices=RecordKind.choices)
    owner_org = models.ForeignKey(
        Organization, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT, related_name="+"
    )
    filename = models.CharField(_("文件名"), max_length=200)
    sha256 = models.CharField(max_length=64)
    # [{"row": sheet row, "cells": {column name: text}}] as read from the file.
    rows = models.JSONField(default=list)
    # [{"row", "status", "errors": [[column header, message]], "warnings", "record_id", "result"}]
    plan = models.JSONField(default=list)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.CHECKED)
    created_at = models.DateTimeField(auto_now_add=True)
    applied_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("批量录入文件")
        verbose_name_plural = _("批量录入文件")
        indexes = [models.Index(fields=["owner_org", "-id"], name="bulk_owner_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename}"

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for row in self.plan:
            counts[row["status"]] = counts.get(row["status"], 0) + 1
        return counts
