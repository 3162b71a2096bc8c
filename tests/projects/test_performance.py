"""业绩 (issue 14 §2): the chain the notice asks of each role, "verified" only when every record it
owes is approved AND acknowledged by the platform, one step away, the blocking step, the filter,
the export read back, the print page and the home page's figures.

Records are built through the services and the review decisions; the platform's acknowledgement
through the real outbox path (tests.synchelpers.acknowledge_project_offline)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from projects import performance
from projects import services as ps
from projects.codes import Scope
from projects.models import Project, ProjectParty, RecordKind, State
from sync.performance import performance_rows, performance_states, performance_summary, performance_verdicts
from tests import factories as f
from tests.synchelpers import acknowledge_project_offline
from yunjian.core import spreadsheets

pytestmark = pytest.mark.django_db

Role = ProjectParty.Role
ACK, APPROVED, IN_REVIEW, RETURNED, DRAFT, MISSING = (
    performance.ACKNOWLEDGED,
    performance.APPROVED,
    performance.IN_REVIEW,
    performance.RETURNED,
    performance.DRAFT,
    performance.MISSING,
)


def row(org, project, role):
    party = performance_rows(org.pk).get(project=project, role=role)
    return performance_states([party], org.pk)[0]


def steps(org, project, role) -> dict[str, int]:
    party = row(org, project, role)
    direct = project.kind == Project.Kind.DIRECT_SPECIALTY
    return {k: getattr(party, f"s_{k}") for k in performance.required_kinds(role, direct=direct)}


@pytest.fixture
def permitted(project, approved_review, contractor, world, county_permit_reviewer):
    """A project whose drawing review and permit are approved; its supervision unit is ours."""
    permit = ps.permit_save(
        actor=contractor,
        drawing_review_ids=[approved_review.pk],
        data=f.permit_data(world["bureau_qlq"], supervision_org=world["supervision"]),
    )
    f.approve(permit, county_permit_reviewer)
    project.refresh_from_db()
    return project


@pytest.fixture
def synced(permitted):
    acknowledge_project_offline(permitted)
    return permitted


def tender(actor, project, scope, reviewer=None, **data):
    record = ps.tender_contract_save(
        actor=actor, project_id=project.pk, data=f.tender_data(scope, **data), submit=True
    )
    return f.approve(record, reviewer) if reviewer else record


# --- which records each role owes (derived from KINDS' enterers and the notice's exceptions) ------


def test_the_records_the_notice_asks_of_each_role():
    K = RecordKind
    assert performance.required_kinds(Role.DESIGN, direct=False) == (K.DRAWING_REVIEW, K.TENDER_CONTRACT)
    assert performance.required_kinds(Role.GENERAL_CONTRACTOR, direct=False) == (
        K.PERMIT,
        K.TENDER_CONTRACT,
        K.COMPLETION,
    )
    assert performance.required_kinds(Role.SUPERVISION, direct=False) == (K.TENDER_CONTRACT,)
    assert performance.required_kinds(Role.SURVEY, direct=False) == (K.TENDER_CONTRACT,)
    # 二(一): a subcontracted specialty contractor adds its scope's tender and its completion.
    assert performance.required_kinds(Role.SPECIALTY_CONTRACTOR, direct=False) == (
        K.TENDER_CONTRACT,
        K.COMPLETION,
    )
    # 二(二): in a directly contracted specialty project it enters everything, basic info first.
    assert performance.required_kinds(Role.SPECIALTY_CONTRACTOR, direct=True) == performance.STEPS
    assert Role.OWNER not in performance.PERFORMANCE_ROLES
    assert Role.REVIEW_INSTITUTION not in performance.PERFORMANCE_ROLES


# --- the general contractor ---------------------------------------------------------------------


def test_general_contractor_is_verified_only_when_every_record_is_approved_and_acknowledged(
    permitted, world, contractor, reviewer
):
    builder = world["builder"]
    # Permit approved, but the platform has not acknowledged it yet.
    assert steps(builder, permitted, Role.GENERAL_CONTRACTOR) == {
        RecordKind.PERMIT: APPROVED,
        RecordKind.TENDER_CONTRACT: MISSING,
        RecordKind.COMPLETION: MISSING,
    }
    assert row(builder, permitted, Role.GENERAL_CONTRACTOR).blocking == RecordKind.PERMIT
    acknowledge_project_offline(permitted)
    party = row(builder, permitted, Role.GENERAL_CONTRACTOR)
    assert (party.s_permit, party.missing, party.blocking) == (ACK, 2, RecordKind.TENDER_CONTRACT)

    contract = tender(contractor, permitted, Scope.CONSTRUCTION)
    assert steps(builder, permitted, Role.GENERAL_CONTRACTOR)[RecordKind.TENDER_CONTRACT] == IN_REVIEW
    contract = f.send_back(contract, reviewer)
    party = row(builder, permitted, Role.GENERAL_CONTRACTOR)
    assert party.s_tender_contract == RETURNED
    action = performance.build_rows([party])[0].action
    assert action.url == reverse("projects:record-edit", args=["tender_contract", contract.pk])
    contract = ps.record_submit(actor=contractor, kind=contract.KIND, record_id=contract.pk)
    f.approve(contract, reviewer)
    assert steps(builder, permitted, Role.GENERAL_CONTRACTOR)[RecordKind.TENDER_CONTRACT] == APPROVED
    acknowledge_project_offline(permitted)

    party = row(builder, permitted, Role.GENERAL_CONTRACTOR)
    assert (party.missing, party.blocking) == (1, RecordKind.COMPLETION)  # one step away
    completion = ps.completion_save(
        actor=contractor, project_id=permitted.pk, data=f.completion_data(), submit=True
    )
    f.approve(completion, reviewer)
    party = row(builder, permitted, Role.GENERAL_CONTRACTOR)
    assert (party.s_completion, party.missing) == (APPROVED, 1)  # approved is not enough
    acknowledge_project_offline(permitted)
    party = row(builder, permitted, Role.GENERAL_CONTRACTOR)
    assert (party.missing, party.blocking) == (0, "")
    assert performance_summary(builder.pk).verified == 1


def test_a_second_draft_of_the_same_kind_holds_the_step_back(synced, world, contractor, reviewer):
    tender(contractor, synced, Scope.CONSTRUCTION, reviewer)
    acknowledge_project_offline(synced)
    assert steps(world["builder"], synced, Role.GENERAL_CONTRACTOR)[RecordKind.TENDER_CONTRACT] == ACK
    ps.tender_contract_save(actor=contractor, project_id=synced.pk, data=f.tender_data(Scope.CONSTRUCTION))
    assert steps(world["builder"], synced, Role.GENERAL_CONTRACTOR)[RecordKind.TENDER_CONTRACT] == DRAFT


# --- the design unit ------------------------------------------------------------------------------


def test_design_unit_owes_its_drawing_review_and_the_design_tender(synced, world, designer, reviewer):
    design = world["design"]
    party = row(design, synced, Role.DESIGN)
    # The review travelled with the permit's bundle, which the platform acknowledged.
    assert (party.s_drawing_review, party.s_tender_contract) == (ACK, MISSING)
    assert (party.missing, party.blocking) == (1, RecordKind.TENDER_CONTRACT)
    action = performance.build_rows([party])[0].action
    assert action.url == reverse("projects:tender-new", args=[synced.pk]) + "?scope=design"

    tender(designer, synced, Scope.DESIGN, reviewer, contract_type="200")
    assert row(design, synced, Role.DESIGN).missing == 1  # approved, not yet acknowledged
    acknowledge_project_offline(synced)
    assert row(design, synced, Role.DESIGN).missing == 0
    # Another design unit sees nothing of it.
    assert not performance_rows(world["design_other"].pk).exists()


def test_design_unit_before_the_platform_acknowledges_the_review(permitted, world):
    party = row(world["design"], permitted, Role.DESIGN)
    assert (party.s_drawing_review, party.blocking) == (APPROVED, RecordKind.DRAWING_REVIEW)


# --- the supervision unit -------------------------------------------------------------------------


def test_supervision_unit_owes_its_supervision_tender_only(synced, world, supervisor, reviewer):
    supervision = world["supervision"]
    assert steps(supervision, synced, Role.SUPERVISION) == {RecordKind.TENDER_CONTRACT: MISSING}
    # The chain shows the steps other units enter, for context: here the acknowledged permit.
    cells = {c.kind: c for c in performance.build_rows([row(supervision, synced, Role.SUPERVISION)])[0].steps}
    assert list(cells) == [
        RecordKind.DRAWING_REVIEW,
        RecordKind.PERMIT,
        RecordKind.TENDER_CONTRACT,
        RecordKind.COMPLETION,
    ]
    assert cells[RecordKind.PERMIT].status == "非本单位录入 · 平台已接收"
    assert cells[RecordKind.COMPLETION].status == "非本单位录入 · 尚未审核认定"
    assert cells[RecordKind.TENDER_CONTRACT].status == "未录入"
    contract = tender(supervisor, synced, Scope.SUPERVISION, contract_type="400")
    assert row(supervision, synced, Role.SUPERVISION).s_tender_contract == IN_REVIEW
    f.approve(contract, reviewer)
    assert row(supervision, synced, Role.SUPERVISION).missing == 1
    acknowledge_project_offline(synced)
    party = row(supervision, synced, Role.SUPERVISION)
    assert (party.missing, party.blocking) == (0, "")


# --- the specialty subcontractor ----------------------------------------------------------------


def test_specialty_subcontractor_owes_its_scope_tender_and_its_completion(
    synced, world, specialist, reviewer
):
    specialty = world["specialty"]
    contract = tender(specialist, synced, Scope.SPECIALTY, reviewer, contract_type="302")
    # Approval made it a party of the project (notice 二(一)).
    party = row(specialty, synced, Role.SPECIALTY_CONTRACTOR)
    assert (party.s_tender_contract, party.s_completion) == (APPROVED, MISSING)
    acknowledge_project_offline(synced)
    party = row(specialty, synced, Role.SPECIALTY_CONTRACTOR)
    assert (party.s_tender_contract, party.missing, party.blocking) == (ACK, 1, RecordKind.COMPLETION)
    action = performance.build_rows([party])[0].action
    assert action.url == reverse("projects:workspace") + f"?q={synced.prj_num}"

    completion = ps.completion_save(
        actor=specialist,
        project_id=synced.pk,
        data=f.completion_data(specialty_contract=contract, filing_num="", filing_date=None),
        submit=True,
    )
    assert row(specialty, synced, Role.SPECIALTY_CONTRACTOR).s_completion == IN_REVIEW
    f.approve(completion, reviewer)
    # 竣工验收信息 only: nothing of its own goes to the platform, which holds the project.
    party = row(specialty, synced, Role.SPECIALTY_CONTRACTOR)
    assert (party.s_completion, party.missing) == (ACK, 0)


def test_a_second_specialty_contract_without_its_completion_holds_the_completion_step(
    synced, world, specialist, reviewer
):
    first = tender(specialist, synced, Scope.SPECIALTY, reviewer, contract_type="302")
    completion = ps.completion_save(
        actor=specialist,
        project_id=synced.pk,
        data=f.completion_data(specialty_contract=first, filing_num="", filing_date=None),
        submit=True,
    )
    f.approve(completion, reviewer)
    tender(specialist, synced, Scope.SPECIALTY, reviewer, contract_type="302")
    acknowledge_project_offline(synced)
    party = row(world["specialty"], synced, Role.SPECIALTY_CONTRACTOR)
    assert (party.s_completion, party.blocking) == (MISSING, RecordKind.COMPLETION)


# --- the pages ----------------------------------------------------------------------------------


@pytest.fixture
def three_states(synced, world, contractor, designer, supervisor, reviewer):
    """The builder verified; the design unit one step away (tender missing); the supervision unit's
    tender in review; plus a second project where the builder's permit is in review."""
    tender(contractor, synced, Scope.CONSTRUCTION, reviewer)
    completion = ps.completion_save(
        actor=contractor, project_id=synced.pk, data=f.completion_data(), submit=True
    )
    f.approve(completion, reviewer)
    tender(supervisor, synced, Scope.SUPERVISION, contract_type="400")
    acknowledge_project_offline(synced)
    return synced


