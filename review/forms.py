"""Input of the review pages: list filters, the decision, bulk selection. Forms validate input only;
who may decide and what a decision needs are the service's rules (review.services)."""

from __future__ import annotations

from collections.abc import Sequence

from django import forms
from django.utils.html import escape
from django.utils.safestring import mark_safe

from projects import snapshots
from projects.forms import MultipleFileField
from projects.models import DataLevel, RecordKind, ReviewableRecord
from projects.workflow import reasons_for
from review.models import Task
from review.selectors import InboxFilters
from yunjian.core.models import Division

BULK_MAX = 200


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html in Python."""
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(str(value))}"'
        for name, value in attrs.items()
        if value is not False
    )


class ListSelect(forms.Select):
    """A <select> with the markup of Django's select.html and select_option.html, built in Python.

    The division filter of a province-wide inbox (the design division, an institution) lists 145
    divisions; the template renderer made one template render per option, which cost the page more
    than its rows (issue 15). `tests/review/test_inbox_plan.py` checks the markup against Django's.
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        out = [f'<select name="{escape(widget["name"])}"{_attrs(widget["attrs"])}>']
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                out.append(f'\n  <optgroup label="{escape(group_name)}">')
            for option in options:
                out.append(
                    f'\n  <option value="{escape(str(option["value"]))}"{_attrs(option["attrs"])}>'
                    f"{escape(str(option['label']))}</option>\n"
                )
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>")
        return mark_safe("".join(out))  # noqa: S308 — every value above is escaped


