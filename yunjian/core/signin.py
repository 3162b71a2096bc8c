"""What a signed-in person must do before using the system: pass the second factor, change a
temporary or expired password. Checked on every request by SignInPolicyMiddleware (no extra query
for a person with nothing pending), so no page, in any app, can be reached around it."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

OTP_PENDING = "otp_pending"
EXPIRY_WARNED = "password_expiry_warned"
# Set when the session was opened with a bound CA certificate (yunjian.core.certificates): the
# certificate is the second factor, so the dynamic password is not asked for.
CA_SIGNED_IN = "ca_certificate"


def start_session(request, user) -> None:
    """At sign-in: does this session need the second factor before anything else?"""
    from yunjian.core.accounts import has_confirmed_device

    required = settings.OTP_REQUIRED and user.otp_required_by_role
    # Whoever enrolled (an enterprise user who opted in, or anyone in the demo) is always asked.
    request.session[OTP_PENDING] = bool(required or has_confirmed_device(user))
    request.session.pop(EXPIRY_WARNED, None)


def otp_pending(request) -> bool:
    user = request.user
    if user.is_verified() or request.session.get(CA_SIGNED_IN):
        return False
    return bool(request.session.get(OTP_PENDING)) or (settings.OTP_REQUIRED and user.otp_required_by_role)


def password_changed_at(user):
    return user.password_changed_at or user.date_joined


def password_expires_at(user):
    if settings.PASSWORD_MAX_AGE_DAYS <= 0 or not user.has_usable_password():
        return None
    return password_changed_at(user) + timedelta(days=settings.PASSWORD_MAX_AGE_DAYS)


def password_change_reason(user) -> str:
    """Why the person must change their password now ("" when they need not)."""
    if user.must_change_password:
        return "您正在使用激活或重置后的初始密码，请先设置新密码。"
    expires = password_expires_at(user)
    if expires is not None and timezone.now() >= expires:
        return f"您的密码已超过{settings.PASSWORD_MAX_AGE_DAYS}天未修改，已过期，请设置新密码。"
    return ""


def days_until_expiry(user) -> int | None:
    """Days left when inside the warning period, else None."""
    expires = password_expires_at(user)
    if expires is None:
        return None
    left = expires - timezone.now()
    if left <= timedelta(0) or left > timedelta(days=settings.PASSWORD_EXPIRY_WARNING_DAYS):
        return None
    return max(1, left.days + (1 if left.seconds else 0))
