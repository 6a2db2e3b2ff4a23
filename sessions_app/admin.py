from axes.utils import reset as axes_reset
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from .models import RSVP, ApiToken, Attendance, CalendarFeed, Invitation, Membership, Series, Session, StudyGroup, User
from .passwords import AdminPasswordForm
from .versions import group_versions_bump


class RaisesPackVersions:
    """For a ModelAdmin whose model a pack shows: the admin writes rows without the services, so after
    each save (with its inlines and many-to-many fields) or delete, every version in the object's
    groups is raised (`sessions_app.versions`). `version_groups(obj)` says which groups."""

    def version_groups(self, obj) -> list[int]:
        raise NotImplementedError

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        group_versions_bump(group_ids=list(self.version_groups(form.instance)))

    def delete_model(self, request, obj):
        groups = list(self.version_groups(obj))
        super().delete_model(request, obj)
        group_versions_bump(group_ids=groups)

    def delete_queryset(self, request, queryset):
        groups = {group for obj in queryset for group in self.version_groups(obj)}
        super().delete_queryset(request, queryset)
        group_versions_bump(group_ids=groups)


@admin.register(User)
class UserAdmin(RaisesPackVersions, DjangoUserAdmin):
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Studycircle", {"fields": ("display_name",)}))
    list_display = ("username", "display_name", "email", "is_staff")
    # Through our service, so a password set here revokes the user's API tokens.
    change_password_form = AdminPasswordForm
    actions = ["unlock_logins"]

    def version_groups(self, obj) -> list[int]:
        return list(obj.memberships.values_list("group_id", flat=True)) if obj.pk else []

    @admin.action(description="Unlock logins (forget failed attempts from every address)")
    def unlock_logins(self, request, queryset):
        usernames = list(queryset.values_list("username", flat=True))
        cleared = sum(axes_reset(username=username) for username in usernames)
        self.message_user(
            request, f"Unlocked {len(usernames)} account(s); {cleared} lock record(s) removed.", messages.SUCCESS
        )


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(StudyGroup)
class StudyGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "timezone", "summary_attendance", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "group", "role", "joined_at")
    list_filter = ("role", "group")
    search_fields = ("user__username", "group__name")
    autocomplete_fields = ["user", "group"]


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ("group", "role", "use_count", "max_uses", "expires_at", "revoked_at")
    list_filter = ("role", "group")
    readonly_fields = ("token", "use_count", "created_at")


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0
    fields = ("occurrence_index", "title", "starts_at", "ends_at", "status", "detached")
    readonly_fields = fields
    can_delete = False
    show_change_link = True


@admin.register(Series)
class SeriesAdmin(admin.ModelAdmin):
    list_display = ("title", "group", "rrule", "timezone", "first_starts_on", "local_start_time")
    list_filter = ("group",)
    inlines = [SessionInline]


class RSVPInline(admin.TabularInline):
    model = RSVP
    extra = 0


@admin.register(Session)
class SessionAdmin(RaisesPackVersions, admin.ModelAdmin):
    list_display = ("title", "group", "starts_at", "timezone", "status")
    list_filter = ("status", "group")
    search_fields = ("title",)
    date_hierarchy = "starts_at"
    filter_horizontal = ("facilitators",)
    inlines = [RSVPInline]

    def version_groups(self, obj) -> list[int]:
        return [obj.group_id]


@admin.register(RSVP)
class RSVPAdmin(admin.ModelAdmin):
    list_display = ("session", "user", "status", "updated_at")
    list_filter = ("status",)


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    list_display = ("session", "user", "marked_by", "marked_at")


@admin.register(CalendarFeed)
class CalendarFeedAdmin(admin.ModelAdmin):
    list_display = ("user", "created_at")
    readonly_fields = ("secret",)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are made by their owners (the key is shown once); here they can only be seen and revoked."""

    list_display = ("user", "name", "prefix", "created_at", "last_used_at", "expires_at")
    search_fields = ("user__username", "name", "prefix")
    readonly_fields = ("user", "name", "prefix", "digest", "created_at", "last_used_at", "expires_at")

    def has_add_permission(self, request) -> bool:
        return False
