"""The stored 业绩 verdicts (ProjectParty.s_<kind>, missing, blocking): the triggers mark a project's
parties stale in the same transaction as every change of the verdict's inputs (records through the
real services and review decisions, the outbox's receipts, a project's kind, a new party), the
refresh stores what the verdict SQL computes, and a refresh computed before a concurrent change
never clears the stale flag (the version guard)."""

from __future__ import annotations

import importlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects import performance
from projects import services as ps
from projects.codes import Scope
from projects.models import ConstructionPermit, Project, ProjectParty, RecordKind
from sync import performance as sync_performance
from sync.models import Outbox
from sync.performance import computed_verdicts, refresh_verdicts
from sync.tasks import refresh_all
from tests import factories as f
from tests.projects.test_performance import permitted, synced, tender  # noqa: F401 (fixtures)
from tests.synchelpers import acknowledge_project_offline

pytestmark = pytest.mark.django_db

Role = ProjectParty.Role


def performance_parties():
    return ProjectParty.objects.filter(role__in=performance.PERFORMANCE_ROLES)


def stale_ids(project) -> set[int]:
    return set(performance_parties().filter(project=project, perf_stale=True).values_list("id", flat=True))


def assert_stored_equal_computed():
    """Refresh everything stale, then every stored verdict is the one computed from the records now."""
    refresh_all(batch=3)  # several batches
    assert not performance_parties().filter(perf_stale=True).exists()
    computed = computed_verdicts(performance_parties()).by_id
    stored = {p: (m, b) for p, m, b in performance_parties().values_list("id", "missing", "blocking")}
    assert stored == computed
    # And each step's state, against the page's own computation (with_states, per organization).
    for party in performance_parties():
        [fresh] = performance.with_states(
            [ProjectParty.objects.get(pk=party.pk)], party.organization_id, sync_performance.acknowledged
        )
        assert [getattr(party, f"s_{k}") for k in performance.STEPS] == [
            getattr(fresh, f"s_{k}") for k in performance.STEPS
        ]


def test_the_migrations_install_the_triggers_the_modules_describe():
    """projects.performance and sync.performance hold the triggers' SQL; the migrations a frozen copy."""
    projects_migration = importlib.import_module("projects.migrations.0013_stored_verdicts")
    sync_migration = importlib.import_module("sync.migrations.0006_performance_outbox_trigger")
    assert performance.triggers_sql() == projects_migration.TRIGGERS
    assert performance.drop_triggers_sql() == projects_migration.DROP
    assert sync_performance.triggers_sql() == sync_migration.TRIGGERS
    assert sync_performance.drop_triggers_sql() == sync_migration.DROP


def test_stored_verdicts_follow_every_change_through_the_services(
    permitted,  # noqa: F811
    world,
    contractor,
    supervisor,
    reviewer,
    county_permit_reviewer,
):
    project = permitted
    builder = world["builder"]
    assert_stored_equal_computed()

    # The outbox's receipts: delivered rows (and the project's platform_synced_at) mark it stale.
    acknowledge_project_offline(project)
    assert stale_ids(project)
    assert_stored_equal_computed()

    # Submit (an insert), return, resubmit, approve.
    contract = tender(contractor, project, Scope.CONSTRUCTION)
    assert stale_ids(project)
    assert_stored_equal_computed()
    contract = f.send_back(contract, reviewer)
    assert stale_ids(project)
    assert_stored_equal_computed()
    party = performance_parties().get(project=project, organization=builder, role=Role.GENERAL_CONTRACTOR)
    assert party.s_tender_contract == performance.RETURNED
    contract = ps.record_submit(actor=contractor, kind=contract.KIND, record_id=contract.pk)
    f.approve(contract, reviewer)
    assert_stored_equal_computed()
    acknowledge_project_offline(project)
    assert_stored_equal_computed()
    party.refresh_from_db()
    assert (party.missing, party.blocking) == (1, RecordKind.COMPLETION)

    completion = ps.completion_save(
        actor=contractor, project_id=project.pk, data=f.completion_data(), submit=True
    )
    f.approve(completion, reviewer)
    acknowledge_project_offline(project)
    assert_stored_equal_computed()
    party.refresh_from_db()
    assert (party.missing, party.blocking) == (0, "")
    assert performance.summary(builder.pk, sync_performance.acknowledged).verified == 1

    # A new party (the supervision unit) starts stale and is computed at the next read.
    supervision = world["supervision"]
    ProjectParty.objects.filter(project=project, organization=supervision).delete()
    new = ProjectParty.objects.create(project=project, organization=supervision, role=Role.SUPERVISION)
    new.refresh_from_db()
    assert new.perf_stale
    assert_stored_equal_computed()

    # 撤销认定 of the permit: every party of the project is stale, the builder no longer verified.
    permit = ConstructionPermit.objects.get(project=project)
    f.revoke(permit, county_permit_reviewer)
    assert stale_ids(project)
    assert_stored_equal_computed()
    party.refresh_from_db()
    assert party.missing > 0

    # The project's kind changes (an update of projects_project): its parties are stale.
    before = party.perf_version
    Project.objects.filter(pk=project.pk).update(kind=Project.Kind.DIRECT_SPECIALTY)
    party.refresh_from_db()
    assert party.perf_stale
    assert party.perf_version > before
    assert_stored_equal_computed()


