"""CA digital-certificate sign-in: the certificate the TLS proxy verified, the bindings of certificates
to accounts, and the rule that keeps password-only sign-in from accounts that have one.

The proxy (deploy/nginx/yunjian.conf.template) performs the TLS client authentication against the CA
bundle and revocation list the province configures; a certificate that fails (another CA, expired,
revoked) never reaches the app. For a verified one it sets X-SSL-Client-Verify, -Serial, -S-DN, -I-DN,
-Cert (the escaped PEM) and X-Yunjian-Proxy-Secret. `ClientCertificateMiddleware` believes those
headers only when the secret equals settings.CA_PROXY_SECRET (hmac.compare_digest) and, if
CA_TRUSTED_PROXIES lists addresses, the request comes from one of them; in every case it removes them
from the request, so nothing later can read a forged one. The facts used (serial, subject, issuer,
fingerprint, validity) are read from the PEM itself, not from the proxy's text renderings.

Decisions (docs/architecture.md, "CA digital certificates"):
- Signing in with a bound certificate counts as both factors (the certificate's key is held on the
  person's USB key behind its PIN): the session is not asked for the dynamic password.
- An account marked 已办理CA数字证书 (the roster's column) that has a bound certificate is refused
  password-only sign-in; until it has one, the password is how it binds its certificate (or the
  security administrator binds it), so the flag alone does not lock anyone out.
- Business roles bind certificates (enterprise users too); the three administrators do not.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from yunjian.core import audit
from yunjian.core.models import AuditEntry, BoundCertificate, Role, User

logger = logging.getLogger(__name__)

# The request headers the proxy sets (as Django's META keys); all removed by the middleware.
HEADER_VERIFY = "HTTP_X_SSL_CLIENT_VERIFY"
HEADER_CERT = "HTTP_X_SSL_CLIENT_CERT"
HEADER_SECRET = "HTTP_X_YUNJIAN_PROXY_SECRET"
PROXY_HEADERS = (
    HEADER_VERIFY,
    "HTTP_X_SSL_CLIENT_SERIAL",
    "HTTP_X_SSL_CLIENT_S_DN",
    "HTTP_X_SSL_CLIENT_I_DN",
    HEADER_CERT,
    HEADER_SECRET,
)

# Who binds a certificate: the business roles. The administrators sign in with password and TOTP.
CA_ROLES = frozenset({Role.ENTERPRISE, Role.INSTITUTION, Role.REVIEWER, Role.DESIGN_DIVISION})

PASSWORD_REFUSED = (
    "您的账号已办理并绑定CA数字证书，不能仅凭密码登录：请插入CA数字证书（USB Key），"
    "然后点击“使用CA数字证书登录”。证书遗失请联系安全管理员。"
)


@dataclass(frozen=True)
class ClientCertificate:
    """A client certificate the proxy verified."""

    serial: str
    subject_dn: str
    issuer_dn: str
    fingerprint: str
    not_before: datetime
    not_after: datetime

    @property
    def common_name(self) -> str:
        for part in self.subject_dn.split(","):
            if part.upper().startswith("CN="):
                return part[3:]
        return self.subject_dn


# --- reading what the proxy passed -------------------------------------------------------------------


def normalize_serial(value: str) -> str:
    """Upper-case hex without separators or leading zeros ("" if it is not hex)."""
    cleaned = "".join(ch for ch in (value or "") if ch not in " :-\t").upper()
    if not cleaned or any(ch not in "0123456789ABCDEF" for ch in cleaned):
        return ""
    return cleaned.lstrip("0") or "0"


def parse_dn(value: str) -> x509.Name:
    """RFC 4514 text, tolerating the spaces after commas that certificate viewers show."""
    parts, current, escaped = [], "", False
    for ch in (value or "").strip():
        if escaped:
            current, escaped = current + ch, False
        elif ch == "\\":
            current, escaped = current + ch, True
        elif ch in ",;":
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    parts.append(current.strip())
    return x509.Name.from_rfc4514_string(",".join(parts))


def dn_key(value: str) -> tuple:
    """A distinguished name compared regardless of order and spacing ("C=CN, O=…, CN=…" equals
    "CN=…,O=…,C=CN"): the set of its attributes."""
    try:
        name = parse_dn(value)
    except ValueError:
        return ()
    return tuple(sorted((attr.oid.dotted_string, str(attr.value).strip()) for attr in name))


def from_pem(pem: str) -> ClientCertificate | None:
    try:
        cert = x509.load_pem_x509_certificate(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None
    return ClientCertificate(
        serial=format(cert.serial_number, "X"),
        subject_dn=cert.subject.rfc4514_string(),
        issuer_dn=cert.issuer.rfc4514_string(),
        fingerprint=cert.fingerprint(hashes.SHA256()).hex().upper(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
    )


def from_proxy(request) -> ClientCertificate | None:
    """The certificate in the proxy's headers, or None when there is none, the headers are not the
    configured proxy's, or the certificate is not valid now."""
    meta = request.META
    secret = settings.CA_PROXY_SECRET
    given = meta.get(HEADER_SECRET, "")
    if not secret or not given:
        return None
    if not hmac.compare_digest(given.encode("utf-8", "replace"), secret.encode("utf-8")):
        logger.warning(
            "certificate headers with a wrong proxy secret from %s: ignored", meta.get("REMOTE_ADDR")
        )
        return None
    if settings.CA_TRUSTED_PROXIES and meta.get("REMOTE_ADDR") not in settings.CA_TRUSTED_PROXIES:
        logger.warning("certificate headers from %s, not a trusted proxy: ignored", meta.get("REMOTE_ADDR"))
        return None
    if meta.get(HEADER_VERIFY) != "SUCCESS" or not meta.get(HEADER_CERT):
        return None
    certificate = from_pem(unquote(meta[HEADER_CERT]))
    if certificate is None:
        return None
    now = timezone.now()
    if not (certificate.not_before <= now <= certificate.not_after):  # the proxy checks too
        return None
    return certificate


