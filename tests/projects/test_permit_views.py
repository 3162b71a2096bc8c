"""施工许可信息 (notice 一(一)2): pick approved drawing reviews of one project, enter the permit,
finishing entry submits it to the issuing authority; drafts, warnings, returns."""

from __future__ import annotations

import pytest
from django.db import connection
from django.urls import reverse

from projects import selectors
from projects import services as ps
from projects.models import ConstructionPermit, ProjectParty, State
from review.models import Task
from tests import factories as f
from tests.projects.formdata import field_errors, form_data

pytestmark = pytest.mark.django_db
NEW = reverse("projects:permit-new")
PICKER = reverse("projects:review-picker")


def permit_fields(world, **extra) -> dict:
    return {
        "permit_num": "5303022001010001-SX-001",
        "issuing_org": str(world["bureau_qlq"].pk),
        "issue_date": "2020-05-01",
        "contract_amount": "1,000.5",
        "contract_num": "QJ-SG-2020-018",
        "project_manager": "张经理",
        "project_manager_id": f.id_number(),
        "supervision_org": world["supervision"].credit_code,
        "chief_supervisor": "李总监",
        "chief_supervisor_id": f.id_number("19750505"),
        **extra,
    }


def open_form(client, *reviews):
    """The picker's next step, as a contractor that found the first review by its exact number."""
    response = client.get(NEW, {"review": [r.pk for r in reviews], "next": "1", "q": reviews[0].censor_num})
    assert response.status_code == 200, response.content.decode()
    return response.content.decode()


def test_picker_offers_another_organisations_review_only_by_its_exact_number(
    as_user, contractor, approved_review, review
):
    client = as_user(contractor)
    html = client.get(NEW, {"q": approved_review.censor_num}).content.decode()
    assert f'name="review" value="{approved_review.pk}"' in html
    # Not by a prefix, the project's number or its name, and never a review not yet approved.
    for term in (
        approved_review.censor_num[:20],
        approved_review.project.prj_num,
        "麒麟区测试",
        review.censor_num,
    ):
        html = client.get(NEW, {"q": term}).content.decode()
        assert approved_review.censor_num not in html
        assert review.censor_num not in html or term == review.censor_num
        assert f'name="review" value="{review.pk}"' not in html
    assert "没有找到与“无此项目”相符的图审信息" in client.get(NEW, {"q": "无此项目"}).content.decode()


def test_picker_finds_by_prefix_or_name_in_the_organizations_own_projects(
    as_user, contractor, approved_review, review
):
    ProjectParty.objects.create(
        project=approved_review.project, organization=contractor.organization, role="general_contractor"
    )
    client = as_user(contractor)
    for term in (approved_review.censor_num[:20], approved_review.project.prj_num, "麒麟区测试"):
        html = client.get(NEW, {"q": term}).content.decode()
        assert f'name="review" value="{approved_review.pk}"' in html
        assert review.censor_num not in html  # a draft review is not offered


def test_the_picker_is_for_contractors(as_user, designer, supervisor, approved_review):
    for user in (designer, supervisor):
        response = as_user(user).get(PICKER, {"q": approved_review.censor_num})
        assert f'name="review" value="{approved_review.pk}"' not in response.content.decode()
        assert approved_review.project.name not in response.content.decode()


