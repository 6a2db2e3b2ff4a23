"""HTML pages of this app: accounts, invitations, the dashboard, groups and scheduling."""

from django.contrib.auth import views as auth_views
from django.urls import path, register_converter

from . import views
from .forms import PasswordResetSetForm


class SecretConverter:
    """An invitation token or feed secret (`secrets.token_urlsafe`): anything else names nothing, a 404."""

    regex = "[A-Za-z0-9_-]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SecretConverter, "secret")

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path("accounts/password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(form_class=PasswordResetSetForm),
        name="password_reset_confirm",
    ),
    path("accounts/reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
    path("join/<secret:token>/", views.invitation_page, name="invitation-signup-page"),
    path("calendar/<secret:secret>.ics", views.calendar_feed, name="calendar-feed"),
    path("accounts/calendar-feed/rotate/", views.calendar_feed_rotate_page, name="calendar-feed-rotate"),
    path("accounts/tokens/", views.api_token_new_page, name="api-token-new"),
    path("accounts/tokens/<int:token_id>/revoke/", views.api_token_revoke_page, name="api-token-revoke"),
    path("groups/new/", views.group_new, name="group-new"),
    path("groups/<int:group_id>/", views.group_detail, name="group-detail"),
    path("groups/<int:group_id>/leave/", views.group_leave, name="group-leave"),
    path("groups/<int:group_id>/invitations/", views.invitation_new, name="group-invitation-new"),
    path(
        "groups/<int:group_id>/invitations/<int:invitation_id>/revoke/",
        views.invitation_revoke_page,
        name="group-invitation-revoke",
    ),
    path("groups/<int:group_id>/members/<int:user_id>/", views.member_change, name="group-member-change"),
    path("groups/<int:group_id>/sessions/new/", views.session_new, name="session-new"),
    path("groups/<int:group_id>/series/new/", views.series_new, name="series-new"),
    path("sessions/<int:session_id>/edit/", views.session_edit, name="session-edit"),
    path("sessions/<int:session_id>/rsvp/", views.rsvp, name="session-rsvp"),
    path("series/<int:series_id>/edit/", views.series_edit, name="series-edit"),
]
