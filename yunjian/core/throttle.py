"""Sign-in throttling by client address and by username, beside django-axes' lock of the
(username, address) pair.

- A pair is locked after AXES_FAILURE_LIMIT failures (axes): the person at that address must wait.
- An address with LOGIN_IP_FAILURE_LIMIT failures in the window, whatever the usernames, is refused
  (password spraying from one machine).
- A username with LOGIN_USERNAME_FAILURE_LIMIT failures in the window from all addresses is refused,
  except from an address the account signed in from in the last LOGIN_KNOWN_ADDRESS_DAYS days: a
  distributed guess at `admin` is slowed, and `admin` still signs in from their own office.

Failures are counted in axes' failure log (purgeable, not the audit log); the audit log gets one
entry when an address or a username starts being refused.

A signed-in user re-entering their password to confirm something (binding a CA certificate,
yunjian.core.views.certificate_bind) is guessing at the same secret: a wrong password there is a
sign-in failure (`reentry_failed`: axes counts it for the (username, address) pair, and the address
and username counts above include it), and the page refuses before checking while the pair is locked
or the address or username is throttled (`reentry_refusal`).
"""

from __future__ import annotations

from datetime import timedelta

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.utils import timezone

from yunjian.core import audit
from yunjian.core.models import AuditEntry

IP_MESSAGE = "该地址登录失败次数过多，已暂停从该地址登录，请{minutes}分钟后再试，或联系安全管理员。"
LOCKED_MESSAGE = "该账号在您所在的地址连续输错密码次数过多，已在该地址锁定，请{minutes}分钟后再试，或联系安全管理员解除锁定。"
USERNAME_MESSAGE = (
    "该账号近期在多个地址登录失败次数过多，已暂停从新地址登录，请{minutes}分钟后再试，或联系安全管理员。"
)


def _window_start():
    return timezone.now() - timedelta(seconds=settings.LOGIN_THROTTLE_WINDOW_SECONDS)


def _minutes() -> int:
    return max(1, settings.LOGIN_THROTTLE_WINDOW_SECONDS // 60)


def ip_failures(ip: str | None) -> int:
    if not ip:
        return 0
    return AccessFailureLog.objects.filter(ip_address=ip, attempt_time__gte=_window_start()).count()


def username_failures(username: str) -> int:
    return AccessFailureLog.objects.filter(username=username, attempt_time__gte=_window_start()).count()


def is_known_address(username: str, ip: str | None) -> bool:
    if not ip:
        return False
    since = timezone.now() - timedelta(days=settings.LOGIN_KNOWN_ADDRESS_DAYS)
    return AccessLog.objects.filter(username=username, ip_address=ip, attempt_time__gte=since).exists()


def refusal(request, username: str) -> str:
    """Why this sign-in attempt is refused before the password is even checked ("" when it is not)."""
    ip = audit.client_ip(request)
    if ip_failures(ip) >= settings.LOGIN_IP_FAILURE_LIMIT:
        _audit_once(kind="address", key=ip, ip=ip, reason="同一地址登录失败次数过多，暂停从该地址登录")
        return IP_MESSAGE.format(minutes=_minutes())
    if (
        username
        and username_failures(username) >= settings.LOGIN_USERNAME_FAILURE_LIMIT
        and not is_known_address(username, ip)
    ):
        _audit_once(
            kind="username",
            key=username,
            ip=ip,
            reason="同一账号在多个地址登录失败次数过多，暂停从新地址登录",
        )
        return USERNAME_MESSAGE.format(minutes=_minutes())
    return ""


def _audit_once(*, kind: str, key: str, ip: str | None, reason: str) -> None:
    """One audit entry per throttling episode, not one per refused attempt."""
    key = (key or "")[:40]
    object_type = f"login-throttle-{kind}"
    if AuditEntry.objects.filter(
        action=AuditEntry.Action.LOCKOUT, object_type=object_type, object_id=key, at__gte=_window_start()
    ).exists():
        return
    audit.record(
        action=AuditEntry.Action.LOCKOUT,
        object_type=object_type,
        object_id=key,
        reason=reason,
        data={"window_seconds": settings.LOGIN_THROTTLE_WINDOW_SECONDS},
        ip=ip,
    )


def reentry_refusal(request, user) -> str:
    """Why a signed-in user's password re-entry is refused before the password is checked ("" when
    it is not): the (username, address) pair locked by axes, or the address or username throttled."""
    if AxesProxyHandler.is_locked(request, {"username": user.username}):
        minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds()) // 60)
        return LOCKED_MESSAGE.format(minutes=minutes)
    return refusal(request, user.username)


def reentry_failed(request, user) -> bool:
    """Count a wrong re-entered password as a failed sign-in of `user` from this address (the signal
    Django sends for a failed sign-in: axes logs it and locks the pair at AXES_FAILURE_LIMIT). True when
    this failure locked the pair."""
    user_login_failed.send(sender=__name__, credentials={"username": user.username}, request=request)
    return bool(getattr(request, "axes_locked_out", False))
