"""The security admin's account page and the audit admin's log: allowed, wrong role, anonymous."""

from django.urls import reverse

from tests import factories as f
from yunjian.core import audit
from yunjian.core.models import AuditEntry, Role


def test_security_admin_unlocks_a_locked_account_and_it_is_audited(client, world, designer):
    security = f.make_user("sec", world["division"], Role.SECURITY_ADMIN)
    for _ in range(5):
        client.post(reverse("core:login"), {"username": designer.username, "password": "wrong"})
    client.force_login(security)
    page = client.get(reverse("core:accounts"))
    assert page.status_code == 200
    assert "已锁定" in page.content.decode()
    response = client.post(reverse("core:account-unlock", args=[designer.pk]))
    assert response.status_code == 302
    assert AuditEntry.objects.filter(action=AuditEntry.Action.PERMISSION, object_id=str(designer.pk)).exists()
    client.logout()
    assert (
        client.post(
            reverse("core:login"), {"username": designer.username, "password": f.PASSWORD}
        ).status_code
        == 302
    )


def test_accounts_page_refuses_other_roles(client, world, designer):
    auditor = f.make_user("aud", world["division"], Role.AUDIT_ADMIN)
    for user in (designer, auditor):
        client.force_login(user)
        assert client.get(reverse("core:accounts")).status_code == 403
        assert client.post(reverse("core:account-unlock", args=[designer.pk])).status_code == 403


def test_audit_log_for_audit_admin_only(client, world, designer):
    auditor = f.make_user("aud", world["division"], Role.AUDIT_ADMIN)
    security = f.make_user("sec", world["division"], Role.SECURITY_ADMIN)
    audit.record(
        action=AuditEntry.Action.EXPORT, actor=designer, object_type="test", object_id=1, reason="导出测试"
    )
    client.force_login(auditor)
    response = client.get(reverse("core:audit-log"), {"action": "export"})
    assert response.status_code == 200
    assert "导出测试" in response.content.decode()
    for user in (security, designer):
        client.force_login(user)
        assert client.get(reverse("core:audit-log")).status_code == 403
    client.logout()
    assert client.get(reverse("core:audit-log")).status_code == 302


def _entries(n, actor):
    for i in range(n):
        audit.record(action=AuditEntry.Action.UPDATE, actor=actor, object_type="x", object_id=i)


def test_audit_log_query_count_does_not_grow(client, world, designer, django_assert_num_queries):
    auditor = f.make_user("aud", world["division"], Role.AUDIT_ADMIN)
    client.force_login(auditor)
    _entries(2, designer)
    client.get(reverse("core:audit-log"))  # warm the session
    # session, user, the session's second-factor device, one page of entries (actor, organization joined)
    with django_assert_num_queries(4 + 1):
        client.get(reverse("core:audit-log"))
    _entries(60, designer)
    with django_assert_num_queries(4 + 1):
        response = client.get(reverse("core:audit-log"))
    assert "下一页" in response.content.decode()


def test_audit_log_keyset_pages_and_bad_cursor(client, world, designer):
    auditor = f.make_user("aud", world["division"], Role.AUDIT_ADMIN)
    client.force_login(auditor)
    _entries(60, designer)
    first = client.get(reverse("core:audit-log"), {"object_type": "x"})
    cursor = first.context["page"].next_cursor
    second = client.get(reverse("core:audit-log"), {"object_type": "x", "after": cursor})
    ids_first = [e.pk for e in first.context["page"].rows]
    ids_second = [e.pk for e in second.context["page"].rows]
    assert len(ids_first) == 50
    assert len(ids_second) == 10
    assert max(ids_second) < min(ids_first)
    assert client.get(reverse("core:audit-log"), {"after": "%%%garbage"}).status_code == 200


def test_accounts_query_count_does_not_grow(client, world, django_assert_num_queries):
    security = f.make_user("sec", world["division"], Role.SECURITY_ADMIN)
    client.force_login(security)
    client.get(reverse("core:accounts"))
    # session, user, the session's second-factor device, page of users (organization joined),
    # lock states of the page's usernames
    # + 1 (here and above): the header's unread messages (notices.context_processors).
    with django_assert_num_queries(5 + 1):
        client.get(reverse("core:accounts"))
    for i in range(30):
        f.make_user(f"bulk{i}", world["builder"], Role.ENTERPRISE)
    with django_assert_num_queries(5 + 1):
        client.get(reverse("core:accounts"))
