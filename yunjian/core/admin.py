from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from yunjian.core import audit, organizations
from yunjian.core.admin_paging import EstimatedCountPaginator
from yunjian.core.models import AuditEntry, Campaign, Division, Organization, User, Zone


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    show_full_result_count = False


@admin.register(Zone)
class ZoneAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    filter_horizontal = ("counties",)


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "credit_code", "get_kinds_display", "division", "is_verified")
    list_filter = ("is_verified",)
    search_fields = ("name", "credit_code")
    actions = ("confirm_units",)

    @admin.action(description="核实所选单位（录入单位登记的新单位，信息无误）")
    def confirm_units(self, request, queryset):
        count = organizations.confirm(
            actor=request.user,
            organization_ids=list(queryset.values_list("pk", flat=True)),
            ip=audit.client_ip(request),
        )
        self.message_user(request, f"已核实 {count} 个单位。")

    autocomplete_fields = ("division",)
    show_full_result_count = False

    @admin.display(description="单位类型")
    def get_kinds_display(self, obj):
        return obj.get_kinds_display()


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "full_name", "organization", "roles", "is_active", "last_login")
    search_fields = ("username", "full_name", "phone")
    autocomplete_fields = ("organization",)
    show_full_result_count = False
    fieldsets = BaseUserAdmin.fieldsets + (
        ("单位与角色", {"fields": ("organization", "roles", "full_name", "department", "title", "phone")}),
        ("安全", {"fields": ("has_ca_certificate", "must_change_password")}),
    )


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the audit trail is append-only."""

    list_display = ("at", "action", "actor", "object_type", "object_id", "from_state", "to_state")
    list_filter = ("action",)
    show_full_result_count = False
    # Millions of rows: no whole-table count per page, the actors in the page's query.
    paginator = EstimatedCountPaginator
    list_select_related = ("actor",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "deadline", "remind_days", "target_percent")
