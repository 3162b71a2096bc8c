from django.contrib import admin

from review.models import ReviewerAssignment, StageDeadline, Task, WorkdayOverride
from yunjian.core.admin_paging import EstimatedCountPaginator


@admin.register(StageDeadline)
class StageDeadlineAdmin(admin.ModelAdmin):
    list_display = ("key", "working_days")


@admin.register(WorkdayOverride)
class WorkdayOverrideAdmin(admin.ModelAdmin):
    """Days off and make-up working days for a year the chinese-calendar package does not know yet
    (or a correction); they win over the package when due dates are computed."""

    list_display = ("date", "is_workday", "name", "note")
    list_filter = ("is_workday",)
    search_fields = ("name", "note")
    date_hierarchy = "date"


@admin.register(ReviewerAssignment)
class ReviewerAssignmentAdmin(admin.ModelAdmin):
    """Rosters normally arrive by Excel import; the admin fixes single lines."""

    list_display = ("user", "stage", "division", "zone", "roster_key", "created_at")
    list_filter = ("stage",)
    search_fields = ("user__username", "user__full_name", "roster_key")
    raw_id_fields = ("user", "division", "zone")
    show_full_result_count = False


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    """Read-only: tasks change only through the review services."""

    list_display = (
        "kind",
        "record_id",
        "step_label",
        "division_code",
        "status",
        "submitted_at",
        "decided_by",
    )
    list_filter = ("status", "kind")
    show_full_result_count = False
    # Millions of rows: no whole-table count per page, the deciders in the page's query.
    paginator = EstimatedCountPaginator
    list_select_related = ("decided_by",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
