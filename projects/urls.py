from django.urls import path

from projects import views

app_name = "projects"

urlpatterns = [
    path("", views.workspace_view, name="workspace"),
    path("find/", views.project_find, name="project-find"),
    path("<int:pk>/", views.project_detail, name="project"),
    path("<int:pk>/drawing-reviews/new/", views.review_new, name="review-new"),
    path("<int:pk>/tender-contracts/new/", views.tender_new, name="tender-new"),
    path("<int:pk>/completions/new/", views.completion_new, name="completion-new"),
    path("drawing-reviews/", views.my_reviews, name="my-reviews"),
    path("additions/", views.additions, name="additions"),
    path("additions/new/", views.addition_new, name="addition-new"),
    path("additions/<int:pk>/print/", views.addition_print, name="addition-print"),
    path("permits/new/", views.permit_new, name="permit-new"),
    path("permits/picker/", views.review_picker, name="review-picker"),
    path("specialty/new/", views.specialty_new, name="specialty-new"),
    path("buildings/row/", views.building_row, name="building-row"),
    path("records/<slug:kind>/<int:pk>/", views.record_detail, name="record"),
    path("records/<slug:kind>/<int:pk>/edit/", views.record_edit, name="record-edit"),
    path("records/<slug:kind>/<int:pk>/attachments/", views.attachment_upload, name="attachment-upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("attachments/<int:pk>/delete/", views.attachment_delete, name="attachment-delete"),
]
