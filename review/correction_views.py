"""更正 (issue 18), the reviewer's page: a correction of an approved record, the field-level diff against
the approved version, and the decision on its current step. Thin: the service is review.corrections."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from projects import corrections, presenters, workflow
from projects.access import load_record
from projects.models import Correction, RecordKind
from projects.services import Conflict
from review import corrections as review_corrections
from review.access import reviews_record
from review.models import Task
from yunjian.core import audit


class CorrectionDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "同意更正"), ("return", "退回")],
        error_messages={
            "required": "请点击“同意更正”或“退回”。",
            "invalid_choice": "请点击“同意更正”或“退回”。",
        },
    )
    lock_version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    reason = forms.CharField(
        label="意见（退回时必填）",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "退回时请说明需要企业核实或修改的内容"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "return" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "退回时必须填写退回原因。")
        return cleaned


def _context(request, record, correction, form) -> dict:
    can_decide = review_corrections.can_decide_correction(request.user, record, correction)
    if can_decide and form is None:
        form = CorrectionDecisionForm(initial={"lock_version": correction.lock_version})
    applied = correction.status == Correction.Status.APPROVED
    step = review_corrections.correction_step(record, correction)
    return {
        "record": record,
        "correction": correction,
        "kind_label": RecordKind(record.KIND).label,
        "diff": corrections.correction_diff(
            record, correction, before=correction.before if applied else None
        ),
        "fields": presenters.record_fields(record),
        "step": step,
        "chain": workflow.correction_chain(record),
        "task": Task.objects.filter(
            kind=record.KIND, record_id=record.pk, status=Task.Status.OPEN, correction_id=correction.pk
        ).first(),
        "can_decide": can_decide,
        "form": form if can_decide else None,
        "buttons": workflow.CORRECTION_BUTTONS,
    }


@require_http_methods(["GET", "POST"])
@login_required
def correction_page(request: HttpRequest, pk: int) -> HttpResponse:
    """For the record's reviewers (review.access.reviews_record; the enterer follows it on the record
    page): 404 for anyone else; 403 for a decision by a reviewer not performing the current step."""
    correction = Correction.objects.select_related("created_by", "decided_by").filter(pk=pk).first()
    record = load_record(correction.kind, correction.record_id) if correction else None
    if record is None or not reviews_record(request.user, record):
        raise Http404
    if request.method != "POST":
        return render(request, "review/correction.html", _context(request, record, correction, None))
    if not review_corrections.can_decide_correction(request.user, record, correction):
        if correction.status != Correction.Status.IN_REVIEW:
            messages.info(request, "该更正申请已办理。")
            return redirect("review:correction", pk=correction.pk)
        raise PermissionDenied("您不是该更正申请当前审核环节的审核人员。")
    form = CorrectionDecisionForm(request.POST)
    status = 400
    if form.is_valid():
        approve = form.cleaned_data["decision"] == "approve"
        try:
            done = review_corrections.correction_decide(
                actor=request.user,
                correction_id=correction.pk,
                approve=approve,
                lock_version=form.cleaned_data["lock_version"],
                reason=form.cleaned_data["reason"],
                ip=audit.client_ip(request),
            )
        except Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if done.status == Correction.Status.APPROVED:
                messages.success(request, f"已同意更正，记录第{done.version}版生效，并将报送省一体化平台。")
            elif done.status == Correction.Status.IN_REVIEW:
                messages.success(request, "已审核通过，更正申请转下一审核环节。")
            else:
                messages.success(request, "已退回更正申请，原认定版本继续有效。")
            return redirect("review:inbox")
    correction = Correction.objects.select_related("created_by", "decided_by").get(pk=pk)
    return render(
        request, "review/correction.html", _context(request, record, correction, form), status=status
    )
