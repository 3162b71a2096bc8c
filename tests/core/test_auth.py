"""Login, lockout, idle timeout, per-role home pages, and that each is audited."""

import time

import pytest
from django.urls import reverse

from tests import factories as f
from yunjian.core.models import AuditEntry, Role


def post_login(client, username, password):
    return client.post(reverse("core:login"), {"username": username, "password": password})


def test_login_page_is_chinese(client, db):
    response = client.get(reverse("core:login"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "用户名" in body
    assert "密码" in body
    assert 'lang="zh-Hans"' in body


def test_login_sends_user_to_their_role_home_and_is_audited(client, designer):
    response = post_login(client, designer.username, f.PASSWORD)
    assert response.status_code == 302
    response = client.get(response.url, follow=True)
    assert response.request["PATH_INFO"] == reverse("core:home-role", args=["enterprise"])
    assert designer.organization.name in response.content.decode()
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN, actor=designer).count() == 1


def test_wrong_password_gives_chinese_error_and_is_logged_in_the_failure_log(client, designer):
    from axes.models import AccessFailureLog

    response = post_login(client, designer.username, "wrong")
    assert response.status_code == 200
    assert "用户名或密码不正确" in response.content.decode()
    # One failure is a line in the purgeable failure log; the audit log gets one entry per lock.
    assert AccessFailureLog.objects.filter(username=designer.username).count() == 1
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN_FAILED).exists()


def test_lockout_after_five_failures_even_with_the_right_password(client, designer):
    for _ in range(5):
        post_login(client, designer.username, "wrong")
    response = post_login(client, designer.username, f.PASSWORD)
    assert response.status_code == 429
    assert "已锁定15分钟" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOCKOUT, object_id=str(designer.pk)).exists()


def test_four_failures_do_not_lock(client, designer):
    for _ in range(4):
        post_login(client, designer.username, "wrong")
    response = post_login(client, designer.username, f.PASSWORD)
    assert response.status_code == 302


def test_logout_is_post_only_and_audited(client, designer):
    client.force_login(designer)
    assert client.get(reverse("core:logout")).status_code == 405
    response = client.post(reverse("core:logout"))
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGOUT, actor=designer).exists()


def test_idle_session_times_out_after_thirty_minutes(client, designer, settings):
    client.force_login(designer)
    assert client.get(reverse("core:home-role", args=["enterprise"])).status_code == 200
    session = client.session
    session["last_activity"] = int(time.time()) - settings.IDLE_TIMEOUT_SECONDS - 1
    session.save()
    response = client.get(reverse("core:home-role", args=["enterprise"]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("core:login"))
    assert client.get(reverse("core:home-role", args=["enterprise"])).status_code == 302
    assert AuditEntry.objects.filter(action=AuditEntry.Action.TIMEOUT, actor=designer).exists()


def test_active_session_within_timeout_stays(client, designer, settings):
    client.force_login(designer)
    client.get(reverse("core:home"))
    session = client.session
    session["last_activity"] = int(time.time()) - settings.IDLE_TIMEOUT_SECONDS + 60
    session.save()
    assert client.get(reverse("core:home-role", args=["enterprise"])).status_code == 200


def test_anonymous_user_is_sent_to_login(client, db):
    response = client.get(reverse("core:home-role", args=["reviewer"]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("core:login"))


HOMES = {
    "enterprise": Role.ENTERPRISE,
    "reviewer": Role.REVIEWER,
    "province-admin": Role.PROVINCE_ADMIN,
    "security-admin": Role.SECURITY_ADMIN,
    "audit-admin": Role.AUDIT_ADMIN,
}


@pytest.mark.parametrize(("page", "role"), HOMES.items())
def test_each_role_sees_its_home_and_not_another_roles(client, world, page, role):
    user = f.make_user(f"user_{role}", world["division"], role)
    client.force_login(user)
    response = client.get(reverse("core:home"))
    assert response.status_code == 302
    assert response.url == reverse("core:home-role", args=[page])
    response = client.get(response.url)
    assert response.status_code == 200
    assert "下一步" in response.content.decode()
    for other in HOMES:
        if other != page:
            assert client.get(reverse("core:home-role", args=[other])).status_code == 403


def test_institution_and_design_division_share_the_reviewer_home(client, institution_staff, division_staff):
    for user in (institution_staff, division_staff):
        client.force_login(user)
        assert client.get(reverse("core:home-role", args=["reviewer"])).status_code == 200
        assert client.get(reverse("core:home-role", args=["enterprise"])).status_code == 403


def test_password_complexity_rules(db):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="三类"):
        validate_password("alllowercaseletters")
    with pytest.raises(ValidationError):
        validate_password("Ab1!")
    validate_password("Yunjian@2026x")


def test_healthz(client, db):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_admin_roles_are_separated(world):
    from django.core.exceptions import ValidationError

    from yunjian.core.models import User

    user = User(
        username="both",
        organization=world["division"],
        roles=User.encode_roles([Role.PROVINCE_ADMIN, Role.AUDIT_ADMIN]),
    )
    with pytest.raises(ValidationError, match="三员分立"):
        user.full_clean()
    user.roles = User.encode_roles([Role.SECURITY_ADMIN, Role.REVIEWER])
    with pytest.raises(ValidationError, match="三员分立"):
        user.full_clean()
    user.roles = User.encode_roles([Role.REVIEWER, Role.INSTITUTION])
    user.set_password(f.PASSWORD)
    user.full_clean()


def test_role_and_organization_changes_are_audited(world, designer):
    from yunjian.core.models import User

    trail = AuditEntry.objects.filter(action=AuditEntry.Action.PERMISSION, object_id=str(designer.pk))
    assert trail.count() == 1  # the account's creation
    user = User.objects.get(pk=designer.pk)
    user.last_login = None
    user.save()
    assert trail.count() == 1  # nothing about access changed
    user.roles = User.encode_roles([Role.ENTERPRISE, Role.REVIEWER])
    user.save()
    assert trail.count() == 2
    user.organization = world["builder"]
    user.save()
    assert trail.count() == 3
    assert set(user.groups.values_list("name", flat=True)) == {world["builder"].group.name}
