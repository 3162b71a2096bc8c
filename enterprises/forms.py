from django import forms
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from projects.attachments import clean_name, upload_problem
from yunjian.core.models import Division, Organization, User
from yunjian.core.validators import (
    MOBILE_RE,
    credit_code_problem,
    normalize_code,
    normalize_phone,
    normalize_text,
    text_problem,
)

KIND_CHOICES = [(k, label) for k, label in Organization.Kind.choices if k in Organization.ENTERPRISE_KINDS]
USERNAME_HELP = "4～30位字母、数字或 . _ -"


def _username(value: str) -> str:
    value = (value or "").strip()
    if not (4 <= len(value) <= 30) or not all(c.isascii() and (c.isalnum() or c in "._-") for c in value):
        raise ValidationError(f"用户名须为{USERNAME_HELP}。")
    return value


def _text(value: str) -> str:
    value = normalize_text(value or "")
    problem = text_problem(value)
    if problem:
        raise ValidationError(problem)
    return value


def _mobile(value: str) -> str:
    value = normalize_phone(value or "")
    if not MOBILE_RE.match(value):
        raise ValidationError("请填写11位手机号码，如 13812345678。")
    return value


class DivisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        if obj.level == Division.Level.COUNTY and obj.parent_id:
            return f"{obj.parent.name} · {obj.name}"
        return obj.name


class RegistrationForm(forms.Form):
    credit_code = forms.CharField(label="统一社会信用代码", max_length=30)
    name = forms.CharField(label="单位名称（与营业执照一致）", max_length=200)
    kinds = forms.MultipleChoiceField(
        label="单位类型",
        choices=KIND_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "请至少选择一种单位类型。"},
    )
    division = DivisionChoiceField(
        label="所在行政区划",
        queryset=Division.objects.exclude(level=Division.Level.PROVINCE).select_related("parent"),
        empty_label="请选择",
        error_messages={
            "required": "请选择单位所在的州（市）或县（市、区）。",
            "invalid_choice": "请从列表中选择行政区划。",
        },
    )
    contact_name = forms.CharField(label="联系人姓名", max_length=50)
    contact_mobile = forms.CharField(label="联系人手机", max_length=20)
    contact_email = forms.EmailField(
        label="联系人邮箱", max_length=200, error_messages={"invalid": "请填写正确的邮箱地址。"}
    )
    username = forms.CharField(label="企业管理员用户名", max_length=30, help_text=USERNAME_HELP)
    password = forms.CharField(
        label="密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label="再次输入密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    licence = forms.FileField(
        label="营业执照扫描件（PDF、JPG 或 PNG）",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
        error_messages={"required": "请上传营业执照扫描件。", "empty": "所选文件是空的，请重新选择。"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        default = str(forms.Field.default_error_messages["required"])
        for field in self.fields.values():
            if str(field.error_messages["required"]) == default:
                field.error_messages["required"] = f"请填写{field.label}。"

    def clean_credit_code(self):
        code = normalize_code(self.cleaned_data["credit_code"])
        problem = credit_code_problem(code)
        if problem:
            raise ValidationError(f"{problem}。")
        return code

    def clean_name(self):
        return _text(self.cleaned_data["name"])

    def clean_contact_name(self):
        return _text(self.cleaned_data["contact_name"])

    def clean_contact_mobile(self):
        return _mobile(self.cleaned_data["contact_mobile"])

    def clean_username(self):
        return _username(self.cleaned_data["username"])

    def clean_licence(self):
        upload = self.cleaned_data["licence"]
        problem = upload_problem(upload)
        if problem:
            raise ValidationError(problem)
        return upload

    def clean(self):
        data = super().clean()
        one, two = data.get("password"), data.get("password2")
        if one and two and one != two:
            self.add_error("password2", "两次输入的密码不一致。")
        elif one and data.get("username"):
            try:
                validate_password(one, User(username=data["username"], email=data.get("contact_email", "")))
            except ValidationError as error:
                self.add_error("password", error)
        return data

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data["licence_name"] = clean_name(data["licence"].name)
        return data


class RefuseForm(forms.Form):
    reason = forms.CharField(
        label="不予通过的原因（申请人可见）",
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "请写明不予通过的原因。"},
    )


class StaffForm(forms.Form):
    username = forms.CharField(
        label="用户名", max_length=30, help_text=USERNAME_HELP, error_messages={"required": "请填写用户名。"}
    )
    full_name = forms.CharField(label="姓名", max_length=50, error_messages={"required": "请填写姓名。"})
    phone = forms.CharField(label="手机", max_length=20, required=False)
    email = forms.EmailField(
        label="邮箱", max_length=200, required=False, error_messages={"invalid": "请填写正确的邮箱地址。"}
    )

    def clean_username(self):
        return _username(self.cleaned_data["username"])

    def clean_full_name(self):
        return _text(self.cleaned_data["full_name"])

    def clean_phone(self):
        value = self.cleaned_data["phone"]
        return _mobile(value) if value else ""


class SearchForm(forms.Form):
    q = forms.CharField(label="单位名称或统一社会信用代码", max_length=60, required=False)
