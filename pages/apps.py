from django.apps import AppConfig


class PagesConfig(AppConfig):
    """The web pages: views, forms, templates and URLs above the domain apps (no models)."""

    name = "pages"
