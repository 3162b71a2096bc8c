from django.urls import path

from enterprises import views

app_name = "enterprises"

urlpatterns = [
    path("enterprises/register/", views.register, name="register"),
    path("enterprises/register/status/<str:token>/", views.status, name="status"),
    path("enterprises/registrations/", views.queue, name="queue"),
    path("enterprises/registrations/<int:pk>/", views.registration, name="registration"),
    path("enterprises/registrations/<int:pk>/licence/", views.licence, name="licence"),
    path("enterprises/registrations/<int:pk>/approve/", views.approve, name="approve"),
    path("enterprises/registrations/<int:pk>/refuse/", views.refuse, name="refuse"),
    path("enterprises/staff/", views.staff, name="staff"),
    path("enterprises/staff/new/", views.staff_new, name="staff-new"),
    path("enterprises/staff/<int:pk>/disable/", views.staff_disable, name="staff-disable"),
    path("enterprises/staff/<int:pk>/enable/", views.staff_enable, name="staff-enable"),
    path("enterprises/staff/<int:pk>/password/", views.staff_password, name="staff-password"),
    path("enterprises/staff/audit/", views.staff_audit, name="staff-audit"),
    path("enterprises/set-password/<uidb64>/<token>/", views.set_password, name="set-password"),
    path("public/performance/", views.public_search, name="public-search"),
    path("public/performance/<str:code>/", views.public_enterprise, name="public-enterprise"),
]
