"""三员分立 that cannot be bypassed: through the admin site as well as the app's pages.

The system administrator maintains data; the security administrator unlocks accounts and resets
passwords and second factors; the audit administrator alone reads the audit log; nobody is a
superuser; every change made through the admin site is audited with its actor.
"""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.test import RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories as f
from yunjian.core import audit
from yunjian.core.middleware import SignInPolicyMiddleware
from yunjian.core.models import AuditEntry, Role, User, Zone


@pytest.fixture
def security_admin(world):
    return f.make_user("sara_security", world["division"], Role.SECURITY_ADMIN)


@pytest.fixture
def audit_admin(world):
    return f.make_user("otto_auditor", world["division"], Role.AUDIT_ADMIN)


def lock_out(client, user, ip="203.0.113.5"):
    for _ in range(5):
        client.post(reverse("core:login"), {"username": user.username, "password": "wrong"}, REMOTE_ADDR=ip)
    assert AccessAttempt.objects.filter(username=user.username).exists()


# --- the admin site ------------------------------------------------------------------------------


FORBIDDEN_ADMIN_PAGES = [
    "/admin/core/auditentry/",
    "/admin/core/user/",
    "/admin/core/user/add/",
    "/admin/core/passwordhistory/",
    "/admin/axes/accessattempt/",
    "/admin/axes/accessfailurelog/",
    "/admin/axes/accesslog/",
    "/admin/auth/group/",
    "/admin/auth/permission/",
    "/admin/otp_totp/totpdevice/",
    "/admin/otp_static/staticdevice/",
]


def test_system_admin_site_shows_the_data_maintenance_models_only(client, province_admin):
    assert not province_admin.is_superuser
    client.force_login(province_admin)
    index = client.get("/admin/")
    assert index.status_code == 200
    apps = {app["app_label"]: {m["object_name"] for m in app["models"]} for app in index.context["app_list"]}
    assert apps["core"] == {"Division", "Zone", "Organization"}
    assert set(apps) <= {"core", "projects", "review", "sync"}
    assert client.get("/admin/core/organization/").status_code == 200
    for url in FORBIDDEN_ADMIN_PAGES:
        assert client.get(url).status_code == 404, url


def test_system_admin_cannot_read_the_audit_log_unlock_or_reset_through_the_app_either(
    client, province_admin, designer
):
    lock_out(client, designer)
    client.force_login(province_admin)
    assert client.get(reverse("core:audit-log")).status_code == 403
    assert client.get(reverse("core:accounts")).status_code == 403
    assert client.post(reverse("core:account-unlock", args=[designer.pk])).status_code == 403
    assert client.post(reverse("core:account-password-reset", args=[designer.pk])).status_code == 403
    assert client.post(reverse("core:account-otp-reset", args=[designer.pk])).status_code == 403
    assert AccessAttempt.objects.filter(username=designer.username).exists()  # still locked
    designer.refresh_from_db()
    assert designer.check_password(f.PASSWORD)


@pytest.mark.parametrize("persona", ["security_admin", "audit_admin", "reviewer", "designer"])
def test_admin_site_is_closed_to_every_other_role(client, request, persona):
    user = request.getfixturevalue(persona)
    client.force_login(user)
    for url in ("/admin/", "/admin/core/organization/", "/admin/core/auditentry/"):
        response = client.get(url, follow=True)
        assert response.status_code == 403, url
        assert "管理后台只对系统管理员开放" in response.content.decode()


def test_admin_site_needs_the_second_factor(province_admin):
    from tests.conftest import Client

    client = Client()
    client.post(reverse("core:login"), {"username": province_admin.username, "password": f.PASSWORD})
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("core:otp-verify"))


