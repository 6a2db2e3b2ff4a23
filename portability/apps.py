from django.apps import AppConfig


class PortabilityConfig(AppConfig):
    name = "portability"
    verbose_name = "Export and import"

    def ready(self) -> None:
        from . import rules  # noqa: F401 (declares this app's permission rules)
