"""Binding certificates to accounts, and the certificate headers, at the app (the Django test client
sends the headers the proxy would; tests/ca/test_nginx_sign_in.py proves the proxy itself).

Every endpoint three ways: allowed, wrong role, outsider (anonymous)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories as f
from tests.ca.conftest import proxy_headers
from yunjian.core import certificates
from yunjian.core.models import AuditEntry, BoundCertificate, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def ca_reviewer(world):
    user = f.make_reviewer("li_ca_reviewer", "530300", "permit")
    user.has_ca_certificate = True
    user.save()
    return user


@pytest.fixture
def security_admin(world):
    return f.make_user("sec_admin", None, Role.SECURITY_ADMIN)


@pytest.fixture
def audit_admin(world):
    return f.make_user("aud_admin", None, Role.AUDIT_ADMIN)


@pytest.fixture
def province_admin(world):
    return f.make_user("prov_admin", None, Role.PROVINCE_ADMIN, is_staff=True)


BIND = "/account/certificate/"


# --- the middleware -------------------------------------------------------------------------------


def test_headers_are_removed_and_believed_only_with_the_secret(rf, certs, settings):
    middleware = certificates.ClientCertificateMiddleware(lambda request: request)

    good = middleware(rf.get("/", **proxy_headers(certs.good)))
    assert good.client_certificate.common_name == "李审核"
    assert not [k for k in good.META if k.startswith("HTTP_X_SSL") or k == certificates.HEADER_SECRET]

    for headers in (
        proxy_headers(certs.good, secret="wrong"),
        proxy_headers(certs.good, secret=""),
        proxy_headers(certs.good, verify="FAILED:certificate has expired"),
        {**proxy_headers(certs.good), "HTTP_X_SSL_CLIENT_CERT": "not a certificate"},
        proxy_headers(certs.expired),  # expired: refused here too, should a proxy be misconfigured
    ):
        request = middleware(rf.get("/", **headers))
        assert request.client_certificate is None
        assert "HTTP_X_SSL_CLIENT_CERT" not in request.META

    settings.CA_PROXY_SECRET = ""  # CA sign-in off: nothing is believed
    assert middleware(rf.get("/", **proxy_headers(certs.good))).client_certificate is None


# --- the holder binds their own (password + certificate) --------------------------------------------


def test_holder_binds_the_certificate_presented(client, certs, ca_reviewer):
    client.force_login(ca_reviewer)
    page = client.get(BIND, **proxy_headers(certs.good))
    assert page.status_code == 200
    assert "确认绑定" in page.content.decode()

    response = client.post(BIND, {"password": f.PASSWORD}, **proxy_headers(certs.good))

    assert response.status_code == 302
    row = BoundCertificate.objects.get()
    assert row.user == ca_reviewer
    assert row.fingerprint == certificates.from_pem(certs.good.pem.decode()).fingerprint
    assert row.subject_dn == certs.good.cert.subject.rfc4514_string()
    entry = AuditEntry.objects.get(reason__contains="本人绑定CA数字证书")
    assert (entry.actor, entry.data["serial"]) == (ca_reviewer, row.serial)


def test_enterprise_users_may_bind_too(client, certs, contractor):
    client.force_login(contractor)
    response = client.post(BIND, {"password": f.PASSWORD}, **proxy_headers(certs.second))
    assert response.status_code == 302
    assert BoundCertificate.objects.get().user == contractor
    # Not marked 已办理CA数字证书: the password still works alongside the certificate.
    assert certificates.password_refusal(contractor) == ""


def test_binding_refusals_change_nothing(client, certs, ca_reviewer, contractor):
    client.force_login(ca_reviewer)
    wrong = client.post(BIND, {"password": "wrong"}, **proxy_headers(certs.good))
    assert wrong.status_code == 400
    assert "密码不正确" in wrong.content.decode()
    missing = client.post(BIND, {"password": f.PASSWORD})  # no certificate presented
    assert missing.status_code == 400
    assert "未检测到经验证的CA数字证书" in missing.content.decode()
    forged = client.post(BIND, {"password": f.PASSWORD}, **proxy_headers(certs.good, secret="guess"))
    assert forged.status_code == 400
    assert not BoundCertificate.objects.exists()

    client.post(BIND, {"password": f.PASSWORD}, **proxy_headers(certs.good))
    client.force_login(contractor)  # someone else presenting the same certificate
    taken = client.post(BIND, {"password": f.PASSWORD}, **proxy_headers(certs.good))
    assert taken.status_code == 400
    assert "已绑定其他账号" in taken.content.decode()
    assert BoundCertificate.objects.get().user == ca_reviewer


def test_bind_page_wrong_role_and_outsider(client, certs, audit_admin):
    client.force_login(audit_admin)
    assert client.get(BIND, **proxy_headers(certs.good)).status_code == 403
    assert client.post(BIND, {"password": f.PASSWORD}, **proxy_headers(certs.good)).status_code == 403
    client.logout()
    response = client.post(BIND, {"password": f.PASSWORD}, **proxy_headers(certs.good))
    assert response.status_code == 302
    assert response.url.startswith(reverse("core:login"))
    assert not BoundCertificate.objects.exists()


def test_password_sign_in_with_an_unbound_certificate_offers_binding(client, certs, ca_reviewer):
    response = client.post(
        reverse("core:login"),
        {"username": ca_reviewer.username, "password": f.PASSWORD},
        **proxy_headers(certs.good),
    )
    assert response.status_code == 302
    assert response.url.startswith(BIND + "?next=")


# --- the security administrator binds by serial and subject -----------------------------------------


def admin_url(user) -> str:
    return reverse("core:account-certificates", args=[user.pk])


def test_security_admin_binds_by_serial_and_subject_and_the_holder_signs_in(
    client, certs, ca_reviewer, security_admin
):
    client.force_login(security_admin)
    cert = certs.good.cert
    response = client.post(
        admin_url(ca_reviewer),
        {
            "serial": format(cert.serial_number, "x"),
            "subject_dn": "C=CN, O=曲靖市住房和城乡建设局, CN=李审核",
        },
    )
    assert response.status_code == 302
    row = BoundCertificate.objects.get()
    assert (row.user, row.bound_by, row.fingerprint) == (ca_reviewer, security_admin, "")
    assert AuditEntry.objects.filter(actor=security_admin, reason__contains="按序列号和主题绑定").exists()
    # The list shows it.
    assert row.serial in client.get(admin_url(ca_reviewer)).content.decode()

    client.logout()
    signed_in = client.post(reverse("core:ca-login"), **proxy_headers(certs.good))
    assert signed_in.status_code == 302
    home = client.get(reverse("core:home"), follow=True, **proxy_headers(certs.good))
    assert home.request["PATH_INFO"] == "/home/reviewer/"
    row.refresh_from_db()
    assert row.fingerprint
    # And now the password alone is refused, with the reason, and audited.
    client.logout()
    refused = client.post(reverse("core:login"), {"username": ca_reviewer.username, "password": f.PASSWORD})
    assert refused.status_code == 200
    assert certificates.PASSWORD_REFUSED in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_admin_bind_bad_input_is_refused_in_chinese(client, ca_reviewer, security_admin, certs):
    client.force_login(security_admin)
    bad = client.post(admin_url(ca_reviewer), {"serial": "XYZ", "subject_dn": "没有等号"})
    assert bad.status_code == 400
    text = bad.content.decode()
    assert "证书序列号应为十六进制数字" in text
    assert "证书主题格式不正确" in text
    assert not BoundCertificate.objects.exists()

    cert = certs.good.cert
    data = {"serial": format(cert.serial_number, "X"), "subject_dn": cert.subject.rfc4514_string()}
    client.post(admin_url(ca_reviewer), data)
    other = f.make_reviewer("other_reviewer", "530300", "permit")
    again = client.post(admin_url(other), data)
    assert again.status_code == 400
    assert "已绑定账号 li_ca_reviewer" in again.content.decode()
    assert BoundCertificate.objects.count() == 1


def test_admin_pages_wrong_role_and_outsider(client, ca_reviewer, province_admin, certs):
    row = BoundCertificate.objects.create(user=ca_reviewer, serial="ABC", subject_dn="CN=x")
    unbind = reverse("core:account-certificate-unbind", args=[ca_reviewer.pk, row.pk])
    data = {"serial": "AB", "subject_dn": "CN=y"}
    for who in (province_admin, ca_reviewer):
        client.force_login(who)
        assert client.get(admin_url(ca_reviewer)).status_code == 403
        assert client.post(admin_url(ca_reviewer), data).status_code == 403
        assert client.post(unbind).status_code == 403
    client.logout()
    for response in (
        client.get(admin_url(ca_reviewer)),
        client.post(admin_url(ca_reviewer), data),
        client.post(unbind),
    ):
        assert response.status_code == 302
        assert response.url.startswith(reverse("core:login"))
    assert list(BoundCertificate.objects.values_list("serial", flat=True)) == ["ABC"]


def test_security_admin_unbinds(client, ca_reviewer, security_admin):
    row = BoundCertificate.objects.create(
        user=ca_reviewer, serial="ABC", subject_dn="CN=x", fingerprint="F" * 64
    )
    client.force_login(security_admin)
    response = client.post(reverse("core:account-certificate-unbind", args=[ca_reviewer.pk, row.pk]))
    assert response.status_code == 302
    assert not BoundCertificate.objects.exists()
    entry = AuditEntry.objects.get(reason="安全管理员解除CA数字证书绑定")
    assert entry.data["fingerprint"] == "F" * 64
    # Unbound: the reviewer may use the password again (to bind a new certificate).
    assert certificates.password_refusal(ca_reviewer) == ""
    # Again: the binding is gone, a clear message, no error page.
    again = client.post(
        reverse("core:account-certificate-unbind", args=[ca_reviewer.pk, row.pk]), follow=True
    )
    assert "该证书绑定已不存在" in again.content.decode()


def test_admin_certificate_page_query_count_does_not_grow(client, ca_reviewer, security_admin):
    client.force_login(security_admin)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(admin_url(ca_reviewer)).status_code == 200
        return len(queries)

    BoundCertificate.objects.create(user=ca_reviewer, serial="A1", subject_dn="CN=a", bound_by=security_admin)
    count()  # the first page of the session writes the session's activity
    one = count()
    for i in range(5):
        BoundCertificate.objects.create(
            user=ca_reviewer, serial=f"B{i}", subject_dn="CN=b", bound_by=security_admin
        )
    assert count() == one


# --- certificate sign-in at the app -----------------------------------------------------------------


def test_disabled_account_cannot_sign_in_with_its_certificate(client, certs, ca_reviewer):
    certificates.bind_own(
        actor=ca_reviewer, password=f.PASSWORD, certificate=certificates.from_pem(certs.good.pem.decode())
    )
    ca_reviewer.is_active = False
    ca_reviewer.save()
    response = client.post(reverse("core:ca-login"), **proxy_headers(certs.good), follow=True)
    assert "该证书绑定的账号已停用" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_ca_sign_in_skips_the_dynamic_password_but_password_sign_in_does_not(
    client, certs, contractor, ca_reviewer
):
    certificates.bind_own(
        actor=ca_reviewer, password=f.PASSWORD, certificate=certificates.from_pem(certs.good.pem.decode())
    )
    client.post(reverse("core:ca-login"), **proxy_headers(certs.good))
    assert (
        client.get(reverse("core:home-role", args=["reviewer"]), **proxy_headers(certs.good)).status_code
        == 200
    )
    # A reviewer without a certificate signing in by password is still asked for the dynamic password.
    client.logout()
    other = f.make_reviewer("plain_reviewer", "530300", "permit")
    client.post(reverse("core:login"), {"username": other.username, "password": f.PASSWORD})
    assert "/account/two-factor/" in client.get(reverse("core:home-role", args=["reviewer"])).url


@pytest.mark.django_db(transaction=True)
def test_one_certificate_bound_by_two_people_at_once_goes_to_one(certs, ca_reviewer, contractor):
    import threading

    from django.core.exceptions import ValidationError
    from django.db import connections

    presented = certificates.from_pem(certs.good.pem.decode())
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def bind(user):
        try:
            barrier.wait()
            certificates.bind_own(actor=user, password=f.PASSWORD, certificate=presented)
            outcomes.append("bound")
        except ValidationError as error:
            outcomes.append(error.messages[0])
        finally:
            connections.close_all()

    threads = [threading.Thread(target=bind, args=(user,)) for user in (ca_reviewer, contractor)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["bound", "该证书已绑定其他账号，请联系安全管理员。"]
    assert BoundCertificate.objects.count() == 1


@pytest.mark.parametrize("then", ["none", "other", "forged"])
def test_a_certificate_session_ends_when_the_certificate_is_gone(
    client, certs, ca_reviewer, contractor, then
):
    for user, issued in ((ca_reviewer, certs.good), (contractor, certs.second)):
        certificates.bind_own(
            actor=user, password=f.PASSWORD, certificate=certificates.from_pem(issued.pem.decode())
        )
    client.post(reverse("core:ca-login"), **proxy_headers(certs.good))
    page = reverse("core:home-role", args=["reviewer"])
    assert client.get(page, **proxy_headers(certs.good)).status_code == 200

    headers = {
        "none": {},
        "other": proxy_headers(certs.second),
        "forged": proxy_headers(certs.good, secret="guess"),
    }[then]
    response = client.get(page, follow=True, **headers)

    assert response.request["PATH_INFO"] == reverse("core:login")
    assert "未再检测到您登录时使用的CA数字证书" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action=AuditEntry.Action.LOGOUT, actor=ca_reviewer).exists()


def test_a_password_session_does_not_need_a_certificate(client, certs, contractor):
    client.post(reverse("core:login"), {"username": contractor.username, "password": f.PASSWORD})
    assert client.get(reverse("core:home-role", args=["enterprise"])).status_code == 200


# --- the password re-entry is throttled like a sign-in -------------------------------------------


def test_wrong_passwords_on_the_bind_page_lock_like_sign_in_failures(client, certs, ca_reviewer, settings):
    from axes.models import AccessAttempt

    client.force_login(ca_reviewer)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        wrong = client.post(BIND, {"password": "wrong"}, **proxy_headers(certs.good))
        assert wrong.status_code == 400
        assert "密码不正确" in wrong.content.decode()

    locked = client.post(BIND, {"password": "wrong"}, **proxy_headers(certs.good))

    assert locked.status_code == 429
    assert "账号已临时锁定" in locked.content.decode()
    attempt = AccessAttempt.objects.get(username=ca_reviewer.username)
    assert attempt.failures_since_start == settings.AXES_FAILURE_LIMIT
    lockout = AuditEntry.objects.get(action=AuditEntry.Action.LOCKOUT)
    assert lockout.object_id == str(ca_reviewer.pk)
    # The session that guessed is signed out; the right password no longer signs in from this address.
    assert client.get(BIND).status_code == 302
    again = client.post(reverse("core:login"), {"username": ca_reviewer.username, "password": f.PASSWORD})
    assert again.status_code == 429
    assert "账号已临时锁定" in again.content.decode()
    assert "_auth_user_id" not in client.session
    # From another address the account signs in as before.
    other = client.post(
        reverse("core:login"),
        {"username": ca_reviewer.username, "password": f.PASSWORD},
        REMOTE_ADDR="10.9.8.7",
    )
    assert other.status_code == 302
    assert not BoundCertificate.objects.exists()


def test_sign_in_and_bind_page_failures_add_up_and_a_locked_pair_cannot_bind(
    client, certs, ca_reviewer, settings
):
    signed_in = type(client)()
    signed_in.force_login(ca_reviewer)
    for _ in range(settings.AXES_FAILURE_LIMIT - 2):
        client.post(reverse("core:login"), {"username": ca_reviewer.username, "password": "wrong"})
    assert signed_in.post(BIND, {"password": "wrong"}, **proxy_headers(certs.good)).status_code == 400
    # One more wrong password on the sign-in page: the fifth failure in all locks the pair.
    client.post(reverse("core:login"), {"username": ca_reviewer.username, "password": "wrong"})

    # The session signed in before is still open, but its right password is refused unchecked.
    refused = signed_in.post(BIND, {"password": f.PASSWORD}, **proxy_headers(certs.good))

    assert refused.status_code == 429
    assert "已在该地址锁定" in refused.content.decode()
    assert not BoundCertificate.objects.exists()
    # From another address the pair is not locked: binding works there.
    elsewhere = signed_in.post(
        BIND, {"password": f.PASSWORD}, REMOTE_ADDR="10.9.8.7", **proxy_headers(certs.good)
    )
    assert elsewhere.status_code == 302
    assert BoundCertificate.objects.get().user == ca_reviewer


def test_a_throttled_address_cannot_guess_on_the_bind_page(client, certs, ca_reviewer, designer, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    for name in ("a1", "a2", "a3"):
        client.post(reverse("core:login"), {"username": name, "password": "wrong"})
    client.force_login(ca_reviewer)

    refused = client.post(BIND, {"password": f.PASSWORD}, **proxy_headers(certs.good))

    assert refused.status_code == 429
    assert "该地址登录失败次数过多" in refused.content.decode()
    assert not BoundCertificate.objects.exists()
