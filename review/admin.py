from django.contrib import admin

from review.models import StageDeadline


@admin.register(StageDeadline)
class StageDeadlineAdmin(admin.ModelAdmin):
    list_display = ("key", "working_days")
