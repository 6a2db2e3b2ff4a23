from django.urls import path

from . import views

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("me/notifications/", views.NotificationListView.as_view(), name="me-notifications"),
    path("me/notifications/read/", views.NotificationsReadView.as_view(), name="me-notifications-read"),
]
