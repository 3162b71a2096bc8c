"""Telling people: a message in the centre always, email (and SMS, if configured) as each person chose.

Every message is written in the transaction of the change that causes it, and its sends are deferred on
the job queue in that same transaction (notices.tasks.send_delivery): nothing is sent for a change that
rolls back, and nothing is lost when the mail server is down (the job retries with backoff; what still
fails is listed for the administrator on /messages/failed/).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from notices.models import Delivery, Kind, Message, Preference
from projects import workflow
from projects.models import State

MAX_SUBJECT = 200


def wants_email(user, kind: str) -> bool:
    choice = Preference.objects.filter(user=user, kind=kind).values_list("email", flat=True).first()
    return True if choice is None else choice


def notify(recipient, *, kind: str, subject: str, body: str, link: str = "") -> Message:
    """Write one message and defer its sends; call inside the transaction of the change."""
    from notices.tasks import send_delivery

    message = Message.objects.create(
        recipient=recipient, kind=kind, subject=subject[:MAX_SUBJECT], body=body, link=link
    )
    deliveries = []
    if recipient.email and wants_email(recipient, kind):
        deliveries.append(Delivery(message=message, channel=Delivery.Channel.EMAIL, address=recipient.email))
    if settings.SMS_HOOK_URL and recipient.phone:
        deliveries.append(Delivery(message=message, channel=Delivery.Channel.SMS, address=recipient.phone))
    for delivery in Delivery.objects.bulk_create(deliveries):
        send_delivery.defer(delivery_id=delivery.pk)
    return message


def _record_title(record) -> str:
    spec = workflow.kind_of(record)
    project = getattr(record, "project", None)
    return f"{spec.short_label}（{project.name}）" if project is not None else spec.short_label


def on_record_decided(sender, *, record, actor, approved: bool, reason: str = "", **kwargs) -> None:
    """Receiver of review.hooks.record_decided: tell the enterer of a return or of the final approval."""
    recipient = record.entered_by
    if recipient is None or not recipient.is_active:
        return
    link = reverse("projects:record", args=[record.KIND, record.pk])
    title = _record_title(record)
    if not approved:
        notify(
            recipient,
            kind=Kind.RETURNED,
            subject=f"{title}被退回",
            body=f"您提交的{title}被退回，请修改后重新提交。\n退回原因：{reason}",
            link=link,
        )
    elif record.state == State.APPROVED:
        notify(
            recipient,
            kind=Kind.APPROVED,
            subject=f"{title}已审核通过",
            body=f"您提交的{title}已审核通过。",
            link=link,
        )


def mark_read(*, actor, message_id: int) -> Message:
    """Mark one of the actor's own messages read (someone else's: PermissionDenied, saying nothing)."""
    with transaction.atomic():
        message = Message.objects.select_for_update().filter(pk=message_id, recipient=actor).first()
        if message is None:
            raise PermissionDenied("该消息不存在。")
        if message.read_at is None:
            message.read_at = timezone.now()
            message.save(update_fields=["read_at"])
        return message


def mark_all_read(*, actor) -> int:
    with transaction.atomic():
        return Message.objects.filter(recipient=actor, read_at__isnull=True).update(read_at=timezone.now())


def set_email_choices(*, actor, email_kinds: set[str]) -> None:
    """Email on for the kinds in `email_kinds`, off for the others (the centre always shows them)."""
    with transaction.atomic():
        for kind in Kind.values:
            Preference.objects.update_or_create(
                user=actor, kind=kind, defaults={"email": kind in email_kinds}
            )


def daily_digest(now=None) -> int:
    """Tell each reviewer with open tasks how many arrived in the last day and how many are overdue."""
    from django.contrib.auth import get_user_model

    from review.selectors import inbox_for, kind_counts
    from yunjian.core.models import Role

    now = now or timezone.now()
    since = now - timedelta(days=1)
    reviewing = [Role.REVIEWER, Role.INSTITUTION, Role.DESIGN_DIVISION]
    query = None
    for role in reviewing:
        clause = get_user_model().objects.filter(roles__contains=f"|{role}|")
        query = clause if query is None else query | clause
    sent = 0
    for user in query.filter(is_active=True).order_by("pk"):
        inbox = inbox_for(user)
        _, waiting, _ = kind_counts(inbox)
        if not waiting:
            continue
        _, new, _ = kind_counts(inbox.filter(submitted_at__gte=since))
        _, overdue, _ = kind_counts(inbox.filter(due_at__lt=now))
        with transaction.atomic():
            notify(
                user,
                kind=Kind.DIGEST,
                subject=f"待审核提醒：新增 {new} 件，超期 {overdue} 件",
                body=f"您有 {waiting} 件待审核记录，其中过去一天新增 {new} 件，已超过办理期限 {overdue} 件。",
                link=reverse("review:inbox"),
            )
        sent += 1
    return sent
