from django.urls import path
from rest_framework.routers import SimpleRouter

from core.api.renderers import CalendarRenderer

from . import views

router = SimpleRouter()
router.register("groups", views.GroupViewSet, basename="group")
router.register("invitations", views.InvitationViewSet, basename="invitation")
router.register("series", views.SeriesViewSet, basename="series")
router.register("sessions", views.SessionViewSet, basename="session")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="auth-token"),
    path("me/calendar-feed/", views.CalendarFeedView.as_view(), name="me-calendar-feed"),
    path("me/tokens/", views.ApiTokenListView.as_view(), name="me-tokens"),
    path("me/tokens/<int:pk>/", views.ApiTokenDetailView.as_view(), name="me-token"),
    path(
        "sessions/<int:pk>/calendar.ics",
        views.SessionViewSet.as_view({"get": "calendar"}, renderer_classes=[CalendarRenderer]),
        name="session-calendar",
    ),
    *router.urls,
]
