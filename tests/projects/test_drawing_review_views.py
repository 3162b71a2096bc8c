"""我的图审信息 and completing a drawing review (notice 一(一)1): the design unit completes a
pre-existing record with the project's basic info and buildings, saves a draft, submits it."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from projects.models import DrawingReview, Origin, Project, Round, State
from review.models import Task
from tests import factories as f
from tests.projects.formdata import field_errors, form_data
from yunjian.core.validators import complete_credit_code

pytestmark = pytest.mark.django_db
LIST = reverse("projects:my-reviews")


def edit_url(review):
    return reverse("projects:record-edit", args=["drawing_review", review.pk])


def filled(html: str, **extra) -> dict:
    """The edit form as shown, completed the way a design unit would."""
    return form_data(
        html,
        {
            "one_pass": "true",
            "violations_count": "0",
            "b-0-name": "1号教学楼",
            "b-0-structure_type": "frame",
            "b-0-floors_above": "5",
            "b-0-area_above": "8,600",  # thousands separators are fine
            **extra,
        },
    )


def test_my_reviews_lists_the_units_drawing_reviews_and_no_create_button(as_user, designer, review):
    html = as_user(designer).get(LIST).content.decode()
    assert review.censor_num in html
    assert edit_url(review) in html
    assert "设计单位不能自行新增图审信息" in html
    assert reverse("projects:addition-new") in html
    assert "/drawing-reviews/new/" not in html


def test_my_reviews_search_and_state_filter(as_user, designer, review, approved_review):
    client = as_user(designer)
    html = client.get(LIST, {"q": review.censor_num[:-1]}).content.decode()
    assert review.censor_num in html
    assert approved_review.censor_num not in html
    html = client.get(LIST, {"state": "approved"}).content.decode()
    assert approved_review.censor_num in html
    assert review.censor_num not in html
    html = client.get(LIST, {"q": "麒麟区测试"}).content.decode()
    assert review.censor_num in html


def test_other_design_unit_and_wrong_roles(as_user, other_designer, reviewer, review):
    html = as_user(other_designer).get(LIST).content.decode()
    assert review.censor_num not in html
    assert as_user(other_designer).get(edit_url(review)).status_code == 404
    assert as_user(reviewer).get(LIST).status_code == 403
    assert as_user(reviewer).get(edit_url(review)).status_code == 403


def test_design_unit_completes_and_submits_to_the_institution(as_user, designer, review):
    client = as_user(designer)
    page = client.get(edit_url(review))
    assert page.status_code == 200
    data = filled(page.content.decode(), **{"project-address": "麒麟区南宁北路", "action": "submit"})
    response = client.post(edit_url(review), data)
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == reverse("projects:record", args=["drawing_review", review.pk])
    review.refresh_from_db()
    assert review.state == State.IN_REVIEW
    assert review.step == "institution_confirm"
    assert review.revision == 1
    assert review.one_pass is True
    project = Project.objects.get(pk=review.project_id)
    assert project.address == "麒麟区南宁北路"
    assert [(b.name, b.floors_above, int(b.area_above)) for b in project.buildings.all()] == [
        ("1号教学楼", 5, 8600)
    ]
    assert Round.objects.filter(kind="drawing_review", record_id=review.pk, revision=1).exists()
    assert (
        Task.objects.get(kind="drawing_review", record_id=review.pk, status="open").step_label
        == "审图机构确认"
    )
    html = client.get(response["Location"]).content.decode()
    assert "已提交，现由“审图机构确认”" in html
    assert "审图机构确认" in html


def test_save_draft_keeps_it_editable(as_user, designer, review):
    client = as_user(designer)
    data = filled(client.get(edit_url(review)).content.decode(), action="draft")
    assert client.post(edit_url(review), data).status_code == 302
    review.refresh_from_db()
    assert review.state == State.DRAFT
    assert review.one_pass is True


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"project-total_area": "-5"}, "total_area", "数值应大于0"),
        ({"project-total_investment": "十万"}, "total_investment", "“总投资（万元）”应为数字"),
        ({"censor_date": "2019-02-30"}, "censor_date", "“审查完成日期”应为有效日期"),
        ({"censor_date": f"{date.today().year + 1}-01-01"}, "censor_date", "不能晚于今天"),
        ({"censor_date": "2999-01-01"}, "censor_date", "日期应在1950年1月1日至"),
        ({"censor_date": "0001-01-01"}, "censor_date", "日期应在1950年1月1日至"),
        (
            {"project-planned_start": "2020-05-01", "project-planned_end": "2020-01-01"},
            "planned_end",
            "不能早于“计划开工日期”",
        ),
        ({"project-name": ""}, "name", "请填写“项目名称”"),
        (
            {"project-owner_org": complete_credit_code("9153030200000001")},
            "owner_org",
            "系统中没有统一社会信用代码为",
        ),
        ({"survey_org": "123"}, "survey_org", "统一社会信用代码应为18位"),
        ({"b-0-floors_above": "-1"}, "buildings.floors_above", "“地上层数”不能小于 0"),
    ],
)
def test_bad_input_gives_chinese_errors_and_changes_nothing(
    as_user, designer, review, changes, field, message
):
    client = as_user(designer)
    before = (review.lock_version, Project.objects.get(pk=review.project_id).name)
    data = filled(client.get(edit_url(review)).content.decode(), action="submit", **changes)
    response = client.post(edit_url(review), data)
    assert response.status_code == 400
    assert any(message in e for e in field_errors(response.content.decode(), field))
    review.refresh_from_db()
    assert (review.lock_version, Project.objects.get(pk=review.project_id).name) == before
    assert review.state == State.DRAFT


def test_submitting_incomplete_record_names_the_missing_fields(as_user, designer, review):
    client = as_user(designer)
    data = form_data(client.get(edit_url(review)).content.decode(), {"action": "submit", "b-0-name": "主楼"})
    response = client.post(edit_url(review), data)
    assert response.status_code == 400
    assert "请填写“一次审查是否通过”" in response.content.decode()
    review.refresh_from_db()
    assert review.state == State.DRAFT
    assert review.revision == 0


def test_add_building_row_without_javascript(as_user, designer, review):
    client = as_user(designer)
    data = filled(client.get(edit_url(review)).content.decode(), action="add_building")
    response = client.post(edit_url(review), data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="b-TOTAL_FORMS" value="2"' in html
    assert 'value="1号教学楼"' in html  # what was typed is kept
    assert "单体 2" in html
    assert "errorlist" not in html  # no errors shown for a half-filled form
    review.refresh_from_db()
    assert review.lock_version == 1  # nothing saved
    # Then the second row is filled in and both are saved.
    data = form_data(html, {"b-1-name": "2号楼", "action": "draft"})
    assert client.post(edit_url(review), data).status_code == 302
    assert list(Project.objects.get(pk=review.project_id).buildings.values_list("name", flat=True)) == [
        "1号教学楼",
        "2号楼",
    ]


def test_add_building_row_with_htmx(as_user, designer):
    response = as_user(designer).get(
        reverse("projects:building-row"), {"b-TOTAL_FORMS": "3"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="b-3-name"' in html
    assert "单体 4" in html
    assert 'id="id_b-TOTAL_FORMS"' in html
    assert 'value="4"' in html
    assert 'hx-swap-oob="true"' in html
    assert "<html" not in html


def test_returned_review_is_corrected_and_resubmitted_as_next_round(
    as_user, designer, review, institution_staff
):
    f.complete_and_submit_review(review, designer)
    f.send_back(review, institution_staff, reason="审查完成日期有误", fields=["censor_date"])
    client = as_user(designer)
    html = client.get(edit_url(review)).content.decode()
    assert "审查完成日期有误" in html
    assert 'flagged" data-field="censor_date"' in html
    data = form_data(html, {"censor_date": "2020-02-01", "action": "submit"})
    assert client.post(edit_url(review), data).status_code == 302
    review.refresh_from_db()
    assert review.state == State.IN_REVIEW
    assert review.revision == 2
    assert str(review.censor_date) == "2020-02-01"


def test_basic_info_is_read_only_once_settled(as_user, designer, review, project):
    Project.objects.filter(pk=project.pk).update(origin=Origin.PLATFORM)
    html = as_user(designer).get(edit_url(review)).content.decode()
    assert "不能修改" in html
    assert 'name="project-name"' not in html


def test_platform_project_drawing_review_is_created_by_the_design_unit(as_user, designer, world):
    platform_project = f.make_project("530302", owner=world["owner"], origin=Origin.PLATFORM)
    client = as_user(designer)
    url = reverse("projects:review-new", args=[platform_project.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(
        page.content.decode(),
        {
            "censor_num": f"{platform_project.prj_num}-TX-001",
            "censor_org": str(world["institution"].pk),
            "censor_date": "2020-01-10",
            "one_pass": "true",
            "survey_org": world["survey"].credit_code,
            "action": "submit",
        },
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()
    created = DrawingReview.objects.get(project=platform_project)
    assert created.state == State.IN_REVIEW
    assert created.path == DrawingReview.Path.PLATFORM


def test_no_drawing_review_may_be_created_on_the_pms_path(as_user, designer, project, review):
    response = as_user(designer).get(reverse("projects:review-new", args=[project.pk]))
    assert response.status_code == 403
    assert "图审信息新增申请" in response.content.decode()
