from django.urls import path

from yunjian.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("home/<slug:role>/", views.home_role, name="home-role"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/certificate/", views.ca_login, name="ca-login"),
    path("logout/", views.logout_view, name="logout"),
    path("account/certificate/", views.certificate_bind, name="certificate-bind"),
    path("account/password/", views.password_change, name="password-change"),
    path("account/two-factor/", views.otp_setup, name="otp-setup"),
    path("account/two-factor/verify/", views.otp_verify, name="otp-verify"),
    path("account/two-factor/backup-codes/", views.otp_backup_codes, name="otp-backup-codes"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:pk>/unlock/", views.account_unlock, name="account-unlock"),
    path("accounts/<int:pk>/password-reset/", views.account_password_reset, name="account-password-reset"),
    path("accounts/<int:pk>/two-factor-reset/", views.account_otp_reset, name="account-otp-reset"),
    path("accounts/<int:pk>/certificates/", views.account_certificates, name="account-certificates"),
    path(
        "accounts/<int:pk>/certificates/<int:cert_pk>/unbind/",
        views.account_certificate_unbind,
        name="account-certificate-unbind",
    ),
    path("audit-log/", views.audit_log, name="audit-log"),
]
