from django.urls import path

from bulk import views

app_name = "bulk"

urlpatterns = [
    path("", views.index, name="index"),
    path("<slug:kind>/template/", views.template_download, name="template"),
    path("<slug:kind>/upload/", views.upload, name="upload"),
    path("uploads/<int:pk>/", views.preview, name="preview"),
    path("uploads/<int:pk>/errors/", views.error_report, name="errors"),
    path("uploads/<int:pk>/apply/", views.apply_view, name="apply"),
    path("uploads/<int:pk>/submit/", views.submit_view, name="submit"),
]
