"""One rule decides who performs a review step (review.jurisdiction): its Python form, used by
permission checks and record access, and its query form, used by every inbox, always agree."""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone

from projects.stages import Performer, Stage
from review.jurisdiction import Post, performed_by_q, performs_post
from review.models import ReviewerAssignment, Task
from tests import factories as f
from yunjian.core.models import Organization, Role, Zone

COUNTIES = ["530302", "530381", "532501", "530181", "530111", "530102"]


@pytest.fixture
def people(world):
    zone_reviewer = f.make_user("zoe_dianzhong", world["bureau_hh"], Role.REVIEWER)
    ReviewerAssignment.objects.create(
        user=zone_reviewer,
        stage=Stage.PERMIT,
        zone=Zone.objects.get(slug="dianzhong"),
        roster_key="dianzhong",
    )
    return {
        "county": f.make_reviewer("kay_county", "530302", Stage.PERMIT, org=world["bureau_qlq"]),
        "prefecture": f.make_reviewer("pat_prefecture", "530300", Stage.PERMIT, Stage.COMPLETION),
        "province": f.make_reviewer("pia_province", "530000", Stage.PERMIT),
        "zone": zone_reviewer,
        "other_stage": f.make_reviewer("sam_stage", "530300", Stage.TENDER_CONTRACT),
        "kunming": f.make_reviewer("kim_kunming", "530100", Stage.PERMIT),
        "host_county": f.make_reviewer("hal_anning", "530181", Stage.PERMIT),
        "institution": f.make_user("ian_inst", world["institution"], Role.INSTITUTION),
        "division": f.make_user("dee_div", world["division"], Role.DESIGN_DIVISION),
        "enterprise": f.make_user("eve_ent", world["builder"], Role.ENTERPRISE),
    }


def _posts(world):
    for county in COUNTIES:
        for stage in (Stage.PERMIT, Stage.COMPLETION):
            yield Post(Performer.ROSTER, stage, county, None)
    # 滇中新区: a project there (filed under its host county) and a permit of the new area's bureau
    # (filed under the province code).
    for code in ("530181", "530111", "530000"):
        for stage in (Stage.PERMIT, Stage.COMPLETION):
            yield Post(Performer.ROSTER, stage, code, None, "dianzhong")
    for org in (world["institution"], world["institution_other"]):
        yield Post(Performer.INSTITUTION, "", "530302", org.pk)
    yield Post(Performer.DESIGN_DIVISION, "", "532501", None)


def _task(post: Post, owner: Organization, n: int) -> Task:
    now = timezone.now()
    return Task.objects.create(
        kind="permit",
        record_id=10_000 + n,
        revision=1,
        step="issuing_review",
        step_label="x",
        performer=post.performer,
        stage=post.stage,
        division_code=post.division_code,
        zone=post.zone,
        assignee_org_id=post.assignee_org_id,
        owner_org=owner,
        title="项目",
        submitted_at=now,
        due_at=now,
    )


def test_the_python_form_and_the_query_form_agree(world, people):
    owner = world["builder_other"]
    tasks = [(post, _task(post, owner, n)) for n, post in enumerate(_posts(world))]
    performed = 0
    for (name, user), (post, task) in itertools.product(people.items(), tasks):
        by_rule = performs_post(user, post, owner.pk)
        by_query = Task.objects.filter(pk=task.pk).filter(performed_by_q(user)).exists()
        assert by_rule == by_query, (name, post)
        performed += by_rule
    assert performed > 10  # the rule grants something: the comparison is not between two empty sets


@pytest.mark.parametrize(
    ("name", "county", "expected"),
    [
        ("county", "530302", True),
        ("county", "530381", False),  # another county of the same prefecture
        ("prefecture", "530381", True),  # a prefecture covers its counties
        ("prefecture", "532501", False),
        ("province", "532501", True),
        ("zone", "530181", False),  # a host county's own records are not the new area's
        ("zone", "530102", False),
        ("kunming", "530181", True),
        ("host_county", "530181", True),
        ("other_stage", "530302", False),
        ("enterprise", "530302", False),
    ],
)
def test_who_covers_a_county(world, people, name, county, expected):
    assert performs_post(people[name], Post(Performer.ROSTER, Stage.PERMIT, county, None), None) is expected


def test_nobody_performs_a_step_of_their_own_organizations_record(world, people):
    post = Post(Performer.ROSTER, Stage.PERMIT, "530302", None)
    assert performs_post(people["county"], post, world["builder"].pk)
    assert not performs_post(people["county"], post, world["bureau_qlq"].pk)


@pytest.mark.parametrize(
    ("name", "code", "expected"),
    [
        ("zone", "530181", True),  # a project in 滇中新区, in 安宁市
        ("zone", "530000", True),  # a permit the new area's bureau issued
        ("province", "530181", True),
        ("kunming", "530181", False),  # 昆明市 does not review the new area's records
        ("host_county", "530181", False),  # nor does the host county
        ("prefecture", "530181", False),
        ("county", "530302", False),
    ],
)
def test_who_covers_a_post_of_the_new_area(world, people, name, code, expected):
    post = Post(Performer.ROSTER, Stage.PERMIT, code, None, "dianzhong")
    assert performs_post(people[name], post, None) is expected
