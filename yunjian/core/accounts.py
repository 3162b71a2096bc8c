"""Account services: password change and reset, second factor enrolment and reset, unlock, and the
break-glass recovery of a security administrator. Each one locks the account row, checks who acts,
changes it and writes the audit entry in the same transaction.

Who may do what (三员分立): every user changes their own password and manages their own second
factor; only a security administrator unlocks accounts and resets other people's passwords and
second factors, never their own (they change their own; `manage.py break_glass` covers one who is
locked out); the system and audit administrators do neither.
"""

from __future__ import annotations

import secrets
import string

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from yunjian.core import audit
from yunjian.core.models import AuditEntry, Role, User

BACKUP_DEVICE_NAME = "backup"
TOTP_DEVICE_NAME = "totp"


def _lock(user_id: int) -> User:
    return User.objects.select_for_update().get(pk=user_id)


def _require_security_admin(actor, target: User) -> None:
    if not actor.has_role(Role.SECURITY_ADMIN):
        raise PermissionDenied("只有安全管理员可以执行此操作。")
    if actor.pk == target.pk:
        raise PermissionDenied("不能对本人账号执行此操作：请在“账号安全”中修改本人密码或动态口令。")


# --- passwords -----------------------------------------------------------------------------------


@transaction.atomic
def password_change(*, actor, old_password: str, new_password: str, ip: str | None = None) -> User:
    """The user's own change: the old password, then every rule (history included)."""
    user = _lock(actor.pk)
    if not user.check_password(old_password):
        raise ValidationError({"old_password": "原密码不正确。"})
    if old_password == new_password:
        raise ValidationError({"new_password1": "新密码不能与原密码相同。"})
    validate_password(new_password, user)
    user.set_password(new_password)
    user.must_change_password = False
    user.save()
    audit.record(action=AuditEntry.Action.PASSWORD, actor=user, obj=user, reason="本人修改密码", ip=ip)
    return user


def temporary_password() -> str:
    """A one-time password that passes the rules: the person must change it at first sign-in."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"Yj-{body}-{secrets.randbelow(90) + 10}a"


@transaction.atomic
def password_reset(*, actor, user_id: int, ip: str | None = None) -> tuple[User, str]:
    """Security administrator: a temporary password, shown once, to be changed at first sign-in;
    the account's locks are lifted with it."""
    user = _lock(user_id)
    _require_security_admin(actor, user)
    password = temporary_password()
    user.set_password(password)
    user.must_change_password = True
    user.save()
    axes_reset(username=user.username)
    audit.record(
        action=AuditEntry.Action.PASSWORD,
        actor=actor,
        obj=user,
        reason="安全管理员重置密码（首次登录须修改）",
        ip=ip,
    )
    return user, password


@transaction.atomic
def account_unlock(*, actor, user_id: int, ip: str | None = None) -> User:
    user = _lock(user_id)
    _require_security_admin(actor, user)
    removed = axes_reset(username=user.username)
    audit.record(
        action=AuditEntry.Action.PERMISSION,
        actor=actor,
        obj=user,
        reason="解除登录锁定",
        data={"locks_removed": removed},
        ip=ip,
    )
    return user


# --- second factor -------------------------------------------------------------------------------


def confirmed_totp(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_confirmed_device(user) -> bool:
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or StaticDevice.objects.filter(user=user, confirmed=True, token_set__isnull=False).exists()
    )


def pending_totp(user) -> TOTPDevice:
    """The device being enrolled: one unconfirmed TOTP device per user, created on first need."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=False)
    return device


def _new_backup_codes(user) -> list[str]:
    device, _ = StaticDevice.objects.get_or_create(
        user=user, name=BACKUP_DEVICE_NAME, defaults={"confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(settings.OTP_BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


@transaction.atomic
def otp_enrol(*, actor, token: str, ip: str | None = None) -> tuple[TOTPDevice, list[str]]:
    """Confirm the pending TOTP device with a code from the authenticator app; returns the device and
    a fresh set of one-time backup codes (shown once)."""
    user = _lock(actor.pk)
    if confirmed_totp(user) is not None:
        raise ValidationError("您已启用动态口令；如需更换手机，请联系安全管理员重置。")
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
    if device is None or not device.verify_token(_digits(token)):
        raise ValidationError("动态口令不正确，请核对手机上显示的6位数字后重试。")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    codes = _new_backup_codes(user)
    audit.record(
        action=AuditEntry.Action.PERMISSION, actor=user, obj=user, reason="启用动态口令（双因素认证）", ip=ip
    )
    return device, codes


@transaction.atomic
def backup_codes_regenerate(*, actor, ip: str | None = None) -> list[str]:
    user = _lock(actor.pk)
    if confirmed_totp(user) is None:
        raise ValidationError("请先启用动态口令。")
    codes = _new_backup_codes(user)
    audit.record(action=AuditEntry.Action.PERMISSION, actor=user, obj=user, reason="重新生成备用码", ip=ip)
    return codes


def _digits(token: str) -> str:
    return "".join((token or "").split())


def otp_verify(*, user, token: str):
    """The device (TOTP or a one-time backup code) that accepts the token, or None. django-otp throttles
    repeated failures per device."""
    token = _digits(token)
    if not token:
        return None
    # Six digits go to the authenticator app's device, anything else to the backup codes, so that a
    # backup code does not count as a failure against the app (django-otp throttles per device).
    model = TOTPDevice if token.isdigit() and len(token) == 6 else StaticDevice
    with transaction.atomic():
        for device in model.objects.select_for_update().filter(user=user, confirmed=True):
            if device.verify_token(token):
                return device
    return None


@transaction.atomic
def otp_reset(*, actor, user_id: int, ip: str | None = None) -> User:
    """Security administrator: remove a person's devices (a lost phone); they enrol again at next sign-in."""
    user = _lock(user_id)
    _require_security_admin(actor, user)
    removed = _remove_devices(user)
    audit.record(
        action=AuditEntry.Action.PERMISSION,
        actor=actor,
        obj=user,
        reason="安全管理员重置动态口令",
        data={"devices_removed": removed},
        ip=ip,
    )
    return user


def _remove_devices(user) -> int:
    removed = 0
    for model in (TOTPDevice, StaticDevice):
        count, _ = model.objects.filter(user=user).delete()
        removed += count
    return removed


@transaction.atomic
def break_glass(*, username: str, reason: str, operator: str) -> tuple[User, str]:
    """`manage.py break_glass`: recover a locked-out security administrator from the server's shell.
    Lifts their locks, removes their second factor, sets a temporary password to be changed at the
    next sign-in. Audited with who ran it and why."""
    reason = (reason or "").strip()
    if len(reason) < 4:
        raise ValidationError("请用 --reason 写明原因（至少4个字）。")
    user = User.objects.select_for_update().filter(username=username).first()
    if user is None:
        raise ValidationError(f"账号 {username} 不存在。")
    if not user.has_role(Role.SECURITY_ADMIN):
        raise ValidationError("应急恢复只用于安全管理员账号；其他账号由安全管理员在“账号管理”中处理。")
    password = temporary_password()
    user.set_password(password)
    user.must_change_password = True
    user.is_active = True
    user.save()
    locks = axes_reset(username=user.username)
    devices = _remove_devices(user)
    audit.record(
        action=AuditEntry.Action.PERMISSION,
        obj=user,
        reason=f"应急恢复安全管理员账号（manage.py break_glass）：{reason}"[:1000],
        data={"operator": operator[:150], "locks_removed": locks, "devices_removed": devices},
    )
    return user, password
