from django.urls import path

from loads import views

app_name = "loads"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.job_detail, name="job"),
    path("<int:pk>/apply/", views.job_apply, name="apply"),
    path("<int:pk>/report.xlsx", views.job_report, name="report"),
]