def test_the_list_shows_each_role_chain_and_filters_by_blocking_step(client, three_states, contractor, world):
    client.force_login(contractor)
    response = client.get(reverse("projects:performance"))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-project="{three_states.prj_num}" data-role="general_contractor"' in html
    assert "已认定业绩" in html
    assert "平台已接收" in html
    assert response.context["summary"].verified == 1

    second = f.make_project("530302", owner=world["owner"], name="第二个项目")
    ProjectParty.objects.create(project=second, organization=world["builder"], role=Role.GENERAL_CONTRACTOR)
    response = client.get(reverse("projects:performance"), {"step": "permit"})
    assert [r.project for r in response.context["rows"]] == [second]
    assert response.context["rows"][0].action.text == "待录入施工许可信息"
    response = client.get(reverse("projects:performance"), {"show": "verified"})
    assert [r.project for r in response.context["rows"]] == [three_states]
    response = client.get(reverse("projects:performance"), {"step": "nonsense", "show": "x"})
    assert len(response.context["rows"]) == 2


def test_the_list_requests_verdicts_agree_with_the_home_figures_and_each_rows_chain(
    three_states, world, contractor
):
    """The list computes every row's verdict once (figures and filter share it): the same figures
    as the home's aggregate, the same verdict as each row's own chain, the same rows per filter."""
    second = f.make_project("530302", owner=world["owner"], name="第二个项目")
    ProjectParty.objects.create(project=second, organization=world["builder"], role=Role.GENERAL_CONTRACTOR)
    for org in (world["builder"], world["design"], world["supervision"]):
        verdicts = performance_verdicts(org.pk)
        assert verdicts.summary() == performance_summary(org.pk)
        parties = performance_states(list(performance_rows(org.pk)), org.pk)
        assert verdicts.by_id == {p.pk: (p.missing, p.blocking) for p in parties}
        for show in performance.FILTERS:
            expected = {p.pk for p in parties if performance.FILTERS[show][1](p.missing)}
            assert set(performance_rows(org.pk, show=show).values_list("id", flat=True)) == expected
        for step in performance.STEPS:
            expected = {p.pk for p in parties if p.blocking == step}
            assert set(verdicts.ids(blocked=step)) == expected
    assert performance_verdicts(world["builder"].pk).summary().verified == 1


