from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("texts", views.TextViewSet, basename="text")
router.register(r"sessions/(?P<session_pk>[0-9]+)/readings", views.AssignmentViewSet, basename="session-reading")
router.register(r"sessions/(?P<session_pk>[0-9]+)/questions", views.QuestionViewSet, basename="session-question")
router.register("notes", views.NoteViewSet, basename="note")

urlpatterns = [
    path("texts/imports/<int:pk>/", views.TextImportView.as_view(), name="text-import-detail"),
    path("sessions/<int:session_pk>/discussion/", views.DiscussionView.as_view(), name="session-discussion"),
    path("sessions/<int:session_pk>/progress/", views.ProgressView.as_view(), name="session-progress"),
    path("sessions/<int:session_pk>/summary/", views.SessionSummaryView.as_view(), name="session-summary-api"),
    path("search/", views.SearchView.as_view(), name="search-api"),
    path("sessions/<int:session_pk>/pack/", views.PackView.as_view(), name="session-pack"),
    path("sessions/<int:session_pk>/notes/live/", views.LiveNotesView.as_view(), name="session-notes-live"),
    *router.urls,
]
