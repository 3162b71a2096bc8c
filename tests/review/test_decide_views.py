"""The review page and its decision: approve, return with a reason, conflicts, 403 / 404 / 400 / 409."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from projects import services as ps
from projects.models import ConstructionPermit, DrawingReview, DrawingReviewAdditionRequest, State
from review import services as rs
from review.models import Task
from tests import factories as f
from yunjian.core.models import AuditEntry


def record_url(record) -> str:
    return reverse("review:record", args=[record.KIND, record.pk])


def post_decision(client, record, decision: str, lock_version=None, **extra):
    data = {
        "decision": decision,
        "lock_version": record.lock_version if lock_version is None else lock_version,
        **extra,
    }
    return client.post(record_url(record), data)


def reload(record):
    return type(record).objects.get(pk=record.pk)


def audit_actions(record) -> list[str]:
    return list(
        AuditEntry.objects.filter(object_type=record.AUDIT_TYPE, object_id=str(record.pk))
        .order_by("id")
        .values_list("action", flat=True)
    )


# --- the page -----------------------------------------------------------------------------------


def test_page_shows_every_field_the_project_the_buildings_and_the_form(
    client, county_permit_reviewer, permit_in_review, approved_review
):
    client.force_login(county_permit_reviewer)

    response = client.get(record_url(permit_in_review))

    assert response.status_code == 200
    page = response.content.decode()
    for label in ("施工许可证编号", "发证机关", "合同金额（万元）", "项目经理", "总监理工程师注册证书编号"):
        assert label in page
    assert permit_in_review.permit_num in page
    assert "工程项目基本信息" in page
    assert "麒麟区测试项目" in page
    assert 'id="buildings"' in page
    # the linked records: the permit's drawing review
    assert approved_review.censor_num in page
    assert 'id="decision-form"' in page
    assert f'name="lock_version" value="{permit_in_review.lock_version}"' in page
    assert "发证机关审核（施工许可信息）" in page
    assert "施工许可证编号与原件不一致" in page  # a common reason of this record type
    assert 'value="issue_date"' in page  # a field the reviewer can name


def test_page_lists_the_projects_other_records(
    client, reviewer, completion_in_review, permit_in_review, approved_review
):
    client.force_login(reviewer)

    response = client.get(record_url(completion_in_review))

    linked = {(r["kind"], r["id"]) for r in response.context["linked"]}
    assert ("permit", permit_in_review.pk) in linked
    assert ("drawing_review", approved_review.pk) in linked
    assert ("completion", completion_in_review.pk) not in linked


def test_drawing_review_page_lists_the_permits_that_chose_it(
    client, division_staff, approved_review, permit_in_review
):
    client.force_login(division_staff)

    response = client.get(record_url(approved_review))

    assert response.status_code == 200
    assert [p.pk for p in response.context["linked_permits"]] == [permit_in_review.pk]
    assert response.context["form"] is None  # approved: nothing to decide


def test_attachments_are_listed(client, county_permit_reviewer, permit_in_review, contractor):
    from projects.models import Attachment

    Attachment.objects.create(
        kind="permit",
        record_id=permit_in_review.pk,
        revision=1,
        file="attachments/permit/1/1/abc",
        original_name="施工许可证扫描件.pdf",
        content_type="application/pdf",
        size=2048,
        sha256="a" * 64,
        uploaded_by=contractor,
    )
    client.force_login(county_permit_reviewer)

    response = client.get(record_url(permit_in_review))

    page = response.content.decode()
    assert "施工许可证扫描件.pdf" in page
    # The download view belongs to another issue: link to it only once it exists.
    if response.context["attachment_links"]:
        attachment = Attachment.objects.get(record_id=permit_in_review.pk)
        assert reverse("projects:attachment-download", args=[attachment.pk]) in page


def test_record_of_another_jurisdiction_is_404(client, honghe_reviewer, permit_in_review):
    client.force_login(honghe_reviewer)

    assert client.get(record_url(permit_in_review)).status_code == 404
    assert post_decision(client, permit_in_review, "approve").status_code == 404
    assert reload(permit_in_review).state == State.IN_REVIEW


def test_completion_reviewer_cannot_open_a_permit(client, completion_reviewer, permit_in_review):
    client.force_login(completion_reviewer)

    assert client.get(record_url(permit_in_review)).status_code == 404


def test_unknown_kind_or_id_is_404(client, reviewer, permit_in_review):
    client.force_login(reviewer)

    assert client.get(reverse("review:record", args=["nonsense", permit_in_review.pk])).status_code == 404
    assert client.get(reverse("review:record", args=["permit", 999999])).status_code == 404


@pytest.mark.parametrize("persona", ["contractor", "outsider"])
def test_enterprise_user_gets_403_even_for_own_record(client, request, persona, permit_in_review):
    client.force_login(request.getfixturevalue(persona))

    assert client.get(record_url(permit_in_review)).status_code == 403
    assert post_decision(client, permit_in_review, "approve").status_code == 403
    assert reload(permit_in_review).state == State.IN_REVIEW


# --- approve ------------------------------------------------------------------------------------


def test_reviewer_approves(client, county_permit_reviewer, permit_in_review):
    client.force_login(county_permit_reviewer)

    response = post_decision(client, permit_in_review, "approve")

    assert response.status_code == 302
    assert response["Location"] == reverse("review:inbox")
    permit = reload(permit_in_review)
    assert permit.state == State.APPROVED
    task = Task.objects.get(kind="permit", record_id=permit.pk)
    assert (task.status, task.outcome, task.decided_by) == ("done", "approved", county_permit_reviewer)
    assert audit_actions(permit)[-1] == AuditEntry.Action.APPROVE
    messages = [str(m) for m in response.wsgi_request._messages]
    assert messages == [f"施工许可信息“{permit.permit_num}”已审核认定。"]


def test_approve_returns_to_the_list_it_came_from(client, county_permit_reviewer, permit_in_review):
    client.force_login(county_permit_reviewer)
    back = reverse("review:inbox") + "?kind=permit"

    response = post_decision(client, permit_in_review, "approve", next=back)

    assert response["Location"] == back


def test_next_to_another_site_is_ignored(client, county_permit_reviewer, permit_in_review):
    client.force_login(county_permit_reviewer)

    response = post_decision(client, permit_in_review, "approve", next="https://evil.example/")

    assert response["Location"] == reverse("review:inbox")


# --- return -------------------------------------------------------------------------------------


def test_reviewer_returns_with_common_reasons_free_text_and_fields(
    client, county_permit_reviewer, permit_in_review
):
    client.force_login(county_permit_reviewer)

    response = post_decision(
        client,
        permit_in_review,
        "return",
        reasons=["发证日期有误", "项目经理或总监理工程师信息有误"],
        reason_text="发证日期应为2020年5月8日。",
        fields=["issue_date", "project_manager"],
    )

    assert response.status_code == 302
    permit = reload(permit_in_review)
    assert permit.state == State.RETURNED
    assert permit.return_reason == "发证日期有误；项目经理或总监理工程师信息有误；发证日期应为2020年5月8日。"
    assert permit.return_fields == ["issue_date", "project_manager"]
    task = Task.objects.get(kind="permit", record_id=permit.pk)
    assert (task.outcome, task.reason) == ("returned", permit.return_reason)
    entry = AuditEntry.objects.filter(object_type="permit", object_id=str(permit.pk)).latest("id")
    assert (entry.action, entry.reason) == (AuditEntry.Action.RETURN, permit.return_reason)


def test_return_with_free_text_only(client, county_permit_reviewer, permit_in_review):
    client.force_login(county_permit_reviewer)

    post_decision(client, permit_in_review, "return", reason_text="请补充上传施工许可证扫描件。")

    assert reload(permit_in_review).return_reason == "请补充上传施工许可证扫描件。"


@pytest.mark.parametrize("reason_text", ["", "   "])
def test_return_without_reason_is_refused_and_changes_nothing(
    client, county_permit_reviewer, permit_in_review, reason_text
):
    client.force_login(county_permit_reviewer)
    before = audit_actions(permit_in_review)

    response = post_decision(
        client, permit_in_review, "return", reason_text=reason_text, fields=["issue_date"]
    )

    assert response.status_code == 400
    assert "退回时必须填写退回原因。" in response.content.decode()
    permit = reload(permit_in_review)
    assert (permit.state, permit.lock_version) == (State.IN_REVIEW, permit_in_review.lock_version)
    assert Task.objects.get(kind="permit", record_id=permit.pk).status == "open"
    assert audit_actions(permit) == before


def test_malformed_post_is_400(client, county_permit_reviewer, permit_in_review):
    client.force_login(county_permit_reviewer)

    response = client.post(record_url(permit_in_review), {"decision": "maybe", "lock_version": "x"})

    assert response.status_code == 400
    assert reload(permit_in_review).state == State.IN_REVIEW


# --- conflicts ---------------------------------------------------------------------------------


def test_stale_lock_version_is_409_and_changes_nothing(client, county_permit_reviewer, permit_in_review):
    client.force_login(county_permit_reviewer)
    stale = permit_in_review.lock_version - 1
    before = audit_actions(permit_in_review)

    response = post_decision(client, permit_in_review, "approve", lock_version=stale)

    assert response.status_code == 409
    page = response.content.decode()
    assert rs.Conflict().message in page
    permit = reload(permit_in_review)
    assert (permit.state, permit.lock_version) == (State.IN_REVIEW, permit_in_review.lock_version)
    assert audit_actions(permit) == before
    # The page now shows the current version: deciding on it works.
    assert f'name="lock_version" value="{permit.lock_version}"' in page


def test_record_decided_by_someone_else_since_the_page_was_opened(
    client, reviewer, county_permit_reviewer, permit_in_review
):
    client.force_login(county_permit_reviewer)
    seen = client.get(record_url(permit_in_review)).context["form"].initial["lock_version"]
    f.send_back(permit_in_review, reviewer, reason="另一位审核人员先退回了")

    response = post_decision(client, permit_in_review, "approve", lock_version=seen)

    assert response.status_code == 409
    assert "已由他人处理" in response.content.decode()
    permit = reload(permit_in_review)
    assert (permit.state, permit.return_reason) == (State.RETURNED, "另一位审核人员先退回了")
    assert response.context["form"] is None  # nothing left to decide


def test_viewer_who_is_not_the_current_step_gets_403(client, institution_staff, review_at_institution):
    f.approve(review_at_institution, institution_staff)  # step 2 belongs to the design division
    client.force_login(institution_staff)
    review = reload(review_at_institution)

    assert client.get(record_url(review)).context["form"] is None
    response = post_decision(client, review, "approve")

    assert response.status_code == 403
    assert "您不是该记录当前审核环节的审核人员" in response.content.decode()
    assert reload(review).step == "division_verify"


# --- two-step drawing review --------------------------------------------------------------------


def test_institution_confirms_then_division_verifies(
    client, institution_staff, division_staff, review_at_institution
):
    client.force_login(institution_staff)
    page = client.get(record_url(review_at_institution)).content.decode()
    assert "确认无误，提交省厅勘察设计处复核" in page
    assert "第1步（共2步）" in page

    response = post_decision(client, review_at_institution, "approve")
    assert response.status_code == 302
    review = reload(review_at_institution)
    assert (review.state, review.step) == (State.IN_REVIEW, "division_verify")
    assert "已转省厅勘察设计处复核" in str(list(response.wsgi_request._messages)[0])

    client.force_login(division_staff)
    page = client.get(record_url(review)).content.decode()
    assert "第2步（共2步）" in page
    assert "复核通过（审核认定）" in page
    assert post_decision(client, review, "approve").status_code == 302
    assert reload(review).state == State.APPROVED


def test_division_returns_a_drawing_review_at_verification(
    client, institution_staff, division_staff, review_at_institution
):
    f.approve(review_at_institution, institution_staff)
    client.force_login(division_staff)
    review = reload(review_at_institution)

    response = post_decision(client, review, "return", reasons=["审查完成日期有误"], fields=["censor_date"])

    assert response.status_code == 302
    review = reload(review)
    assert (review.state, review.step, review.return_fields) == (State.RETURNED, "", ["censor_date"])


# --- addition requests --------------------------------------------------------------------------


def test_division_approves_addition_request_and_the_design_unit_owns_the_new_review(
    client, division_staff, addition_request, designer, world
):
    client.force_login(division_staff)
    page = client.get(record_url(addition_request)).content.decode()
    assert "批准新增（生成图审信息）" in page
    assert "系统将为设计院生成施工图审查信息“5303022001019999-TX-001”" in page
    assert "将按申请表新建" in page  # no project with that number yet

    response = post_decision(client, addition_request, "approve")

    assert response.status_code == 302
    request = reload(addition_request)
    assert request.state == State.APPROVED
    review = DrawingReview.objects.get(censor_num="5303022001019999-TX-001")
    assert request.created_review == review
    assert review.owner_org == world["design"]
    assert designer.has_perm("projects.change_drawingreview", review)
    message = str(list(response.wsgi_request._messages)[0])
    assert "已为设计院生成施工图审查信息“5303022001019999-TX-001”" in message


def test_rejecting_addition_request_needs_a_reason(client, division_staff, addition_request):
    client.force_login(division_staff)

    refused = post_decision(client, addition_request, "return")
    assert refused.status_code == 400
    assert reload(addition_request).state == State.IN_REVIEW

    response = post_decision(
        client, addition_request, "return", reasons=["系统中已有该图审信息，无需申请新增"]
    )
    assert response.status_code == 302
    request = reload(addition_request)
    assert request.state == State.RETURNED
    assert not DrawingReview.objects.filter(censor_num=request.censor_num).exists()
    assert DrawingReviewAdditionRequest.objects.get(pk=request.pk).created_review is None


# --- round to round -----------------------------------------------------------------------------


def test_second_round_shows_field_level_difference(
    client, county_permit_reviewer, permit_in_review, approved_review, contractor
):
    client.force_login(county_permit_reviewer)
    post_decision(
        client,
        permit_in_review,
        "return",
        reasons=["发证日期有误"],
        reason_text="请核对原件",
        fields=["issue_date"],
    )
    permit = reload(permit_in_review)
    ps.permit_save(
        actor=contractor,
        permit_id=permit.pk,
        drawing_review_ids=[approved_review.pk],
        data={"issue_date": date(2020, 5, 8), "contract_amount": Decimal("1200")},
        submit=True,
    )

    response = client.get(record_url(permit))

    diff = response.context["diff"]
    assert (diff["previous"], diff["current"]) == (1, 2)
    changes = {c["key"]: (c["label"], c["old"], c["new"]) for c in diff["changes"]}
    assert changes == {
        "issue_date": ("发证日期", "2020-05-01", "2020-05-08"),
        "contract_amount": ("合同金额（万元）", "1000", "1200"),
    }
    page = response.content.decode()
    assert '<table class="diff">' in page
    assert '<td class="old">2020-05-01</td><td class="new">2020-05-08</td>' in page
    assert "上一轮退回原因：</strong>发证日期有误；请核对原件" in page

    assert post_decision(client, reload(permit), "approve").status_code == 302
    assert ConstructionPermit.objects.get(pk=permit.pk).state == State.APPROVED


def test_first_round_has_no_difference(client, county_permit_reviewer, permit_in_review):
    client.force_login(county_permit_reviewer)

    response = client.get(record_url(permit_in_review))

    assert response.context["diff"] is None
    assert 'id="round-diff"' not in response.content.decode()


def test_addition_request_for_a_review_that_appeared_meanwhile_is_refused_in_chinese(
    client, division_staff, addition_request, world
):
    # Since the request was filed, the review arrived by another way (e.g. the PMS import).
    project = f.make_project("530302", owner=world["owner"])
    f.register_review(
        project, world["design_other"], world["institution"], censor_num=addition_request.censor_num
    )
    client.force_login(division_staff)
    assert "不能批准" in client.get(record_url(addition_request)).content.decode()

    response = post_decision(client, addition_request, "approve")

    assert response.status_code == 400
    assert "系统中已有合格书编号为“5303022001019999-TX-001”的施工图审查信息" in response.content.decode()
    request = reload(addition_request)
    assert (request.state, request.created_review_id) == (State.IN_REVIEW, None)
    assert Task.objects.get(kind="addition_request", record_id=request.pk).status == "open"
