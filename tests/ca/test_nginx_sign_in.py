"""CA certificate sign-in through a real TLS proxy: Debian's nginx running deploy/nginx/yunjian.conf.template
in front of the live test server, with client certificates made in the test (tests/ca/conftest.py).

Proves, as a browser presenting a certificate would see it: a bound certificate signs its holder in
(no dynamic password asked); a certificate from another CA, an expired one and a revoked one are
refused by the proxy before the app; the certificate headers sent straight to the app, or forged
through the proxy, are ignored; a CA reviewer cannot sign in with the password alone; and the first
binding by password plus certificate, through the proxy."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
import requests
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests import factories as f
from tests.ca.conftest import SECRET, browser
from tests.conftest import totp_token
from yunjian.core import certificates
from yunjian.core.models import AuditEntry, BoundCertificate

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def ca_reviewer(world):
    user = f.make_reviewer("li_ca_reviewer", "530300", "permit")
    user.has_ca_certificate = True
    user.full_name = "李审核"
    user.save()
    return user


@pytest.fixture
def security_admin(world):
    from yunjian.core.models import Role

    return f.make_user("sec_admin", None, Role.SECURITY_ADMIN)


def csrf(session: requests.Session, base: str) -> str:
    page = session.get(f"{base}/login/")
    assert page.status_code == 200, page.text[:300]
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)


def ca_sign_in(session: requests.Session, base: str) -> requests.Response:
    token = csrf(session, base)
    return session.post(
        f"{base}/login/certificate/",
        data={"csrfmiddlewaretoken": token},
        headers={"Referer": f"{base}/login/"},
    )


def bind(user, issued, admin) -> BoundCertificate:
    """Bound by the security administrator by serial and subject (the fingerprint is filled at first use)."""
    cert = issued.cert
    # Written in OpenSSL's order (C first), the way an administrator may copy it from a certificate viewer.
    subject = ", ".join(reversed(cert.subject.rfc4514_string().split(",")))
    return certificates.bind_by_admin(
        actor=admin,
        user_id=user.pk,
        serial=":".join(re.findall("..", format(cert.serial_number, "040X"))),
        subject_dn=subject,
    )


def test_certificate_signs_in_through_nginx(nginx, certs, ca_reviewer, security_admin):
    row = bind(ca_reviewer, certs.good, security_admin)
    assert row.fingerprint == ""
    session = browser(certs, "good")

    response = ca_sign_in(session, nginx.url)

    assert response.status_code == 200, nginx.error_log()[-2000:]
    # Straight to the reviewer's home: the certificate is the second factor, no dynamic password asked.
    assert response.url.startswith(f"{nginx.url}/home/reviewer/"), response.url
    assert "李审核" in response.text
    row.refresh_from_db()
    assert row.fingerprint == certificates.from_pem(certs.good.pem.decode()).fingerprint
    assert row.last_used_at is not None
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN, actor=ca_reviewer).get()
    assert entry.reason == "CA数字证书登录"
    assert entry.data["fingerprint"] == row.fingerprint
    # The session keeps working on the next pages, over new connections too (the certificate is presented again)...
    assert session.get(f"{nginx.url}/account/certificate/").status_code == 200
    session.close()
    again = session.get(f"{nginx.url}/account/certificate/")
    assert again.status_code == 200
    assert "已绑定到您的账号" in again.text
    # ...but not from a client without the certificate, even with the session cookie.
    thief = browser(certs)
    thief.cookies.update(session.cookies)
    stolen = thief.get(f"{nginx.url}/account/certificate/")
    assert stolen.url.startswith(f"{nginx.url}/login/")
    assert "未再检测到您登录时使用的CA数字证书" in stolen.text


@pytest.mark.parametrize("name", ["foreign", "expired", "revoked"])
def test_bad_certificates_are_refused_by_the_proxy(nginx, certs, ca_reviewer, security_admin, name):
    # Even bound to the account by serial and subject: the proxy refuses before the app is asked.
    bind(ca_reviewer, getattr(certs, name), security_admin)
    session = browser(certs, name)

    response = session.get(f"{nginx.url}/login/")

    assert response.status_code == 403
    assert "CA数字证书无效" in response.text
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN).exists()
    reason = {"foreign": "unable to", "expired": "certificate has expired", "revoked": "certificate revoked"}[
        name
    ]
    assert reason in nginx.error_log()


def test_unbound_certificate_is_told_to_bind(nginx, certs, ca_reviewer):
    session = browser(certs, "second")

    response = ca_sign_in(session, nginx.url)

    assert response.url.startswith(f"{nginx.url}/login/")
    assert "该CA数字证书尚未绑定账号" in response.text
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN).exists()
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.LOGIN_FAILED, reason__contains="尚未绑定"
    ).exists()


def forged(issued, secret: str) -> dict:
    cert = issued.cert
    return {
        "X-SSL-Client-Verify": "SUCCESS",
        "X-SSL-Client-Serial": format(cert.serial_number, "X"),
        "X-SSL-Client-S-DN": "CN=x",
        "X-SSL-Client-I-DN": "CN=y",
        "X-SSL-Client-Cert": quote(issued.pem.decode()),
        "X-Yunjian-Proxy-Secret": secret,
    }


@pytest.mark.parametrize("secret", ["", "wrong-secret", SECRET[:-1]])
def test_headers_sent_straight_to_the_app_are_ignored(
    live_server, certs, ca_reviewer, security_admin, secret
):
    bind(ca_reviewer, certs.good, security_admin)
    session = requests.Session()
    session.trust_env = False
    session.headers.update(forged(certs.good, secret))

    response = ca_sign_in(session, live_server.url)

    assert response.url.startswith(f"{live_server.url}/login/")
    assert "未检测到经验证的CA数字证书" in response.text
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN).exists()


def test_headers_forged_through_the_proxy_are_replaced(nginx, certs, ca_reviewer, security_admin):
    """Even knowing the secret, a client without the certificate's key gets nothing: the proxy sets
    every one of these headers itself."""
    bind(ca_reviewer, certs.good, security_admin)
    session = browser(certs)  # no client certificate in the TLS handshake
    session.headers.update(forged(certs.good, SECRET))

    response = ca_sign_in(session, nginx.url)

    assert "未检测到经验证的CA数字证书" in response.text
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN).exists()


def test_untrusted_proxy_address_is_ignored(nginx, certs, ca_reviewer, security_admin, settings):
    """With CA_TRUSTED_PROXIES set, the secret alone is not enough: the request must come from one."""
    bind(ca_reviewer, certs.good, security_admin)
    settings.CA_TRUSTED_PROXIES = ["10.20.30.40"]

    response = ca_sign_in(browser(certs, "good"), nginx.url)

    assert "未检测到经验证的CA数字证书" in response.text
    settings.CA_TRUSTED_PROXIES = ["127.0.0.1"]
    assert ca_sign_in(browser(certs, "good"), nginx.url).url.startswith(f"{nginx.url}/home/reviewer/")


def password_sign_in(session, base, username, password=f.PASSWORD) -> requests.Response:
    token = csrf(session, base)
    return session.post(
        f"{base}/login/",
        data={"csrfmiddlewaretoken": token, "username": username, "password": password},
        headers={"Referer": f"{base}/login/"},
    )


def test_ca_reviewer_cannot_sign_in_with_the_password_alone(nginx, certs, ca_reviewer, security_admin):
    bind(ca_reviewer, certs.good, security_admin)

    for session in (browser(certs), browser(certs, "good")):  # without and with the certificate
        response = password_sign_in(session, nginx.url, ca_reviewer.username)
        assert response.status_code == 200
        assert response.url.startswith(f"{nginx.url}/login/")
        assert "不能仅凭密码登录" in response.text
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.LOGIN).exists()
    assert (
        AuditEntry.objects.filter(
            action=AuditEntry.Action.LOGIN_FAILED, reason__contains="拒绝仅凭密码登录"
        ).count()
        == 2
    )


def test_first_binding_by_password_and_certificate_through_nginx(nginx, certs, ca_reviewer):
    """Not bound yet: the password (and the dynamic password, the reviewer's rule) signs in; the
    certificate presented is offered for binding; after that the certificate signs in and the
    password alone no longer does."""
    device = TOTPDevice.objects.create(user=ca_reviewer, name="totp", confirmed=True)
    session = browser(certs, "good")

    response = password_sign_in(session, nginx.url, ca_reviewer.username)
    assert "/account/two-factor/verify/" in response.url
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)
    response = session.post(response.url, data={"csrfmiddlewaretoken": token, "token": totp_token(device)})
    assert response.url.startswith(f"{nginx.url}/account/certificate/"), response.url
    assert "确认绑定" in response.text
    assert "李审核" in response.text

    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text).group(1)
    wrong = session.post(response.url, data={"csrfmiddlewaretoken": token, "password": "not-it"})
    assert wrong.status_code == 400
    assert "密码不正确" in wrong.text
    assert not BoundCertificate.objects.exists()

    done = session.post(response.url, data={"csrfmiddlewaretoken": token, "password": f.PASSWORD})
    assert "CA数字证书已绑定" in done.text
    row = BoundCertificate.objects.get()
    assert (row.user, row.bound_by) == (ca_reviewer, ca_reviewer)
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.PERMISSION, reason__contains="本人绑定CA数字证书"
    ).exists()

    fresh = browser(certs, "good")
    assert ca_sign_in(fresh, nginx.url).url.startswith(f"{nginx.url}/home/reviewer/")
    assert "不能仅凭密码登录" in password_sign_in(browser(certs), nginx.url, ca_reviewer.username).text
