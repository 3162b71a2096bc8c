from django.urls import path

from projects import correction_views, performance_views, views

app_name = "projects"

urlpatterns = [
    path("", views.workspace_view, name="workspace"),
    # 业绩 (issue 14 §2): the organization's own projects only, no ids in the URLs.
    path("performance/", performance_views.performance_list, name="performance"),
    path("performance/export.xlsx", performance_views.performance_export, name="performance-export"),
    path("performance/print/", performance_views.performance_print, name="performance-print"),
    path("find/", views.project_find, name="project-find"),
    path("<int:pk>/", views.project_detail, name="project"),
    # One entry view for every record kind (projects.views.record_new / record_edit); the kind's
    # form (projects.workflow.KINDS[kind].form) carries what differs.
    path("<int:pk>/drawing-reviews/new/", views.record_new, {"kind": "drawing_review"}, name="review-new"),
    path("<int:pk>/tender-contracts/new/", views.record_new, {"kind": "tender_contract"}, name="tender-new"),
    path("<int:pk>/completions/new/", views.record_new, {"kind": "completion"}, name="completion-new"),
    path("drawing-reviews/", views.my_reviews, name="my-reviews"),
    path("additions/", views.additions, name="additions"),
    path("additions/new/", views.record_new, {"kind": "addition_request"}, name="addition-new"),
    path("additions/<int:pk>/print/", views.addition_print, name="addition-print"),
    path("permits/new/", views.permit_new, name="permit-new"),
    path("permits/picker/", views.review_picker, name="review-picker"),
    path("specialty/new/", views.record_new, {"kind": "specialty_info"}, name="specialty-new"),
    # Any registered kind, by its key: a new kind needs no URL of its own.
    path("records/<slug:kind>/new/", views.record_new, name="record-new"),
    path("<int:pk>/records/<slug:kind>/new/", views.record_new, name="record-new-in-project"),
    path("buildings/row/", views.building_row, name="building-row"),
    path("records/<slug:kind>/<int:pk>/", views.record_detail, name="record"),
    path("records/<slug:kind>/<int:pk>/edit/", views.record_edit, name="record-edit"),
    path("records/<slug:kind>/<int:pk>/attachments/", views.attachment_upload, name="attachment-upload"),
    # 更正 (issue 18): correcting an approved record.
    path("records/<slug:kind>/<int:pk>/correct/", correction_views.record_correct, name="record-correct"),
    path("corrections/<int:pk>/withdraw/", correction_views.correction_withdraw, name="correction-withdraw"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment-delete"),
]
