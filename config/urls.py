from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

api = [
    path("", include("sessions_app.api.urls")),
    path("", include("readings.api.urls")),
    path("", include("reminders.api.urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the page needs no inline script.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api)),
    path("", include("reminders.urls")),
    path("", include("readings.urls")),
    path("", include("sessions_app.urls")),
]
