from django.urls import path

from review import correction_views, routing_views, views

app_name = "review"

urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/export/", views.inbox_export, name="inbox-export"),
    path("inbox/bulk-approve/", views.bulk_approve, name="bulk-approve"),
    path("inbox/bulk-result/", views.bulk_result, name="bulk-result"),
    path("done/", views.done, name="done"),
    path("done/export/", views.done_export, name="done-export"),
    path("records/<slug:kind>/<int:pk>/", views.record_page, name="record"),
    path("records/<slug:kind>/<int:pk>/revoke/", views.record_revoke, name="record-revoke"),
    path("corrections/<int:pk>/", correction_views.correction_page, name="correction"),
    path("records/<slug:kind>/<int:pk>/withdraw/", routing_views.record_withdraw, name="record-withdraw"),
    path("revocations/", views.revocations, name="revocations"),
    path("stalled/", routing_views.stalled, name="stalled"),
    path("reviewers/<int:pk>/tasks/", routing_views.reviewer_tasks, name="reviewer-tasks"),
    path("reviewers/<int:pk>/deactivate/", routing_views.reviewer_deactivate, name="reviewer-deactivate"),
    path("level-requests/", views.level_requests, name="level-requests"),
    path("level-requests/new/<slug:kind>/", views.level_request_new, name="level-new"),
    path("level-requests/mine/", views.level_requests_mine, name="level-mine"),
    path("level-requests/<int:pk>/", views.level_request_page, name="level-request"),
]
