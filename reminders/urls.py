"""HTML pages of the reminders app (the ones reminder emails link to)."""

from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.notifications_page, name="notifications"),
    path("reminders/preferences/", views.preferences, name="reminder-preferences"),
    path("reminders/unsubscribe/<str:token>/", views.unsubscribe, name="reminder-unsubscribe"),
    # Cancelling lives here because the confirmation says who will be emailed.
    path("sessions/<int:session_id>/cancel/", views.session_cancel_page, name="session-cancel"),
]
