from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "Reminders and preferences"

    def ready(self) -> None:
        from . import receivers

        receivers.connect()
