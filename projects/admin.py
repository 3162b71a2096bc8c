from django.contrib import admin

from projects.models import Project


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Read-mostly: records change only through the services, never here."""

    list_display = ("prj_num", "name", "county", "kind", "origin", "permit_approved_at", "platform_synced_at")
    search_fields = ("prj_num", "name")
    show_full_result_count = False
    readonly_fields = ("permit_approved_at", "platform_synced_at")
    raw_id_fields = ("owner_org",)
