from django.urls import path

from yunjian.core import views

app_name = "core"

urlpatterns = [
    path("", views.home, name="home"),
    path("home/<slug:role>/", views.home_role, name="home-role"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("accounts/", views.accounts, name="accounts"),
    path("accounts/<int:pk>/unlock/", views.account_unlock, name="account-unlock"),
    path("audit-log/", views.audit_log, name="audit-log"),
]
