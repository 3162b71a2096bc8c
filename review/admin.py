import copy

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import ValidationError
from django.forms.models import construct_instance
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html

from review import routing
from review.models import ReviewerAssignment, StageDeadline, Task, WorkdayOverride
from yunjian.core.admin_paging import EstimatedCountPaginator
from yunjian.core.models import User


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


def _stranded_message(user, count: int) -> str:
    return format_html(
        "此修改会使 {} 件待审核任务无人审核（{} 是其唯一的审核人员）。"
        '请先在<a href="{}">转交任务</a>页面把任务转交给其他审核人员，'
        '或在<a href="{}">停用审核人员</a>页面停用并指定接手人。',
        count,
        user,
        reverse("review:reviewer-tasks", args=[user.pk]),
        reverse("review:reviewer-deactivate", args=[user.pk]),
    )


class ReviewerAssignmentForm(forms.ModelForm):
    class Meta:
        model = ReviewerAssignment
        fields = ("user", "stage", "division", "zone", "roster_key", "created_at")

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is None or self.errors:
            return cleaned
        old = ReviewerAssignment.objects.select_related("user", "division", "zone").get(pk=self.instance.pk)
        new = construct_instance(self, copy.copy(old))
        stranded = routing.stranded_if(new.save, [old])
        if stranded:
            raise ValidationError(_stranded_message(old.user, len(stranded)))
        return cleaned


@admin.register(ReviewerAssignment)
class ReviewerAssignmentAdmin(admin.ModelAdmin):
    """Rosters normally arrive by Excel import; the admin fixes single lines. A change or deletion that
    would leave an open step with nobody to perform it is refused (review.routing.stranded_if): the
    reviewer's steps move first, on the reassignment or deactivation page. After a change the 无人审核
    flags of the lines' steps are recomputed. Deleting is one line at a time (no bulk action)."""

    form = ReviewerAssignmentForm
    list_display = ("user", "stage", "division", "zone", "roster_key", "created_at")
    list_filter = ("stage",)
    search_fields = ("user__username", "user__full_name", "roster_key")
    raw_id_fields = ("user", "division", "zone")
    show_full_result_count = False

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def save_model(self, request, obj, form, change):
        old = ReviewerAssignment.objects.select_related("division", "zone").filter(pk=obj.pk).first()
        super().save_model(request, obj, form, change)
        _refresh([line for line in (old, obj) if line is not None])

    def delete_view(self, request, object_id, extra_context=None):
        line = self.get_object(request, unquote(object_id))
        if line is not None:
            stranded = routing.stranded_if(
                lambda: ReviewerAssignment.objects.filter(pk=line.pk).delete(), [line]
            )
            if stranded:
                self.message_user(request, _stranded_message(line.user, len(stranded)), messages.ERROR)
                return redirect(reverse("admin:review_reviewerassignment_change", args=[line.pk]))
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        line = copy.copy(obj)
        super().delete_model(request, obj)
        _refresh([line])


def _refresh(lines) -> None:
    """Recompute the 无人审核 flags of the steps these lines cover and of their people's posts."""
    routing.refresh(Task.objects.filter(routing.lines_q(lines)))
    for user_id in {line.user_id for line in lines}:
        routing.refresh_person(User.objects.get(pk=user_id))


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