def test_an_outbox_row_becoming_delivered_marks_its_records_project_only(
    permitted,  # noqa: F811
    world,
    contractor,
    reviewer,
):
    """The outbox trigger alone (the project's platform_synced_at unchanged): the tender and contract
    rows of an approved contract become delivered, its project's parties are stale, no other's."""
    acknowledge_project_offline(permitted)
    contract = tender(contractor, permitted, Scope.CONSTRUCTION, reviewer)
    other = f.make_project()
    ProjectParty.objects.create(project=other, organization=world["builder"], role=Role.GENERAL_CONTRACTOR)
    refresh_verdicts()
    keys = [f"tender:{contract.pk}", f"contract:{contract.pk}"]
    rows = Outbox.objects.filter(record_key__in=keys)
    assert rows.count() == 2
    assert not rows.filter(status=Outbox.Status.DELIVERED).exists()
    assert not stale_ids(permitted)
    rows.update(status=Outbox.Status.DELIVERED)
    assert stale_ids(permitted)
    assert not stale_ids(other)
    assert_stored_equal_computed()
    party = performance_parties().get(
        project=permitted, organization=world["builder"], role=Role.GENERAL_CONTRACTOR
    )
    assert party.s_tender_contract == performance.ACKNOWLEDGED


def test_a_refresh_computed_before_a_change_does_not_clear_the_flag(permitted, world, contractor, reviewer):  # noqa: F811
    """The version guard: verdicts computed, then a record changes (its trigger bumps the version),
    then the computed verdicts are stored: the values are written but the row stays stale, and the
    next refresh stores the verdict of the change."""
    builder = world["builder"]
    acknowledge_project_offline(permitted)
    refresh_verdicts()
    party = performance_parties().get(project=permitted, organization=builder, role=Role.GENERAL_CONTRACTOR)
    ProjectParty.objects.filter(pk=party.pk).update(perf_stale=True)  # no version bump: not a change
    computed = performance.compute_stale(sync_performance.acknowledged, org_id=builder.pk)
    assert [row[0] for row in computed] == [party.pk]
    tender(contractor, permitted, Scope.CONSTRUCTION)  # meanwhile: the tender submitted
    assert performance.store(computed) == 0
    party.refresh_from_db()
    assert party.perf_stale  # still stale: the stored values predate the submission
    refresh_verdicts()
    party.refresh_from_db()
    assert not party.perf_stale
    assert party.s_tender_contract == performance.IN_REVIEW


def test_a_refresh_with_nothing_stale_is_one_query(permitted, world):  # noqa: F811
    refresh_verdicts()
    with CaptureQueriesContext(connection) as queries:
        performance.summary(world["builder"].pk, sync_performance.acknowledged)
    assert len(queries) == 2  # the stale ids (none) and the figures


def test_the_rebuild_command_recomputes_every_verdict(permitted, world):  # noqa: F811
    from django.core.management import call_command

    refresh_verdicts()
    ProjectParty.objects.filter(role__in=performance.PERFORMANCE_ROLES).update(missing=4, blocking="permit")
    call_command("performance_rebuild")
    assert_stored_equal_computed()
    assert not performance_parties().filter(missing=4, blocking="permit").exists()


def test_the_refresh_job_is_periodic_and_refreshes_in_batches(permitted, world):  # noqa: F811
    from procrastinate.contrib.django import app

    from sync.tasks import refresh_performance_verdicts

    [periodic] = [
        t
        for t in app.periodic_registry.periodic_tasks.values()
        if t.task.name == "sync.refresh_performance_verdicts"
    ]
    assert periodic.cron == "* * * * *"
    assert performance_parties().filter(perf_stale=True).exists()
    assert refresh_performance_verdicts(timestamp=0) > 0
    assert not performance_parties().filter(perf_stale=True).exists()
