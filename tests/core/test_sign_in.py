"""Sign-in (等保 2.0 level 3): the second factor, the password lifecycle, lockout and throttling.

These tests post the real sign-in forms (no force_login): the password, then the second factor.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessFailureLog
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories as f
from tests.conftest import Client, totp_token
from yunjian.core.models import AuditEntry, PasswordHistory, Role, User

HOME = reverse("core:home")
VERIFY = reverse("core:otp-verify")
SETUP = reverse("core:otp-setup")
CHANGE = reverse("core:password-change")


def post_login(client, username, password=f.PASSWORD, ip="10.1.1.1"):
    return client.post(reverse("core:login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def enrol(client, user) -> list[str]:
    """Enrol the authenticator app through the page; return the backup codes shown once."""
    page = client.get(SETUP)
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post(SETUP, {"token": totp_token(device)})
    assert response.status_code == 200
    return list(response.context["codes"])


def sign_in_with_second_factor(client, user, ip="10.1.1.1"):
    response = post_login(client, user.username, ip=ip)
    assert response.status_code == 302
    response = client.get(HOME, REMOTE_ADDR=ip)
    assert response.status_code == 302
    assert response.url.startswith(VERIFY)
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return client.post(VERIFY, {"token": totp_token(device), "next": HOME}, REMOTE_ADDR=ip)


@pytest.fixture
def security_admin(world):
    return f.make_user("sara_security", world["division"], Role.SECURITY_ADMIN)


@pytest.fixture
def audit_admin(world):
    return f.make_user("otto_auditor", world["division"], Role.AUDIT_ADMIN)


# --- the second factor ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["reviewer", "institution_staff", "division_staff", "province_admin", "security_admin"]
)
def test_reviewers_and_administrators_cannot_use_a_password_alone(request, persona):
    user = request.getfixturevalue(persona)
    client = Client()
    assert post_login(client, user.username).status_code == 302
    # Every page, in every app, sends them to the second factor first.
    for url in (HOME, reverse("review:inbox"), reverse("core:accounts"), "/admin/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(VERIFY), url
    # Without an enrolled device the verification page sends them to enrol one.
    response = client.get(VERIFY)
    assert response.status_code == 302
    assert response.url.startswith(SETUP)


def test_enrolment_draws_the_qr_code_here_and_gives_one_time_backup_codes(reviewer):
    client = Client()
    post_login(client, reviewer.username)
    page = client.get(SETUP)
    body = page.content.decode()
    assert page.status_code == 200
    assert "<svg" in body  # drawn by the server, no image from anywhere else
    assert "http" not in body.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org", "")
    assert "otpauth" not in body  # the secret is in the picture and the manual key only
    device = TOTPDevice.objects.get(user=reviewer, confirmed=False)
    wrong = client.post(SETUP, {"token": "000000" if totp_token(device) != "000000" else "111111"})
    assert "动态口令不正确" in wrong.content.decode()
    codes = enrol(client, reviewer)
    assert len(codes) == 10
    assert TOTPDevice.objects.filter(user=reviewer, confirmed=True).count() == 1
    assert client.get(reverse("core:home-role", args=["reviewer"])).status_code == 200
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.PERMISSION, object_id=str(reviewer.pk), reason__contains="启用动态口令"
    ).exists()


def test_sign_in_with_the_code_from_the_app(reviewer):
    client = Client()
    post_login(client, reviewer.username)
    enrol(client, reviewer)
    client.post(reverse("core:logout"))

    client = Client()
    post_login(client, reviewer.username)
    wrong = client.post(VERIFY, {"token": "12345"})
    assert wrong.status_code == 200
    assert "动态口令或备用码不正确" in wrong.content.decode()
    assert client.get(HOME).url.startswith(VERIFY)
    device = TOTPDevice.objects.get(user=reviewer, confirmed=True)
    device.throttle_reset()
    response = client.post(VERIFY, {"token": totp_token(device), "next": reverse("review:inbox")})
    assert response.status_code == 302
    assert response.url == reverse("review:inbox")
    assert client.get(reverse("review:inbox")).status_code == 200


def test_next_after_verification_stays_on_this_site(reviewer):
    client = Client()
    post_login(client, reviewer.username)
    enrol(client, reviewer)
    client.post(reverse("core:logout"))
    post_login(client, reviewer.username)
    device = TOTPDevice.objects.get(user=reviewer, confirmed=True)
    response = client.post(VERIFY, {"token": totp_token(device), "next": "https://evil.example/"})
    assert response.url == HOME


def test_a_backup_code_signs_in_once(reviewer):
    client = Client()
    post_login(client, reviewer.username)
    codes = enrol(client, reviewer)
    client.post(reverse("core:logout"))

    client = Client()
    post_login(client, reviewer.username)
    response = client.post(VERIFY, {"token": codes[0], "next": HOME})
    assert response.status_code == 302
    assert StaticToken.objects.filter(device__user=reviewer).count() == 9
    client.post(reverse("core:logout"))

    client = Client()
    post_login(client, reviewer.username)
    again = client.post(VERIFY, {"token": codes[0]})
    assert again.status_code == 200
    assert "不正确" in again.content.decode()


def test_backup_codes_can_be_regenerated_only_in_a_verified_session(reviewer):
    client = Client()
    post_login(client, reviewer.username)
    old = enrol(client, reviewer)
    response = client.post(reverse("core:otp-backup-codes"))
    assert response.status_code == 200
    new = response.context["codes"]
    assert not set(old) & set(new)
    client.post(reverse("core:logout"))
    client = Client()
    post_login(client, reviewer.username)
    response = client.post(reverse("core:otp-backup-codes"))
    assert response.status_code == 302
    assert response.url.startswith(VERIFY)
    assert set(StaticToken.objects.filter(device__user=reviewer).values_list("token", flat=True)) == set(new)


def test_enterprise_users_sign_in_with_a_password_and_may_opt_in(designer):
    client = Client()
    post_login(client, designer.username)
    assert client.get(reverse("core:home-role", args=["enterprise"])).status_code == 200
    page = client.get(SETUP)
    assert "自愿启用" in page.content.decode()
    enrol(client, designer)
    client.post(reverse("core:logout"))
    # Once enrolled, always asked.
    client = Client()
    post_login(client, designer.username)
    assert client.get(HOME).url.startswith(VERIFY)


def test_an_unverified_session_cannot_enrol_a_second_device(reviewer):
    client = Client()
    post_login(client, reviewer.username)
    enrol(client, reviewer)
    client.post(reverse("core:logout"))
    client = Client()
    post_login(client, reviewer.username)  # password only: someone who knows it cannot add their phone
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response.url.startswith(VERIFY)
    assert not TOTPDevice.objects.filter(user=reviewer, confirmed=False).exists()


def test_with_the_demo_setting_off_a_reviewer_signs_in_with_a_password(reviewer, settings):
    settings.OTP_REQUIRED = False
    client = Client()
    post_login(client, reviewer.username)
    assert client.get(reverse("core:home-role", args=["reviewer"])).status_code == 200


def test_deploy_check_refuses_the_second_factor_off(settings):
    from yunjian.core.checks import second_factor_required

    assert second_factor_required(None) == []
    settings.OTP_REQUIRED = False
    errors = second_factor_required(None)
    assert [e.id for e in errors] == ["yunjian.E101"]


def test_security_admin_resets_a_lost_device_and_it_is_audited(reviewer, security_admin):
    client = Client()
    post_login(client, reviewer.username)
    enrol(client, reviewer)
    admin = Client()
    admin.force_login(security_admin)
    response = admin.post(reverse("core:account-otp-reset", args=[reviewer.pk]))
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    assert not StaticToken.objects.filter(device__user=reviewer).exists()
    entry = AuditEntry.objects.get(object_id=str(reviewer.pk), reason="安全管理员重置动态口令")
    assert entry.actor == security_admin
    # The old session's device is gone: that session must verify (enrol) again.
    assert client.get(HOME).url.startswith(VERIFY)


# --- personas for the new pages --------------------------------------------------------------------


SECURITY_POSTS = ("core:account-unlock", "core:account-password-reset", "core:account-otp-reset")


@pytest.mark.parametrize("name", SECURITY_POSTS)
def test_security_admin_pages_allowed_wrong_role_outsider_anonymous(
    client, name, designer, security_admin, audit_admin, province_admin, reviewer, outsider
):
    url = reverse(name, args=[designer.pk])
    client.force_login(security_admin)
    assert client.post(url).status_code in (200, 302)
    for user in (province_admin, audit_admin, reviewer, outsider):
        client.force_login(user)
        assert client.post(url).status_code == 403, user
    client.logout()
    response = client.post(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("core:login"))


def test_security_admin_cannot_reset_their_own_account(client, security_admin):
    client.force_login(security_admin)
    for name in ("core:account-password-reset", "core:account-otp-reset"):
        assert client.post(reverse(name, args=[security_admin.pk])).status_code == 403


@pytest.mark.parametrize("name", ["core:password-change", "core:otp-setup", "core:otp-verify"])
def test_own_account_pages_are_for_every_signed_in_user_and_nobody_else(client, name, designer, reviewer):
    for user in (designer, reviewer):
        client.force_login(user)
        response = client.get(reverse(name))
        # The verification page sends an already verified person on; the others answer.
        assert response.status_code == (302 if name == "core:otp-verify" else 200), user
    client.logout()
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("core:login"))


def test_backup_codes_page_is_post_only_and_not_for_the_anonymous(client, designer):
    url = reverse("core:otp-backup-codes")
    response = client.post(url)
    assert response.url.startswith(reverse("core:login"))
    client.force_login(designer)
    assert client.get(url).status_code == 405
    response = client.post(url)  # a person without the second factor has no codes to make
    assert response.status_code == 302


# --- password lifecycle ---------------------------------------------------------------------------


def test_every_user_changes_their_own_password_and_it_is_audited(client, designer):
    client.force_login(designer)
    page = client.get(CHANGE)
    assert page.status_code == 200
    assert "原密码" in page.content.decode()
    response = client.post(
        CHANGE,
        {"old_password": f.PASSWORD, "new_password1": "Neu@Passw0rd1", "new_password2": "Neu@Passw0rd1"},
    )
    assert response.status_code == 302
    designer.refresh_from_db()
    assert designer.check_password("Neu@Passw0rd1")
    assert client.get(reverse("core:home-role", args=["enterprise"])).status_code == 200  # still signed in
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.PASSWORD, actor=designer, reason="本人修改密码"
    ).exists()


def test_password_change_errors_are_chinese_and_change_nothing(client, designer):
    client.force_login(designer)
    before = User.objects.get(pk=designer.pk).password
    cases = [
        (
            {"old_password": "wrong", "new_password1": "Neu@Passw0rd1", "new_password2": "Neu@Passw0rd1"},
            "原密码不正确",
        ),
        (
            {"old_password": f.PASSWORD, "new_password1": "Neu@Passw0rd1", "new_password2": "Neu@Passw0rd2"},
            "两次输入",
        ),
        ({"old_password": f.PASSWORD, "new_password1": "Ab1!", "new_password2": "Ab1!"}, "密码太短"),
        (
            {"old_password": f.PASSWORD, "new_password1": "abcdefghijkl", "new_password2": "abcdefghijkl"},
            "三类",
        ),
        ({"old_password": f.PASSWORD, "new_password1": "", "new_password2": ""}, "这个字段是必填项"),
    ]
    for data, message in cases:
        response = client.post(CHANGE, data)
        assert response.status_code == 200
        assert message in response.content.decode(), message
    assert User.objects.get(pk=designer.pk).password == before


def test_every_password_message_is_chinese(designer):
    samples = ["short", "12345678901", "password123", "alice_design1", "abcdefghijkl"]
    for sample in samples:
        with pytest.raises(ValidationError) as caught:
            validate_password(sample, designer)
        for message in caught.value.messages:
            assert not any("a" <= ch.lower() <= "z" for ch in message.replace("alice_design", "")), message


def test_last_five_passwords_cannot_be_reused(designer):
    passwords = [f.PASSWORD] + [f"Neu@Passw0rd{i}" for i in range(1, 6)]
    user = User.objects.get(pk=designer.pk)
    for new in passwords[1:5]:
        validate_password(new, user)
        user.set_password(new)
        user.save()
    # The initial password is among the last five (initial + four changes): refused, in Chinese.
    with pytest.raises(ValidationError, match="最近5次"):
        validate_password(passwords[0], user)
    with pytest.raises(ValidationError, match="最近5次"):
        validate_password(passwords[4], user)  # the current one
    user.set_password(passwords[5])
    user.save()
    validate_password(passwords[0], user)  # six passwords ago: allowed again
    assert PasswordHistory.objects.filter(user=user).count() == 5


def test_history_is_enforced_on_the_change_page(client, designer):
    client.force_login(designer)
    client.post(
        CHANGE,
        {"old_password": f.PASSWORD, "new_password1": "Neu@Passw0rd1", "new_password2": "Neu@Passw0rd1"},
    )
    response = client.post(
        CHANGE, {"old_password": "Neu@Passw0rd1", "new_password1": f.PASSWORD, "new_password2": f.PASSWORD}
    )
    assert "不能使用最近5次用过的密码" in response.content.decode()


def test_forced_change_after_a_reset_by_the_security_admin(client, designer, security_admin):
    client.force_login(security_admin)
    response = client.post(reverse("core:account-password-reset", args=[designer.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]  # the temporary password is never cached
    temporary = response.context["password"]
    entry = AuditEntry.objects.get(action=AuditEntry.Action.PASSWORD, object_id=str(designer.pk))
    assert entry.actor == security_admin
    assert temporary not in str(entry.data)
    assert temporary not in entry.reason

    person = Client()
    assert post_login(person, designer.username, temporary).status_code == 302
    for url in (HOME, reverse("projects:workspace")):
        response = person.get(url)
        assert response.status_code == 302
        assert response.url == CHANGE
    page = person.get(CHANGE)
    assert "初始密码" in page.content.decode()
    person.post(
        CHANGE,
        {"old_password": temporary, "new_password1": "Neu@Passw0rd1", "new_password2": "Neu@Passw0rd1"},
    )
    assert person.get(reverse("core:home-role", args=["enterprise"])).status_code == 200
    designer.refresh_from_db()
    assert not designer.must_change_password


def test_forced_change_at_first_sign_in_after_an_activation(world, settings):
    """An account created by a roster import is activated through its one-time link, and the person
    must still change the password at first sign-in (whoever handed out the link may have used it)."""
    from django.contrib.auth.hashers import make_password
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from review.roster.activation import activation_token

    user = f.make_user("new_reviewer", world["bureau_qlq"], Role.REVIEWER)
    User.objects.filter(pk=user.pk).update(password=make_password(None), must_change_password=True)
    user.refresh_from_db()
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    client = Client()
    url = reverse("roster:activate", kwargs={"uidb64": uid, "token": activation_token.make_token(user)})
    response = client.get(url, follow=True)
    form_url = response.redirect_chain[-1][0]
    client.post(form_url, {"new_password1": "Erst@Passw0rd1", "new_password2": "Erst@Passw0rd1"})
    user.refresh_from_db()
    assert user.check_password("Erst@Passw0rd1")

    post_login(client, user.username, "Erst@Passw0rd1")
    enrol(client, user)  # a reviewer: the second factor first
    response = client.get(HOME)
    assert response.status_code == 302
    assert response.url == CHANGE


def test_roster_import_creates_accounts_that_must_change_their_password(client, province_admin):
    from tests.review.test_roster_views import qujing_people, upload_and_apply

    client.force_login(province_admin)
    before = set(User.objects.values_list("pk", flat=True))
    upload_and_apply(client, qujing_people())
    created = User.objects.exclude(pk__in=before)
    assert created.exists()
    assert all(created.values_list("must_change_password", flat=True))


def test_expired_password_must_be_changed(client, designer, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    User.objects.filter(pk=designer.pk).update(password_changed_at=timezone.now() - timedelta(days=91))
    post_login(client, designer.username)
    response = client.get(HOME)
    assert response.status_code == 302
    assert response.url == CHANGE
    assert "已过期" in client.get(CHANGE).content.decode()


def test_warning_before_the_password_expires(client, designer, settings):
    settings.PASSWORD_MAX_AGE_DAYS = 90
    settings.PASSWORD_EXPIRY_WARNING_DAYS = 14
    User.objects.filter(pk=designer.pk).update(password_changed_at=timezone.now() - timedelta(days=80))
    post_login(client, designer.username)
    page = client.get(reverse("core:home-role", args=["enterprise"]))
    assert page.status_code == 200
    assert "您的密码将在10天后过期" in page.content.decode()
    # Once per session, not on every page.
    assert "过期" not in client.get(reverse("core:home-role", args=["enterprise"])).content.decode()


def test_a_fresh_password_gives_no_warning(client, designer):
    post_login(client, designer.username)
    assert "过期" not in client.get(reverse("core:home-role", args=["enterprise"])).content.decode()


# --- lockout and throttling -----------------------------------------------------------------------


def test_lock_is_by_username_and_address_so_administrators_stay_reachable(security_admin, settings):
    attacker, office = "203.0.113.9", "10.20.0.5"
    client = Client()
    for _ in range(5):
        post_login(client, security_admin.username, "wrong", ip=attacker)
    # Locked from the attacker's address, even with the right password...
    response = post_login(Client(), security_admin.username, ip=attacker)
    assert response.status_code == 429
    assert "已锁定15分钟" in response.content.decode()
    # ...and the security administrator still signs in from the office.
    office_client = Client()
    response = sign_in_with_second_factor_or_enrol(office_client, security_admin, office)
    assert office_client.get(reverse("core:accounts"), REMOTE_ADDR=office).status_code == 200


def sign_in_with_second_factor_or_enrol(client, user, ip):
    assert post_login(client, user.username, ip=ip).status_code == 302
    enrol(client, user)


def test_one_audit_entry_per_lock_not_per_attempt(designer):
    client = Client()
    for _ in range(40):
        post_login(client, designer.username, "wrong", ip="198.51.100.7")
    locks = AuditEntry.objects.filter(action=AuditEntry.Action.LOCKOUT)
    assert locks.count() == 1
    assert locks.get().ip == "198.51.100.7"
    assert AuditEntry.objects.count() == 1 + 1  # the account's creation and the lock
    # Attempts refused during the lock are neither counted nor logged again.
    assert AccessFailureLog.objects.filter(username=designer.username).count() == 5


def test_throttle_by_address_whatever_the_usernames(designer, contractor, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 8
    sprayer = "192.0.2.44"
    client = Client()
    for i in range(8):
        post_login(client, f"nobody{i}", "wrong", ip=sprayer)
    response = post_login(client, designer.username, ip=sprayer)
    assert response.status_code == 429
    assert "该地址登录失败次数过多" in response.content.decode()
    assert "_auth_user_id" not in client.session
    post_login(client, contractor.username, ip=sprayer)
    throttles = AuditEntry.objects.filter(
        action=AuditEntry.Action.LOCKOUT, object_type="login-throttle-address"
    )
    assert throttles.count() == 1
    # Another address is not affected.
    assert post_login(Client(), designer.username, ip="10.9.9.9").status_code == 302


def test_throttle_by_username_spares_the_addresses_the_account_uses(designer, settings):
    settings.LOGIN_USERNAME_FAILURE_LIMIT = 6
    office = "10.30.0.8"
    assert post_login(Client(), designer.username, ip=office).status_code == 302  # a known address
    for i in range(6):
        post_login(Client(), designer.username, "wrong", ip=f"203.0.113.{i + 1}")
    response = post_login(Client(), designer.username, ip="203.0.113.200")
    assert response.status_code == 429
    assert "该账号近期在多个地址登录失败次数过多" in response.content.decode()
    assert post_login(Client(), designer.username, ip=office).status_code == 302
    assert AuditEntry.objects.filter(object_type="login-throttle-username").count() == 1


def test_forged_forwarded_for_does_not_escape_the_lock(designer, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    client = Client()
    for i in range(5):
        client.post(
            reverse("core:login"),
            {"username": designer.username, "password": "wrong"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{i}, 198.51.100.20",
        )
    response = client.post(
        reverse("core:login"),
        {"username": designer.username, "password": f.PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.20",
    )
    assert response.status_code == 429
