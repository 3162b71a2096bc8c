"""Attachments: type by content, size limit, kept per submission round, downloads only for the
project's parties and its reviewers."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from projects import attachments
from projects.models import Attachment
from tests import factories as f
from tests.projects.conftest import DOCX_BYTES, JPG_BYTES, PDF_BYTES, PNG_BYTES, upload
from yunjian.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload_url(record):
    return reverse("projects:attachment-upload", args=[record.KIND, record.pk])


def post_file(client, record, name, content, **extra):
    return client.post(upload_url(record), {"file": upload(name, content), "description": "扫描件", **extra})


def test_a_pdf_is_kept_for_the_round_being_prepared(as_user, designer, review, settings):
    response = post_file(as_user(designer), review, "合格书.pdf", PDF_BYTES)
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.kind, attachment.record_id, attachment.revision) == ("drawing_review", review.pk, 1)
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF_BYTES)
    assert attachment.sha256 == hashlib.sha256(PDF_BYTES).hexdigest()
    assert attachment.original_name == "合格书.pdf"
    assert attachment.file.name.startswith(f"attachments/drawing_review/{review.pk}/1/")
    with attachment.file.open("rb") as stored:
        assert stored.read() == PDF_BYTES
    entry = AuditEntry.objects.filter(object_type="drawing_review", object_id=str(review.pk)).latest("id")
    assert entry.reason == "上传附件：合格书.pdf"
    assert entry.data["sha256"] == attachment.sha256


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("scan.png", PNG_BYTES, "image/png"),
        ("scan.JPG", JPG_BYTES, "image/jpeg"),
        ("扫描件", PDF_BYTES, "application/pdf"),
    ],
)
def test_jpg_png_and_nameless_files_are_recognised_by_content(as_user, designer, review, name, content, kind):
    assert post_file(as_user(designer), review, name, content).status_code == 302
    assert Attachment.objects.get().content_type == kind


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("许可证.pdf", DOCX_BYTES, "扩展名是 .pdf，但文件内容不是 PDF 格式"),
        ("许可证.docx", DOCX_BYTES, "只能上传 PDF、JPG 或 PNG 格式的扫描件"),
        ("照片.pdf", PNG_BYTES, "文件内容是 PNG 格式，两者不一致"),
        ("空.pdf", b"", "所选文件是空的"),
    ],
)
def test_other_content_is_refused_in_chinese_and_nothing_is_stored(
    as_user, designer, review, tmp_path, name, content, message
):
    response = post_file(as_user(designer), review, name, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Attachment.objects.exists()
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_files_over_the_limit_are_refused(as_user, designer, review, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024
    response = post_file(as_user(designer), review, "大文件.pdf", PDF_BYTES + b"0" * 2000)
    assert response.status_code == 400
    assert "超过了每个附件" in response.content.decode()
    assert not Attachment.objects.exists()


def test_the_same_file_twice_in_a_round_is_refused(as_user, designer, review):
    client = as_user(designer)
    assert post_file(client, review, "a.pdf", PDF_BYTES).status_code == 302
    response = post_file(client, review, "b.pdf", PDF_BYTES)
    assert response.status_code == 400
    assert "内容相同的文件" in response.content.decode()


def test_no_uploads_while_in_review_or_approved(
    as_user, contractor, permit_in_review, county_permit_reviewer
):
    client = as_user(contractor)
    response = post_file(client, permit_in_review, "a.pdf", PDF_BYTES)
    assert response.status_code == 403
    assert "正在审核或已审核认定" in response.content.decode()
    f.approve(permit_in_review, county_permit_reviewer)
    assert post_file(client, permit_in_review, "a.pdf", PDF_BYTES).status_code == 403
    assert not Attachment.objects.exists()


def test_a_party_that_did_not_enter_the_record_cannot_upload(as_user, designer, returned_permit):
    response = post_file(as_user(designer), returned_permit, "a.pdf", PDF_BYTES)
    assert response.status_code == 403
    assert "只有录入单位" in response.content.decode()


def test_uploads_are_kept_per_round(as_user, designer, review, institution_staff):
    client = as_user(designer)
    post_file(client, review, "第一轮.pdf", PDF_BYTES)
    f.complete_and_submit_review(review, designer)
    f.send_back(review, institution_staff, reason="请补充附件")
    post_file(client, review, "第二轮.pdf", PDF_BYTES + b"2")
    assert sorted(Attachment.objects.values_list("original_name", "revision")) == [
        ("第一轮.pdf", 1),
        ("第二轮.pdf", 2),
    ]
    html = client.get(reverse("projects:record", args=["drawing_review", review.pk])).content.decode()
    assert "第1轮" in html
    assert "第2轮" in html


def test_only_the_current_rounds_files_may_be_deleted(as_user, designer, review, institution_staff):
    client = as_user(designer)
    post_file(client, review, "第一轮.pdf", PDF_BYTES)
    first = Attachment.objects.get()
    f.complete_and_submit_review(review, designer)
    f.send_back(review, institution_staff, reason="请补充附件")
    post_file(client, review, "传错了.pdf", PDF_BYTES + b"x")
    wrong = Attachment.objects.get(original_name="传错了.pdf")
    assert client.post(reverse("projects:attachment-delete", args=[wrong.pk])).status_code == 302
    response = client.post(reverse("projects:attachment-delete", args=[first.pk]))
    assert response.status_code == 403
    assert "不能删除" in response.content.decode()
    assert list(Attachment.objects.values_list("original_name", flat=True)) == ["第一轮.pdf"]


def test_download_for_parties_and_reviewers_only(
    as_user, client, contractor, designer, county_permit_reviewer, outsider, other_contractor, returned_permit
):
    post_file(as_user(contractor), returned_permit, "许可证.pdf", PDF_BYTES)
    attachment = Attachment.objects.get()
    url = reverse("projects:attachment-download", args=[attachment.pk])
    for allowed in (contractor, designer, county_permit_reviewer):
        response = as_user(allowed).get(url)
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PDF_BYTES
        assert response["Content-Type"] == "application/pdf"
        assert "attachment;" in response["Content-Disposition"]
    for intruder in (outsider, other_contractor):
        assert as_user(intruder).get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
    assert (
        as_user(contractor)
        .get(reverse("projects:attachment-download", args=[attachment.pk + 99]))
        .status_code
        == 404
    )


def test_the_service_checks_the_same_rules(designer, contractor, review):
    with pytest.raises(PermissionDenied):
        attachments.attachment_upload(
            actor=contractor, kind="drawing_review", record_id=review.pk, upload=upload("a.pdf", PDF_BYTES)
        )
    with pytest.raises(ValidationError) as exc:
        attachments.attachment_upload(
            actor=designer, kind="drawing_review", record_id=review.pk, upload=upload("a.pdf", DOCX_BYTES)
        )
    assert "不是 PDF" in exc.value.message_dict["file"][0]


def test_upload_form_on_the_edit_page_returns_there(as_user, designer, review):
    client = as_user(designer)
    page = client.get(reverse("projects:record-edit", args=["drawing_review", review.pk])).content.decode()
    assert 'enctype="multipart/form-data"' in page
    response = post_file(client, review, "a.pdf", PDF_BYTES, back="edit")
    assert response["Location"] == reverse("projects:record-edit", args=["drawing_review", review.pk])
