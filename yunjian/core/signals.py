"""Record every login, logout, failed login and lockout in the audit trail."""

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver

from yunjian.core import audit
from yunjian.core.models import AuditEntry


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    audit.record(action=AuditEntry.Action.LOGIN, actor=user, obj=user, ip=audit.client_ip(request))


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit.record(action=AuditEntry.Action.LOGOUT, actor=user, obj=user, ip=audit.client_ip(request))


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = (credentials or {}).get("username", "")
    user = get_user_model().objects.filter(username=username).first()
    audit.record(
        action=AuditEntry.Action.LOGIN_FAILED,
        object_type="user",
        object_id=user.pk if user else "",
        data={"username": username[:150]},
        ip=audit.client_ip(request),
    )


@receiver(user_locked_out)
def on_locked_out(sender, request, username, ip_address, **kwargs):
    user = get_user_model().objects.filter(username=username).first()
    audit.record(
        action=AuditEntry.Action.LOCKOUT,
        object_type="user",
        object_id=user.pk if user else "",
        data={"username": (username or "")[:150]},
        ip=ip_address,
    )


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def audit_access_change(sender, instance, created, update_fields=None, **kwargs):
    """A change of roles, organization, active or staff flags is a permission change (等保 2.0)."""
    before = getattr(instance, "_loaded_access", None)
    after = instance.access_fingerprint()
    if created or (before is not None and before != after):
        audit.record(
            action=AuditEntry.Action.PERMISSION,
            obj=instance,
            reason="新建账号" if created else "账号权限变更",
            data={
                "roles": instance.roles,
                "organization": instance.organization_id,
                "active": instance.is_active,
                "staff": instance.is_staff,
                "superuser": instance.is_superuser,
            },
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
