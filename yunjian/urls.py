from django.contrib import admin
from django.urls import include, path

from yunjian.core import views as core_views

admin.site.site_header = "云南省工程项目数据治理系统 · 管理后台"
admin.site.site_title = "yunjian 管理后台"
admin.site.index_title = "系统管理"

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    path("session/keepalive/", core_views.keepalive, name="keepalive"),
    path("orgs/lookup/", core_views.org_lookup, name="org-lookup"),
    path("", include("yunjian.core.urls")),
    path("projects/", include("projects.urls")),
    path("review/", include("review.urls")),
    path("roster/", include("review.roster.urls")),
    path("sync/", include("sync.urls")),
    path("loads/", include("loads.urls")),
    path("bulk/", include("bulk.urls")),
    path("messages/", include("notices.urls")),
    path("", include("enterprises.urls")),
    path("boards/", include("boards.urls")),
    path("admin/", admin.site.urls),
]

handler403 = "yunjian.core.views.error_403"
handler404 = "yunjian.core.views.error_404"
handler500 = "yunjian.core.views.error_500"