def test_home_shows_verified_near_and_the_blocking_steps(client, three_states, designer, supervisor):
    client.force_login(designer)
    response = client.get(reverse("core:home-role", args=["enterprise"]))
    summary = response.context["performance"]
    assert (summary.verified, summary.near) == (0, 1)
    assert summary.blocked == [("tender_contract", "招投标及合同信息", 1)]
    html = response.content.decode()
    assert 'id="home-near">1<' in html
    assert "?step=tender_contract" in html
    client.force_login(supervisor)
    summary = client.get(reverse("core:home-role", args=["enterprise"])).context["performance"]
    assert (summary.verified, summary.near, summary.total) == (0, 1, 1)


def test_the_export_lists_the_verified_projects_with_their_numbers(client, three_states, contractor):
    client.force_login(contractor)
    response = client.get(reverse("projects:performance-export"))
    assert response.status_code == 200
    assert response["Content-Type"] == performance.XLSX_CONTENT_TYPE
    assert "attachment" in response["Content-Disposition"]
    rows = spreadsheets.read_rows(response.content, "业绩.xlsx")
    assert rows[0][1][0].endswith("已认定业绩清单（共 1 项）")
    header, line = rows[1][1], rows[2][1]
    assert header == list(performance.LIST_COLUMNS)
    values = dict(zip(header, line, strict=True))
    project = three_states
    contract = project.tender_contracts.get(scope=Scope.CONSTRUCTION)
    permit = project.permits.get()
    completion = project.completions.get()
    assert values["项目编号"] == project.prj_num
    assert values["项目名称"] == project.name
    assert values["项目所在地"] == f"{project.county.parent.name}{project.county.name}"
    assert values["本单位角色"] == "施工总承包单位"
    assert values["合同编号"] == contract.contract_num
    assert values["合同备案编号"] == contract.record_num != ""
    assert float(values["合同金额（万元）"]) == float(contract.contract_amount)
    assert values["施工许可证编号"] == permit.permit_num
    assert values["施工图审查合格书编号"] == project.drawing_reviews.get().censor_num
    assert values["竣工验收备案编号"] == completion.filing_num
    assert values["竣工验收日期"].startswith("2021-06-01")
    assert len(rows) == 3  # only the verified project


