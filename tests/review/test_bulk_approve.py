"""Bulk approval from the inbox: each record in its own transaction, each outcome reported."""

from __future__ import annotations

from django.urls import reverse

from projects.models import ConstructionPermit, SpecialtyProjectInfo, State
from review.services import OUT_OF_REACH, Conflict
from tests import factories as f
from yunjian.core.models import AuditEntry

BULK = reverse("review:bulk-approve")


def item(record) -> str:
    return f"{record.KIND}:{record.pk}:{record.lock_version}"


def states(*records) -> list[str]:
    return [type(r).objects.get(pk=r.pk).state for r in records]


def test_bulk_approves_each_selected_record(client, county_permit_reviewer, many_permits):
    permits = many_permits(3)
    client.force_login(county_permit_reviewer)

    response = client.post(BULK, {"confirm": "yes", "items": [item(p) for p in permits]}, follow=True)

    assert response.status_code == 200
    assert states(*permits) == [State.APPROVED] * 3
    assert [r["ok"] for r in response.context["rows"]] == [True, True, True]
    assert (response.context["succeeded"], response.context["failed"]) == (3, 0)
    assert (
        AuditEntry.objects.filter(action=AuditEntry.Action.APPROVE, actor=county_permit_reviewer).count() == 3
    )


def test_record_changed_underneath_is_reported_failed_and_the_others_pass(
    client, county_permit_reviewer, reviewer, many_permits
):
    permits = many_permits(3)
    selected = [item(p) for p in permits]  # what the inbox showed
    f.send_back(permits[1], reviewer, reason="另一位审核人员已退回")  # changed underneath

    client.force_login(county_permit_reviewer)
    response = client.post(BULK, {"confirm": "yes", "items": selected}, follow=True)

    assert states(*permits) == [State.APPROVED, State.RETURNED, State.APPROVED]
    rows = response.context["rows"]
    assert [(r["record_id"], r["ok"]) for r in rows] == [(p.pk, p is not permits[1]) for p in permits]
    assert rows[1]["message"] == Conflict().message
    assert rows[1]["number"] == permits[1].permit_num
    page = response.content.decode()
    assert "有 1 条记录未能通过" in page
    assert ConstructionPermit.objects.get(pk=permits[1].pk).return_reason == "另一位审核人员已退回"


def test_mixed_record_types_are_grouped_and_reported_in_order(
    client, reviewer, permit_in_review, specialty_in_review
):
    client.force_login(reviewer)

    response = client.post(
        BULK, {"confirm": "yes", "items": [item(specialty_in_review), item(permit_in_review)]}, follow=True
    )

    assert [(r["kind"], r["ok"]) for r in response.context["rows"]] == [
        ("specialty_info", True),
        ("permit", True),
    ]
    assert SpecialtyProjectInfo.objects.get(pk=specialty_in_review.pk).state == State.APPROVED
    assert ConstructionPermit.objects.get(pk=permit_in_review.pk).state == State.APPROVED


def test_record_outside_jurisdiction_fails_without_change_and_without_its_title(
    client, reviewer, permit_in_review, honghe_permit
):
    client.force_login(reviewer)

    response = client.post(
        BULK, {"confirm": "yes", "items": [item(honghe_permit), item(permit_in_review)]}, follow=True
    )

    rows = response.context["rows"]
    assert [r["ok"] for r in rows] == [False, True]
    assert rows[0]["message"] == OUT_OF_REACH
    assert (rows[0]["title"], rows[0]["number"], rows[0]["visible"]) == ("", "", False)
    page = response.content.decode()
    assert honghe_permit.project.name not in page
    assert honghe_permit.permit_num not in page
    assert reverse("review:record", args=["permit", honghe_permit.pk]) not in page
    assert states(honghe_permit) == [State.IN_REVIEW]


def test_a_missing_id_and_an_invisible_one_get_the_same_answer(
    client, reviewer, permit_in_review, honghe_permit
):
    """Whether an id exists, or what state an invisible record is in, is not told."""
    f.approve(honghe_permit, f.make_reviewer("hh_rev", "532500", "permit"))
    client.force_login(reviewer)

    response = client.post(
        BULK,
        {"confirm": "yes", "items": ["permit:987654:1", item(honghe_permit), item(permit_in_review)]},
        follow=True,
    )

    rows = response.context["rows"]
    assert [(r["ok"], r["message"], r["title"]) for r in rows[:2]] == [(False, OUT_OF_REACH, "")] * 2
    assert rows[2]["ok"] is True


def test_a_visible_record_that_failed_keeps_its_reason(client, reviewer, permit_in_review):
    client.force_login(reviewer)
    f.approve(permit_in_review, f.make_reviewer("qj_other", "530300", "permit"))

    response = client.post(BULK, {"confirm": "yes", "items": [item(permit_in_review)]}, follow=True)

    row = response.context["rows"][0]
    assert (row["ok"], row["visible"], row["message"]) == (False, True, Conflict().message)
    assert row["title"] == permit_in_review.project.name


def test_nothing_selected_or_garbage_goes_back_with_a_message(client, reviewer, permit_in_review):
    client.force_login(reviewer)

    empty = client.post(BULK, {}, follow=True)
    assert "请至少勾选一条记录。" in empty.content.decode()

    garbage = client.post(BULK, {"confirm": "yes", "items": ["permit:abc:1"]}, follow=True)
    assert "所选记录无效" in garbage.content.decode()
    assert states(permit_in_review) == [State.IN_REVIEW]


def test_enterprise_user_gets_403(client, contractor, permit_in_review):
    client.force_login(contractor)

    assert client.post(BULK, {"confirm": "yes", "items": [item(permit_in_review)]}).status_code == 403
    assert states(permit_in_review) == [State.IN_REVIEW]


def test_get_is_not_allowed(client, reviewer):
    client.force_login(reviewer)

    assert client.get(BULK).status_code == 405


def test_refreshing_the_result_page_decides_nothing_again(client, county_permit_reviewer, many_permits):
    permits = many_permits(2)
    client.force_login(county_permit_reviewer)
    response = client.post(BULK, {"confirm": "yes", "items": [item(p) for p in permits]})
    assert response.status_code == 302
    assert response.url == reverse("review:bulk-result")
    decisions = AuditEntry.objects.filter(action=AuditEntry.Action.APPROVE).count()
    for _ in range(2):
        page = client.get(response.url)
        assert page.status_code == 200
        assert [r["ok"] for r in page.context["rows"]] == [True, True]
    assert AuditEntry.objects.filter(action=AuditEntry.Action.APPROVE).count() == decisions


def test_without_a_confirmation_the_ticked_records_are_listed_and_nothing_is_decided(
    client, county_permit_reviewer, many_permits
):
    """Issue 19: approval cannot be undone, so bulk approval asks first (the page's script in a dialog;
    without JavaScript, this confirmation page)."""
    permits = many_permits(2)
    client.force_login(county_permit_reviewer)

    page = client.post(BULK, {"items": [item(p) for p in permits]})

    assert page.status_code == 200
    html = page.content.decode()
    assert "以下 2 条记录将全部审核通过，审核通过后不能撤回" in html
    assert html.count('name="items"') == 2
    assert states(*permits) == [State.IN_REVIEW] * 2
    done = client.post(BULK, {"confirm": "yes", "items": [item(p) for p in permits]}, follow=True)
    assert done.status_code == 200
    assert states(*permits) == [State.APPROVED] * 2
