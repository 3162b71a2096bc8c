from django.urls import path

from sync import views

app_name = "sync"

urlpatterns = [
    path("", views.operations, name="operations"),
    path("repush/", views.repush, name="repush"),
    path("projects/<int:pk>/", views.project, name="project"),
    path("conflicts/", views.conflicts, name="conflicts"),
    path("conflicts/<int:pk>/", views.conflict, name="conflict"),
    # The platform's push endpoint (notice 三): signed, no session, no CSRF token.
    path("inbound/", views.inbound_endpoint, name="inbound"),
]
