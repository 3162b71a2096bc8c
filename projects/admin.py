from django.contrib import admin

from projects.models import Correction, Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Read-mostly: records change only through the services, never here."""

    list_display = ("prj_num", "name", "county", "kind", "origin", "permit_approved_at", "platform_synced_at")
    search_fields = ("prj_num", "name")
    show_full_result_count = False
    readonly_fields = ("permit_approved_at", "platform_synced_at")
    raw_id_fields = ("owner_org",)


@admin.register(Correction)
class CorrectionAdmin(admin.ModelAdmin):
    """更正 requests, read-only: they are asked, reviewed and withdrawn only through the services
    (projects.corrections, review.corrections); the system administrator looks them up here."""

    list_display = (
        "__str__",
        "kind",
        "record_id",
        "version",
        "status",
        "owner_org",
        "submitted_at",
        "decided_at",
    )
    list_filter = ("status", "kind")
    search_fields = ("=record_id", "owner_org__name", "reason")
    list_select_related = ("owner_org",)
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
