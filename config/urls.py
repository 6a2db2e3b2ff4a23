from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.api.permissions import ActionRules
from core.api.renderers import OptionsInJSONMixin
from core.rules import ANYONE
from core.transactions import every_view_writes_in_transaction
from pages.rules import anyone
from pages.views.accounts import admin_login, admin_password_change

from .health import HealthView


class SchemaView(OptionsInJSONMixin, SpectacularAPIView):
    """The OpenAPI schema, public like the API's documentation. OPTIONS answers in JSON, as everywhere."""

    permission_classes = [ActionRules]
    action_rules = {"get": ANYONE, "*": ANYONE}


class DocsView(OptionsInJSONMixin, SpectacularSwaggerSplitView):
    """Swagger UI. OPTIONS answers in JSON: through the page's HTML renderer it was a 500 (no template)."""

    permission_classes = [ActionRules]
    action_rules = {"get": ANYONE, "*": ANYONE}


api = [
    path("", include("sessions_app.api.urls")),
    path("", include("readings.api.urls")),
    path("", include("reminders.api.urls")),
    path("", include("portability.api.urls")),
    # Answered by config.health.HealthCheckMiddleware first; routed here for the schema.
    path("health/", HealthView.as_view(), name="health"),
    path("schema/", SchemaView.as_view(), name="schema"),
    # The split view serves its start-up script as a file, so the page needs no inline script.
    path("docs/", DocsView.as_view(url_name="schema"), name="api-docs"),
]

# Every view runs its writes (POST, PUT, PATCH, DELETE) in one transaction, its reads in none (core/transactions.py).
urlpatterns = [
    # Before the admin's own URLs: its login, limited per client address.
    path("admin/login/", anyone(admin_login), name="admin-login"),
    # Before the admin's own URLs: a staff member changing their password also revokes their API tokens.
    path("admin/password_change/", admin_password_change, name="admin-password-change"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api)),
    path("", include("pages.urls")),
]
every_view_writes_in_transaction(urlpatterns)

# Unknown addresses under /api/ answer with the API's JSON error, as the schema declares.
handler404 = "core.api.errors.page_not_found"
