"""The registry of record kinds (projects.workflow.KINDS) is whole: a half-registered kind fails."""

from __future__ import annotations

import dataclasses

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils.module_loading import import_string

from projects import workflow
from projects.forms import EntryPageMixin
from projects.models import RecordKind
from sync import protocol

TABLES = {
    protocol.TB_PROJECT,
    protocol.TB_CENSOR,
    protocol.TB_PERMIT,
    protocol.TB_TENDER,
    protocol.TB_CONTRACT,
    protocol.TB_FINISH,
}


def test_every_record_kind_is_registered_whole():
    assert workflow.registry_problems() == []
    assert set(workflow.KINDS) == set(RecordKind.values)


@pytest.mark.parametrize("key", list(workflow.KINDS))
def test_each_kind_has_chain_enterers_required_fields_reasons_form_and_outbound_mapping(key):
    spec = workflow.KINDS[key]
    assert spec.steps, "a review chain"
    assert spec.enterers, "who enters it"
    assert spec.reasons, "common return reasons"
    form = import_string(spec.form)
    assert issubclass(form, EntryPageMixin)
    assert key == form.KIND
    assert callable(import_string(spec.outbound))
    assert set(spec.tables) <= TABLES
    for name in spec.required:
        spec.model._meta.get_field(name)


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"chains": ()}, "no review chain"),
        ({"chains": ("no_such_chain",)}, "no review chain"),
        ({"enterers": ()}, "no enterers"),
        ({"reasons": ()}, "no return reasons"),
        ({"required": ()}, "no fields required"),
        ({"required": ("no_such_field",)}, "does not exist"),
        ({"form": "projects.forms.NoSuchForm"}, "cannot be imported"),
        ({"form": "projects.forms.PermitForm"}, "KIND is not"),
        ({"outbound": "sync.payloads.no_such_builder"}, "cannot be imported"),
    ],
)
def test_a_half_registered_kind_is_named(change, problem):
    kinds = dict(workflow.KINDS)
    kinds["completion"] = dataclasses.replace(kinds["completion"], **change)
    problems = workflow.registry_problems(kinds)
    assert any(problem in p and "completion" in p for p in problems), problems


def test_manage_py_check_refuses_a_half_registered_kind(monkeypatch):
    broken = dataclasses.replace(workflow.KINDS["tender_contract"], reasons=())
    monkeypatch.setitem(workflow.KINDS, "tender_contract", broken)
    with pytest.raises(SystemCheckError, match="no return reasons"):
        call_command("check")


def test_step_keys_are_unique_within_each_chain():
    for chain in workflow.CHAINS.values():
        keys = [step.key for step in chain]
        assert len(keys) == len(set(keys))