def test_the_export_writes_a_formula_like_name_as_text(client, three_states, contractor):
    Project.objects.filter(pk=three_states.pk).update(name='=HYPERLINK("http://x")')
    client.force_login(contractor)
    content = client.get(reverse("projects:performance-export")).content
    from io import BytesIO

    from openpyxl import load_workbook

    sheet = load_workbook(BytesIO(content)).active
    cell = sheet.cell(row=3, column=3)
    assert cell.value == '=HYPERLINK("http://x")'
    assert cell.data_type == "s"
    assert cell.quotePrefix


def test_the_print_page_lists_the_verified_projects(client, three_states, contractor, designer):
    client.force_login(contractor)
    response = client.get(reverse("projects:performance-print"))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-project="{three_states.prj_num}"' in html
    assert "已认定业绩清单" in html
    assert "print-wide" in html
    # The rows are formatted in Python (projects.performance.print_rows): every value escaped.
    Project.objects.filter(pk=three_states.pk).update(name="<b>第一中学</b>")
    html = client.get(reverse("projects:performance-print")).content.decode()
    assert "&lt;b&gt;第一中学&lt;/b&gt;" in html
    assert "<b>第一中学" not in html
    assert '<td class="mono">' + three_states.prj_num + "</td><td>&lt;b&gt;" in html
    client.force_login(designer)
    html = client.get(reverse("projects:performance-print")).content.decode()
    assert three_states.prj_num not in html
    assert "本单位还没有已认定的业绩" in html


