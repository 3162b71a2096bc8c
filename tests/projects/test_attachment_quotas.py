"""Attachment quotas per record and round: a count and a total size (a probe put 90+ files on one draft)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from projects.models import Attachment
from tests.projects.conftest import PDF_BYTES, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def post_pdf(client, record, n: int):
    # Distinct content: the same file twice in a round is refused for another reason.
    content = PDF_BYTES + f"\n%{n}\n".encode()
    url = reverse("projects:attachment-upload", args=[record.KIND, record.pk])
    return client.post(url, {"file": upload(f"扫描件{n}.pdf", content), "description": ""})


def test_the_file_count_per_record_is_capped(as_user, designer, review, settings):
    settings.ATTACHMENT_MAX_FILES = 3
    client = as_user(designer)
    for n in range(3):
        assert post_pdf(client, review, n).status_code == 302
    refused = post_pdf(client, review, 3)
    assert refused.status_code in (302, 400)
    page = (
        client.get(reverse("projects:record", args=[review.KIND, review.pk]))
        if refused.status_code == 302
        else refused
    )
    assert "每条记录每轮最多上传 3 个附件" in page.content.decode()
    assert Attachment.objects.filter(record_id=review.pk).count() == 3


def test_the_total_size_per_record_is_capped(as_user, designer, review, settings):
    settings.ATTACHMENT_MAX_TOTAL_BYTES = 2 * len(PDF_BYTES) + 20
    client = as_user(designer)
    assert post_pdf(client, review, 1).status_code == 302
    assert post_pdf(client, review, 2).status_code == 302
    refused = post_pdf(client, review, 3)
    page = (
        client.get(reverse("projects:record", args=[review.KIND, review.pk]))
        if refused.status_code == 302
        else refused
    )
    assert "附件合计不能超过" in page.content.decode()
    assert Attachment.objects.filter(record_id=review.pk).count() == 2