def test_picker_is_an_htmx_partial_too(as_user, contractor, approved_review):
    response = as_user(contractor).get(
        PICKER, {"q": approved_review.censor_num}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert approved_review.censor_num in html
    assert "<html" not in html


def test_picker_search_is_served_by_indexes(approved_review):
    """With sequential scans priced out, the planner still finds an index for every search branch."""
    from projects.models import DrawingReview, Project

    queries = [
        DrawingReview.objects.filter(censor_num__startswith="5303").values("pk")[:30],
        Project.objects.filter(prj_num__startswith="5303").values("pk")[:30],
        Project.objects.filter(name__startswith="麒麟区").values("pk")[:30],
        Project.objects.filter(selectors.prefix_range("prj_num", "5303")).values("pk")[:30],
    ]
    from projects.models import ConstructionPermit as Permit

    queries.append(Permit.objects.filter(selectors.prefix_range("permit_num", "5303")).values("pk"))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for qs in queries:
            sql, params = qs.query.sql_with_params()
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Seq Scan" not in plan, plan
            assert "Index" in plan, plan


def test_reviews_of_two_projects_or_none_cannot_be_picked(
    as_user, contractor, approved_review, world, designer, institution_staff, division_staff
):
    other = f.make_project("530302", owner=world["owner"])
    other_review = f.register_review(other, world["design"], world["institution"])
    f.complete_and_submit_review(other_review, designer)
    f.approve(other_review, institution_staff)
    f.approve(other_review, division_staff)
    for project in (approved_review.project, other):
        ProjectParty.objects.create(
            project=project, organization=contractor.organization, role="general_contractor"
        )
    client = as_user(contractor)
    response = client.get(NEW, {"review": [approved_review.pk, other_review.pk], "next": "1"})
    assert response.status_code == 400
    assert "须属于同一个工程项目" in response.content.decode()
    response = client.get(NEW, {"next": "1"})
    assert response.status_code == 400
    assert "请至少勾选一条" in response.content.decode()


def test_contractor_enters_permit_on_two_reviews_and_it_goes_to_the_issuing_authority(
    as_user, contractor, approved_review, second_approved_review, world
):
    client = as_user(contractor)
    html = open_form(client, approved_review, second_approved_review)
    assert f'value="{approved_review.pk}" checked' in html or "checked" in html
    data = form_data(html, {**permit_fields(world), "action": "submit"})
    assert sorted(map(int, data["review_ids"])) == sorted([approved_review.pk, second_approved_review.pk])
    response = client.post(NEW, data)
    assert response.status_code == 302, response.content.decode()
    permit = ConstructionPermit.objects.get(permit_num="5303022001010001-SX-001")
    assert permit.state == State.IN_REVIEW
    assert sorted(permit.drawing_reviews.values_list("pk", flat=True)) == sorted(
        [approved_review.pk, second_approved_review.pk]
    )
    assert str(permit.contract_amount) == "1000.5000"
    task = Task.objects.get(kind="permit", record_id=permit.pk, status="open")
    assert task.division_code == "530302"
    assert task.step_label == "发证机关审核（施工许可信息）"
    page = client.get(response["Location"]).content.decode()
    assert "待审核" in page
    assert "发证机关审核（施工许可信息）" in page


def test_a_draft_may_be_saved(as_user, contractor, approved_review, world):
    client = as_user(contractor)
    data = form_data(
        open_form(client, approved_review),
        {
            "permit_num": "5303022001010001-SX-002",
            "issuing_org": str(world["bureau_qlq"].pk),
            "action": "draft",
        },
    )
    assert client.post(NEW, data).status_code == 302
    permit = ConstructionPermit.objects.get(permit_num="5303022001010001-SX-002")
    assert permit.state == State.DRAFT


def test_a_design_unit_or_reviewer_may_not_enter_permits(as_user, designer, reviewer, approved_review):
    response = as_user(designer).get(NEW)
    assert response.status_code == 403
    assert "施工许可信息由施工总承包单位录入" in response.content.decode()
    assert as_user(reviewer).get(NEW).status_code == 403


def test_an_unusual_permit_number_is_a_warning_to_confirm(as_user, contractor, approved_review, world):
    client = as_user(contractor)
    data = form_data(
        open_form(client, approved_review),
        {**permit_fields(world, permit_num="麒建施字2020第12号"), "action": "submit"},
    )
    response = client.post(NEW, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "warning-list" in html
    assert "请核对后确认" in html
    assert "我已核对，确认无误" in html
    assert not ConstructionPermit.objects.exists()
    data["confirm_warnings"] = "on"
    assert client.post(NEW, data).status_code == 302
    assert ConstructionPermit.objects.get().permit_num == "麒建施字2020第12号"


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"issue_date": "2019-01-01"}, "issue_date", "发证日期不能早于施工图审查完成日期（2020-03-01）"),
        ({"contract_amount": "0"}, "contract_amount", "数值应大于0"),
        ({"contract_amount": ""}, "contract_amount", "请填写“合同金额（万元）”"),
        ({"issuing_org": ""}, "issuing_org", "请填写“发证机关”"),
        ({"supervision_org": "91530302MA6K000001"}, "supervision_org", "统一社会信用代码"),
        ({"review_ids": []}, "drawing_reviews", "请至少选择一条已审核认定的施工图审查信息"),
    ],
)
def test_bad_permit_input_is_refused_in_chinese(
    as_user, contractor, approved_review, world, changes, field, message
):
    client = as_user(contractor)
    data = form_data(
        open_form(client, approved_review), {**permit_fields(world), **changes, "action": "submit"}
    )
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert any(message in e for e in field_errors(response.content.decode(), field)), field_errors(
        response.content.decode(), field
    )
    assert not ConstructionPermit.objects.exists()


