from django.contrib import admin, messages
from django.utils import timezone
from django.utils.text import Truncator

from .enums import ReminderState
from .models import Notification, NotificationPreference, OutboxEvent, Reminder
from .services.dispatch import reminders_requeue_failed


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    list_display = ("user", "timezone", "reading_lead_minutes", "email_reading", "email_starting")
    search_fields = ("user__username",)


class OutboxEventInline(admin.TabularInline):
    model = OutboxEvent
    raw_id_fields = ("notification",)
    readonly_fields = ("notification",)
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    """Which notifications each outbox email covers (also shown inline on the email)."""

    list_display = ("id", "email", "notification")
    raw_id_fields = ("email", "notification")
    readonly_fields = ("email", "notification")

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "recipient", "actor", "group", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("recipient__username",)
    list_select_related = ("recipient", "actor", "group")
    raw_id_fields = ("recipient", "actor", "group", "session", "note")
    readonly_fields = [field.name for field in Notification._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """The outbox, to look into. Rows are written by planning and dispatch only.

    Failed rows (refused by the mail server, or an email that could not be
    built) show their error here; once the cause is fixed, "Send again"
    puts them back in the queue.
    """

    list_display = ("id", "kind", "recipient", "session", "due_at", "state", "attempts", "sent_at", "error")
    list_filter = ("state", "kind")
    search_fields = ("recipient__username", "recipient__email", "session__title", "dedupe_key", "last_error")
    date_hierarchy = "due_at"
    list_select_related = ("recipient", "session")
    raw_id_fields = ("session", "recipient")
    readonly_fields = [field.name for field in Reminder._meta.fields]
    actions = ["send_again"]
    inlines = [OutboxEventInline]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="last error", ordering="last_error")
    def error(self, reminder: Reminder) -> str:
        return Truncator(reminder.last_error).chars(80)

    @admin.action(description="Send the selected failed reminders again")
    def send_again(self, request, queryset) -> None:
        ids = list(queryset.filter(state=ReminderState.FAILED).values_list("pk", flat=True))
        count = reminders_requeue_failed(reminder_ids=ids, now=timezone.now())
        self.message_user(request, f"{count} failed reminder(s) queued again.", messages.SUCCESS)
