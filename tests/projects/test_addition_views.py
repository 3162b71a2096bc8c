"""图审信息新增申请 (附件1): the list, the form, the status with the design division's decision, and
the printable page for signature and seal."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from projects.models import DrawingReview, DrawingReviewAdditionRequest, State
from tests import factories as f
from tests.projects.formdata import field_errors, form_data

pytestmark = pytest.mark.django_db
LIST = reverse("projects:additions")
NEW = reverse("projects:addition-new")


def request_fields(world, **extra) -> dict:
    return {
        "prj_num": "5303022001020001",
        "project_name": "麒麟区历史项目",
        "county": "530302",
        "owner_name": "某建设单位",
        "censor_num": "5303022001020001-TX-001",
        "censor_org": str(world["institution"].pk),
        "censor_date": "2019-01-15",
        "reason": "系统切换前办理，原系统数据未迁移。",
        "contact_name": "李设计",
        "contact_phone": "0871 6413 8888",
        **extra,
    }


def test_design_unit_files_a_request(as_user, designer, world):
    client = as_user(designer)
    response = client.post(
        NEW, form_data(client.get(NEW).content.decode(), {**request_fields(world), "action": "submit"})
    )
    assert response.status_code == 302, response.content.decode()
    request = DrawingReviewAdditionRequest.objects.get()
    assert request.state == State.IN_REVIEW
    assert request.contact_phone == "087164138888"
    html = client.get(LIST).content.decode()
    assert request.censor_num in html
    assert "审批中" in html
    status = client.get(response["Location"]).content.decode()
    assert "省厅勘察设计处审批结果" in status
    assert "省厅勘察设计处审批" in status


def test_status_shows_the_decision(as_user, designer, addition_request, division_staff):
    f.ps.addition_request_save(actor=designer, request_id=addition_request.pk, data={}, submit=True)
    f.approve(addition_request, division_staff)
    created = DrawingReview.objects.get(censor_num=addition_request.censor_num)
    client = as_user(designer)
    html = client.get(
        reverse("projects:record", args=["addition_request", addition_request.pk])
    ).content.decode()
    assert "同意新增" in html
    assert reverse("projects:record", args=["drawing_review", created.pk]) in html
    # The created drawing review is the design unit's to complete.
    assert created.censor_num in client.get(reverse("projects:my-reviews")).content.decode()


def test_returned_request_shows_the_reason(as_user, designer, addition_request, division_staff):
    f.ps.addition_request_save(actor=designer, request_id=addition_request.pk, data={}, submit=True)
    f.send_back(addition_request, division_staff, reason="请补充审查机构出具的证明", fields=["reason"])
    html = as_user(designer).get(LIST, {"state": "returned"}).content.decode()
    assert "请补充审查机构出具的证明" in html


def test_printable_request_for_signature_and_seal(as_user, designer, addition_request):
    html = (
        as_user(designer).get(reverse("projects:addition-print", args=[addition_request.pk])).content.decode()
    )
    assert 'class="print-title"' in html
    assert "施工图审查信息新增申请表" in html
    assert 'class="form-table"' in html
    assert 'class="sign-area"' in html
    for words in ("申请单位（盖章）", "经办人签字", "日期", addition_request.censor_num, "系统切换前办理"):
        assert words in html
    assert "css/print.css" in html


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"prj_num": "53030220010200"}, "prj_num", "项目编号应为16位数字"),
        ({"contact_phone": "12345"}, "contact_phone", "联系电话应为11位手机号码"),
        ({"censor_date": f"{date.today().year + 1}-01-01"}, "censor_date", "不能晚于今天"),
        ({"censor_date": "2999-01-01"}, "censor_date", "日期应在1950年1月1日至"),
        ({"censor_date": "0001-01-01"}, "censor_date", "日期应在1950年1月1日至"),
        ({"reason": ""}, "reason", "请填写“申请原因"),
        ({"county": "999999"}, "county", "请从列表中选择"),
    ],
)
def test_bad_request_input(as_user, designer, world, changes, field, message):
    client = as_user(designer)
    response = client.post(
        NEW,
        form_data(client.get(NEW).content.decode(), {**request_fields(world), **changes, "action": "submit"}),
    )
    assert response.status_code == 400
    assert any(message in e for e in field_errors(response.content.decode(), field))
    assert not DrawingReviewAdditionRequest.objects.exists()


def test_an_existing_certificate_needs_no_request(as_user, designer, world, review):
    client = as_user(designer)
    data = form_data(
        client.get(NEW).content.decode(),
        {**request_fields(world, censor_num=review.censor_num), "action": "submit"},
    )
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert any("无需申请新增" in e for e in field_errors(response.content.decode(), "censor_num"))


def test_access(as_user, contractor, other_designer, reviewer, addition_request):
    response = as_user(contractor).get(NEW)
    assert response.status_code == 403
    assert "图审信息新增申请由设计单位录入" in response.content.decode()
    assert (
        as_user(other_designer)
        .get(reverse("projects:addition-print", args=[addition_request.pk]))
        .status_code
        == 404
    )
    assert addition_request.censor_num not in as_user(other_designer).get(LIST).content.decode()
    assert as_user(reviewer).get(LIST).status_code == 403
    assert (
        as_user(reviewer).get(reverse("projects:addition-print", args=[addition_request.pk])).status_code
        == 403
    )
