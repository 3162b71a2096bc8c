"""Input of the bulk entry pages: the workbook. What it does is bulk.services'."""

from __future__ import annotations

from django import forms
from django.conf import settings

from yunjian.core import spreadsheets

ACCEPT = ".xlsx,.xls,.ods,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,application/vnd.ms-excel,application/vnd.oasis.opendocument.spreadsheet"


class UploadForm(forms.Form):
    file = forms.FileField(
        label="填好的模板",
        help_text="Excel或WPS表格（.xlsx、.xls、.ods），不超过10MB、10000行。",
        error_messages={
            "required": "请选择要上传的文件",
            "empty": spreadsheets.EMPTY_FILE,
            "invalid": "没有收到文件，请重新选择",
            "missing": "没有收到文件，请重新选择",
        },
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPT}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.BULK_MAX_BYTES
        if upload.size > limit:
            raise forms.ValidationError(
                spreadsheets.TOO_LARGE.format(
                    limit=spreadsheets._size(limit), size=spreadsheets._size(upload.size)
                )
            )
        return upload
