"""Issue 17 §1: an enterprise registers, the province approves or refuses it; a credit code already
registered or pending is refused with whom to contact; an unverified unit is claimed, never duplicated;
two registrations at once create one."""

from __future__ import annotations

import json
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from enterprises import services
from enterprises.models import Registration
from tests import factories as f
from tests.enterprises.conftest import (
    NEW_PASSWORD,
    credit_code,
    form_data,
    licence,
    registration_data,
    unverified_org,
)
from tests.projects.conftest import DOCX_BYTES, PNG_BYTES, upload
from yunjian.core.models import AuditEntry, Organization, Role, User


def _register(code, **overrides):
    return services.register(data=registration_data(code, **overrides), licence=licence(), ip="10.0.0.1")


@pytest.mark.django_db
def test_registration_then_approval_creates_the_unit_and_its_administrator(media, province_admin):
    code = credit_code(1)
    registration, token = _register(code)
    assert registration.state == Registration.State.PENDING
    assert registration.password_hash
    assert NEW_PASSWORD not in registration.password_hash
    assert not Organization.objects.filter(credit_code=code).exists()
    assert AuditEntry.objects.filter(object_type="enterprise_registration", action="create").count() == 1

    services.approve(actor=province_admin, registration_id=registration.pk, ip="10.0.0.2")
    registration = Registration.objects.get(pk=registration.pk)
    org = Organization.objects.get(credit_code=code)
    assert org.is_verified
    assert org.name == "曲靖市新建筑工程有限公司"
    assert org.has_kind("general_contractor")
    admin = User.objects.get(username="qj_builder_admin")
    assert admin.organization == org
    assert admin.has_role(Role.ENTERPRISE)
    assert admin.has_role(Role.ENTERPRISE_ADMIN)
    assert admin.check_password(NEW_PASSWORD)
    assert registration.state == Registration.State.APPROVED
    assert registration.password_hash == ""
    assert (registration.organization, registration.admin_user, registration.claimed) == (org, admin, False)
    actions = set(AuditEntry.objects.filter(actor=province_admin).values_list("action", "object_type"))
    assert {
        ("approve", "enterprise_registration"),
        ("create", "organization"),
        ("permission", "user"),
    } <= actions
    # The applicant's email is a job deferred in the approval's transaction.
    from tests.jobs import jobs

    # (Other tests' committed jobs may be in the table: this registration's only.)
    mine = {"registration_id": registration.pk}
    assert [j["status"] for j in jobs("enterprises.send_outcome") if json.loads(j["args"]) == mine] == [
        "todo"
    ]


@pytest.mark.django_db
def test_refusal_needs_a_reason_the_applicant_reads_on_the_status_page(media, province_admin, client):
    registration, token = _register(credit_code(2))
    with pytest.raises(ValidationError):
        services.refuse(actor=province_admin, registration_id=registration.pk, reason="  ")
    services.refuse(actor=province_admin, registration_id=registration.pk, reason="营业执照扫描件看不清")
    registration = Registration.objects.get(pk=registration.pk)
    assert registration.state == Registration.State.REFUSED
    assert not User.objects.filter(username="qj_builder_admin").exists()
    page = client.get(reverse("enterprises:status", args=[token]))
    assert "营业执照扫描件看不清" in page.content.decode()
    assert client.get(reverse("enterprises:status", args=["not-a-token"])).status_code == 404
    # Decided once: neither approved nor refused again.
    with pytest.raises(ValidationError):
        services.approve(actor=province_admin, registration_id=registration.pk)
    # Refused, the enterprise may apply again.
    _register(credit_code(2))


@pytest.mark.django_db
def test_only_the_province_decides(media, world, contractor):
    registration, _ = _register(credit_code(3))
    with pytest.raises(PermissionDenied):
        services.approve(actor=contractor, registration_id=registration.pk)
    with pytest.raises(PermissionDenied):
        services.refuse(actor=contractor, registration_id=registration.pk, reason="随便拒绝一下")


