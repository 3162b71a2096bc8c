"""The load pages: upload → preview → apply → report as the system administrator; everyone else refused."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse

from loads import engine
from loads.models import LoadJob
from projects.models import ConstructionPermit, DrawingReview, Project
from tests.loads import exports as x
from yunjian.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def upload(client, *paths, origin="pms"):
    files = [SimpleUploadedFile(p.name, p.read_bytes()) for p in paths]
    return client.post(reverse("loads:index"), {"files": files, "origin": origin})


def work():
    call_command("load_worker", "--once", stdout=io.StringIO())


def test_upload_preview_apply_report_journey(client, province_admin, pms_files, tmp_path, world):
    prj = pms_files["prj"]
    bad = x.write(
        tmp_path / "more-censors.csv",
        x.CENSOR_HEADER,
        [
            [
                f"{prj}-TX-002",
                prj,
                "审图中心",
                world["institution"].credit_code,
                "2020-02-30",
                "设计院",
                world["design"].credit_code,
                "1",
            ]
        ],
    )
    client.force_login(province_admin)
    response = upload(client, pms_files["projects"], pms_files["censors"], pms_files["permits"], bad)
    job = LoadJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("loads:job", args=[job.pk])
    page = client.get(response["Location"]).content.decode()
    assert "等待检查" in page
    assert 'http-equiv="refresh"' in page  # follows the progress while the worker runs
    work()
    page = client.get(reverse("loads:job", args=[job.pk])).content.decode()
    assert "确认导入" in page
    assert "审查完成日期“2020-02-30”不是有效日期" in page  # every error by row and column, in Chinese
    assert Project.objects.count() == 0  # the preview writes nothing
    response = client.post(reverse("loads:apply", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == LoadJob.Status.APPLY_QUEUED
    work()
    job.refresh_from_db()
    assert job.status == LoadJob.Status.DONE
    assert job.apply_counts["new"] == 3
    assert job.apply_counts["error"] == 1
    assert (DrawingReview.objects.count(), ConstructionPermit.objects.count()) == (1, 1)
    page = client.get(reverse("loads:job", args=[job.pk])).content.decode()
    assert "导入完成" in page
    report = client.get(reverse("loads:report", args=[job.pk]))
    assert report["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(report.content))
    issues = list(book["错误与冲突"].iter_rows(values_only=True))
    assert issues[1][:5] == ("more-censors.csv", 2, "TBProjectCensorInfo", f"{prj}-TX-002", "错误")
    assert "不是有效日期" in issues[1][6]
    audit = AuditEntry.objects.get(object_type="load_job", object_id=str(job.pk))
    assert audit.actor == province_admin
    assert len(audit.data["files"]) == 4
    assert not any(engine.store_dir().iterdir())  # the uploaded files are discarded once applied


def test_confirming_twice_is_refused(client, province_admin, pms_files):
    client.force_login(province_admin)
    upload(client, pms_files["projects"])
    job = LoadJob.objects.get()
    work()
    client.post(reverse("loads:apply", args=[job.pk]))
    assert client.post(reverse("loads:apply", args=[job.pk])).status_code == 409


def test_an_unreadable_upload_is_refused_and_changes_nothing(client, province_admin, tmp_path):
    bad = tmp_path / "export.xlsx"
    bad.write_bytes(b"this is not a spreadsheet\x00\x00")
    client.force_login(province_admin)
    upload(client, bad)
    work()
    job = LoadJob.objects.get()
    assert job.status == LoadJob.Status.REFUSED
    page = client.get(reverse("loads:job", args=[job.pk])).content.decode()
    assert "文件无法导入" in page
    assert "确认导入" not in page
    assert Project.objects.count() == 0


def test_no_file_is_a_400_in_chinese(client, province_admin):
    client.force_login(province_admin)
    response = client.post(reverse("loads:index"), {"origin": "pms"})
    assert response.status_code == 400
    assert "请选择要导入的文件" in response.content.decode()


@pytest.mark.parametrize("persona", ["reviewer", "outsider", "designer"])
def test_every_load_page_refuses_other_roles(client, request, persona, province_admin, pms_files):
    client.force_login(province_admin)
    upload(client, pms_files["projects"])
    job = LoadJob.objects.get()
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("loads:index")).status_code == 403
    assert upload(client, pms_files["projects"]).status_code == 403
    assert client.get(reverse("loads:job", args=[job.pk])).status_code == 403
    assert client.post(reverse("loads:apply", args=[job.pk])).status_code == 403
    assert client.get(reverse("loads:report", args=[job.pk])).status_code == 403
    assert LoadJob.objects.count() == 1


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("loads:index"))
    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_unknown_job_is_404(client, province_admin):
    client.force_login(province_admin)
    assert client.get(reverse("loads:job", args=[999999])).status_code == 404


def test_list_page_query_count_is_flat(client, province_admin, django_assert_max_num_queries):
    client.force_login(province_admin)
    for _ in range(2):
        LoadJob.objects.create(origin="pms", source="command")
    with django_assert_max_num_queries(8) as few:
        assert client.get(reverse("loads:index")).status_code == 200
    for _ in range(25):
        LoadJob.objects.create(origin="pms", source="web", created_by=province_admin)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse("loads:index"))


def test_job_page_query_count_is_flat(
    client, province_admin, pms_files, tmp_path, world, django_assert_max_num_queries
):
    client.force_login(province_admin)
    prj = pms_files["prj"]
    rows = [
        [
            f"{prj}-TX-{n:03d}",
            prj,
            "",
            world["institution"].credit_code,
            "bad",
            "",
            world["design"].credit_code,
            "1",
        ]
        for n in range(1, 40)
    ]
    upload(client, x.write(tmp_path / "c.csv", x.CENSOR_HEADER, rows))
    work()
    job = LoadJob.objects.get()
    with django_assert_max_num_queries(10) as captured:
        page = client.get(reverse("loads:job", args=[job.pk])).content.decode()
    assert page.count('data-row="') == 39
    small = len(captured.captured_queries)
    upload(client, x.write(tmp_path / "d.csv", x.CENSOR_HEADER, rows[:2]))
    work()
    other = LoadJob.objects.order_by("-id").first()
    with django_assert_max_num_queries(small):
        client.get(reverse("loads:job", args=[other.pk]))


def test_a_file_over_the_limit_is_a_400_in_chinese(client, province_admin, settings, pms_files):
    settings.LOAD_MAX_BYTES = 10
    client.force_login(province_admin)
    response = upload(client, pms_files["projects"])
    assert response.status_code == 400
    assert "超过" in response.content.decode()
    assert LoadJob.objects.count() == 0
