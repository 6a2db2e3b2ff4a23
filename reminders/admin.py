from django.contrib import admin

from .models import NotificationPreference, Reminder


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "timezone", "reading_lead_days", "email_reading", "email_starting")
    search_fields = ("user__username",)


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """The outbox, to look into. Rows are written by planning and dispatch only."""

    list_display = ("id", "kind", "recipient", "session", "due_at", "state", "attempts", "sent_at")
    list_filter = ("state", "kind")
    search_fields = ("recipient__username", "recipient__email", "session__title")
    date_hierarchy = "due_at"
    list_select_related = ("recipient", "session")
    raw_id_fields = ("session", "recipient")
    readonly_fields = [field.name for field in Reminder._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
