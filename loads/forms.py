"""Input of the load pages; what a load does is loads.engine's."""

from __future__ import annotations

from django import forms
from django.conf import settings

from loads import tables as T
from projects.models import Origin

ACCEPT = ".xlsx,.xls,.ods,.csv,.txt,.jsonl,.json"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            if not data:
                return [single(None, initial)]  # raises "required"
            return [single(item, initial) for item in data]
        return [single(data, initial)]


class UploadForm(forms.Form):
    files = MultipleFileField(
        label="导出文件",
        help_text="全国数据标准的表（英文列名或中文列名作表头）：Excel或WPS表格（.xlsx、.xls、.ods）、CSV（UTF-8或GB18030）或JSON lines；"
        "可同时选择多个文件，工程项目基本信息先导入。",
        error_messages={
            "required": "请选择要导入的文件",
            "empty": "文件是空的（0字节），请重新选择文件",
            "invalid": "没有收到文件，请重新选择",
            "missing": "没有收到文件，请重新选择",
        },
        widget=MultipleFileInput(attrs={"accept": ACCEPT}),
    )
    origin = forms.ChoiceField(
        label="数据来源",
        choices=[
            (Origin.PMS, "省工程项目管理系统已有（图审、施工许可待企业完善）"),
            (Origin.PLATFORM, "省一体化平台办理（已审核认定，不需要重复录入）"),
        ],
        initial=Origin.PMS,
        widget=forms.RadioSelect,
    )

    table = forms.ChoiceField(
        label="数据表",
        required=False,
        choices=[("", "从表头自动识别"), *[(t, f"{t}（{T.TABLE_LABELS[t]}）") for t in T.TABLE_ORDER]],
    )

    def clean_files(self):
        files = self.cleaned_data["files"]
        limit = settings.LOAD_MAX_BYTES
        for upload in files:
            if upload.size > limit:
                raise forms.ValidationError(
                    f"文件“{upload.name}”超过{limit // 1024 // 1024}MB，请分成多个文件上传"
                )
        return files