def test_a_duplicate_permit_number_is_refused(as_user, contractor, permit_in_review, approved_review, world):
    client = as_user(contractor)
    data = form_data(
        open_form(client, approved_review),
        {**permit_fields(world, permit_num=permit_in_review.permit_num), "action": "draft"},
    )
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert any("已有施工许可证编号为" in e for e in field_errors(response.content.decode(), "permit_num"))
    assert ConstructionPermit.objects.count() == 1


def test_returned_permit_is_corrected_and_resubmitted(as_user, contractor, returned_permit):
    client = as_user(contractor)
    url = reverse("projects:record-edit", args=["permit", returned_permit.pk])
    html = client.get(url).content.decode()
    assert "发证日期与原件不一致" in html
    assert "重新提交发证机关审核" in html
    data = form_data(
        html, {"issue_date": "2020-06-01", "project-name": "麒麟区测试项目（更正）", "action": "submit"}
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()
    returned_permit.refresh_from_db()
    assert returned_permit.state == State.IN_REVIEW
    assert returned_permit.revision == 2
    assert returned_permit.project.name == "麒麟区测试项目（更正）"
    assert Task.objects.filter(
        kind="permit", record_id=returned_permit.pk, status="open", revision=2
    ).exists()


def test_another_contractor_cannot_open_a_permit(as_user, other_contractor, permit_in_review):
    client = as_user(other_contractor)
    assert client.get(reverse("projects:record", args=["permit", permit_in_review.pk])).status_code == 404
    assert (
        client.get(reverse("projects:record-edit", args=["permit", permit_in_review.pk])).status_code == 404
    )


def test_posting_for_a_missing_project_is_404(as_user, contractor):
    assert as_user(contractor).post(NEW, {"project": "999999", "action": "draft"}).status_code == 404
    assert as_user(contractor).post(NEW, {"project": "x"}).status_code == 404


def test_platform_service_refusal_becomes_403(as_user, contractor, approved_review, world, project):
    """A permit of a project that is not the contractor's to enter: the service's PermissionDenied is a 403 page."""
    from projects.models import Project

    Project.objects.filter(pk=project.pk).update(kind=Project.Kind.DIRECT_SPECIALTY)
    client = as_user(contractor)
    # The picker does not offer a direct specialty project's review to a general contractor …
    response = client.get(NEW, {"review": approved_review.pk, "next": "1", "q": approved_review.censor_num})
    assert response.status_code == 400
    assert "只能选择查找结果中" in response.content.decode()
    # … and the service refuses it with the rule's message (403) when called anyway.
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied, match="专业承包单位"):
        ps.permit_save(
            actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
        )
    assert ps  # services are what the views call


def test_the_exchange_pre_flight_refusal_is_shown_on_the_field_in_chinese(
    as_user, contractor, approved_review, world
):
    """The drawing review behind the permit carries no survey unit (a pre-existing record): the
    platform would refuse the permit, so the submission is refused on the drawing-review choice."""
    type(approved_review).objects.filter(pk=approved_review.pk).update(survey_org=None)
    client = as_user(contractor)
    html = open_form(client, approved_review)
    response = client.post(NEW, form_data(html, {**permit_fields(world), "action": "submit"}))
    assert response.status_code == 400
    messages = field_errors(response.content.decode(), "drawing_reviews")
    assert any("勘察单位" in m and "数据标准" in m for m in messages), messages
    assert not ConstructionPermit.objects.exists()
