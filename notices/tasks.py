"""The message centre's jobs: each send (retried with backoff), the reviewers' morning digest."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from notices import sms
from notices.models import Delivery

# Waits of 4, 16, 64, 256, 1024 and 4096 seconds (about an hour and a half in all) before giving up.
SEND_RETRY = RetryStrategy(max_attempts=6, exponential_wait=4)
ATTEMPTS = SEND_RETRY.max_attempts + 1  # the first try and its retries


@app.task(queue="notices", name="notices.send_delivery", retry=SEND_RETRY)
def send_delivery(delivery_id: int) -> None:
    delivery = Delivery.objects.select_related("message").filter(pk=delivery_id).first()
    if delivery is None or delivery.status == Delivery.Status.SENT:
        return
    message = delivery.message
    text = message.body + (f"\n\n{settings.SITE_URL}{message.link}" if message.link else "")
    try:
        if delivery.channel == Delivery.Channel.EMAIL:
            send_mail(
                f"[云南省工程项目数据治理系统] {message.subject}",
                text + "\n\n（本邮件由系统自动发送，请勿回复。）",
                settings.DEFAULT_FROM_EMAIL,
                [delivery.address],
                fail_silently=False,
            )
        else:
            sms.send(delivery.address, f"{message.subject}。{settings.SITE_URL}{message.link}")
    except Exception as exc:  # any failure of the mail server or gateway: record it, let the queue retry
        delivery.attempts += 1
        delivery.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        delivery.status = (
            Delivery.Status.FAILED if delivery.attempts >= ATTEMPTS else Delivery.Status.RETRYING
        )
        delivery.save(update_fields=["attempts", "last_error", "status"])
        raise
    delivery.attempts += 1
    delivery.status = Delivery.Status.SENT
    delivery.sent_at = timezone.now()
    delivery.save(update_fields=["attempts", "status", "sent_at"])


# 08:00 Beijing (00:00 UTC) every day.
@app.periodic(cron="0 0 * * *", periodic_id="morning")
@app.task(queue="notices", name="notices.daily_digest")
def daily_digest(timestamp: int) -> None:
    from notices.services import daily_digest as digest

    digest()


# 09:00 Beijing (01:00 UTC) every day: reminders as the campaign's deadline approaches.
@app.periodic(cron="0 1 * * *", periodic_id="deadline")
@app.task(queue="notices", name="notices.deadline_reminders")
def deadline_reminders(timestamp: int) -> None:
    from notices.services import deadline_reminders as remind

    remind()