class ClientCertificateMiddleware:
    """Sets request.client_certificate (a ClientCertificate or None) and removes the proxy's headers.

    A session opened with a certificate lasts only while that certificate is presented: a request
    without it (the USB key pulled out, another certificate chosen) ends the session."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.client_certificate = from_proxy(request)
        for key in PROXY_HEADERS:
            request.META.pop(key, None)
        return self._certificate_gone(request) or self.get_response(request)

    def _certificate_gone(self, request):
        from django.contrib import messages
        from django.contrib.auth import logout
        from django.shortcuts import redirect

        from yunjian.core.signin import CA_SIGNED_IN

        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or request.path.startswith(settings.STATIC_URL):
            return None
        fingerprint = request.session.get(CA_SIGNED_IN)
        presented = request.client_certificate
        if not fingerprint or (presented is not None and presented.fingerprint == fingerprint):
            return None
        logout(request)
        messages.warning(
            request,
            "未再检测到您登录时使用的CA数字证书（可能已拔出或更换），为保障账号安全已退出，请重新登录。",
        )
        return redirect("core:login")


# --- bindings ------------------------------------------------------------------------------------


def _pending_match(certificate: ClientCertificate, *, lock: bool = False) -> BoundCertificate | None:
    """A binding the security administrator made by serial and subject, not used yet."""
    rows = BoundCertificate.objects.filter(serial=certificate.serial, fingerprint="")
    if lock:
        rows = rows.select_for_update()
    key = dn_key(certificate.subject_dn)
    return next((row for row in rows if dn_key(row.subject_dn) == key), None)


def binding_for(certificate: ClientCertificate | None) -> BoundCertificate | None:
    """The binding a presented certificate matches (by fingerprint, or a pending one by serial and subject)."""
    if certificate is None:
        return None
    found = (
        BoundCertificate.objects.select_related("user").filter(fingerprint=certificate.fingerprint).first()
    )
    return found or _pending_match(certificate)


def has_bound_certificate(user) -> bool:
    return BoundCertificate.objects.filter(user=user).exists()


def password_refusal(user) -> str:
    """Why this account may not sign in with the password alone ("" when it may)."""
    if user.has_ca_certificate and has_bound_certificate(user):
        return PASSWORD_REFUSED
    return ""


def may_bind(user) -> bool:
    return any(user.has_role(role) for role in CA_ROLES)


def _fill(row: BoundCertificate, certificate: ClientCertificate) -> None:
    row.fingerprint = certificate.fingerprint
    row.not_after = certificate.not_after
    row.issuer_dn = certificate.issuer_dn
    row.subject_dn = certificate.subject_dn


def _snapshot(row: BoundCertificate) -> dict:
    return {
        "serial": row.serial,
        "subject": row.subject_dn,
        "issuer": row.issuer_dn,
        "fingerprint": row.fingerprint,
        "not_after": row.not_after.isoformat() if row.not_after else "",
    }


@transaction.atomic
def bind_own(
    *, actor, password: str, certificate: ClientCertificate | None, ip: str | None = None
) -> BoundCertificate:
    """The holder binds the certificate they present, confirming with their password."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    if not may_bind(user):
        raise PermissionDenied("管理员账号不绑定CA数字证书。")
    if certificate is None:
        raise ValidationError("未检测到经验证的CA数字证书：请插入证书后通过本系统的HTTPS地址重新打开本页。")
    if not user.check_password(password or ""):
        raise ValidationError({"password": "密码不正确。"})
    existing = (
        BoundCertificate.objects.select_for_update().filter(fingerprint=certificate.fingerprint).first()
    )
    if existing is None:
        existing = _pending_match(certificate, lock=True)
    if existing is not None and existing.user_id != user.pk:
        raise ValidationError("该证书已绑定其他账号，请联系安全管理员。")
    if existing is not None and existing.fingerprint:
        raise ValidationError("该证书已绑定到您的账号，无需重复绑定。")
    row = existing or BoundCertificate(user=user, serial=certificate.serial, bound_by=user)
    _fill(row, certificate)
    row.bound_at = timezone.now()
    row.bound_by = user
    try:
        with transaction.atomic():  # the same certificate bound at this moment by someone else
            row.save()
    except IntegrityError:
        raise ValidationError("该证书已绑定其他账号，请联系安全管理员。") from None
    audit.record(
        action=AuditEntry.Action.PERMISSION,
        actor=user,
        obj=user,
        reason="本人绑定CA数字证书（密码＋证书）",
        data=_snapshot(row),
        ip=ip,
    )
    return row


