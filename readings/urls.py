"""HTML pages of the readings app."""

from django.urls import path

from .views import reader, sessions, texts

urlpatterns = [
    path("sessions/<int:session_id>/", sessions.session_detail, name="session-detail"),
    path("sessions/<int:session_id>/pack/<slug:fmt>/", sessions.session_pack_download, name="session-pack-download"),
    path("sessions/<int:session_id>/readings/new/", texts.assignment_new, name="assignment-new"),
    path(
        "sessions/<int:session_id>/readings/<int:assignment_id>/remove/",
        texts.assignment_remove,
        name="assignment-remove",
    ),
    path("sessions/<int:session_id>/questions/", sessions.questions_manage, name="questions-manage"),
    path("sessions/<int:session_id>/questions/propose/", sessions.question_propose, name="question-propose"),
    path("groups/<int:group_id>/texts/import/", texts.text_import_page, name="text-import"),
    path("texts/<int:text_id>/", texts.text_detail, name="text-detail"),
    path("texts/imports/<int:import_id>/", texts.text_import_progress, name="text-import-progress"),
    *reader.urlpatterns,
]
