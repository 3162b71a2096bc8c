"""manage.py purge_stale: old one-time form tokens and scans kept for forms never saved are deleted
(files from storage too), younger ones stay usable, one audit entry with the counts."""

from __future__ import annotations

import os
import time
import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import timezone

from projects import attachments
from projects.models import EntrySubmission
from yunjian.core.models import AuditEntry

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def token(user, days_ago: float) -> EntrySubmission:
    return EntrySubmission.objects.create(
        token=uuid.uuid4(),
        user=user,
        kind="drawing_review",
        record_id=1,
        created_at=timezone.now() - timedelta(days=days_ago),
    )


def kept_scan(user, tmp_path, days_ago: float) -> dict:
    """A scan kept for a form sent back with errors, last written `days_ago` days ago."""
    [shown] = attachments.stage_uploads(
        user_id=user.pk,
        token=uuid.uuid4().hex,
        uploads=[(SimpleUploadedFile("审查合格书.pdf", PDF, content_type="application/pdf"), "合格书")],
    )
    _, [entry] = attachments.staged_uploads(user_id=user.pk, references=[shown["reference"]])
    stamp = time.time() - days_ago * 86400
    os.utime(tmp_path / entry["path"], (stamp, stamp))
    return {**shown, "path": entry["path"]}


def run(*args) -> str:
    out = StringIO()
    call_command("purge_stale", *args, stdout=out)
    return out.getvalue()


def test_old_tokens_and_scans_go_young_ones_stay(
    designer, contractor, tmp_path, django_capture_on_commit_callbacks
):
    old_tokens = [token(designer, 40), token(contractor, 31)]
    young_token = token(designer, 29)
    old_scan = kept_scan(designer, tmp_path, 3)
    young_scan = kept_scan(contractor, tmp_path, 0.5)

    with django_capture_on_commit_callbacks(execute=True):
        out = run()

    assert out.strip() == "已删除 2 个过期的表单令牌、1 个未保存的附件扫描件。"
    assert not EntrySubmission.objects.filter(pk__in=[t.pk for t in old_tokens]).exists()
    assert EntrySubmission.objects.filter(pk=young_token.pk).exists()
    # The old scan's file is gone from storage, with the folders it leaves empty.
    assert not (tmp_path / old_scan["path"]).exists()
    assert not (tmp_path / old_scan["path"]).parent.exists()
    assert not (tmp_path / f"pending/{designer.pk}").exists()
    # The young scan is still brought back by its form.
    files, shown = attachments.staged_uploads(user_id=contractor.pk, references=[young_scan["reference"]])
    assert [s["name"] for s in shown] == ["审查合格书.pdf"]
    files[0][0].close()
    entry = AuditEntry.objects.get(object_type="entry_housekeeping")
    assert entry.action == AuditEntry.Action.DELETE
    assert entry.actor_id is None
    assert entry.data == {"tokens": 2, "scans": 1, "token_age_days": 30.0, "scan_age_days": 2.0}


def test_ages_are_configurable(designer, tmp_path, django_capture_on_commit_callbacks):
    token(designer, 40)
    token(designer, 8)
    scan = kept_scan(designer, tmp_path, 1.5)
    with django_capture_on_commit_callbacks(execute=True):
        out = run("--token-days", "7", "--scan-days", "1")
    assert out.strip() == "已删除 2 个过期的表单令牌、1 个未保存的附件扫描件。"
    assert not EntrySubmission.objects.exists()
    assert not (tmp_path / scan["path"]).exists()


def test_dry_run_counts_and_changes_nothing(designer, tmp_path, django_capture_on_commit_callbacks):
    old = token(designer, 40)
    scan = kept_scan(designer, tmp_path, 3)
    with django_capture_on_commit_callbacks(execute=True):
        out = run("--dry-run")
    assert out.strip() == "可清理 1 个过期的表单令牌、1 个未保存的附件扫描件。"
    assert EntrySubmission.objects.filter(pk=old.pk).exists()
    assert (tmp_path / scan["path"]).exists()
    assert not AuditEntry.objects.filter(object_type="entry_housekeeping").exists()


@pytest.mark.parametrize("args", [["--token-days", "0"], ["--scan-days", "0"], ["--token-days", "-5"]])
def test_an_age_below_the_minimum_is_refused_in_chinese(designer, tmp_path, args):
    old = token(designer, 40)
    scan = kept_scan(designer, tmp_path, 3)
    with pytest.raises(CommandError, match="表单令牌至少保留 1 天") as raised:
        run(*args)
    assert raised.value.returncode == 2
    assert EntrySubmission.objects.filter(pk=old.pk).exists()
    assert (tmp_path / scan["path"]).exists()
    assert not AuditEntry.objects.filter(object_type="entry_housekeeping").exists()


def test_nothing_to_purge_on_an_empty_storage(designer):
    assert run().strip() == "已删除 0 个过期的表单令牌、0 个未保存的附件扫描件。"
    assert AuditEntry.objects.get(object_type="entry_housekeeping").data["tokens"] == 0


def test_a_failed_purge_deletes_no_file(designer, tmp_path, monkeypatch, django_capture_on_commit_callbacks):
    """Files go only after the tokens' transaction commits: if it fails, every scan is still there."""
    token(designer, 40)
    scan = kept_scan(designer, tmp_path, 3)

    def broken(**kwargs):
        raise RuntimeError("audit unavailable")

    monkeypatch.setattr(attachments.audit, "record", broken)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        run()
    assert (tmp_path / scan["path"]).exists()
    assert EntrySubmission.objects.count() == 1