def _require_security_admin(actor, target: User) -> None:
    if not actor.has_role(Role.SECURITY_ADMIN):
        raise PermissionDenied("只有安全管理员可以执行此操作。")
    if actor.pk == target.pk:
        raise PermissionDenied("不能对本人账号执行此操作。")


@transaction.atomic
def bind_by_admin(
    *, actor, user_id: int, serial: str, subject_dn: str, issuer_dn: str = "", ip: str | None = None
) -> BoundCertificate:
    """The security administrator binds a certificate by its serial number and subject; the holder's
    first sign-in with it fills in the fingerprint."""
    user = User.objects.select_for_update().get(pk=user_id)
    _require_security_admin(actor, user)
    if not may_bind(user):
        raise ValidationError("管理员账号不绑定CA数字证书。")
    errors = {}
    number = normalize_serial(serial)
    if not number or len(number) > 64:
        errors["serial"] = "证书序列号应为十六进制数字（可含冒号或空格），例如 0B:F8:52:3D。"
    try:
        subject = parse_dn(subject_dn).rfc4514_string() if subject_dn.strip() else ""
    except ValueError:
        subject = None
    if not subject:
        errors["subject_dn"] = "证书主题格式不正确，应形如 CN=张三,O=曲靖市住房和城乡建设局,C=CN。"
    issuer = ""
    if issuer_dn.strip():
        try:
            issuer = parse_dn(issuer_dn).rfc4514_string()
        except ValueError:
            errors["issuer_dn"] = "颁发者格式不正确，应形如 CN=某某CA,O=某某认证中心,C=CN。"
    if errors:
        raise ValidationError(errors)
    key = dn_key(subject)
    clash = [
        row
        for row in BoundCertificate.objects.select_for_update().filter(serial=number)
        if dn_key(row.subject_dn) == key
    ]
    if clash:
        owner = clash[0].user
        raise ValidationError(f"序列号和主题相同的证书已绑定账号 {owner.username}。")
    try:
        with transaction.atomic():  # the same serial and subject bound at this moment by someone else
            row = BoundCertificate.objects.create(
                user=user, serial=number, subject_dn=subject, issuer_dn=issuer, bound_by=actor
            )
    except IntegrityError:
        raise ValidationError("序列号和主题相同的证书已被绑定。") from None
    audit.record(
        action=AuditEntry.Action.PERMISSION,
        actor=actor,
        obj=user,
        reason="安全管理员按序列号和主题绑定CA数字证书",
        data=_snapshot(row),
        ip=ip,
    )
    return row


@transaction.atomic
def unbind(*, actor, user_id: int, certificate_id: int, ip: str | None = None) -> BoundCertificate:
    user = User.objects.select_for_update().get(pk=user_id)
    _require_security_admin(actor, user)
    row = BoundCertificate.objects.select_for_update().filter(pk=certificate_id, user=user).first()
    if row is None:
        raise ValidationError("该证书绑定已不存在。")
    data = _snapshot(row)
    row.delete()
    audit.record(
        action=AuditEntry.Action.PERMISSION,
        actor=actor,
        obj=user,
        reason="安全管理员解除CA数字证书绑定",
        data=data,
        ip=ip,
    )
    return row


def account_for_sign_in(certificate: ClientCertificate | None, *, ip: str | None = None) -> User:
    """The account a presented certificate signs in as, or ValidationError with the reason (a refusal
    is audited, outside the lookup's transaction so that it stays). A pending binding (by serial and
    subject) gets the certificate's fingerprint now."""
    if certificate is None:
        raise ValidationError(
            "未检测到经验证的CA数字证书：请插入证书（USB Key），关闭浏览器后重新打开本系统的HTTPS地址，"
            "在浏览器询问时选择您的证书。"
        )
    with transaction.atomic():
        row = (
            BoundCertificate.objects.select_for_update(of=("self",))
            .select_related("user")
            .filter(fingerprint=certificate.fingerprint)
            .first()
        )
        if row is None:
            row = _pending_match(certificate, lock=True)
        if row is not None and row.user.is_active:
            if not row.fingerprint:
                _fill(row, certificate)
            row.last_used_at = timezone.now()
            row.save()
            return row.user
    if row is None:
        problem = (
            "该CA数字证书尚未绑定账号：请先用用户名和密码登录并确认绑定，或请安全管理员按证书序列号绑定。"
        )
    else:
        problem = "该证书绑定的账号已停用，请联系本单位管理员。"
    audit.record(
        action=AuditEntry.Action.LOGIN_FAILED,
        object_type="user",
        object_id=row.user_id if row else "",
        reason="CA数字证书登录被拒绝：" + problem,
        data={
            "serial": certificate.serial,
            "subject": certificate.subject_dn,
            "fingerprint": certificate.fingerprint,
        },
        ip=ip,
    )
    raise ValidationError(problem)
