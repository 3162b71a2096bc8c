"""Issue 11: a historical project without a national 项目编号 gets one by the numbering rule
(docs/data-standard.md §3.4: county code + YYMMDD + 4-digit sequence), marked provisional, and two
assignments at the same moment never give the same number (real threads, own connections)."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from django.db import connection, transaction
from django.utils import timezone

from projects import services as ps
from projects.models import DrawingReview, Project, SpecialtyProjectInfo
from tests import factories as f
from yunjian.core.models import Division
from yunjian.core.validators import prj_num_problem


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def runner(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # noqa: BLE001  (the test inspects what each thread got)
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def specialty_project_data(name: str) -> dict:
    return {
        "name": name,
        "county": Division.objects.get(pk="530302"),
        "prj_type": "01",
        "prj_function": "300",
    }


def today_prefix(county: str = "530302") -> str:
    return f"{county}{timezone.localdate():%y%m%d}"


@pytest.mark.django_db
def test_a_direct_specialty_project_left_without_a_number_gets_a_provisional_one(specialist):
    info = ps.specialty_info_save(
        actor=specialist,
        prj_num="",
        project_data=specialty_project_data("消防工程"),
        data={"specialty_scope": "消防"},
    )
    project = info.project
    assert project.prj_num_provisional is True
    assert project.prj_num == today_prefix() + "0001"
    assert prj_num_problem(project.prj_num) == ""
    again = ps.specialty_info_save(
        actor=specialist,
        prj_num="",
        project_data=specialty_project_data("幕墙工程"),
        data={"specialty_scope": "幕墙"},
    )
    assert again.project.prj_num == today_prefix() + "0002"


@pytest.mark.django_db
def test_an_entered_number_is_kept_and_not_provisional(specialist):
    number = f.prj_num("530302")
    info = ps.specialty_info_save(
        actor=specialist,
        prj_num=number,
        project_data=specialty_project_data("消防工程"),
        data={"specialty_scope": "消防"},
    )
    assert (info.project.prj_num, info.project.prj_num_provisional) == (number, False)


@pytest.mark.django_db
def test_a_number_someone_entered_by_hand_is_skipped(specialist):
    f.make_project("530302", prj_num=today_prefix() + "0001")
    info = ps.specialty_info_save(
        actor=specialist,
        prj_num="",
        project_data=specialty_project_data("消防工程"),
        data={"specialty_scope": "消防"},
    )
    assert info.project.prj_num == today_prefix() + "0002"


@pytest.mark.django_db
def test_an_addition_request_without_a_number_gets_one_on_approval(world, designer, division_staff):
    request = ps.addition_request_save(
        actor=designer,
        submit=True,
        data={
            "prj_num": "",
            "project_name": "无编号的历史项目",
            "county": Division.objects.get(pk="530302"),
            "owner_name": "某建设单位",
            "censor_num": "LS-2018-TX-001",
            "censor_org": world["institution"],
            "censor_date": date(2018, 1, 10),
            "reason": "历史项目无全国统一项目编号",
            "contact_name": "李",
            "contact_phone": "13800138000",
        },
    )
    f.approve(request, division_staff)
    project = DrawingReview.objects.get(censor_num="LS-2018-TX-001").project
    assert project.prj_num_provisional is True
    assert project.prj_num.startswith(today_prefix())
    request.refresh_from_db()
    assert request.prj_num == project.prj_num


@pytest.mark.django_db
def test_the_entry_page_accepts_a_blank_number(client, specialist):
    from django.urls import reverse

    client.force_login(specialist)
    response = client.post(
        reverse("projects:specialty-new"),
        {
            "prj_num": "",
            "specialty_scope": "消防设施工程",
            "project-name": "会展中心消防工程",
            "project-prj_type": "01",
            "project-prj_function": "300",
            "project-county": "530302",
            "b-TOTAL_FORMS": "0",
            "b-INITIAL_FORMS": "0",
            "action": "draft",
        },
    )
    assert response.status_code == 302, response.content.decode()
    project = Project.objects.get(name="会展中心消防工程")
    assert project.prj_num_provisional
    assert project.prj_num.startswith(today_prefix())


@pytest.mark.django_db(transaction=True)
def test_two_assignments_at_the_same_moment_get_different_numbers(world, specialist):
    other = f.make_user("sid_specialty", world["specialty"], "enterprise")

    def enter(user, name):
        def call():
            with transaction.atomic():
                info = ps.specialty_info_save(
                    actor=user,
                    prj_num="",
                    project_data=specialty_project_data(name),
                    data={"specialty_scope": name},
                )
                # Hold the transaction open a moment so that the two overlap for certain.
                connection.cursor().execute("SELECT pg_sleep(0.3)")
                return info.project.prj_num

        return call

    results = run_together(enter(specialist, "消防工程甲"), enter(other, "消防工程乙"))

    assert all(isinstance(r, str) for r in results), results
    assert sorted(results) == [today_prefix() + "0001", today_prefix() + "0002"]
    assert SpecialtyProjectInfo.objects.count() == 2
    assert Project.objects.filter(prj_num_provisional=True).count() == 2
