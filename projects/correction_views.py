"""更正 (issue 18), the enterer's pages: ask to correct an approved record in its own entry form, keep the
draft, submit it for review, withdraw it. Thin: the services are projects.corrections."""

from __future__ import annotations

from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from projects import corrections, forms, workflow
from projects.models import Correction, RecordKind, State
from projects.services import Conflict
from projects.views import enterprise_required
from review.access import get_record_for_user
from yunjian.core import audit


class CorrectionReasonForm(django_forms.Form):
    reason = django_forms.CharField(
        label="更正事项及原因",
        max_length=2000,
        widget=django_forms.Textarea(attrs={"rows": 3}),
        help_text="写明哪些内容有误、依据什么材料更正，例如：合同金额录入有误，以合同原件第3页为准。",
        error_messages={"required": "请填写更正事项及原因（哪些内容有误、依据什么更正）。"},
    )
    lock_version = django_forms.IntegerField(required=False, widget=django_forms.HiddenInput)


def _refuse_or_redirect(request, record):
    """None when the correction page may open; else a redirect with a message (a 403 for outsiders)."""
    problem = corrections.refusal(request.user, record)
    if problem:
        raise PermissionDenied(problem)
    if record.KIND not in workflow.CORRECTABLE:
        raise Http404
    if record.state != State.APPROVED:
        messages.error(request, "只有已审核认定的记录可以申请更正；未认定的记录请直接修改。")
        return redirect("projects:record", record.KIND, record.pk)
    return None


@require_http_methods(["GET", "POST"])
@enterprise_required
def record_correct(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    record = get_record_for_user(request.user, kind, pk)
    refused = _refuse_or_redirect(request, record)
    if refused is not None:
        return refused
    correction = corrections.open_correction(kind, pk)
    if correction is not None and correction.status == Correction.Status.IN_REVIEW:
        messages.info(request, "该记录的更正申请正在审核中，审核期间不能修改。")
        return redirect("projects:record", record.KIND, record.pk)
    form_class = forms.entry_form(kind)
    project = record.project if record.project_id else None
    base = corrections.proposed(record, correction)
    data = request.POST if request.method == "POST" else None
    form = form_class.build(data, user=request.user, record=base, project=project, params={})
    # Only the record's own fields are corrected (not the records it links, nor the project's info).
    keep = set(corrections.correctable_fields(record))
    for name in [n for n in form.fields if n not in keep]:
        del form.fields[name]
    initial = {"reason": correction.reason, "lock_version": correction.lock_version} if correction else {}
    reason_form = CorrectionReasonForm(data, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        form_ok, reason_ok = form.is_valid(), reason_form.is_valid()
        changes = None
        if form_ok:
            try:
                changes = corrections.changes_from_form(record, form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
        if changes is not None and reason_ok:
            submit = "submit" in request.POST
            try:
                corrections.correction_save(
                    actor=request.user,
                    kind=kind,
                    record_id=record.pk,
                    changes=changes,
                    reason=reason_form.cleaned_data["reason"],
                    submit=submit,
                    lock_version=reason_form.cleaned_data["lock_version"],
                    ip=audit.client_ip(request),
                )
            except Conflict as exc:
                form.add_error(None, exc.message)
                status = 409
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    if field == "reason":
                        reason_form.add_error("reason", errors)
                    else:
                        form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(
                    request,
                    "更正申请已提交审核；审核通过前，已认定的版本继续有效。"
                    if submit
                    else "更正草稿已保存；提交审核前，已认定的版本继续有效。",
                )
                return redirect("projects:record", record.KIND, record.pk)
    context = {
        "record": record,
        "kind_label": RecordKind(record.KIND).label,
        "form": form,
        "reason_form": reason_form,
        "correction": correction,
        "diff": corrections.correction_diff(record, correction) if correction and correction.changes else [],
        "first_step": workflow.correction_chain(record)[0].label,
    }
    return render(request, "projects/correction_form.html", context, status=status)


@require_POST
@enterprise_required
def correction_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    correction = Correction.objects.filter(pk=pk).first()
    if correction is None:
        raise Http404
    record = get_record_for_user(request.user, correction.kind, correction.record_id)
    try:
        corrections.correction_withdraw(
            actor=request.user, correction_id=correction.pk, ip=audit.client_ip(request)
        )
    except Conflict as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "已撤回更正申请，已认定的版本继续有效。")
    return redirect("projects:record", record.KIND, record.pk)
