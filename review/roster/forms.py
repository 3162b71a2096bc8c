"""Input of the roster pages. Forms check input only; what an import does is review.roster.apply's."""

from __future__ import annotations

from django import forms
from django.conf import settings

from review.roster.parse import TOO_LARGE

ACCEPT = ".xlsx,.xls,.ods,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.ms-excel,application/vnd.oasis.opendocument.spreadsheet"


def size_text(count: int) -> str:
    return f"{count / 1024 / 1024:.1f}MB" if count >= 1024 * 1024 else f"{max(count // 1024, 1)}KB"


class UploadForm(forms.Form):
    file = forms.FileField(
        label="汇总表文件",
        help_text="Excel或WPS表格（.xlsx、.xls、.ods），不超过10MB、20000行；格式见模板（附件2）。",
        error_messages={
            "required": "请选择要上传的汇总表文件",
            "empty": "文件是空的（0字节），请重新选择文件",
            "invalid": "没有收到文件，请重新选择",
            "missing": "没有收到文件，请重新选择",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.ROSTER_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(TOO_LARGE.format(limit=size_text(limit), size=size_text(upload.size)))
        return upload


class ApplyForm(forms.Form):
    plan = forms.CharField(max_length=64, widget=forms.HiddenInput)


REASON_HELP = "如“核对XX州（市）审核人员CA证书办理情况”；将与您的账号一起记入审计日志。"


def _reason_field(required: bool) -> forms.CharField:
    return forms.CharField(
        label="查看完整身份证号码的事由",
        min_length=4,
        max_length=200,
        required=required,
        help_text=REASON_HELP,
        error_messages={
            "required": "请填写查看完整身份证号码的事由",
            "min_length": "事由太短，请具体说明为什么需要完整的身份证号码",
            "max_length": "事由不能超过200个字",
        },
    )


class RevealForm(forms.Form):
    """Showing full ID numbers: a POST with a stated reason, which goes into the audit log."""

    reason = _reason_field(required=True)


class ExportForm(forms.Form):
    LAYOUTS = (("per_prefecture", "每个州（市）一个工作表"), ("combined", "全部合并在一个工作表"))

    layout = forms.ChoiceField(
        label="工作表", choices=LAYOUTS, initial="per_prefecture", widget=forms.RadioSelect
    )
    full_id = forms.BooleanField(
        label="包含完整身份证号码（仅系统管理员可选，须填写事由，将记入审计日志）", required=False
    )
    reason = _reason_field(required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("full_id") and not cleaned.get("reason") and "reason" not in self.errors:
            self.add_error("reason", "导出完整身份证号码须填写事由")
        return cleaned
