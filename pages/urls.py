"""Every HTML page of the site, by address: one place to find (and add) a page.

The views live in `pages/views/<area>.py`, one module per first path segment
(accounts, groups, sessions and the reader, texts, preferences); they call the
domain apps' services and selectors, never the other way round.
"""

from django.contrib.auth import views as auth_views
from django.urls import path, register_converter

from .forms import PasswordResetSetForm
from .rules import anyone
from .views import accounts, groups, preferences, reader, search, sessions, texts


class SecretConverter:
    """An invitation token or feed secret (`secrets.token_urlsafe`): anything else names nothing, a 404."""

    regex = "[A-Za-z0-9_-]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(SecretConverter, "secret")

urlpatterns = [
    path("", groups.home, name="home"),
    # --- accounts/, join/, calendar/: signing in and up, passwords, the calendar feed, API tokens
    path("accounts/login/", anyone(accounts.LoginView.as_view()), name="login"),
    path("accounts/logout/", anyone(auth_views.LogoutView.as_view()), name="logout"),
    path("accounts/password-reset/", anyone(accounts.PasswordResetView.as_view()), name="password_reset"),
    path(
        "accounts/password-reset/sent/", anyone(auth_views.PasswordResetDoneView.as_view()), name="password_reset_done"
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        anyone(auth_views.PasswordResetConfirmView.as_view(form_class=PasswordResetSetForm)),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/", anyone(auth_views.PasswordResetCompleteView.as_view()), name="password_reset_complete"
    ),
    path("accounts/calendar-feed/rotate/", accounts.calendar_feed_rotate_page, name="calendar-feed-rotate"),
    path("accounts/tokens/", accounts.api_token_new_page, name="api-token-new"),
    path("accounts/tokens/<int:token_id>/revoke/", accounts.api_token_revoke_page, name="api-token-revoke"),
    path("join/<secret:token>/", accounts.invitation_page, name="invitation-signup-page"),
    path("calendar/<secret:secret>.ics", accounts.calendar_feed, name="calendar-feed"),
    # --- groups/: a group, its people and invitations, scheduling, importing texts
    path("groups/new/", groups.group_new, name="group-new"),
    path("groups/<int:group_id>/", groups.group_detail, name="group-detail"),
    path("groups/<int:group_id>/leave/", groups.group_leave, name="group-leave"),
    path("groups/<int:group_id>/invitations/", groups.invitation_new, name="group-invitation-new"),
    path("groups/<int:group_id>/note-settings/", groups.group_note_settings, name="group-note-settings"),
    path(
        "groups/<int:group_id>/invitations/<int:invitation_id>/revoke/",
        groups.invitation_revoke_page,
        name="group-invitation-revoke",
    ),
    path("groups/<int:group_id>/members/<int:user_id>/", groups.member_change, name="group-member-change"),
    path("groups/<int:group_id>/sessions/new/", groups.session_new, name="session-new"),
    path("groups/<int:group_id>/series/new/", groups.series_new, name="series-new"),
    path("groups/<int:group_id>/texts/import/", texts.text_import_page, name="text-import"),
    path("series/<int:series_id>/edit/", groups.series_edit, name="series-edit"),
    # --- sessions/<id>/: the session page and everything done from it
    path("sessions/<int:session_id>/", sessions.session_detail, name="session-detail"),
    path("sessions/<int:session_id>/edit/", sessions.session_edit, name="session-edit"),
    path("sessions/<int:session_id>/brief/", sessions.session_brief, name="session-brief"),
    path("sessions/<int:session_id>/cancel/", sessions.session_cancel_page, name="session-cancel"),
    path("sessions/<int:session_id>/rsvp/", sessions.rsvp, name="session-rsvp"),
    path("sessions/<int:session_id>/attendance/", sessions.attendance_mark, name="session-attendance"),
    path("sessions/<int:session_id>/summary/", sessions.session_summary_page, name="session-summary"),
    path("sessions/<int:session_id>/pack/<slug:fmt>/", sessions.session_pack_download, name="session-pack-download"),
    path("sessions/<int:session_id>/readings/new/", texts.assignment_new, name="assignment-new"),
    path(
        "sessions/<int:session_id>/readings/<int:assignment_id>/remove/",
        texts.assignment_remove,
        name="assignment-remove",
    ),
    path("sessions/<int:session_id>/questions/", sessions.questions_manage, name="questions-manage"),
    path("sessions/<int:session_id>/questions/propose/", sessions.question_propose, name="question-propose"),
    # The reader: /sessions/7/read/#p-12 is passage 12.
    path("sessions/<int:session_id>/read/", reader.session_read, name="session-read"),
    # --- search/: one box over texts, passages and the notes one may see
    path("search/", search.search_page, name="search"),
    path(
        "sessions/<int:session_id>/read/passages/<int:passage_id>/",
        reader.passage_fragment,
        name="reader-passage",
    ),
    path("sessions/<int:session_id>/read/orphans/", reader.orphans_fragment, name="reader-orphans"),
    # --- texts/: a text and its imports
    path("texts/<int:text_id>/", texts.text_detail, name="text-detail"),
    path("texts/imports/<int:import_id>/", texts.text_import_progress, name="text-import-progress"),
    # --- notifications/, reminders/: what is new for you, and what reminder emails link to
    path("notifications/", preferences.notifications_page, name="notifications"),
    path("reminders/preferences/", preferences.preferences, name="reminder-preferences"),
    path("reminders/unsubscribe/<str:token>/", preferences.unsubscribe, name="reminder-unsubscribe"),
]
