"""Attachments: scans of certificates, permits, contracts and filing forms, kept per submission round.

An upload while a record is a draft or returned belongs to the round about to be submitted
(`record.revision + 1`); nothing is uploaded while the record is in review or approved. The type is
decided by the file's content (its magic bytes), never by its name. Files are stored under
MEDIA_ROOT through the model's FileField and served only by the access-checked download view.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from projects import services, workflow
from projects.models import Attachment, EntrySubmission, ReviewableRecord
from yunjian.core import audit
from yunjian.core.models import AuditEntry

MB = 1024 * 1024


@dataclass(frozen=True)
class FileType:
    label: str
    mime: str
    extensions: tuple[str, ...]
    magic: bytes


FILE_TYPES = (
    FileType("PDF", "application/pdf", (".pdf",), b"%PDF-"),
    FileType("PNG", "image/png", (".png",), b"\x89PNG\r\n\x1a\n"),
    FileType("JPG", "image/jpeg", (".jpg", ".jpeg"), b"\xff\xd8\xff"),
)
EXTENSION_LABEL = {ext: t.label for t in FILE_TYPES for ext in t.extensions}


def sniff(head: bytes) -> FileType | None:
    """Return the allowed type whose signature `head` starts with, or None."""
    for file_type in FILE_TYPES:
        if head.startswith(file_type.magic):
            return file_type
    return None


def clean_name(name: str) -> str:
    name = unicodedata.normalize("NFC", os.path.basename((name or "").replace("\\", "/"))).strip()
    name = "".join(c for c in name if c.isprintable())
    if len(name) > 200:
        stem, ext = os.path.splitext(name)
        name = stem[: 200 - len(ext)] + ext
    return name or "附件"


def type_problem(name: str, detected: FileType | None) -> str:
    """Why a file named `name` with content `detected` is refused, in plain Chinese ("" if accepted)."""
    ext = os.path.splitext(name)[1].lower()
    if detected is None:
        if ext in EXTENSION_LABEL:
            label = EXTENSION_LABEL[ext]
            return (
                f"文件“{name}”的扩展名是 {ext}，但文件内容不是 {label} 格式"
                "（可能是把其他类型的文件改了扩展名）。请上传扫描得到的真正的 PDF 文件或 JPG、PNG 图片。"
            )
        return f"只能上传 PDF、JPG 或 PNG 格式的扫描件，文件“{name}”不是这几种格式。"
    if ext and ext not in detected.extensions:
        return (
            f"文件“{name}”的扩展名是 {ext}，但文件内容是 {detected.label} 格式，两者不一致。"
            f"请把扩展名改为 {detected.extensions[0]} 后再上传。"
        )
    return ""


def upload_problem(upload: UploadedFile) -> str:
    """Why this upload cannot be attached (empty, too large, not a PDF/JPG/PNG by content); "" if it can."""
    name = clean_name(upload.name)
    limit = settings.ATTACHMENT_MAX_BYTES
    if not upload.size:
        return f"所选文件“{name}”是空的，请重新选择。"
    if upload.size > limit:
        return (
            f"文件“{name}”大小为 {upload.size / MB:.1f} MB，超过了每个附件 {limit // MB} MB 的上限。"
            "请降低扫描分辨率或分成几个文件后再上传。"
        )
    upload.seek(0)
    detected = sniff(upload.read(16))
    upload.seek(0)
    return type_problem(name, detected)


def _refusal(actor, record: ReviewableRecord) -> str:
    if workflow.is_enterer(actor, record) and not record.is_editable:
        return "该记录正在审核或已审核认定，不能上传或删除附件；如被退回，修改时可以补充上传。"
    return "只有录入单位可以为该记录上传或删除附件。"


def _check_quota(kind: str, record_id: int, revision: int, name: str, size: int) -> None:
    """Per record and round: at most ATTACHMENT_MAX_FILES files and ATTACHMENT_MAX_TOTAL_BYTES in all.

    The caller holds the record's row lock, so two uploads at once cannot both pass the check.
    """
    totals = Attachment.objects.filter(kind=kind, record_id=record_id, revision=revision).aggregate(
        count=Count("id"), size=Sum("size")
    )
    count, used = totals["count"], totals["size"] or 0
    if count >= settings.ATTACHMENT_MAX_FILES:
        raise ValidationError(
            {
                "file": f"每条记录每轮最多上传 {settings.ATTACHMENT_MAX_FILES} 个附件，本轮已有 {count} 个。"
                "请删除不需要的附件，或把几页扫描件合并成一个PDF后再上传。"
            }
        )
    total_limit = settings.ATTACHMENT_MAX_TOTAL_BYTES
    if used + size > total_limit:
        raise ValidationError(
            {
                "file": f"每条记录每轮的附件合计不能超过 {total_limit // MB} MB：本轮已上传 {used / MB:.1f} MB，"
                f"“{name}”为 {size / MB:.1f} MB。请降低扫描分辨率或删除不需要的附件。"
            }
        )


@transaction.atomic
def attachment_upload(
    *, actor, kind: str, record_id: int, upload: UploadedFile, description: str = "", ip: str | None = None
) -> Attachment:
    """Attach a scan to the round of `record` being prepared. Enterer's organization, while editable.

    Raises PermissionDenied (not the enterer, or the record is in review or approved) or
    ValidationError keyed `file` (empty, too large, not a PDF/JPG/PNG by content, already attached).
    """
    record = services.lock_record(kind, record_id)
    if not services.can_edit(actor, record):
        raise PermissionDenied(_refusal(actor, record))
    name = clean_name(upload.name)
    problem = upload_problem(upload)
    if problem:
        raise ValidationError({"file": problem})
    upload.seek(0)
    detected = sniff(upload.read(16))
    if not os.path.splitext(name)[1]:
        name = (name + detected.extensions[0])[-200:]
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    revision = record.revision + 1
    sha256 = digest.hexdigest()
    if Attachment.objects.filter(kind=kind, record_id=record.pk, revision=revision, sha256=sha256).exists():
        raise ValidationError({"file": f"本轮已经上传过与“{name}”内容相同的文件，无需重复上传。"})
    _check_quota(kind, record.pk, revision, name, upload.size)
    attachment = Attachment(
        kind=kind,
        record_id=record.pk,
        revision=revision,
        original_name=name,
        content_type=detected.mime,
        size=upload.size,
        sha256=sha256,
        description=(description or "").strip()[:100],
        uploaded_by=actor,
    )
    attachment.file.save(name, upload, save=False)
    stored = attachment.file.name
    # The file is written before its row: if writing the row fails, do not leave the file behind.
    try:
        attachment.save()
        audit.record(
            action=AuditEntry.Action.UPDATE,
            actor=actor,
            obj=record,
            to_state=record.state,
            reason=f"上传附件：{name}",
            data={
                "attachment": attachment.pk,
                "name": name,
                "sha256": sha256,
                "size": upload.size,
                "revision": revision,
            },
            ip=ip,
        )
    except Exception:
        attachment.file.storage.delete(stored)
        raise
    return attachment


def evidence_save(
    *, actor, record: ReviewableRecord, upload: UploadedFile, description: str, field: str = "evidence"
) -> Attachment:
    """Keep a reviewer's evidence (e.g. for 撤销认定) with the record's current round, checked like every
    scan (review.services.record_revoke calls it under the record's row lock, in its transaction).

    Raises ValidationError keyed `field`. The caller removes the file (`attachment.file`) if its
    transaction does not commit.
    """
    name = clean_name(upload.name)
    problem = upload_problem(upload)
    if problem:
        raise ValidationError({field: problem})
    upload.seek(0)
    detected = sniff(upload.read(16))
    if not os.path.splitext(name)[1]:
        name = (name + detected.extensions[0])[-200:]
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    attachment = Attachment(
        kind=record.KIND,
        record_id=record.pk,
        revision=record.revision,
        original_name=name,
        content_type=detected.mime,
        size=upload.size,
        sha256=digest.hexdigest(),
        description=description[:100],
        uploaded_by=actor,
    )
    attachment.file.save(name, upload, save=False)
    try:
        attachment.save()
    except Exception:
        attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


@transaction.atomic
def attachment_delete(*, actor, attachment_id: int, ip: str | None = None) -> Attachment:
    """Remove a file uploaded for the round being prepared (a wrong scan). Earlier rounds stay as submitted."""
    attachment = Attachment.objects.select_for_update().get(pk=attachment_id)
    record = services.lock_record(attachment.kind, attachment.record_id)
    if not services.can_edit(actor, record):
        raise PermissionDenied(_refusal(actor, record))
    if attachment.revision != record.revision + 1:
        raise PermissionDenied("已提交轮次的附件是审核依据，不能删除。")
    stored = attachment.file.name
    storage = attachment.file.storage
    attachment.delete()
    audit.record(
        action=AuditEntry.Action.UPDATE,
        actor=actor,
        obj=record,
        to_state=record.state,
        reason=f"删除附件：{attachment.original_name}",
        data={"attachment": attachment_id, "sha256": attachment.sha256, "revision": attachment.revision},
        ip=ip,
    )
    transaction.on_commit(lambda: storage.delete(stored))
    return attachment


def save_entry(
    *,
    actor,
    save: Callable[[], ReviewableRecord],
    uploads: list[tuple[UploadedFile, str]] = (),
    removals: list[int] = (),
    submit: bool = False,
    token=None,
    ip: str | None = None,
) -> ReviewableRecord:
    """Save an entry form with the scans chosen on it, in one transaction (notice: the scans go with
    the round they prove). `save` stores the record through its kind's service without submitting;
    then the scans ticked for removal are removed and each new one is attached to the round being
    prepared; then, if asked, the record is submitted,
    so a new permit, tender or completion carries its scans from its first submission.

    `token` is the form's one-time token (EntrySubmission): a second post of the same form raises
    IntegrityError and saves nothing. If anything fails, every file written here is removed again.
    """
    stored: list[tuple] = []
    try:
        with transaction.atomic():
            record = save()
            for attachment_id in removals:
                attachment_delete(actor=actor, attachment_id=attachment_id, ip=ip)
            for upload, description in uploads:
                attachment = attachment_upload(
                    actor=actor,
                    kind=record.KIND,
                    record_id=record.pk,
                    upload=upload,
                    description=description,
                    ip=ip,
                )
                stored.append((attachment.file.storage, attachment.file.name))
            if submit:
                record = services.record_submit(actor=actor, kind=record.KIND, record_id=record.pk, ip=ip)
            if token is not None:
                EntrySubmission.objects.create(token=token, user=actor, kind=record.KIND, record_id=record.pk)
    except BaseException:
        for storage, name in stored:
            storage.delete(name)
        raise
    return record


def current_round(record: ReviewableRecord) -> list[Attachment]:
    """The files uploaded for the round being prepared (still removable)."""
    return list(
        Attachment.objects.filter(
            kind=record.KIND, record_id=record.pk, revision=record.revision + 1
        ).order_by("pk")
    )


# --- scans kept while the form is corrected -------------------------------------------------------
# A form sent back with errors cannot give the browser its chosen files again. The scans that passed
# their checks are kept in storage under pending/<user>/<form token>/ and named on the page by a signed
# reference; the corrected form brings them along, and saving attaches them like fresh uploads.

PENDING_SALT = "projects.attachments.pending"
PENDING_MAX_AGE = 24 * 3600


def stage_uploads(*, user_id: int, token: str, uploads: list[tuple[UploadedFile, str]]) -> list[dict]:
    """Keep the checked uploads of a form that could not be saved; return what the page shows."""
    staged = []
    for index, (upload, description) in enumerate(uploads):
        name = clean_name(upload.name)
        upload.seek(0)
        path = default_storage.save(
            f"pending/{user_id}/{token}/{index}-{hashlib.sha256(name.encode()).hexdigest()[:12]}", upload
        )
        reference = signing.dumps({"u": user_id, "p": path, "n": name, "d": description}, salt=PENDING_SALT)
        staged.append({"reference": reference, "name": name, "size": upload.size})
    return staged


def staged_uploads(*, user_id: int, references: list[str]) -> tuple[list[tuple[File, str]], list[dict]]:
    """The files a corrected form brings back (only the user's own, kept less than a day)."""
    files, shown = [], []
    for reference in references[:20]:
        try:
            data = signing.loads(reference, salt=PENDING_SALT, max_age=PENDING_MAX_AGE)
        except signing.BadSignature:
            continue
        path = str(data.get("p", ""))
        if data.get("u") != user_id or not path.startswith(f"pending/{user_id}/") or ".." in path:
            continue
        if not default_storage.exists(path):
            continue
        handle = default_storage.open(path, "rb")
        files.append((File(handle, name=data["n"]), data.get("d", "")))
        shown.append(
            {"reference": reference, "name": data["n"], "size": default_storage.size(path), "path": path}
        )
    return files, shown


def discard_staged(paths: list[str]) -> None:
    for path in paths:
        default_storage.delete(path)


def stale_pending_scans(older_than) -> list[str]:
    """The kept scans (pending/<user>/<token>/…) last written before `older_than`: never saved with a
    record, and past PENDING_MAX_AGE no signed reference brings them back."""
    found = []
    users, _ = _listdir("pending")
    for user in users:
        tokens, _ = _listdir(f"pending/{user}")
        for token in tokens:
            _, files = _listdir(f"pending/{user}/{token}")
            for name in files:
                path = f"pending/{user}/{token}/{name}"
                if default_storage.get_modified_time(path) < older_than:
                    found.append(path)
    return found


def remove_pending_scans(paths: list[str]) -> int:
    """Delete the given kept scans, then the folders they leave empty (on a local storage)."""
    for path in paths:
        default_storage.delete(path)
    for folder in sorted(
        {p.rsplit("/", 1)[0] for p in paths} | {p.rsplit("/", 2)[0] for p in paths}, reverse=True
    ):
        # Not empty (a newer scan of the same form), or not a local storage: leave it.
        with contextlib.suppress(OSError, NotImplementedError):
            os.rmdir(default_storage.path(folder))
    return len(paths)


def _listdir(path: str) -> tuple[list[str], list[str]]:
    try:
        return default_storage.listdir(path)
    except FileNotFoundError:
        return [], []


# --- housekeeping (manage.py purge_stale) ----------------------------------------------------------

TOKEN_MIN_AGE = timedelta(days=1)


@dataclass(frozen=True)
class Purge:
    tokens: int
    scans: int


def purge_stale(*, token_age: timedelta, scan_age: timedelta, dry_run: bool = False, now=None) -> Purge:
    """Delete the one-time form tokens (EntrySubmission) older than `token_age` and the kept scans of
    forms never saved (pending/…) older than `scan_age`; one audit entry with the counts.

    A token only matters while its form page may be posted again, a kept scan only while its signed
    reference is valid (PENDING_MAX_AGE): younger ages are refused, so that nothing still usable goes.
    The files are deleted after the transaction commits.
    """
    if token_age < TOKEN_MIN_AGE or scan_age < timedelta(seconds=PENDING_MAX_AGE):
        raise ValueError("表单令牌至少保留 1 天，未保存的扫描件至少保留 24 小时。")
    now = now or timezone.now()
    scans = stale_pending_scans(now - scan_age)
    with transaction.atomic():
        tokens = EntrySubmission.objects.filter(created_at__lt=now - token_age)
        if dry_run:
            return Purge(tokens=tokens.count(), scans=len(scans))
        deleted, _ = tokens.delete()
        audit.record(
            action=AuditEntry.Action.DELETE,
            object_type="entry_housekeeping",
            reason="清理过期的表单令牌和未保存的附件扫描件",
            data={
                "tokens": deleted,
                "scans": len(scans),
                "token_age_days": token_age.total_seconds() / 86400,
                "scan_age_days": scan_age.total_seconds() / 86400,
            },
        )
        transaction.on_commit(lambda: remove_pending_scans(scans))
    return Purge(tokens=deleted, scans=len(scans))
