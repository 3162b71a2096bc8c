"""Template → fill → upload → preview → apply → submit, for each kind bulk entry offers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bulk.models import BulkUpload
from projects.models import Completion, State, TenderContract
from tests.bulk.conftest import completion_row, permit_row, specialty_row, tender_row

pytestmark = pytest.mark.django_db


def test_tender_round_trip(as_user, contractor, open_project, bulk_upload):
    client = as_user(contractor)
    response = bulk_upload(
        client, "tender_contract", [tender_row(open_project.prj_num, 1), tender_row(open_project.prj_num, 2)]
    )
    assert response.status_code == 302, response.content.decode()
    upload = BulkUpload.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert page.count("将新建") >= 2, page
    assert [r["status"] for r in upload.plan] == ["create", "create"], upload.plan
    assert client.post(reverse("bulk:apply", args=[upload.pk])).status_code == 302
    contracts = TenderContract.objects.filter(owner_org=contractor.organization).order_by("tender_num")
    assert [c.state for c in contracts] == [State.DRAFT, State.DRAFT]
    assert contracts[0].scope == "construction"
    assert contracts[0].contract_type == "301"
    assert client.post(reverse("bulk:submit", args=[upload.pk])).status_code == 302
    upload.refresh_from_db()
    assert [r.get("submitted") for r in upload.plan] == [True, True], upload.plan
    assert {c.state for c in TenderContract.objects.all()} == {State.IN_REVIEW}


def test_completion_round_trip(as_user, contractor, open_project, bulk_upload):
    client = as_user(contractor)
    response = bulk_upload(client, "completion", [completion_row(open_project.prj_num, 1)])
    assert response.status_code == 302, response.content.decode()
    upload = BulkUpload.objects.get()
    assert [r["status"] for r in upload.plan] == ["create"], upload.plan
    client.post(reverse("bulk:apply", args=[upload.pk]))
    completion = Completion.objects.get()
    assert completion.state == State.DRAFT
    assert completion.permit is not None  # the project's one approved permit
    assert completion.filing_org.name == "麒麟区住房和城乡建设局"
    client.post(reverse("bulk:submit", args=[upload.pk]))
    upload.refresh_from_db()
    assert upload.plan[0].get("submitted") is True, upload.plan


def test_specialty_basic_info_round_trip(as_user, specialist, open_project, bulk_upload):
    """Directly contracted specialty projects: created with their basic info, a provisional 项目编号
    for one without; the same workbook again updates the drafts; a number already in the system is
    refused (that project's records are entered with the other templates)."""
    from projects.models import Project, SpecialtyProjectInfo

    client = as_user(specialist)
    rows = [
        specialty_row(1, 项目编号="5303022001019001"),
        specialty_row(2),
        specialty_row(3, 项目编号=open_project.prj_num),
        specialty_row(4, 项目名称=""),
    ]
    response = bulk_upload(client, "specialty_info", rows)
    assert response.status_code == 302, response.content.decode()
    upload = BulkUpload.objects.get()
    assert [r["status"] for r in upload.plan] == ["create", "create", "error", "error"], upload.plan
    assert "系统中已有项目编号为" in upload.plan[2]["errors"][0][1]
    assert upload.plan[3]["errors"] == [["项目名称", "请填写“项目名称”。"]]
    client.post(reverse("bulk:apply", args=[upload.pk]))
    infos = SpecialtyProjectInfo.objects.filter(owner_org=specialist.organization).select_related("project")
    assert sorted(i.project.name for i in infos) == ["曲靖市会展中心消防工程1", "曲靖市会展中心消防工程2"]
    provisional = Project.objects.get(name="曲靖市会展中心消防工程2")
    assert provisional.prj_num_provisional
    assert provisional.kind == Project.Kind.DIRECT_SPECIALTY
    # Again (one scope changed): both drafts updated, no project twice.
    rows[1]["专业承包内容"] = "消防设施工程（含喷淋）"
    bulk_upload(client, "specialty_info", rows[:2])
    again = BulkUpload.objects.order_by("-id").first()
    assert [r["status"] for r in again.plan] == ["update", "update"], again.plan
    client.post(reverse("bulk:apply", args=[again.pk]))
    assert Project.objects.filter(name__startswith="曲靖市会展中心消防工程").count() == 2
    assert SpecialtyProjectInfo.objects.get(project=provisional).specialty_scope == "消防设施工程（含喷淋）"
    client.post(reverse("bulk:submit", args=[again.pk]))
    again.refresh_from_db()
    assert [r.get("submitted") for r in again.plan] == [True, True], again.plan
    assert {i.state for i in SpecialtyProjectInfo.objects.all()} == {State.IN_REVIEW}


def test_permit_round_trip(as_user, contractor, approved_review, project, world, bulk_upload):
    """A general contractor's permits on approved drawing reviews named by certificate number (as the
    picker finds them by exact number): drafts, then submitted to the issuing authority."""
    from projects.models import ConstructionPermit

    client = as_user(contractor)
    issue = str(approved_review.censor_date)
    rows = [
        permit_row(project.prj_num, approved_review.censor_num, 1, 发证日期=issue),
        permit_row(project.prj_num, "5303029999999999-TX-001", 2, 发证日期=issue),
        permit_row(
            project.prj_num,
            approved_review.censor_num,
            3,
            发证日期=issue,
            **{"发证机关（名称或统一社会信用代码）": "红河州住房和城乡建设局"},
        ),
        permit_row(project.prj_num, approved_review.censor_num, 4, 发证日期="2000-01-01"),
        permit_row(
            project.prj_num,
            approved_review.censor_num,
            5,
            发证日期=issue,
            **{"监理单位（名称或统一社会信用代码）": "不存在的监理"},
        ),
    ]
    response = bulk_upload(client, "permit", rows)
    assert response.status_code == 302, response.content.decode()
    upload = BulkUpload.objects.get()
    assert [r["status"] for r in upload.plan] == ["create", "error", "error", "error", "error"], upload.plan
    text = [" ".join(m for _, m in r["errors"]) for r in upload.plan]
    assert "没有合格书编号为 5303029999999999-TX-001" in text[1]
    assert "不是该项目所在地的住房城乡建设部门" in text[2]
    assert "发证日期不能早于施工图审查完成日期" in text[3]
    assert "没有名称或统一社会信用代码为“不存在的监理”的监理单位" in text[4]
    client.post(reverse("bulk:apply", args=[upload.pk]))
    permit = ConstructionPermit.objects.get()
    assert permit.state == State.DRAFT
    assert list(permit.drawing_reviews.all()) == [approved_review]
    assert permit.issuing_org == world["bureau_qlq"]
    client.post(reverse("bulk:submit", args=[upload.pk]))
    upload.refresh_from_db()
    assert upload.plan[0].get("submitted") is True, upload.plan
    permit.refresh_from_db()
    assert permit.state == State.IN_REVIEW
    # Again: skipped (submitted), nothing twice.
    bulk_upload(client, "permit", rows[:1])
    assert BulkUpload.objects.order_by("-id").first().plan[0]["status"] == "skip"
