"""Applying a roster: accounts matched or created, a prefecture's assignments replaced, nothing else touched.

Files are generated here (the writers of test_roster_parse) and go through the same parse → plan →
apply path as the upload page and the command.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.stages import REVIEW_STAGES, Stage
from review.models import ReviewerAssignment
from review.roster.apply import (
    ERROR,
    NEW,
    UNCHANGED,
    UPDATED,
    RosterApplyError,
    apply_roster,
    plan_roster,
    read_roster,
)
from review.roster.parse import BureauResolver, parse_rows
from tests import factories as f
from tests.review.test_roster_parse import ID_A, ID_B, ID_C, ID_X, QUJING, person_id, roster_sheet, write
from yunjian.core import crypto
from yunjian.core.models import AuditEntry, Organization, Role, User
from yunjian.core.validators import validate_credit_code

QILIN = "麒麟区住房和城乡建设局"
HONGHE = "红河州住房和城乡建设局"
LIAISON = "州（市）联络员"
DRAWING = "施工图审查信息"
PERMIT = "施工许可信息"
COMPLETION = "竣工验收信息及竣工验收备案信息"


def person(bureau, name, stage, phone, *, ca="否", id_number="", department="建筑市场监管科", title="科员"):
    if stage == LIAISON:
        ca, id_number = "——", "——"
    return [bureau, name, department, title, ca, id_number, stage, phone]


def qujing_people() -> list[list[object]]:
    """曲靖's roster: a liaison without an ID number, three reviewers, one of 麒麟区."""
    return [
        person(QUJING, "张三", LIAISON, "13800138000"),
        person(QUJING, "李四", DRAWING, "13800138001", ca="是", id_number=ID_X),
        person(QUJING, "王五", PERMIT, "13800138002", id_number=ID_A),
        person(QILIN, "周九", PERMIT, "0874-3123458", id_number=ID_C),
    ]


def roster_bytes(people, fmt: str = "xlsx") -> bytes:
    return write(roster_sheet(people), fmt)


def parsed(people, fmt: str = "xlsx"):
    return read_roster(roster_bytes(people, fmt), f"汇总表.{fmt}")


def apply(people, actor=None, fmt: str = "xlsx"):
    content = roster_bytes(people, fmt)
    return apply_roster(
        parse=read_roster(content, f"汇总表.{fmt}"), actor=actor, filename=f"汇总表.{fmt}", sha256="0" * 64
    )


def statuses(plan) -> list[tuple[str, str]]:
    return [(row.row.name, row.status) for row in plan.rows]


def lines_of(key: str) -> set[tuple[str, str, str]]:
    return {
        (a.user.full_name, a.stage, a.division_id or a.zone.slug)
        for a in ReviewerAssignment.objects.filter(roster_key=key).select_related("user", "zone")
    }


# --------------------------------------------------------------------------- first import


@pytest.mark.parametrize("fmt", ["xlsx", "xls", "ods"])
def test_first_import_creates_accounts_bureau_and_assignments(world, province_admin, fmt):
    plan = plan_roster(parsed(qujing_people(), fmt))

    assert statuses(plan) == [("张三", NEW), ("李四", NEW), ("王五", NEW), ("周九", NEW)]
    assert [b.name for b in plan.new_bureaus] == [QUJING]  # 麒麟区's bureau exists in the world
    assert plan.removals == []

    result = apply(qujing_people(), province_admin, fmt)

    users = {u.full_name: u for u in User.objects.filter(full_name__in=["张三", "李四", "王五", "周九"])}
    assert sorted(u.username for u in users.values()) == [
        "r530300001",
        "r530300002",
        "r530300003",
        "r530302001",
    ]
    li = users["李四"]
    assert li.has_role(Role.REVIEWER)
    assert li.role_list == [Role.REVIEWER]
    assert li.id_number == ID_X
    assert li.id_number_digest == crypto.digest(ID_X)
    assert ID_X not in li.id_number_encrypted
    assert li.has_ca_certificate is True
    assert users["王五"].has_ca_certificate is False
    assert (li.phone, li.department, li.title) == ("13800138001", "建筑市场监管科", "科员")
    assert not li.has_usable_password()  # nobody gets a password until they activate
    assert users["张三"].id_number == ""  # the liaison line has no ID number
    assert users["张三"].has_role(Role.REVIEWER)
    qujing = Organization.objects.get(name=QUJING)
    assert qujing.has_kind(Organization.Kind.HOUSING_BUREAU)
    assert qujing.division_id == "530300"
    assert qujing.credit_code.startswith("00530300")
    validate_credit_code(qujing.credit_code)  # a placeholder, but a well-formed one
    assert users["周九"].organization == world["bureau_qlq"]
    assert li.organization == qujing
    # bulk_create sends no signal: the service puts each account in its organization's group
    assert list(li.groups.values_list("pk", flat=True)) == [qujing.group_id]
    assert lines_of("530300") == {
        ("张三", Stage.LIAISON, "530300"),
        ("李四", Stage.DRAWING_REVIEW, "530300"),
        ("王五", Stage.PERMIT, "530300"),
        ("周九", Stage.PERMIT, "530302"),
    }
    assert len(result.created_user_ids) == 4
    assert result.created_assignments == 4
    entry = AuditEntry.objects.get(action=AuditEntry.Action.IMPORT)
    assert entry.actor == province_admin
    assert entry.data["roster_keys"] == ["530300"]
    assert entry.data["counts"]["new"] == 4
    assert sorted(entry.data["created_users"]) == sorted(u.pk for u in users.values())


