from django.apps import AppConfig


class SessionsAppConfig(AppConfig):
    name = "sessions_app"
    verbose_name = "Groups and sessions"

    def ready(self) -> None:
        from . import rules  # noqa: F401 (declares this app's permission rules)
