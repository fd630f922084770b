from django.apps import AppConfig


class AlumniConfig(AppConfig):
    name = "openiop.alumni"
    label = "alumni"
    verbose_name = "Alumni follow-up"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from openiop.discharge.hooks import on_discharge

        # Registers the job, the chart section and the today board's panel.
        from . import board_panels, chart_sections, jobs  # noqa: F401
        from .services import schedule_follow_ups

        on_discharge(schedule_follow_ups)
