from django.contrib import admin

from .models import NotificationPreference


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "timezone", "reading_lead_days", "email_reading", "email_starting")
    search_fields = ("user__username",)
