"""建设单位直接发包的专业承包项目 (notice 二(二)): basic info first, reviewed; then the other records."""

from __future__ import annotations

import pytest
from django.urls import reverse

from projects.models import DrawingReview, Project, SpecialtyProjectInfo, State
from tests import factories as f
from tests.projects.formdata import field_errors, form_data

pytestmark = pytest.mark.django_db
NEW = reverse("projects:specialty-new")


def basic(world, prj_num: str, **extra) -> dict:
    return {
        "prj_num": prj_num,
        "specialty_scope": "消防设施工程",
        "project-name": "会展中心消防工程",
        "project-prj_type": "01",
        "project-prj_function": "300",
        "project-county": "530302",
        "project-owner_org": world["owner"].credit_code,
        "project-prj_property": "001",
        "project-actual_start": "2020-03-01",
        "project-actual_end": "2020-11-30",
        "b-0-name": "会展中心主馆",
        **extra,
    }


def test_specialty_contractor_enters_basic_info_and_submits(as_user, specialist, world):
    client = as_user(specialist)
    html = client.get(NEW).content.decode()
    prj_num = f.prj_num("530302")
    response = client.post(NEW, form_data(html, {**basic(world, prj_num), "action": "submit"}))
    assert response.status_code == 302, response.content.decode()
    info = SpecialtyProjectInfo.objects.get()
    assert info.state == State.IN_REVIEW
    project = Project.objects.get(prj_num=prj_num)
    assert project.kind == Project.Kind.DIRECT_SPECIALTY
    assert project.owner_org == world["owner"]
    assert list(project.buildings.values_list("name", flat=True)) == ["会展中心主馆"]
    assert "住建部门审核（专业承包项目基本信息）" in client.get(response["Location"]).content.decode()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"prj_num": "5303"}, "prj_num", "项目编号应为16位数字"),
        ({"prj_num": "5303022013450001"}, "prj_num", "有效的年月日"),
        ({"project-county": ""}, "county", "请填写“项目所在县（市、区）”"),
        ({"project-owner_org": "9153"}, "owner_org", "统一社会信用代码应为18位"),
        ({"specialty_scope": ""}, "specialty_scope", "请填写“专业承包内容”"),
    ],
)
def test_bad_basic_info_is_refused(as_user, specialist, world, changes, field, message):
    client = as_user(specialist)
    data = form_data(
        client.get(NEW).content.decode(), {**basic(world, f.prj_num("530302")), **changes, "action": "submit"}
    )
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert any(message in e for e in field_errors(response.content.decode(), field))
    assert not SpecialtyProjectInfo.objects.exists()


def test_an_existing_project_number_is_refused_on_the_number(as_user, specialist, world, project):
    client = as_user(specialist)
    data = form_data(client.get(NEW).content.decode(), {**basic(world, project.prj_num), "action": "draft"})
    response = client.post(NEW, data)
    assert response.status_code == 400
    assert field_errors(response.content.decode(), "prj_num")
    assert not SpecialtyProjectInfo.objects.exists()


def test_only_specialty_contractors(as_user, contractor, reviewer):
    assert as_user(contractor).get(NEW).status_code == 403
    assert as_user(reviewer).get(NEW).status_code == 403


def test_after_approval_the_other_records_follow(
    as_user, specialist, specialty_info, reviewer, world, other_specialist
):
    project = specialty_info.project
    client = as_user(specialist)
    # Before approval: nothing else may be entered.
    html = client.get(reverse("projects:project", args=[project.pk])).content.decode()
    assert reverse("projects:review-new", args=[project.pk]) not in html
    f.approve(
        f.ps.specialty_info_save(
            actor=specialist, info_id=specialty_info.pk, project_data={}, data={}, submit=True
        ),
        reviewer,
    )
    html = client.get(reverse("projects:project", args=[project.pk])).content.decode()
    assert "待录入施工图审查信息" in html
    url = reverse("projects:review-new", args=[project.pk])
    data = form_data(
        client.get(url).content.decode(),
        {
            "censor_num": f"{project.prj_num}-TX-001",
            "censor_org": str(world["institution"].pk),
            "censor_date": "2020-01-10",
            "one_pass": "true",
            "survey_org": world["survey"].credit_code,
            "action": "submit",
        },
    )
    assert client.post(url, data).status_code == 302
    assert DrawingReview.objects.get(project=project).state == State.IN_REVIEW
    # Another specialty contractor sees nothing of it.
    assert as_user(other_specialist).get(reverse("projects:project", args=[project.pk])).status_code == 404
    assert as_user(other_specialist).get(url).status_code == 404


def test_returned_basic_info_is_corrected(as_user, specialist, specialty_info, reviewer):
    f.ps.specialty_info_save(
        actor=specialist, info_id=specialty_info.pk, project_data={}, data={}, submit=True
    )
    f.send_back(specialty_info, reviewer, reason="建设单位有误", fields=["project.owner_org"])
    client = as_user(specialist)
    url = reverse("projects:record-edit", args=["specialty_info", specialty_info.pk])
    html = client.get(url).content.decode()
    assert "建设单位有误" in html
    assert 'flagged" data-field="owner_org"' in html
    assert (
        client.post(url, form_data(html, {"project-address": "麒麟区", "action": "submit"})).status_code
        == 302
    )
    specialty_info.refresh_from_db()
    assert specialty_info.state == State.IN_REVIEW
    assert specialty_info.revision == 2
