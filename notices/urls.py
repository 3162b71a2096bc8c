from django.urls import path

from notices import views

app_name = "notices"

urlpatterns = [
    path("", views.message_list, name="list"),
    path("<int:pk>/open/", views.message_open, name="open"),
    path("read-all/", views.message_read_all, name="read-all"),
    path("settings/", views.preferences, name="preferences"),
    path("failed/", views.failed, name="failed"),
]
