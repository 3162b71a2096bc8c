"""Enterprise registration and the enterprise administrator's staff accounts.

Who approves: the province — the system administrator (系统管理员), who already confirms the units
entered unverified by enterers and loads (`yunjian.core.organizations.confirm`) and until now created
every enterprise account. One queue for the province keeps one standard of checking a business licence;
a prefecture tier can be added by filtering the queue by `division` (docs/architecture.md).

Every service locks its rows, checks who acts, changes state through the django-fsm transition and
writes its audit entry in one transaction; the applicant's email is a job deferred in the same
transaction (enterprises.tasks).
"""

from __future__ import annotations

import hashlib
import secrets

from axes.utils import reset as axes_reset
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from enterprises.models import Registration
from yunjian.core import audit
from yunjian.core.models import AuditEntry, Organization, Role, User
from yunjian.core.validators import credit_code_problem, normalize_code, normalize_text

CONTACT_PROVINCE = "云南省住房和城乡建设厅（系统管理员）"


class StaffTokenGenerator(PasswordResetTokenGenerator):
    """One-time links for staff accounts: setting the password changes the hash the token was made of."""

    key_salt = "yunjian.enterprises.StaffTokenGenerator"


staff_token = StaffTokenGenerator()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- registration ----------------------------------------------------------------------------------


def code_refusal(code: str) -> str:
    """Why a registration under `code` is refused before anything is stored ("" when it may go on)."""
    org = Organization.objects.filter(credit_code=code).first()
    if org is not None and (org.is_verified or org.users.exists()):
        return (
            f"统一社会信用代码 {code} 已注册为“{org.name}”，不能重复注册。需要账号请联系本单位的企业管理员；"
            f"不知道谁是企业管理员的，请联系{CONTACT_PROVINCE}。"
        )
    pending = Registration.objects.filter(credit_code=code, state=Registration.State.PENDING).first()
    if pending is not None:
        return (
            f"统一社会信用代码 {code} 已于 {timezone.localtime(pending.submitted_at):%Y-%m-%d %H:%M} 提交注册申请，"
            f"正在审核中，请勿重复提交；如有疑问请联系{CONTACT_PROVINCE}。"
        )
    return ""


def username_refusal(username: str) -> str:
    if (
        User.objects.filter(username__iexact=username).exists()
        or Registration.objects.filter(username__iexact=username, state=Registration.State.PENDING).exists()
    ):
        return f"用户名“{username}”已被使用，请换一个。"
    return ""


@transaction.atomic
def register(*, data: dict, licence, ip: str | None = None) -> tuple[Registration, str]:
    """Store an application; returns it and the token of its status link (shown once)."""
    code = normalize_code(data["credit_code"])
    problem = credit_code_problem(code)
    if problem:
        raise ValidationError({"credit_code": f"{problem}。"})
    refusal = code_refusal(code)
    if refusal:
        raise ValidationError({"credit_code": refusal})
    refusal = username_refusal(data["username"])
    if refusal:
        raise ValidationError({"username": refusal})
    validate_password(data["password"], User(username=data["username"]))
    token = secrets.token_urlsafe(24)
    registration = Registration(
        credit_code=code,
        name=normalize_text(data["name"]),
        kinds=Organization.encode_kinds(data["kinds"]),
        division=data["division"],
        contact_name=normalize_text(data["contact_name"]),
        contact_mobile=data["contact_mobile"],
        contact_email=data["contact_email"],
        username=data["username"],
        password_hash=make_password(data["password"]),
        licence_name=data.get("licence_name", "")[:200],
        token_digest=token_digest(token),
        ip=ip,
    )
    registration.licence.save(f"{secrets.token_hex(8)}{_extension(licence)}", licence, save=False)
    try:
        with transaction.atomic():
            registration.save()
    except IntegrityError:
        registration.licence.delete(save=False)
        # Another application of the same code or username got in first (the partial unique constraints).
        raise ValidationError(
            {"credit_code": code_refusal(code) or username_refusal(data["username"])}
        ) from None
    audit.record(
        action=AuditEntry.Action.CREATE,
        obj=registration,
        reason=f"企业注册申请：{registration.name}",
        data={"credit_code": code, "username": registration.username, "kinds": registration.kind_list},
        ip=ip,
    )
    return registration, token


