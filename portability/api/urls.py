from django.urls import path

from . import views

urlpatterns = [
    path("me/export/", views.MemberExportView.as_view(), name="me-export"),
    path("groups/<int:pk>/export/", views.GroupExportView.as_view(), name="group-export"),
]
