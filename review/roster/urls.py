from django.urls import path

from review.roster import views

app_name = "roster"

urlpatterns = [
    path("", views.index, name="index"),
    path("template/", views.template_download, name="template"),
    path("upload/", views.upload, name="upload"),
    path("upload/<str:token>/", views.preview, name="preview"),
    path("upload/<str:token>/errors/", views.error_report, name="error-report"),
    path("upload/<str:token>/apply/", views.apply_view, name="apply"),
    path("imports/<str:token>/", views.result, name="result"),
    path("imports/<str:token>/accounts/", views.result_accounts, name="result-accounts"),
    path("pending/", views.pending, name="pending"),
    path("pending/export/", views.pending_export, name="pending-export"),
    path("export/", views.export, name="export"),
    path("mine/", views.mine, name="mine"),
    path("p/<str:key>/", views.prefecture, name="prefecture"),
    path("p/<str:key>/export/", views.prefecture_export, name="prefecture-export"),
    path("activate/<uidb64>/<token>/", views.activate, name="activate"),
]