def test_admin_login_page_is_the_one_sign_in(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response.url.startswith(reverse("core:login"))


def test_admin_site_changes_are_audited_with_their_actor(client, province_admin):
    client.force_login(province_admin)
    response = client.post(
        "/admin/core/zone/add/", {"slug": "test-zone", "name": "测试功能区", "counties": ["530302"]}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    zone = Zone.objects.get(slug="test-zone")
    created = AuditEntry.objects.get(
        action=AuditEntry.Action.CREATE, object_type="zone", object_id=str(zone.pk)
    )
    assert created.actor == province_admin
    assert created.ip == "127.0.0.1"

    response = client.post(
        f"/admin/core/zone/{zone.pk}/change/",
        {"slug": "test-zone", "name": "改名功能区", "counties": ["530302"]},
    )
    assert response.status_code == 302
    changed = AuditEntry.objects.get(
        action=AuditEntry.Action.UPDATE, object_type="zone", object_id=str(zone.pk)
    )
    assert changed.actor == province_admin
    assert "名称" in str(changed.data["change"])

    response = client.post(f"/admin/core/zone/{zone.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    deleted = AuditEntry.objects.get(
        action=AuditEntry.Action.DELETE, object_type="zone", object_id=str(zone.pk)
    )
    assert deleted.actor == province_admin
    assert deleted.data["object"] == "改名功能区"


# --- nobody holds conflicting roles or flags -----------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "flags"),
    [
        ((Role.PROVINCE_ADMIN,), {"is_superuser": True}),
        ((Role.PROVINCE_ADMIN, Role.AUDIT_ADMIN), {}),
        ((Role.PROVINCE_ADMIN, Role.SECURITY_ADMIN), {}),
        ((Role.SECURITY_ADMIN,), {"is_staff": True}),
        ((Role.AUDIT_ADMIN,), {"is_staff": True}),
        ((Role.REVIEWER,), {"is_staff": True}),
        ((), {"is_superuser": True, "is_staff": True}),
    ],
)
def test_no_code_path_stores_an_account_that_breaks_the_separation(world, roles, flags):
    user = User(username="x", organization=world["division"], roles=User.encode_roles(roles), **flags)
    with pytest.raises(ValidationError, match="三员分立"):
        user.full_clean()
    with pytest.raises(ValidationError, match="三员分立"):
        user.save()
    assert not User.objects.filter(username="x").exists()


def test_existing_admin_cannot_be_given_a_conflicting_role_or_flag(province_admin, security_admin):
    for user, change in (
        (province_admin, {"is_superuser": True}),
        (province_admin, {"roles": User.encode_roles([Role.PROVINCE_ADMIN, Role.AUDIT_ADMIN])}),
        (security_admin, {"is_staff": True}),
        (security_admin, {"roles": User.encode_roles([Role.SECURITY_ADMIN, Role.AUDIT_ADMIN])}),
    ):
        fresh = User.objects.get(pk=user.pk)
        for field, value in change.items():
            setattr(fresh, field, value)
        with pytest.raises(ValidationError):
            fresh.save()
    assert not User.objects.filter(is_superuser=True).exists()


def test_createsuperuser_is_refused(db):
    with pytest.raises(CommandError, match="超级用户"):
        call_command(
            "createsuperuser", username="root", email="root@example.com", interactive=False, verbosity=0
        )
    assert not User.objects.filter(username="root").exists()


def test_no_demo_account_is_a_superuser_and_only_the_system_admin_is_staff(db):
    from yunjian.core import demo

    orgs = demo.load_organizations()
    demo.load_accounts(orgs)
    assert not User.objects.filter(is_superuser=True).exists()
    assert list(User.objects.filter(is_staff=True).values_list("username", flat=True)) == ["admin"]


def test_role_changes_are_audited_with_the_person_who_made_them(world, designer, province_admin):
    request = RequestFactory().post("/", REMOTE_ADDR="10.7.7.7")
    request.user = province_admin
    request.session = {}
    request.user.is_verified = lambda: True

    def change_roles(request):
        user = User.objects.get(pk=designer.pk)
        user.roles = User.encode_roles([Role.ENTERPRISE, Role.REVIEWER])
        user.save()
        return None

    SignInPolicyMiddleware(change_roles)(request)
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.PERMISSION, object_id=str(designer.pk)).latest(
        "id"
    )
    assert entry.reason == "账号权限变更"
    assert entry.actor == province_admin
    assert entry.ip == "10.7.7.7"
    assert audit.current_request.get() is None  # unbound after the request


# --- the security administrator ------------------------------------------------------------------


