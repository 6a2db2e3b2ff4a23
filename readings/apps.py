from django.apps import AppConfig


class ReadingsConfig(AppConfig):
    name = "readings"
    verbose_name = "Readings"

    def ready(self) -> None:
        from . import rules  # noqa: F401 (declares this app's permission rules)