class TaskFilterForm(forms.Form):
    """The filter bar of the inbox and the done list (GET). Bad values are dropped, never an error page."""

    kind = forms.ChoiceField(label="信息类型", required=False, widget=ListSelect)
    division = forms.ChoiceField(label="行政区划", required=False, widget=ListSelect)
    org = forms.CharField(
        label="录入单位",
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "单位名称或统一社会信用代码"}),
    )
    submitted_from = forms.DateField(
        label="提交日期自", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    submitted_to = forms.DateField(label="至", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    overdue = forms.BooleanField(label="只看超期", required=False)
    q = forms.CharField(
        label="关键词",
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": "项目编号、证书/许可/合同编号或项目名称"}
        ),
    )

    def __init__(self, *args, divisions: Sequence[Division] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.divisions = {d.code: d for d in divisions}
        self.fields["kind"].choices = [("", "全部"), *RecordKind.choices]
        self.fields["division"].choices = [("", "全部")] + [
            (d.code, d.name if d.level == Division.Level.PREFECTURE else f"　{d.name}") for d in divisions
        ]

    def filters(self) -> InboxFilters:
        """Return the valid part of the input as InboxFilters (invalid fields are ignored)."""
        self.is_valid()
        data = {k: v for k, v in getattr(self, "cleaned_data", {}).items() if k not in self.errors}
        return InboxFilters(
            kind=data.get("kind") or "",
            division=self.divisions.get(data.get("division") or ""),
            org=(data.get("org") or "").strip(),
            submitted_from=data.get("submitted_from"),
            submitted_to=data.get("submitted_to"),
            overdue=bool(data.get("overdue")),
            q=(data.get("q") or "").strip(),
            outcome=data.get("outcome") or "",
            decided_from=data.get("decided_from"),
            decided_to=data.get("decided_to"),
            data_level=data.get("data_level") or "",
        )


class DoneFilterForm(TaskFilterForm):
    outcome = forms.ChoiceField(
        label="处理结果", required=False, choices=[("", "全部"), *Task.Outcome.choices]
    )
    decided_from = forms.DateField(
        label="处理日期自", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    decided_to = forms.DateField(label="至", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    data_level = forms.ChoiceField(
        label="认定数据等级",
        required=False,
        choices=[("", "全部"), *((v, f"{v}级") for v in DataLevel.values if v != DataLevel.D)],
    )

    field_order = ["kind", "outcome", "data_level", "division", "org", "decided_from", "decided_to", "q"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("submitted_from", "submitted_to", "overdue"):
            del self.fields[name]


class DecisionForm(forms.Form):
    """A reviewer's decision on the current step: approve, or return with a reason and the fields at fault."""

    APPROVE = "approve"
    APPROVE_NEXT = "approve_next"  # 通过并审核下一条
    RETURN = "return"

    decision = forms.ChoiceField(
        choices=[(APPROVE, "审核通过"), (APPROVE_NEXT, "通过并审核下一条"), (RETURN, "退回")],
        error_messages={
            "required": "请点击“审核通过”或“退回”。",
            "invalid_choice": "请点击“审核通过”或“退回”。",
        },
    )
    lock_version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    reasons = forms.MultipleChoiceField(
        label="常见退回原因", required=False, widget=forms.CheckboxSelectMultiple
    )
    reason_text = forms.CharField(
        label="退回原因（补充说明）",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "请具体说明需要企业核实或修改的内容"}),
    )
    fields = forms.MultipleChoiceField(
        label="有误的字段（可选）", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, record: ReviewableRecord, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reasons"].choices = [(r, r) for r in reasons_for(record.KIND)]
        self.fields["fields"].choices = list(snapshots.field_labels(record).items())

    def clean(self):
        cleaned = super().clean()
        approving = cleaned.get("decision") in (self.APPROVE, self.APPROVE_NEXT)
        filled = cleaned.get("reasons") or (cleaned.get("reason_text") or "").strip() or cleaned.get("fields")
        if approving and filled:
            # Approval cannot be undone: reasons filled and 通过 clicked is almost always a slip.
            self.add_error(
                "reason_text",
                "您已填写退回原因或勾选了有误的字段，却点击了审核通过，本次没有办理。"
                "要退回，请点击“退回”；确认无误要通过，请先清空退回原因和勾选，再点击审核通过。",
            )
        return cleaned

    @property
    def approve(self) -> bool:
        return self.cleaned_data["decision"] in (self.APPROVE, self.APPROVE_NEXT)

    @property
    def then_next(self) -> bool:
        return self.cleaned_data["decision"] == self.APPROVE_NEXT

    @property
    def reason(self) -> str:
        """The chosen common reasons and the free text, as one reason the enterer reads."""
        if self.approve:
            return ""
        parts = list(self.cleaned_data.get("reasons") or [])
        text = (self.cleaned_data.get("reason_text") or "").strip()
        if text:
            parts.append(text)
        return "；".join(parts)


class SubmittedValuesField(forms.MultipleChoiceField):
    """Several values with no fixed list of choices; the form's clean method checks their shape."""

    def valid_value(self, value) -> bool:
        return True


class BulkApproveForm(forms.Form):
    """Checkboxes of the inbox: each value is "kind:record_id:lock_version" as the page showed it."""

    items = SubmittedValuesField(required=True, error_messages={"required": "请至少勾选一条记录。"})

    def clean_items(self) -> list[tuple[str, int, int]]:
        raw = self.cleaned_data["items"]
        if len(raw) > BULK_MAX:
            raise forms.ValidationError(f"一次最多批量审核 {BULK_MAX} 条记录。")
        items, seen = [], set()
        for value in raw:
            parts = value.split(":")
            if len(parts) != 3 or parts[0] not in RecordKind.values:
                raise forms.ValidationError("所选记录无效，请刷新页面后重新勾选。")
            try:
                record_id, lock_version = int(parts[1]), int(parts[2])
            except ValueError:
                raise forms.ValidationError("所选记录无效，请刷新页面后重新勾选。") from None
            if (parts[0], record_id) not in seen:
                seen.add((parts[0], record_id))
                items.append((parts[0], record_id, lock_version))
        return items


class RevokeForm(forms.Form):
    """撤销认定: why the approved record is false, and the evidence (a scan, checked by its content)."""

    lock_version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="撤销原因",
        max_length=1000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "查实的虚假情况，如：合同金额与备案合同不符，经核实系伪造"}
        ),
        error_messages={"required": "请填写撤销认定的原因（如查实的虚假情况）。"},
    )
    evidence = forms.FileField(
        label="证据材料（PDF、JPG 或 PNG 扫描件）",
        error_messages={"required": "请上传撤销认定的证据材料（PDF、JPG 或 PNG 扫描件）。"},
    )


# --- 提级 (issue 18) --------------------------------------------------------------------------------

# What the verifying authority may have seen (核实清单).
CHECKLIST = (
    "中标通知书原件",
    "合同原件（含备案合同）",
    "施工许可证原件",
    "竣工验收报告及竣工验收备案表",
    "工程款支付及结算凭证",
    "其他证明材料",
)


class LevelRequestForm(forms.Form):
    """An enterprise's request for a higher 数据等级: which records, and what for."""

    records = forms.TypedMultipleChoiceField(
        label="申请提级的记录",
        coerce=int,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": "请至少选择一条记录。",
            "invalid_choice": "所选记录不能申请提级，请刷新页面后重新选择。",
        },
    )
    purpose = forms.CharField(
        label="申请用途",
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": "如：申请建筑工程施工总承包一级资质"}),
        error_messages={"required": "请填写申请用途（如：申请施工总承包一级资质）。"},
    )

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["records"].choices = list(choices)


class LevelDecisionForm(forms.Form):
    """The verifying authority's decision: the checklist, an optional on-site check, scans, raise or refuse."""

    lock_version = forms.IntegerField(widget=forms.HiddenInput)
    decision = forms.ChoiceField(choices=[("raise", "核实无误，提级"), ("refuse", "不予提级")])
    checklist = forms.MultipleChoiceField(
        label="已核验的材料",
        required=False,
        choices=[(c, c) for c in CHECKLIST],
        widget=forms.CheckboxSelectMultiple,
    )
    onsite_date = forms.DateField(
        label="现场核查日期（如有）",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请填写有效的日期。"},
    )
    onsite_findings = forms.CharField(
        label="现场核查情况", required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )
    files = MultipleFileField(label="核实材料（PDF、JPG 或 PNG 扫描件，可多选）", required=False)
    reason = forms.CharField(
        label="核实意见（不予提级时必填）",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
