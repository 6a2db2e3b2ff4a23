from django.apps import AppConfig


class ReadingsConfig(AppConfig):
    name = "readings"
    verbose_name = "Readings"

    def ready(self) -> None:
        from . import receivers, rules  # noqa: F401 (rules declares this app's permission rules)

        receivers.connect()
