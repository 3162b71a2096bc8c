"""The applicant's email about the decision on their registration (deferred by enterprises.services)."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import send_mail
from procrastinate import RetryStrategy
from procrastinate.contrib.django import app

from enterprises.models import Registration

SEND_RETRY = RetryStrategy(max_attempts=6, exponential_wait=4)


def outcome_text(registration: Registration) -> tuple[str, str]:
    if registration.state == Registration.State.APPROVED:
        subject = f"企业注册申请已通过：{registration.name}"
        body = (
            f"贵单位（{registration.name}，统一社会信用代码 {registration.credit_code}）的注册申请已审核通过。"
            f"请用申请时设置的用户名 {registration.username} 和密码登录，在“本单位账号”中为同事开设账号。"
        )
    else:
        subject = f"企业注册申请未通过：{registration.name}"
        body = f"贵单位（{registration.name}）的注册申请未通过，原因：{registration.reason}\n请按原因修改后重新申请。"
    return subject, body


@app.task(queue="notices", name="enterprises.send_outcome", retry=SEND_RETRY)
def send_outcome(registration_id: int) -> None:
    registration = Registration.objects.filter(pk=registration_id).first()
    if registration is None or registration.state == Registration.State.PENDING:
        return
    subject, body = outcome_text(registration)
    send_mail(
        f"[云南省工程项目数据治理系统] {subject}",
        body + f"\n\n{settings.SITE_URL}/login/\n\n（本邮件由系统自动发送，请勿回复。）",
        settings.DEFAULT_FROM_EMAIL,
        [registration.contact_email],
        fail_silently=False,
    )
