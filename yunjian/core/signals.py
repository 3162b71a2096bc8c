"""Audit receivers: sign-in and sign-out, one entry per lock (not per failed attempt), and every
change of an account's access with the person who made it."""

from axes.helpers import get_failure_limit
from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.dispatch import receiver

from yunjian.core import audit
from yunjian.core.models import AuditEntry


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    # A sign-in with a CA certificate says so, with the certificate (yunjian.core.views.ca_login).
    certificate = getattr(request, "ca_sign_in", None)
    audit.record(
        action=AuditEntry.Action.LOGIN,
        actor=user,
        obj=user,
        reason="CA数字证书登录" if certificate else "",
        data={"serial": certificate.serial, "fingerprint": certificate.fingerprint} if certificate else None,
        ip=audit.client_ip(request),
    )
    if request is not None and hasattr(request, "session"):
        from yunjian.core import signin

        signin.start_session(request, user)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record(action=AuditEntry.Action.LOGOUT, actor=user, obj=user, ip=audit.client_ip(request))


# Failed attempts are not audited one by one (300 attempts wrote 596 rows that can never be purged):
# django-axes keeps them in its failure log, which the security administrator reads and which can be
# purged; the audit log gets one entry when a lock begins (here) or an address or username starts
# being throttled (yunjian.core.throttle).


@receiver(user_locked_out)
def on_locked_out(sender, request, username, ip_address, **kwargs):
    # axes also signals each attempt refused during a lock; only the attempt that set the lock counts.
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is None or failures != get_failure_limit(request, getattr(request, "axes_credentials", None)):
        return
    user = get_user_model().objects.filter(username=username).first()
    audit.record(
        action=AuditEntry.Action.LOCKOUT,
        object_type="user",
        object_id=user.pk if user else "",
        reason="同一账号在同一地址连续登录失败，账号在该地址被锁定",
        data={"username": (username or "")[:150], "failures": failures},
        ip=ip_address,
    )


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def audit_access_change(sender, instance, created, update_fields=None, **kwargs):
    """A change of roles, organization, active, staff or superuser flags is a permission change
    (等保 2.0), recorded with the person who made it (None only outside a request: a command)."""
    before = getattr(instance, "_loaded_access", None)
    after = instance.access_fingerprint()
    if created or (before is not None and before != after):
        request = audit.current_request.get()
        audit.record(
            action=AuditEntry.Action.PERMISSION,
            actor=audit.request_actor(),
            obj=instance,
            reason="新建账号" if created else "账号权限变更",
            data={
                "roles": instance.roles,
                "organization": instance.organization_id,
                "active": instance.is_active,
                "staff": instance.is_staff,
                "superuser": instance.is_superuser,
            },
            ip=audit.client_ip(request),
        )
    instance._loaded_access = after


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def keep_org_group(sender, instance, update_fields=None, **kwargs):
    """A user is a member of exactly their organization's group: object grants to the
    organization (django-guardian) reach its users through it."""
    if update_fields is not None and "organization" not in update_fields:
        return
    org_groups = Group.objects.filter(organization__isnull=False)
    wanted = instance.organization.group_id if instance.organization_id else None
    stale = instance.groups.filter(pk__in=org_groups).exclude(pk=wanted)
    if stale.exists():
        instance.groups.remove(*stale)
    if wanted and not instance.groups.filter(pk=wanted).exists():
        instance.groups.add(wanted)
