from django.apps import AppConfig


class LettersConfig(AppConfig):
    name = "openiop.letters"
    label = "letters"
    verbose_name = "Attendance letters"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import jobs, panels  # noqa: F401  (register the job, chart section and panel)
