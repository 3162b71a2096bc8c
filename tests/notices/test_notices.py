"""People are told: the enterer of a return or an approval, the reviewers each morning; by the message
centre always, by email (a real SMTP server) and SMS (a real HTTP gateway) as configured and chosen; a
mail server that is down loses nothing and what cannot be sent is listed for the administrator."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from notices.models import Delivery, Kind, Message, Preference
from notices.tasks import ATTEMPTS
from review import services as rs
from tests import factories as f
from tests.conftest import Client
from tests.jobs import clear_queue, jobs, run_jobs
from yunjian.core.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _empty_queue():
    clear_queue()


@pytest.fixture
def enterer(contractor):
    contractor.email = "bob@builder.example.cn"
    contractor.phone = "13800000000"
    contractor.save(update_fields=["email", "phone"])
    return contractor


def send_back(record, reviewer, reason="施工许可证编号与发证机关不一致"):
    return rs.record_decide(
        actor=reviewer, kind=record.KIND, record_id=record.pk, approve=False, lock_version=None, reason=reason
    )


def test_a_return_reaches_the_enterers_message_centre_and_mailbox_with_the_reason(
    permit_in_review, enterer, reviewer, smtp
):
    send_back(permit_in_review, reviewer)
    [message] = Message.objects.filter(recipient=enterer)
    assert message.kind == Kind.RETURNED
    assert "退回原因：施工许可证编号与发证机关不一致" in message.body
    assert message.link == reverse("projects:record", args=["permit", permit_in_review.pk])
    assert [j["task_name"] for j in jobs()] == ["notices.send_delivery"]  # deferred with the decision
    assert smtp.messages == []  # nothing is sent until the worker runs
    run_jobs("notices")
    [mail] = smtp.messages
    assert mail["X-Envelope-To"] == "bob@builder.example.cn"
    assert "被退回" in mail["Subject"]
    text = mail.get_content()
    assert "施工许可证编号与发证机关不一致" in text
    assert f"http://127.0.0.1:8000/projects/records/permit/{permit_in_review.pk}/" in text
    assert Delivery.objects.get(channel="email").status == Delivery.Status.SENT


def test_the_final_approval_tells_the_enterer(permit_in_review, enterer, reviewer, smtp):
    rs.record_decide(
        actor=reviewer, kind="permit", record_id=permit_in_review.pk, approve=True, lock_version=None
    )
    [message] = Message.objects.filter(recipient=enterer)
    assert (message.kind, message.subject) == (Kind.APPROVED, "施工许可信息（麒麟区测试项目）已审核通过")
    run_jobs("notices")
    assert ["已审核通过" in m["Subject"] for m in smtp.messages] == [True]


def test_a_refused_decision_tells_nobody(permit_in_review, enterer, reviewer):
    with pytest.raises(rs.ValidationError):
        send_back(permit_in_review, reviewer, reason="  ")
    assert not Message.objects.filter(recipient=enterer).exists()
    assert jobs() == []


def test_email_off_for_a_kind_still_leaves_the_message_in_the_centre(
    permit_in_review, enterer, reviewer, smtp
):
    Preference.objects.create(user=enterer, kind=Kind.RETURNED, email=False)
    send_back(permit_in_review, reviewer)
    run_jobs("notices")
    assert Message.objects.filter(recipient=enterer, kind=Kind.RETURNED).count() == 1
    assert smtp.messages == []


def test_a_mail_server_that_is_down_is_retried_with_backoff_then_listed_for_the_administrator(
    permit_in_review, enterer, reviewer, smtp_down, world
):
    send_back(permit_in_review, reviewer)
    run_jobs("notices")
    delivery = Delivery.objects.get(channel="email")
    assert (delivery.status, delivery.attempts) == (Delivery.Status.RETRYING, 1)
    [job] = jobs("notices.send_delivery")
    assert job["status"] == "todo"
    assert job["attempts"] == 1
    run_jobs("notices")  # the retry waits (backoff): nothing is due yet
    assert Delivery.objects.get(pk=delivery.pk).attempts == 1
    for _ in range(ATTEMPTS - 1):  # let each backoff pass
        with connection.cursor() as cursor:
            cursor.execute("UPDATE procrastinate_jobs SET scheduled_at = now() WHERE status = 'todo'")
        run_jobs("notices")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Delivery.Status.FAILED, ATTEMPTS)
    assert jobs("notices.send_delivery")[0]["status"] == "failed"
    admin = f.make_user("sys_admin", None, Role.PROVINCE_ADMIN)
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("notices:failed")).content.decode()
    assert "bob@builder.example.cn" in page
    assert "发送失败" in page
    # The message itself is still in the enterer's centre.
    assert Message.objects.filter(recipient=enterer).count() == 1


def test_sms_goes_to_the_http_gateway_when_configured(permit_in_review, enterer, reviewer, smtp, sms_gateway):
    send_back(permit_in_review, reviewer)
    run_jobs("notices")
    [sms] = sms_gateway
    assert sms["phone"] == "13800000000"
    assert "被退回" in sms["text"]


def test_no_sms_by_default(permit_in_review, enterer, reviewer, smtp, settings):
    assert settings.SMS_HOOK_URL == ""
    send_back(permit_in_review, reviewer)
    assert not Delivery.objects.filter(channel="sms").exists()


def test_the_morning_digest_is_periodic_and_counts_new_and_overdue_tasks(permit_in_review, reviewer, smtp):
    from procrastinate.contrib.django import app

    [periodic] = [
        t for t in app.periodic_registry.periodic_tasks.values() if t.task.name == "notices.daily_digest"
    ]
    assert periodic.cron == "0 0 * * *"
    reviewer.email = "rita@qj.example.cn"
    reviewer.save(update_fields=["email"])
    app.tasks["notices.daily_digest"].defer(timestamp=0)
    run_jobs("notices")
    [message] = Message.objects.filter(recipient=reviewer, kind=Kind.DIGEST)
    assert message.subject == "待审核提醒：新增 1 件，超期 0 件"
    assert message.link == reverse("review:inbox")
    assert any(m["X-Envelope-To"] == "rita@qj.example.cn" for m in smtp.messages)


# --- the pages ---------------------------------------------------------------------------------------


def test_the_header_counts_unread_and_opening_a_message_marks_it_read(permit_in_review, enterer, reviewer):
    send_back(permit_in_review, reviewer)
    client = Client()
    client.force_login(enterer)
    page = client.get(reverse("notices:list")).content.decode()
    assert 'class="badge unread-count">1<' in page
    assert "退回原因：施工许可证编号与发证机关不一致" in page
    message = Message.objects.get(recipient=enterer)
    response = client.post(reverse("notices:open", args=[message.pk]))
    assert response.status_code == 302
    assert response["Location"] == message.link
    message.refresh_from_db()
    assert message.read_at is not None
    assert "unread-count" not in client.get(reverse("notices:list")).content.decode()


def test_someone_elses_message_cannot_be_opened(permit_in_review, enterer, reviewer, other_contractor):
    send_back(permit_in_review, reviewer)
    message = Message.objects.get(recipient=enterer)
    client = Client()
    client.force_login(other_contractor)
    assert client.post(reverse("notices:open", args=[message.pk])).status_code == 403
    message.refresh_from_db()
    assert message.read_at is None


def test_read_all_and_the_email_choices(enterer):
    for n in range(3):
        Message.objects.create(recipient=enterer, kind=Kind.APPROVED, subject=f"通知{n}", body="内容")
    client = Client()
    client.force_login(enterer)
    client.post(reverse("notices:read-all"))
    assert not Message.objects.filter(recipient=enterer, read_at__isnull=True).exists()
    client.post(reverse("notices:preferences"), {"email": [Kind.APPROVED, "not-a-kind"]})
    choices = dict(Preference.objects.filter(user=enterer).values_list("kind", "email"))
    assert choices == {kind: kind == Kind.APPROVED for kind in Kind.values}
    page = client.get(reverse("notices:preferences")).content.decode()
    assert f'value="{Kind.APPROVED}" checked' in page
    assert f'value="{Kind.RETURNED}">' in page


def test_the_message_list_takes_the_same_number_of_queries_for_3_and_60_messages(enterer):
    client = Client()
    client.force_login(enterer)

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("notices:list")).status_code == 200
        return len(ctx.captured_queries)

    count()  # the first page of a session also writes the session
    Message.objects.bulk_create(
        Message(recipient=enterer, kind=Kind.APPROVED, subject=f"通知{n}", body="内容") for n in range(3)
    )
    few = count()
    Message.objects.bulk_create(
        Message(recipient=enterer, kind=Kind.APPROVED, subject=f"通知{n}", body="内容") for n in range(57)
    )
    assert count() == few
