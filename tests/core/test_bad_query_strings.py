"""Whatever a user types into a search box or a URL, no page answers 500."""

import pytest
from django.urls import reverse

from yunjian.core import demo
from yunjian.core.models import User

NASTY = [
    "\x00",
    "a\x00b",
    "x" * 5000,
    "'; DROP TABLE core_user; --",
    "%%%",
    "２０２０－０１－０１",
    "-1",
    "99999999999999999999999",
    "2020-13-45",
    "<script>alert(1)</script>",
]
PARAMS = [
    "q",
    "state",
    "kind",
    "division",
    "enterprise",
    "submitted_from",
    "submitted_to",
    "decided_from",
    "overdue",
    "status",
    "after",
    "action",
    "object_type",
    "days",
    "outcome",
    "prj_num",
    "page",
    "sort",
]


@pytest.fixture
def demo_world(db, settings):
    settings.DEBUG = True
    orgs = demo.load_organizations()
    demo.load_accounts(orgs)
    demo.load_projects(orgs)


@pytest.mark.parametrize("username", [a.username for a in demo.DEMO_ACCOUNTS])
def test_no_list_page_answers_500_to_nasty_query_strings(client, demo_world, username):
    client.force_login(User.objects.get(username=username))
    home = client.get(reverse("core:home"), follow=True)
    urls = [home.request["PATH_INFO"], *[item["url"] for item in home.context["nav_items"]]]
    for url in dict.fromkeys(urls):
        for value in NASTY:
            response = client.get(url, dict.fromkeys(PARAMS, value))
            assert response.status_code < 500, (url, value)


def test_a_form_posted_with_a_nul_character_is_refused_in_chinese(client, designer):
    from projects.models import DrawingReviewAdditionRequest

    client.force_login(designer)
    response = client.post(reverse("projects:addition-new"), {"project_name": "名称\x00", "reason": "x"})
    assert response.status_code == 400
    assert "控制字符" in response.content.decode()
    assert not DrawingReviewAdditionRequest.objects.exists()