def _extension(upload) -> str:
    from projects.attachments import sniff

    upload.seek(0)
    detected = sniff(upload.read(16))
    upload.seek(0)
    return detected.extensions[0] if detected else ""


def _require_approver(actor) -> None:
    if not actor.has_role(Role.PROVINCE_ADMIN):
        raise PermissionDenied("只有省住房城乡建设厅系统管理员可以审核企业注册申请。")


def _lock_pending(registration_id: int) -> Registration:
    registration = Registration.objects.select_for_update().filter(pk=registration_id).first()
    if registration is None:
        raise Http404
    if registration.state != Registration.State.PENDING:
        raise ValidationError(f"该申请已审核（{registration.get_state_display()}），无需再次处理。")
    return registration


@transaction.atomic
def approve(*, actor, registration_id: int, ip: str | None = None) -> Registration:
    """Create the Organization — or claim the unverified one with the same code — and its administrator."""
    _require_approver(actor)
    registration = _lock_pending(registration_id)
    org = Organization.objects.select_for_update().filter(credit_code=registration.credit_code).first()
    claimed = org is not None
    if org is not None and (org.is_verified or org.users.exists()):
        raise ValidationError(
            f"统一社会信用代码 {org.credit_code} 已由“{org.name}”注册使用，不能批准本申请，请不予通过并写明原因。"
        )
    if User.objects.filter(username__iexact=registration.username).exists():
        raise ValidationError(
            f"用户名“{registration.username}”已被其他账号使用，请不予通过，请申请人换用户名后重新申请。"
        )
    if org is None:
        org = Organization(
            credit_code=registration.credit_code,
            name=registration.name,
            kinds=registration.kinds,
            division=registration.division,
            is_verified=True,
        )
        org.save()
        audit.record(
            action=AuditEntry.Action.CREATE,
            actor=actor,
            obj=org,
            reason=f"批准企业注册申请，新建单位：{org.name}",
            data={"registration": registration.pk},
            ip=ip,
        )
    else:
        before = {"name": org.name, "kinds": org.kinds, "division": org.division_id}
        org.name = registration.name
        org.kinds = Organization.encode_kinds(set(org.kind_list) | set(registration.kind_list))
        org.division = registration.division
        org.is_verified = True
        org.save(update_fields=["name", "kinds", "division", "is_verified"])
        audit.record(
            action=AuditEntry.Action.UPDATE,
            actor=actor,
            obj=org,
            reason=f"企业注册认领待核实单位：{org.name}",
            data={"registration": registration.pk, "before": before},
            ip=ip,
        )
    admin = User(
        username=registration.username,
        organization=org,
        roles=User.encode_roles([Role.ENTERPRISE, Role.ENTERPRISE_ADMIN]),
        full_name=registration.contact_name,
        phone=registration.contact_mobile,
        email=registration.contact_email,
        password=registration.password_hash,
        password_changed_at=timezone.now(),
    )
    try:
        with transaction.atomic():
            admin.save()
    except IntegrityError:  # the username was taken a moment ago: nothing of this approval stays
        raise ValidationError(
            f"用户名“{registration.username}”刚被其他账号使用，请不予通过并请申请人换用户名。"
        ) from None
    audit.record(
        action=AuditEntry.Action.PERMISSION,
        actor=actor,
        obj=admin,
        reason="企业注册获批，首个账号为企业管理员",
        data={"organization": org.pk, "roles": admin.role_list},
        ip=ip,
    )
    registration.approve(by=actor, organization=org, admin_user=admin, claimed=claimed)
    registration.save()
    audit.record(
        action=AuditEntry.Action.APPROVE,
        actor=actor,
        obj=registration,
        from_state=Registration.State.PENDING,
        to_state=Registration.State.APPROVED,
        reason="认领待核实单位" if claimed else "新建单位",
        data={"organization": org.pk, "admin_user": admin.pk},
        ip=ip,
    )
    _tell_applicant(registration)
    return registration