def test_a_platform_record_counts_as_acknowledged(synced, world, contractor, reviewer):
    contract = tender(contractor, synced, Scope.CONSTRUCTION, reviewer)
    type(contract).objects.filter(pk=contract.pk).update(origin="platform")
    assert steps(world["builder"], synced, Role.GENERAL_CONTRACTOR)[RecordKind.TENDER_CONTRACT] == ACK


def test_rows_are_the_organizations_own(three_states, world, outsider):
    assert not performance_rows(outsider.organization_id).exists()
    assert performance_summary(outsider.organization_id).total == 0
    assert {p.role for p in performance_rows(world["builder"].pk)} == {Role.GENERAL_CONTRACTOR}
    assert State.APPROVED  # the module's own states are State's


def test_another_organisation_sees_none_of_it_and_a_reviewer_is_refused(
    client, three_states, outsider, reviewer
):
    client.force_login(outsider)
    response = client.get(reverse("projects:performance"))
    assert response.context["rows"] == []
    assert three_states.prj_num not in response.content.decode()
    rows = spreadsheets.read_rows(client.get(reverse("projects:performance-export")).content, "x.xlsx")
    assert len(rows) == 2  # the title and the header only
    assert three_states.prj_num not in client.get(reverse("projects:performance-print")).content.decode()
    client.force_login(reviewer)
    for name in ("projects:performance", "projects:performance-export", "projects:performance-print"):
        assert client.get(reverse(name)).status_code == 403


def test_a_design_unit_without_its_drawing_review_is_sent_to_the_addition_request(
    synced, world, other_designer, reviewer
):
    tender(other_designer, synced, Scope.DESIGN, reviewer, contract_type="200")
    acknowledge_project_offline(synced)
    party = row(world["design_other"], synced, Role.DESIGN)
    assert (party.s_drawing_review, party.s_tender_contract, party.blocking) == (
        MISSING,
        ACK,
        RecordKind.DRAWING_REVIEW,
    )
    action = performance.build_rows([party])[0].action
    # Notice 一(一)1: it does not add the review itself on the PMS path; it applies for it.
    assert action.url == reverse("projects:addition-new")
