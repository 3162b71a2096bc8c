"""Issue 17 §3: the public verified-performance query — no sign-in; finds an enterprise by name or
credit code; lists its verified projects only (approved and acknowledged by the platform), with the
numbers the platform publishes and nothing personal; 60 requests a minute per address, the 61st 429."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enterprises import views
from projects import services as ps
from projects.codes import Scope
from projects.models import ProjectParty
from tests import factories as f
from tests.synchelpers import acknowledge_project_offline
from yunjian.core.cache import CACHE_TABLE

pytestmark = pytest.mark.django_db


def app_queries(captured) -> list[str]:
    """The queries on the application's tables: not the shared cache's own (its table, its savepoints)."""
    return [q["sql"] for q in captured if CACHE_TABLE not in q["sql"] and "SAVEPOINT" not in q["sql"]]


def verified_project(world, designer, contractor, institution, division, permit_reviewer, reviewer, name):
    """A project whose general contractor (world["builder"]) has verified performance."""
    project = f.make_project("530302", owner=world["owner"], name=name)
    review = f.register_review(project, world["design"], world["institution"])
    f.complete_and_submit_review(review, designer)
    f.approve(review, institution)
    f.approve(review, division)
    permit = ps.permit_save(
        actor=contractor,
        drawing_review_ids=[review.pk],
        data=f.permit_data(world["bureau_qlq"], supervision_org=world["supervision"]),
    )
    f.approve(permit, permit_reviewer)
    acknowledge_project_offline(project)
    record = ps.tender_contract_save(
        actor=contractor, project_id=project.pk, data=f.tender_data(Scope.CONSTRUCTION), submit=True
    )
    f.approve(record, reviewer)
    completion = ps.completion_save(
        actor=contractor, project_id=project.pk, data=f.completion_data(), submit=True
    )
    f.approve(completion, reviewer)
    acknowledge_project_offline(project)
    project.refresh_from_db()
    return project


@pytest.fixture
def people(world, designer, contractor, institution_staff, division_staff, county_permit_reviewer, reviewer):
    return (world, designer, contractor, institution_staff, division_staff, county_permit_reviewer, reviewer)


@pytest.fixture
def verified(people):
    return verified_project(*people, name="麒麟区公开查询项目")


def test_search_by_name_or_code_without_signing_in(client, verified, world):
    builder = world["builder"]
    url = reverse("enterprises:public-search")
    response = client.get(url, {"q": "施工总包"})
    assert response.status_code == 200
    assert [o.credit_code for o in response.context["found"]] == [builder.credit_code]
    response = client.get(url, {"q": builder.credit_code[:10]})
    assert builder.credit_code in [o.credit_code for o in response.context["found"]]
    # A review institution or a bureau is no enterprise: not listed.
    assert client.get(url, {"q": "住房和城乡建设局"}).context["found"] == []
    assert "至少输入2个字" in client.get(url, {"q": "施"}).content.decode()


def test_the_enterprise_page_lists_verified_projects_and_hides_the_rest(client, verified, people, world):
    builder = world["builder"]
    # A second project where the builder's permit is still missing: not verified, not listed.
    second = f.make_project("530302", owner=world["owner"], name="未认定的项目")
    ProjectParty.objects.create(
        project=second, organization=builder, role=ProjectParty.Role.GENERAL_CONTRACTOR
    )
    response = client.get(reverse("enterprises:public-enterprise", args=[builder.credit_code]))
    assert response.status_code == 200
    page = response.context["enterprise"]
    assert page.total == 1
    (line,) = page.lines
    contract = verified.tender_contracts.get(scope=Scope.CONSTRUCTION)
    permit = verified.permits.get()
    completion = verified.completions.get()
    assert (line.prj_num, line.name, line.role) == (verified.prj_num, verified.name, "施工总承包单位")
    assert line.record_nums == contract.record_num
    assert line.contract_nums == contract.contract_num
    assert float(line.contract_amount) == float(contract.contract_amount)
    assert line.permit_nums == permit.permit_num
    assert line.permit_date == permit.issue_date
    assert line.completion_date == completion.acceptance_date
    assert line.filing_nums == completion.filing_num
    assert line.acknowledged_at == verified.platform_synced_at
    html = response.content.decode()
    assert verified.prj_num in html
    assert "未认定的项目" not in html
    # Nothing personal: no ID numbers, phones, reviewers' or enterers' names.
    for person in people[1:]:
        assert person.full_name not in html
    assert contract.leader_id
    assert contract.leader_id not in html
    assert contract.project_leader not in html
    for value in (permit.project_manager, permit.project_manager_id, permit.chief_supervisor_id):
        if value:
            assert value not in html
    # The supervision unit's tender was never entered: its page shows no verified project.
    response = client.get(reverse("enterprises:public-enterprise", args=[world["supervision"].credit_code]))
    assert response.context["enterprise"].total == 0
    assert (
        client.get(reverse("enterprises:public-enterprise", args=["000000000000000000"])).status_code == 404
    )
    assert (
        client.get(
            reverse("enterprises:public-enterprise", args=[world["institution"].credit_code])
        ).status_code
        == 404
    )


def test_the_61st_request_in_a_minute_from_one_address_is_refused(client, verified, world):
    url = reverse("enterprises:public-enterprise", args=[world["builder"].credit_code])
    for n in range(views.PUBLIC_LIMIT):
        assert client.get(url if n % 2 else reverse("enterprises:public-search")).status_code == 200, n
    response = client.get(url)
    assert response.status_code == 429
    assert "查询过于频繁" in response.content.decode()
    assert "60次" in response.content.decode()
    assert response["Retry-After"] == "60"
    # Another address is served.
    assert client.get(url, REMOTE_ADDR="10.1.2.3").status_code == 200


def test_behind_a_proxy_the_limit_counts_the_forwarded_address(client, verified, world, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    url = reverse("enterprises:public-search")
    for _ in range(views.PUBLIC_LIMIT):
        client.get(url, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert client.get(url, HTTP_X_FORWARDED_FOR="203.0.113.7").status_code == 429
    # The proxy's own address is the same, but the next client behind it is someone else.
    assert client.get(url, HTTP_X_FORWARDED_FOR="203.0.113.8").status_code == 200


def test_pages_are_cached_and_their_queries_do_not_grow_with_projects(client, verified, people, world):
    url = reverse("enterprises:public-enterprise", args=[world["builder"].credit_code])
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    with CaptureQueriesContext(connection) as cached:
        client.get(url)
    # Anonymous, from the cache: no query but the shared cache's own (the rate count and the page).
    assert app_queries(cached) == []
    verified_project(*people, name="第二个认定项目")
    cache.clear()
    with CaptureQueriesContext(connection) as more:
        response = client.get(url)
    assert response.context["enterprise"].total == 2
    assert len(app_queries(more)) == len(app_queries(first))
    search = reverse("enterprises:public-search")
    with CaptureQueriesContext(connection) as searched:
        client.get(search, {"q": "公司"})
    assert len(app_queries(searched)) <= 1