@pytest.mark.django_db
def test_a_code_already_registered_or_pending_is_refused_with_whom_to_contact(media, world):
    existing = world["builder"]  # a verified unit with its accounts
    with pytest.raises(ValidationError) as error:
        _register(existing.credit_code)
    message = error.value.message_dict["credit_code"][0]
    assert "已注册为“施工总包公司”" in message
    assert "企业管理员" in message
    code = credit_code(4)
    _register(code)
    with pytest.raises(ValidationError) as error:
        _register(code, username="another_admin")
    assert "正在审核中" in error.value.message_dict["credit_code"][0]
    assert Registration.objects.filter(credit_code=code).count() == 1
    # A username taken by an account or a pending application is refused too.
    with pytest.raises(ValidationError) as error:
        _register(
            credit_code(5),
            username=existing.users.first().username if existing.users.exists() else "qj_builder_admin",
        )
    assert "已被使用" in error.value.message_dict["username"][0]


@pytest.mark.django_db
def test_an_unverified_unit_created_by_an_entry_is_claimed_not_duplicated(media, province_admin):
    code = credit_code(6)
    org = unverified_org(code, name="曲靖新建筑公司")
    registration, _ = _register(code)
    services.approve(actor=province_admin, registration_id=registration.pk)
    assert Organization.objects.filter(credit_code=code).count() == 1
    org.refresh_from_db()
    assert org.is_verified
    assert org.name == "曲靖市新建筑工程有限公司"
    assert org.has_kind("owner")
    assert org.has_kind("general_contractor")
    registration = Registration.objects.get(pk=registration.pk)
    assert registration.claimed
    assert registration.organization == org
    assert User.objects.get(username="qj_builder_admin").organization == org
    assert AuditEntry.objects.filter(
        object_type="organization", object_id=str(org.pk), action="update"
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_two_registrations_of_one_code_at_once_store_one(media):
    from tests.conftest import ensure_divisions

    ensure_divisions()
    code = credit_code(7)
    barrier = threading.Barrier(2)
    results: list = []

    def run(username):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            services.register(data=registration_data(code, username=username), licence=licence())
            results.append("ok")
        except ValidationError as error:
            results.append(error.message_dict["credit_code"][0])
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(name,)) for name in ("admin_one", "admin_two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    assert any("正在审核中" in r for r in results if r != "ok"), results
    assert Registration.objects.filter(credit_code=code).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_approvals_at_once_create_one_unit(media):
    from tests.conftest import ensure_divisions

    ensure_divisions()
    admin_org = f.make_org("省厅", Organization.Kind.PROVINCE_DEPT, division="530000")
    admins = [f.make_user(f"prov{i}", admin_org, Role.PROVINCE_ADMIN, is_staff=True) for i in (1, 2)]
    registration, _ = _register(credit_code(8))
    barrier = threading.Barrier(2)
    results: list = []

    def run(actor):
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            services.approve(actor=actor, registration_id=registration.pk)
            results.append("ok")
        except ValidationError as error:
            results.append(error.messages[0])
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run, args=(a,)) for a in admins]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 1, results
    assert Organization.objects.filter(credit_code=credit_code(8)).count() == 1
    assert User.objects.filter(username="qj_builder_admin").count() == 1


# --- the pages ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_form_checks_the_code_mobile_password_and_the_licence_by_content(media, client):
    url = reverse("enterprises:register")
    assert client.get(url).status_code == 200
    good = credit_code(9)
    bad_code = good[:17] + ("1" if good[17] != "1" else "2")
    response = client.post(url, form_data(bad_code))
    assert response.status_code == 200
    assert "校验位" in str(response.context["form"].errors["credit_code"])
    response = client.post(url, form_data(good, contact_mobile="1234"))
    assert "11位手机号码" in str(response.context["form"].errors["contact_mobile"])
    response = client.post(url, form_data(good, password="abc"))
    assert response.context["form"].errors["password"]
    data = form_data(good)
    data["licence"] = upload("营业执照.pdf", DOCX_BYTES)  # a Word file wearing a .pdf name
    response = client.post(url, data)
    assert "不是 PDF 格式" in str(response.context["form"].errors["licence"])
    assert not Registration.objects.exists()
    data = form_data(good)
    data["licence"] = upload("执照.png", PNG_BYTES)
    response = client.post(url, data)
    assert response.status_code == 302
    assert Registration.objects.get().licence.name.endswith(".png")
    status = client.get(response["Location"])
    assert "待审核" in status.content.decode()