def test_usernames_continue_the_sequence(world):
    f.make_user("r530300007", None)

    apply([person(QUJING, "张三", LIAISON, "13800138000")])

    assert User.objects.get(full_name="张三").username == "r530300008"


def test_zone_roster_gets_its_own_bureau_and_key(world):
    apply([person("滇中新区规划建设管理部", "陈一", PERMIT, "13800138009", id_number=ID_B)])

    assignment = ReviewerAssignment.objects.select_related("zone", "user__organization").get()
    assert (assignment.roster_key, assignment.zone.slug, assignment.division_id) == (
        "dianzhong",
        "dianzhong",
        None,
    )
    assert assignment.user.username == "rdianzhong001"
    assert assignment.user.organization.zone_id == assignment.zone_id


# --------------------------------------------------------------------------- idempotence


def test_second_import_of_the_same_file_changes_nothing(world):
    apply(qujing_people())
    before = list(User.objects.order_by("pk").values())
    assignments = list(ReviewerAssignment.objects.order_by("pk").values())

    plan = plan_roster(parsed(qujing_people()))
    assert {status for _name, status in statuses(plan)} == {UNCHANGED}
    assert plan.removals == []
    assert plan.new_bureaus == []

    with CaptureQueriesContext(connection) as queries:
        result = apply(qujing_people())

    writes = [
        q["sql"] for q in queries.captured_queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")
    ]
    assert len(writes) == 1
    assert writes[0].startswith('INSERT INTO "core_auditentry"')
    assert not result.changed
    assert list(User.objects.order_by("pk").values()) == before
    assert list(ReviewerAssignment.objects.order_by("pk").values()) == assignments


def test_same_roster_as_xls_after_xlsx_is_unchanged(world):
    apply(qujing_people(), fmt="xlsx")

    plan = plan_roster(parsed(qujing_people(), "xls"))

    assert {status for _name, status in statuses(plan)} == {UNCHANGED}


# --------------------------------------------------------------------------- replacement


def test_import_replaces_only_that_prefectures_assignments(world, honghe_reviewer):
    apply(qujing_people())
    honghe_before = lines_of("532500")
    people = qujing_people()
    people[2] = person(
        QUJING, "王五", PERMIT, "13900139002", id_number=ID_A, title="副科长"
    )  # new phone, title
    del people[3]  # 周九 (麒麟区) is no longer listed
    people.append(person(QUJING, "钱七", COMPLETION, "13800138004", ca="是"))

    plan = plan_roster(parsed(people))

    assert statuses(plan) == [("张三", UNCHANGED), ("李四", UNCHANGED), ("王五", UPDATED), ("钱七", NEW)]
    assert plan.rows[2].person.changes == ["联系电话", "职务"]
    assert [(a.user.full_name, a.stage) for a in plan.removals] == [("周九", Stage.PERMIT)]

    result = apply(people)

    assert lines_of("530300") == {
        ("张三", Stage.LIAISON, "530300"),
        ("李四", Stage.DRAWING_REVIEW, "530300"),
        ("王五", Stage.PERMIT, "530300"),
        ("钱七", Stage.COMPLETION, "530300"),
    }
    assert lines_of("532500") == honghe_before  # 红河 untouched
    wang = User.objects.get(full_name="王五")
    assert (wang.phone, wang.title) == ("13900139002", "副科长")
    zhou = User.objects.get(full_name="周九")
    assert zhou.is_active
    assert not zhou.assignments.exists()
    assert result.removed_assignments == 1
    entry = AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).latest("id")
    assert entry.data["removed_assignments"][0]["username"] == zhou.username


def test_existing_factory_reviewers_of_the_prefecture_are_replaced(world, reviewer):
    """`reviewer` (rita_qujing) holds all of 曲靖's review stages; a roster without her drops them."""
    plan = plan_roster(parsed(qujing_people()))

    assert {(a.user.username, a.stage) for a in plan.removals} == {("rita_qujing", s) for s in REVIEW_STAGES}

    apply(qujing_people())

    assert not reviewer.assignments.exists()


# --------------------------------------------------------------------------- matching accounts