def test_security_admin_unlocks_and_resets_and_each_is_audited(client, designer, security_admin):
    lock_out(client, designer)
    client.force_login(security_admin)
    page = client.get(reverse("core:accounts"))
    assert "已锁定" in page.content.decode()
    assert client.post(reverse("core:account-unlock", args=[designer.pk])).status_code == 302
    assert not AccessAttempt.objects.filter(username=designer.username).exists()
    unlock = AuditEntry.objects.get(reason="解除登录锁定", object_id=str(designer.pk))
    assert unlock.actor == security_admin

    response = client.post(reverse("core:account-password-reset", args=[designer.pk]))
    assert response.status_code == 200
    designer.refresh_from_db()
    assert designer.must_change_password
    assert designer.check_password(response.context["password"])
    reset = AuditEntry.objects.get(action=AuditEntry.Action.PASSWORD, object_id=str(designer.pk))
    assert reset.actor == security_admin


def test_audit_log_is_the_audit_admins_alone(client, audit_admin, security_admin, province_admin, reviewer):
    audit.record(action=AuditEntry.Action.EXPORT, object_type="test", object_id=1, reason="只给审计管理员看")
    client.force_login(audit_admin)
    assert "只给审计管理员看" in client.get(reverse("core:audit-log")).content.decode()
    assert client.get("/admin/core/auditentry/", follow=True).status_code == 403  # not the admin site
    for user in (security_admin, province_admin, reviewer):
        client.force_login(user)
        assert client.get(reverse("core:audit-log")).status_code == 403
        assert "只给审计管理员看" not in client.get(reverse("core:home")).content.decode()
    client.force_login(security_admin)
    home = client.get(reverse("core:home-role", args=["security-admin"]))
    assert home.status_code == 200


# --- break glass ---------------------------------------------------------------------------------


def test_break_glass_recovers_a_locked_out_security_admin_and_is_audited(client, security_admin, capsys):
    lock_out(client, security_admin)
    TOTPDevice.objects.create(user=security_admin, name="lost phone", confirmed=True)
    call_command("break_glass", security_admin.username, reason="手机丢失，工单2026-118")
    out = capsys.readouterr().out
    password = out.strip().rsplit("：", 1)[1]
    security_admin.refresh_from_db()
    assert security_admin.check_password(password)
    assert security_admin.must_change_password
    assert not AccessAttempt.objects.filter(username=security_admin.username).exists()
    assert not TOTPDevice.objects.filter(user=security_admin).exists()
    entry = AuditEntry.objects.get(object_id=str(security_admin.pk), reason__contains="break_glass")
    assert "工单2026-118" in entry.reason
    assert entry.data["operator"]
    assert entry.data["locks_removed"] >= 1
    assert entry.data["devices_removed"] == 1
    assert password not in str(entry.data)


@pytest.mark.parametrize("persona", ["province_admin", "audit_admin", "designer"])
def test_break_glass_is_for_the_security_admin_only(request, persona):
    user = request.getfixturevalue(persona)
    before = User.objects.get(pk=user.pk).password
    with pytest.raises(CommandError, match="只用于安全管理员"):
        call_command("break_glass", user.username, reason="想借用一下")
    assert User.objects.get(pk=user.pk).password == before
    assert not AuditEntry.objects.filter(reason__contains="break_glass").exists()


def test_break_glass_needs_a_reason_and_an_existing_account(security_admin):
    with pytest.raises(CommandError):
        call_command("break_glass", security_admin.username)
    with pytest.raises(CommandError, match="原因"):
        call_command("break_glass", security_admin.username, reason=" ")
    with pytest.raises(CommandError, match="不存在"):
        call_command("break_glass", "nobody", reason="测试原因说明")


def test_create_admin_makes_one_administrator_with_a_temporary_password_and_audits_it(db, capsys):
    call_command("create_admin", "sec2", role="security_admin", full_name="新安全员")
    password = capsys.readouterr().out.strip().rsplit("：", 1)[1]
    user = User.objects.get(username="sec2")
    assert user.role_list == [Role.SECURITY_ADMIN]
    assert not user.is_staff
    assert not user.is_superuser
    assert user.must_change_password
    assert user.check_password(password)
    assert AuditEntry.objects.filter(object_id=str(user.pk), reason__contains="create_admin").exists()
    call_command("create_admin", "sys2", role="province_admin", full_name="新系统管理员")
    assert User.objects.get(username="sys2").is_staff
    with pytest.raises(CommandError, match="已存在"):
        call_command("create_admin", "sec2", role="audit_admin", full_name="重复")
    with pytest.raises(CommandError):
        call_command("create_admin", "x", role="reviewer", full_name="不是管理员")