@transaction.atomic
def refuse(*, actor, registration_id: int, reason: str, ip: str | None = None) -> Registration:
    _require_approver(actor)
    reason = normalize_text(reason or "")
    if len(reason) < 4:
        raise ValidationError({"reason": "请写明不予通过的原因（至少4个字），申请人将看到这段话。"})
    registration = _lock_pending(registration_id)
    registration.refuse(by=actor, reason=reason[:1000])
    registration.save()
    audit.record(
        action=AuditEntry.Action.RETURN,
        actor=actor,
        obj=registration,
        from_state=Registration.State.PENDING,
        to_state=Registration.State.REFUSED,
        reason=reason[:1000],
        ip=ip,
    )
    _tell_applicant(registration)
    return registration


def _tell_applicant(registration: Registration) -> None:
    """The applicant's email, a job deferred in the decision's transaction (sent after it commits)."""
    from enterprises.tasks import send_outcome

    if registration.contact_email:
        send_outcome.defer(registration_id=registration.pk)


# --- the enterprise administrator's staff ----------------------------------------------------------


def _require_enterprise_admin(actor) -> None:
    if not (actor.has_role(Role.ENTERPRISE_ADMIN) and actor.organization_id):
        raise PermissionDenied("只有本单位的企业管理员可以管理账号。")


def _lock_staff(actor, user_id: int) -> User:
    """A colleague of the actor's organization, locked; another organization's account is not found."""
    _require_enterprise_admin(actor)
    user = User.objects.select_for_update().filter(pk=user_id, organization_id=actor.organization_id).first()
    if user is None or not user.has_role(Role.ENTERPRISE):
        raise Http404
    return user


def password_link(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("enterprises:set-password", kwargs={"uidb64": uid, "token": staff_token.make_token(user)})


@transaction.atomic
def staff_create(*, actor, data: dict, ip: str | None = None) -> tuple[User, str]:
    """A new staff account (填报人员) of the actor's organization; its owner sets the password through
    the one-time link returned (the account has no usable password until then)."""
    _require_enterprise_admin(actor)
    username = data["username"]
    refusal = username_refusal(username)
    if refusal:
        raise ValidationError({"username": refusal})
    user = User(
        username=username,
        organization_id=actor.organization_id,
        roles=User.encode_roles([Role.ENTERPRISE]),
        full_name=normalize_text(data["full_name"]),
        phone=data.get("phone", ""),
        email=data.get("email", ""),
    )
    user.set_unusable_password()
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise ValidationError({"username": f"用户名“{username}”已被使用，请换一个。"}) from None
    audit.record(
        action=AuditEntry.Action.CREATE,
        actor=actor,
        obj=user,
        reason=f"企业管理员新增本单位账号：{user.display_name}",
        data={"username": username, "roles": user.role_list},
        ip=ip,
    )
    return user, password_link(user)


@transaction.atomic
def staff_set_active(*, actor, user_id: int, active: bool, ip: str | None = None) -> User:
    user = _lock_staff(actor, user_id)
    if user.pk == actor.pk:
        raise ValidationError("不能停用本人账号。")
    if user.is_active == active:
        return user
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record(
        action=AuditEntry.Action.PERMISSION,
        actor=actor,
        obj=user,
        reason="企业管理员重新启用账号" if active else "企业管理员停用账号",
        from_state="active" if not active else "disabled",
        to_state="active" if active else "disabled",
        ip=ip,
    )
    return user


@transaction.atomic
def staff_password_reset(*, actor, user_id: int, ip: str | None = None) -> tuple[User, str]:
    """The old password stops working at once; the one-time link returned sets a new one."""
    user = _lock_staff(actor, user_id)
    if user.pk == actor.pk:
        raise ValidationError("本人密码请在“账号安全”中修改。")
    user.set_unusable_password()
    user.save(update_fields=["password"])
    axes_reset(username=user.username)
    audit.record(
        action=AuditEntry.Action.PASSWORD,
        actor=actor,
        obj=user,
        reason="企业管理员重置密码（一次性链接）",
        ip=ip,
    )
    return user, password_link(user)
