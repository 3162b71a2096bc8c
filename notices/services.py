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


def on_correction_decided(
    sender, *, record, correction, actor, approved: bool, reason: str = "", **kwargs
) -> None:
    """Receiver of review.hooks.correction_decided: tell whoever asked for the 更正 of its return or of
    its final approval (the record's next version is then in force)."""
    recipient = correction.created_by
    if recipient is None or not recipient.is_active:
        return
    link = reverse("projects:record", args=[record.KIND, record.pk])
    title = _record_title(record)
    if approved:
        notify(
            recipient,
            kind=Kind.APPROVED,
            subject=f"{title}的更正已审核通过",
            body=f"您申请的{title}更正已审核通过，第{record.version}版现已生效。",
            link=link,
        )
    else:
        notify(
            recipient,
            kind=Kind.RETURNED,
            subject=f"{title}的更正被退回",
            body=(
                f"您申请的{title}更正被退回，原已审核通过的第{record.version}版仍然有效。"
                f"请修改后重新提交或撤回更正。\n退回原因：{reason}"
            ),
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


# --- 无人审核, reassignment, the campaign's deadline (issue 16 §2, §3) ----------------------------------


def _province_admins():
    from yunjian.core.models import Role, User

    return User.objects.filter(roles__contains=f"|{Role.PROVINCE_ADMIN}|", is_active=True).order_by("pk")


def _roster_key_of(task) -> str:
    from yunjian.core.models import prefecture_code

    return task.zone or (prefecture_code(task.division_code) if task.division_code else "")


def _unroutable_text(tasks) -> tuple[str, str]:
    if len(tasks) == 1:
        task = tasks[0]
        name = f"{task.get_kind_display()}（{task.title}）"
        return (
            f"无人审核：{name}",
            f"{name}已提交，当前环节“{task.step_label}”在审核人员名单中没有负责该地区的在岗审核人员，"
            "记录无法流转。请在名单中补充审核人员，或将任务转交给负责的审核人员。",
        )
    return (
        f"无人审核：{len(tasks)} 条记录",
        f"有 {len(tasks)} 条记录的当前审核环节在名单中没有负责的在岗审核人员，记录无法流转。"
        "请在名单中补充审核人员，或将任务转交给负责的审核人员。",
    )


def on_tasks_unroutable(sender, *, task_ids, **kwargs) -> None:
    """Receiver of review.hooks.tasks_unroutable: tell each prefecture's liaisons of its steps, and the
    province administrators of all of them — one message per person per change, in its transaction."""
    from projects.stages import Stage
    from review.models import ReviewerAssignment, Task

    tasks = list(Task.objects.filter(pk__in=task_ids).order_by("pk"))
    if not tasks:
        return
    link = reverse("review:stalled")
    by_key: dict[str, list] = {}
    for task in tasks:
        by_key.setdefault(_roster_key_of(task), []).append(task)
    liaisons: dict[int, tuple] = {}
    for line in (
        ReviewerAssignment.objects.filter(
            stage=Stage.LIAISON, roster_key__in=list(by_key), user__is_active=True
        )
        .select_related("user")
        .order_by("user_id", "roster_key")
    ):
        user, theirs = liaisons.get(line.user_id, (line.user, []))
        liaisons[line.user_id] = (user, theirs + by_key[line.roster_key])
    told = set()
    for user, theirs in liaisons.values():
        subject, body = _unroutable_text(theirs)
        notify(user, kind=Kind.UNROUTABLE, subject=subject, body=body, link=link)
        told.add(user.pk)
    subject, body = _unroutable_text(tasks)
    for admin in _province_admins():
        if admin.pk not in told:
            notify(admin, kind=Kind.UNROUTABLE, subject=subject, body=body, link=link)


def on_tasks_assigned(sender, *, assignee, task_ids, actor=None, **kwargs) -> None:
    """Receiver of review.hooks.tasks_assigned: tell the reviewer who takes the steps."""
    if not assignee.is_active:
        return
    who = f"{actor}" if actor is not None else "管理员"
    notify(
        assignee,
        kind=Kind.ASSIGNED,
        subject=f"转交给您的审核任务 {len(task_ids)} 件",
        body=f"{who} 将 {len(task_ids)} 件待审核任务转交给您办理，请在待审核列表中查看。",
        link=reverse("review:inbox"),
    )


UNSUBMITTED = (State.DRAFT, State.RETURNED)


def deadline_reminders(today=None) -> int:
    """As the campaign's deadline approaches (its last `remind_days` days): tell each enterer how many of
    their records are still drafts or returned and not resubmitted, and each liaison how many of their
    prefecture's steps are overdue. Returns the number of messages written."""
    from django.db.models import Count

    from projects.stages import Stage
    from review.models import ReviewerAssignment, Task
    from review.routing import roster_keys_q
    from yunjian.core.models import Campaign, Role, User

    today = today or timezone.localdate()
    campaign = Campaign.current()
    if campaign is None:
        return 0
    days_left = (campaign.deadline - today).days
    if not 0 <= days_left <= campaign.remind_days:
        return 0
    when = "今天截止" if days_left == 0 else f"还有 {days_left} 天截止（{campaign.deadline:%Y年%m月%d日}）"
    # Per organisation: its records still drafts or returned; every enterprise user of it is told.
    counts: dict[int, dict[str, int]] = {}
    for spec in workflow.KINDS.values():
        rows = (
            spec.model.objects.filter(state__in=UNSUBMITTED)
            .order_by()
            .values_list("owner_org_id", "state")
            .annotate(n=Count("id"))
        )
        for org_id, state, n in rows:
            per = counts.setdefault(org_id, {})
            per[state] = per.get(state, 0) + n
    sent = 0
    enterers = User.objects.filter(
        organization_id__in=list(counts), roles__contains=f"|{Role.ENTERPRISE}|", is_active=True
    ).order_by("pk")
    for user in enterers:
        per = counts[user.organization_id]
        drafts, returned = per.get(State.DRAFT, 0), per.get(State.RETURNED, 0)
        with transaction.atomic():
            notify(
                user,
                kind=Kind.DEADLINE,
                subject=f"{campaign.name}{when}：本单位有 {drafts + returned} 条记录未提交",
                body=f"{campaign.name}{when}。本单位录入的记录中，草稿 {drafts} 条、被退回未重新提交 {returned} 条，"
                "请尽快完善并提交审核。",
                link=reverse("projects:workspace"),
            )
        sent += 1
    now = timezone.now()
    keys_of: dict[int, set[str]] = {}
    for user_id, key in ReviewerAssignment.objects.filter(
        stage=Stage.LIAISON, user__is_active=True
    ).values_list("user_id", "roster_key"):
        keys_of.setdefault(user_id, set()).add(key)
    for user in User.objects.filter(pk__in=list(keys_of)).order_by("pk"):
        overdue = Task.objects.filter(
            roster_keys_q(sorted(keys_of[user.pk])), status=Task.Status.OPEN, due_at__lt=now
        ).count()
        if not overdue:
            continue
        with transaction.atomic():
            notify(
                user,
                kind=Kind.DEADLINE,
                subject=f"{campaign.name}{when}：本地区 {overdue} 件审核任务已超期",
                body=f"{campaign.name}{when}。您负责联络的地区有 {overdue} 件待审核任务已超过办理期限，"
                "请督促审核人员尽快办理，或将任务转交给其他审核人员。",
                link=reverse("review:stalled") + "?show=overdue",
            )
        sent += 1
    return sent
