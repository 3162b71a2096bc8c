from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core.exceptions import ValidationError

from yunjian.core import throttle


class FirstPasswordForm(SetPasswordForm):
    """A password set through a one-time link (a roster activation, a colleague's account): Django's
    form with its mismatch message in Chinese."""

    error_messages = {**SetPasswordForm.error_messages, "password_mismatch": "两次输入的密码不一致。"}


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": "用户名或密码不正确。在同一地址连续输错5次，该账号在该地址将被锁定15分钟。",
        "inactive": "该账号已停用，请联系本单位管理员。",
    }

    username = forms.CharField(
        label="用户名", max_length=150, widget=forms.TextInput(attrs={"autofocus": True})
    )
    password = forms.CharField(label="密码", strip=False, widget=forms.PasswordInput)

    throttled = False

    def clean(self):
        # Refused before the password is checked: a throttled address or username learns nothing.
        problem = throttle.refusal(self.request, self.cleaned_data.get("username") or "")
        if problem:
            self.throttled = True
            raise ValidationError(problem, code="throttled")
        return super().clean()

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        from yunjian.core.certificates import password_refusal

        problem = password_refusal(user)
        if problem:
            from yunjian.core import audit
            from yunjian.core.models import AuditEntry

            audit.record(
                action=AuditEntry.Action.LOGIN_FAILED,
                obj=user,
                reason="已办理并绑定CA数字证书，拒绝仅凭密码登录",
                ip=audit.client_ip(self.request),
            )
            raise ValidationError(problem, code="certificate_required")


class CertificateBindForm(forms.Form):
    password = forms.CharField(
        label="登录密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "请输入您的登录密码以确认绑定。"},
    )


class AdminCertificateBindForm(forms.Form):
    serial = forms.CharField(
        label="证书序列号（十六进制）", max_length=120, error_messages={"required": "请填写证书序列号。"}
    )
    subject_dn = forms.CharField(
        label="证书主题",
        max_length=500,
        error_messages={"required": "请填写证书主题。"},
        help_text="形如 CN=张三,O=曲靖市住房和城乡建设局,C=CN（顺序不限）",
    )
    issuer_dn = forms.CharField(label="颁发者（可不填）", max_length=500, required=False)


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label="原密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password1 = forms.CharField(
        label="新密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label="再次输入新密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        data = super().clean()
        one, two = data.get("new_password1"), data.get("new_password2")
        if one and two and one != two:
            self.add_error("new_password2", "两次输入的新密码不一致。")
        return data


class TokenForm(forms.Form):
    token = forms.CharField(
        label="动态口令",
        max_length=32,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        error_messages={"required": "请输入动态口令。"},
    )
