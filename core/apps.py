from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared plumbing every app may use: API errors, fields, parsers, renderers, template tags, URLs.

    No models and no domain rules; it imports no other app of the project.
    """

    name = "core"
