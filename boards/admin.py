from django.contrib import admin

from boards.models import Campaign


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "deadline", "target_percent")