def test_account_matched_by_id_digest_even_under_a_new_phone_and_bureau(world):
    existing = f.make_user(
        "old_account",
        world["bureau_qlq"],
        Role.REVIEWER,
        full_name="王五",
        department="建筑市场监管科",
        title="科员",
    )
    existing.id_number = ID_A
    existing.phone = "13700000000"
    existing.save()

    plan = plan_roster(parsed([person(QUJING, "王五", PERMIT, "13800138002", id_number=ID_A)]))

    assert plan.rows[0].person.user.pk == existing.pk
    assert plan.rows[0].status == NEW  # the account exists, the assignment does not
    assert plan.rows[0].person.changes == ["联系电话", "所属单位"]

    apply([person(QUJING, "王五", PERMIT, "13800138002", id_number=ID_A)])

    existing.refresh_from_db()
    assert existing.phone == "13800138002"
    assert existing.organization.name == QUJING
    assert list(existing.groups.values_list("pk", flat=True)) == [existing.organization.group_id]
    assert existing.has_usable_password()  # an existing account keeps its password
    assert User.objects.filter(full_name="王五").count() == 1


def test_account_without_id_matched_by_name_phone_and_bureau(world):
    existing = f.make_user(
        "zhang_liaison", world["bureau_qlq"], Role.REVIEWER, full_name="张三", phone="13800138000"
    )
    people = [person(QILIN, "张三", LIAISON, "13800138000")]

    plan = plan_roster(parsed(people))

    assert plan.rows[0].person.user.pk == existing.pk
    apply(people)
    assert ReviewerAssignment.objects.get().user == existing


def test_same_name_and_phone_in_another_bureau_is_another_person(world):
    f.make_user("zhang_honghe", world["bureau_hh"], Role.REVIEWER, full_name="张三", phone="13800138000")

    plan = plan_roster(parsed([person(QILIN, "张三", LIAISON, "13800138000")]))

    assert plan.rows[0].person.user is None


def test_liaison_and_reviewer_lines_of_one_person_are_one_account(world):
    people = [
        person(QUJING, "张三", LIAISON, "13800138000"),
        person(QUJING, "张三", PERMIT, "13800138000", id_number=ID_B),
    ]

    apply(people)

    user = User.objects.get(full_name="张三")
    assert user.id_number == ID_B
    assert set(user.assignments.values_list("stage", flat=True)) == {Stage.LIAISON, Stage.PERMIT}


def test_id_number_of_an_enterprise_account_is_an_error(world, contractor):
    contractor.id_number = ID_A
    contractor.save()

    parse = parsed(qujing_people())
    plan = plan_roster(parse)

    assert statuses(plan)[2] == ("王五", ERROR)
    assert "bob_builder" in plan.rows[2].row.error_text
    assert "不能兼任审核人员" in plan.rows[2].row.error_text
    with pytest.raises(RosterApplyError):
        apply(qujing_people())
    assert not ReviewerAssignment.objects.exists()
    assert not User.objects.filter(full_name="李四").exists()


def test_admin_account_cannot_become_a_reviewer(world, province_admin):
    province_admin.id_number = ID_X
    province_admin.save()

    plan = plan_roster(parsed(qujing_people()))

    assert statuses(plan)[1] == ("李四", ERROR)


# --------------------------------------------------------------------------- errors and rules


def test_rows_with_errors_block_the_whole_file(world):
    people = qujing_people()
    people[1][7] = "12345"  # a phone number that is none

    plan = plan_roster(parsed(people))

    assert statuses(plan)[1] == ("李四", ERROR)
    assert plan.has_errors
    with pytest.raises(RosterApplyError, match="错误"):
        apply(people)
    assert not User.objects.filter(full_name__in=["张三", "李四"]).exists()
    assert not Organization.objects.filter(name=QUJING).exists()
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.IMPORT).exists()


def test_too_long_cells_are_line_errors_not_database_errors(world):
    people = [person(QUJING, "张三", LIAISON, "13800138000", title="职" * 51)]

    plan = plan_roster(parsed(people))

    assert plan.rows[0].status == ERROR
    assert "最多50个字" in plan.rows[0].row.error_text


def test_apply_refuses_when_the_plan_changed_since_the_preview(world):
    parse = parsed(qujing_people())
    digest = plan_roster(parse).digest
    apply(qujing_people()[:1])  # someone imports 曲靖 in between

    with pytest.raises(RosterApplyError, match="发生变化"):
        apply_roster(
            parse=parsed(qujing_people()),
            actor=None,
            filename="a.xlsx",
            sha256="0" * 64,
            expected_digest=digest,
        )
    assert ReviewerAssignment.objects.count() == 1


def test_only_a_province_admin_may_apply(world, reviewer, contractor):
    for actor in (reviewer, contractor):
        with pytest.raises(PermissionDenied):
            apply(qujing_people(), actor)
    assert not User.objects.filter(full_name="张三").exists()


def test_missing_liaison_is_a_warning(world):
    plan = plan_roster(parsed(qujing_people()[1:]))

    assert any("没有州（市）联络员" in warning for warning in plan.warnings)
    assert any("占位代码" in warning for warning in plan.warnings)


def test_plan_queries_are_constant(world, django_assert_max_num_queries):
    resolver = BureauResolver.default()
    small = plan_roster(parsed(qujing_people()))
    people = [
        person(QUJING, f"人员{i}", PERMIT, f"139{i:08d}", id_number=person_id(100 + i)) for i in range(300)
    ]
    big = roster_sheet(people).rows
    with django_assert_max_num_queries(8):
        plan_roster(parse_rows(list(enumerate(big, 1)), resolver))
    assert small.rows
