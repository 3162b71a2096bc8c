"""Issue 19 without JavaScript: scans chosen on the entry form are saved with the record (one
transaction), a form posted twice saves once, and whoever may not enter the record changes nothing."""

from __future__ import annotations

import pytest
from django.urls import reverse

from projects import attachments
from projects.models import Attachment, EntrySubmission, State, TenderContract
from tests.projects.conftest import DOCX_BYTES, PDF_BYTES, upload
from tests.projects.formdata import form_data
from tests.projects.test_tender_completion_views import TENDER, tender_url

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _new_tender(client, project, **extra):
    html = client.get(tender_url(project), {"scope": "construction"}).content.decode()
    return form_data(html, {**TENDER, "action": "submit", **extra})


def test_a_new_tender_is_submitted_with_its_scans(as_user, contractor, open_project):
    client = as_user(contractor)
    data = _new_tender(client, open_project)
    data["att-files"] = [upload("中标通知书.pdf", PDF_BYTES), upload("合同.pdf", PDF_BYTES + b"x")]
    data["att-file_description"] = "中标通知书和合同"
    response = client.post(tender_url(open_project), data)
    assert response.status_code == 302, response.content.decode()
    contract = TenderContract.objects.get()
    assert contract.state == State.IN_REVIEW
    files = Attachment.objects.filter(kind="tender_contract", record_id=contract.pk)
    assert sorted(a.original_name for a in files) == ["中标通知书.pdf", "合同.pdf"]
    assert {a.revision for a in files} == {1}
    assert {a.description for a in files} == {"中标通知书和合同"}


def test_a_bad_scan_saves_nothing_and_says_why(as_user, contractor, open_project):
    client = as_user(contractor)
    data = _new_tender(client, open_project)
    data["att-files"] = [upload("合同.pdf", DOCX_BYTES)]
    response = client.post(tender_url(open_project), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert "不是 PDF 格式" in html
    assert 'value="QJ-SG-2020-018"' in html  # what was typed stays
    assert not TenderContract.objects.exists()
    assert not Attachment.objects.exists()


def test_a_refused_submission_leaves_no_file_behind(as_user, contractor, open_project, tmp_path):
    client = as_user(contractor)
    data = _new_tender(client, open_project, contract_num="", tender_amount="")  # incomplete: submit refused
    data["att-files"] = [upload("合同.pdf", PDF_BYTES)]
    response = client.post(tender_url(open_project), data)
    assert response.status_code == 400
    assert not TenderContract.objects.exists()
    assert not Attachment.objects.exists()
    assert not [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()]  # nothing attached
    # The scan itself waits for the corrected form (see below), only as a staging copy.
    assert len([p for p in (tmp_path / "pending").rglob("*") if p.is_file()]) == 1
    assert "所选的附件已暂存" in response.content.decode()


def test_the_same_form_posted_twice_saves_once(as_user, contractor, open_project):
    client = as_user(contractor)
    data = _new_tender(client, open_project)
    first = client.post(tender_url(open_project), data)
    second = client.post(tender_url(open_project), data, follow=True)
    contract = TenderContract.objects.get()
    assert first["Location"] == reverse("projects:record", args=["tender_contract", contract.pk])
    assert second.redirect_chain[-1][0] == first["Location"]
    assert "这份表单已经保存过" in second.content.decode()
    assert EntrySubmission.objects.get().record_id == contract.pk


def test_an_outsider_posting_a_scan_changes_nothing(as_user, outsider, open_project, contractor):
    data = _new_tender(as_user(contractor), open_project)
    client = as_user(outsider)
    data["att-files"] = [upload("合同.pdf", PDF_BYTES)]
    response = client.post(tender_url(open_project), data)
    assert response.status_code in (400, 403, 404)  # not its scope, or not its project
    assert not TenderContract.objects.exists()
    assert not Attachment.objects.exists()


def test_a_good_scan_waits_for_the_corrected_form_and_only_its_owner_can_use_it(
    as_user, contractor, open_project, tmp_path, other_contractor
):
    client = as_user(contractor)
    data = _new_tender(client, open_project, tender_amount="很多")  # not a number: form refused
    data["att-files"] = [upload("合同.pdf", PDF_BYTES)]
    response = client.post(tender_url(open_project), data)
    assert response.status_code == 400
    html = response.content.decode()
    assert "所选的附件已暂存" in html
    references = form_data(html)["att-pending"]
    assert references
    assert not Attachment.objects.exists()
    # Another user cannot bring someone else's kept scan into their own form; a forged reference is ignored.
    assert attachments.staged_uploads(user_id=other_contractor.pk, references=[references]) == ([], [])
    assert attachments.staged_uploads(user_id=contractor.pk, references=[references + "x"]) == ([], [])
    kept = [p for p in (tmp_path / "pending").rglob("*") if p.is_file()]
    assert len(kept) == 1
    # The owner corrects the form: the kept scan is saved with the record and its staging copy removed.
    client = as_user(contractor)
    data = form_data(html, {"tender_amount": "1000"})
    response = client.post(tender_url(open_project), data)
    assert response.status_code == 302, response.content.decode()
    contract = TenderContract.objects.get()
    assert list(Attachment.objects.filter(record_id=contract.pk).values_list("original_name", flat=True)) == [
        "合同.pdf"
    ]
    assert not [p for p in (tmp_path / "pending").rglob("*") if p.is_file()]