@pytest.mark.django_db
def test_registration_is_rate_limited_per_address(media, client, settings):
    from enterprises import views

    url = reverse("enterprises:register")
    for _ in range(views.REGISTER_LIMIT):
        assert client.post(url, {"credit_code": "x"}).status_code == 200
    response = client.post(url, {"credit_code": "x"})
    assert response.status_code == 429
    assert "过于频繁" in response.content.decode()
    # Another address is not affected.
    assert client.post(url, {"credit_code": "x"}, REMOTE_ADDR="10.9.9.9").status_code == 200


@pytest.mark.django_db
def test_the_queue_approve_and_refuse_pages(media, client, province_admin):
    first, _ = _register(credit_code(10))
    second, _ = _register(credit_code(11), username="second_admin")
    client.force_login(province_admin)
    queue = client.get(reverse("enterprises:queue"))
    assert [r.pk for r in queue.context["page"].rows] == [first.pk, second.pk]
    detail = client.get(reverse("enterprises:registration", args=[first.pk]))
    assert detail.status_code == 200
    licence_response = client.get(reverse("enterprises:licence", args=[first.pk]))
    assert licence_response.status_code == 200
    assert b"".join(licence_response.streaming_content).startswith(b"%PDF")
    response = client.post(reverse("enterprises:refuse", args=[second.pk]), {"reason": ""})
    assert response.status_code == 400
    response = client.post(reverse("enterprises:refuse", args=[second.pk]), {"reason": "名称与执照不一致"})
    assert response.status_code == 302
    response = client.post(reverse("enterprises:approve", args=[first.pk]))
    assert response.status_code == 302
    assert User.objects.filter(
        username="qj_builder_admin", organization__credit_code=credit_code(10)
    ).exists()
    queue = client.get(reverse("enterprises:queue"))
    assert queue.context["page"].rows == []


@pytest.mark.django_db
def test_the_queue_costs_the_same_queries_for_more_rows(
    media, client, province_admin, django_assert_max_num_queries
):
    for n in range(3):
        _register(credit_code(20 + n), username=f"admin_{n}")
    client.force_login(province_admin)
    url = reverse("enterprises:queue")
    client.get(url)
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(conn) as few:
        client.get(url)
    for n in range(3, 12):
        _register(credit_code(20 + n), username=f"admin_{n}")
    with CaptureQueriesContext(conn) as many:
        client.get(url)
    assert len(many) == len(few)


@pytest.mark.django_db(transaction=True)
def test_the_applicant_is_emailed_after_the_decision_commits(media, settings):
    from django.core import mail

    from tests.conftest import ensure_divisions
    from tests.jobs import clear_queue, run_jobs

    ensure_divisions()
    clear_queue()
    admin_org = f.make_org("省厅", Organization.Kind.PROVINCE_DEPT, division="530000")
    admin = f.make_user("prov_mail", admin_org, Role.PROVINCE_ADMIN, is_staff=True)
    approved, _ = _register(credit_code(30))
    refused, _ = _register(credit_code(31), username="refused_admin", contact_email="li@example.com")
    services.approve(actor=admin, registration_id=approved.pk)
    services.refuse(actor=admin, registration_id=refused.pk, reason="营业执照已过期")
    run_jobs("notices")
    sent = {m.to[0]: m for m in mail.outbox}
    assert "申请已通过" in sent["wang@example.com"].subject
    assert "qj_builder_admin" in sent["wang@example.com"].body
    assert "营业执照已过期" in sent["li@example.com"].body


@pytest.mark.django_db
def test_nonsense_input_gets_chinese_errors_and_changes_nothing(media, client):
    url = reverse("enterprises:register")
    data = form_data(credit_code(40), kinds=["province_dept"], contact_email="not-an-email")
    data["division"] = "999999"
    response = client.post(url, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) >= {"kinds", "division", "contact_email"}
    assert "请从列表中选择行政区划" in str(errors["division"])
    assert "邮箱" in str(errors["contact_email"])
    response = client.post(url, {})
    assert "请上传营业执照扫描件" in str(response.context["form"].errors["licence"])
    assert "请填写统一社会信用代码" in str(response.context["form"].errors["credit_code"])
    assert not Registration.objects.exists()
    assert client.get(reverse("enterprises:status", args=["%E4%B8%AD" * 30])).status_code == 404
    search = reverse("enterprises:public-search")
    assert client.get(search, {"q": "x" * 1000}).status_code == 200
    assert client.get(reverse("enterprises:public-enterprise", args=["中文代码"])).status_code == 404
