from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "openiop.attendance"
    label = "attendance"
    verbose_name = "Attendance, hours, check-ins and engagement alerts"

    def ready(self) -> None:
        from . import board_panels, chart_sections, jobs  # noqa: F401  (registers them)
